package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
)

const (
	prusaBundle  = "../../profile/testdata/prusa/creality-ender3.ini"
	prusaEnder3  = "Creality Ender-3 (0.4 mm nozzle)"
	curaFixtures = "../../profile/testdata/cura"
)

// runCmd runs the fabgrid command line and returns its exit status and output.
func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// importTo imports src into dir/out.json and returns the file's path.
func importTo(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out := filepath.Join(dir, "out.json")
	code, stdout, stderr := runCmd(append(append([]string{"profile", "import"}, args...), "-o", out)...)
	if code != 0 {
		t.Fatalf("import exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "wrote "+out) || !strings.Contains(stdout, "--profile-file "+out) {
		t.Fatalf("import said %q", stdout)
	}
	return out
}

func TestProfileImportPrusaThenSlice(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCmd("profile", "import", prusaBundle, "-o", filepath.Join(dir, "x.json"))
	if code != 2 || !strings.Contains(stderr, "say which with --printer NAME") {
		t.Fatalf("bundle without --printer: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.json")); !os.IsNotExist(err) {
		t.Fatalf("a refused import wrote a file (%v)", err)
	}
	var stderrImport bytes.Buffer
	out := filepath.Join(dir, "mine.json")
	if code := run([]string{"profile", "import", prusaBundle, "--printer", prusaEnder3, "--id", "garage", "-o", out}, &bytes.Buffer{}, &stderrImport); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderrImport.String())
	}
	if !strings.Contains(stderrImport.String(), "warning: end_gcode: 4 line(s)") {
		t.Errorf("warnings not shown: %q", stderrImport.String())
	}
	f, err := profile.ReadPrinterFile(out)
	if err != nil || f.Printers[0].ID != "garage" || f.Materials[0].ID != "PLA" {
		t.Fatalf("written file: %+v, %v", f, err)
	}

	// The file drives slice, as --profile-file and --material-file.
	model := filepath.Join("..", "..", "testdata", "models", "cube20.stl")
	code, stdout, stderr := runCmd("slice", model, "-o", filepath.Join(dir, "cube.gcode"), "--profile-file", out, "--material-file", out, "--json")
	if code != 0 {
		t.Fatalf("slice --profile-file: exit %d: %s", code, stderr)
	}
	var res struct {
		Printer, Material string
		Layers            int
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Printer != "garage" || res.Material != "PLA" || res.Layers != 100 {
		t.Fatalf("slice result %s (%v)", stdout, err)
	}
	code, _, stderr = runCmd("slice", model, "-o", filepath.Join(dir, "cube.gcode"), "--profile-file", out, "--profile", "ender3")
	if code != 2 || !strings.Contains(stderr, `printer "ender3" is not in the file (it holds garage)`) {
		t.Fatalf("--profile not in the file: exit %d, %s", code, stderr)
	}
}

func TestProfileImportCura(t *testing.T) {
	// The definitions it inherits from are found beside it.
	out := importTo(t, t.TempDir(), filepath.Join(curaFixtures, "creality_ender3.def.json"))
	f, err := profile.ReadPrinterFile(out)
	if err != nil || f.Printers[0].ID != "creality-ender-3" || f.Printers[0].BuildVolume.X != 235 || f.Printers[0].FilamentMM != 1.75 {
		t.Fatalf("imported: %+v, %v", f, err)
	}
	// Alone, it says which file is missing.
	lone := filepath.Join(t.TempDir(), "creality_ender3.def.json")
	data, _ := os.ReadFile(filepath.Join(curaFixtures, "creality_ender3.def.json"))
	os.WriteFile(lone, data, 0o644)
	code, _, stderr := runCmd("profile", "import", lone, "--cura-resources", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "put creality_base.def.json") {
		t.Fatalf("lone definition: exit %d, %s", code, stderr)
	}
	code, _, stderr = runCmd("profile", "import", "model.stl")
	if code != 2 || !strings.Contains(stderr, "want a PrusaSlicer .ini or a Cura .def.json") {
		t.Fatalf("stl: exit %d, %s", code, stderr)
	}
}

func TestProfileListAndShow(t *testing.T) {
	code, stdout, stderr := runCmd("profile", "list")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, stderr)
	}
	for _, id := range append(profile.PrinterIDs(), profile.MaterialIDs()...) {
		if !strings.Contains(stdout, id+" ") {
			t.Errorf("list lacks %s", id)
		}
	}
	own := importTo(t, t.TempDir(), prusaBundle, "--printer", prusaEnder3)
	code, stdout, _ = runCmd("profile", "list", "--profile-file", own, "--json")
	var f profile.File
	if err := json.Unmarshal([]byte(stdout), &f); code != 0 || err != nil || len(f.Printers) != len(profile.Printers())+1 || f.Printers[0].ID != "creality-ender-3-0.4-mm-nozzle" {
		t.Fatalf("list --json with a file: exit %d, %d printers, %v", code, len(f.Printers), err)
	}

	code, stdout, _ = runCmd("profile", "show", "ender3", "--json")
	var p profile.Printer
	want, _ := profile.LookupPrinter("ender3")
	if err := json.Unmarshal([]byte(stdout), &p); code != 0 || err != nil || p.ID != "ender3" || p.StartGCode != want.StartGCode {
		t.Fatalf("show --json: exit %d, %v", code, err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"show", "Ender-3"}, 0, "build volume 220 × 220 × 250 mm"},
		{[]string{"show", "voron24"}, 0, "square corner velocity 5 mm/s"},
		{[]string{"show", "PETG"}, 0, "flow limit   8 mm³/s"},
		{[]string{"show", "creality-ender-3-0.4-mm-nozzle", "--profile-file", own}, 0, "(" + own + ")"},
		{[]string{"show", "nope"}, 2, `no printer or material "nope"`},
		{[]string{"show"}, 2, "want one profile id"},
		{[]string{"list", "--profile-file", prusaBundle}, 2, "bad profile file"},
		{[]string{"frob"}, 2, `unknown profile subcommand "frob"`},
		{nil, 2, "want a subcommand"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(append([]string{"profile"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Fatalf("exit %d (want %d), output %q lacks %q", code, tc.code, stdout+stderr, tc.want)
			}
		})
	}
}

// TestProfileFileErrorsNameTheField: a bad --profile-file on slice and
// print is refused before anything happens, naming the field.
func TestProfileFileErrorsNameTheField(t *testing.T) {
	dir := t.TempDir()
	p, _ := profile.LookupPrinter("ender3")
	p.ID, p.MaxHotendC = "hot", 900
	data, _ := json.Marshal(profile.File{Printers: []profile.Printer{p}})
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, data, 0o644)
	model := filepath.Join("..", "..", "testdata", "models", "cube20.stl")
	for _, args := range [][]string{
		{"slice", model, "-o", filepath.Join(dir, "x.gcode"), "--profile-file", bad},
		{"print", "--port", filepath.Join(dir, "absent"), "--profile-file", bad, "../../printerdrv/testdata/calibration.gcode"},
		{"slice", model, "--material-file", bad},
	} {
		code, _, stderr := runCmd(args...)
		want := `printer "hot": max_hotend_c is 900`
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q lacks %q", args[0], code, stderr, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.gcode")); !os.IsNotExist(err) {
		t.Errorf("slice with a bad profile wrote G-code (%v)", err)
	}
}

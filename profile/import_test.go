package profile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func importPrusaFile(t *testing.T, path string, opts ImportOptions) Imported {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	im, err := ImportPrusa(f, opts)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return im
}

// dirParent reads Cura parents and extruders from dir, as the CLI does.
func dirParent(dir string) CuraParent {
	return func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name+".def.json")) }
}

func hasWarning(im Imported, sub string) bool {
	for _, w := range im.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func TestImportPrusaVendorBundle(t *testing.T) {
	path := "testdata/prusa/creality-ender3.ini"
	f, _ := os.Open(path)
	_, err := ImportPrusa(f, ImportOptions{})
	f.Close()
	if !errors.Is(err, ErrImport) || !strings.Contains(err.Error(), "2 printer presets; say which with --printer NAME") {
		t.Fatalf("two printers, none named: %v", err)
	}
	im := importPrusaFile(t, path, ImportOptions{Printer: "Creality Ender-3 (0.4 mm nozzle)"})
	p, m := im.File.Printers[0], im.File.Materials[0]
	if p.ID != "creality-ender-3-0.4-mm-nozzle" || p.Name != "Creality Ender-3 (0.4 mm nozzle)" {
		t.Errorf("id %q name %q", p.ID, p.Name)
	}
	// bed_shape 3x3,228x3,228x228,3x228 and max_print_height 250, from *ENDER3*.
	if p.BuildVolume != (Vec3{225, 225, 250}) || !hasWarning(im, "bed_shape starts at 3,3") {
		t.Errorf("build volume %+v, warnings %q", p.BuildVolume, im.Warnings)
	}
	// *common* gives the limits, *0.4nozzle* the nozzle.
	if p.NozzleMM != 0.4 || p.FilamentMM != 1.75 || p.Firmware != FirmwareMarlin || !p.RelativeE ||
		p.MaxFeedrate != (Axes{500, 500, 10, 60}) || p.PrintAccel != 500 || p.MaxJerk.X != 8 {
		t.Errorf("printer %+v", p)
	}
	if !strings.Contains(p.StartGCode, "M190 S{bed_temp} ; wait for bed temp") || !strings.Contains(p.StartGCode, "M109 S{hotend_temp}") ||
		strings.Contains(p.StartGCode, "first_layer") {
		t.Errorf("start G-code placeholders not translated:\n%s", p.StartGCode)
	}
	// The end G-code's {if max_layer_z …} lines cannot be filled by fabgrid.
	if strings.Contains(p.EndGCode, "{if") || !strings.Contains(p.EndGCode, "M104 S0") || !hasWarning(im, "end_gcode: 4 line(s)") {
		t.Errorf("end G-code %q, warnings %q", p.EndGCode, im.Warnings)
	}
	// Its lifts were among them: the nozzle is lifted off the part anyway.
	if !strings.HasPrefix(p.EndGCode, "G91 ; relative\nG1 Z10 F600") || !hasWarning(im, "does not lift the nozzle") {
		t.Errorf("end G-code without a lift: %q", p.EndGCode)
	}
	// The printer's default_filament_profile is Generic PLA @CREALITY.
	if m.ID != "PLA" || m.Name != "Generic PLA @CREALITY" || m.HotendC != 205 || m.FirstLayerHotendC != 210 ||
		m.DensityGCm3 != 1.24 || m.MaxVolumetricMM3s != 15 || m.RetractMM != 5 || m.FanPercent != 100 {
		t.Errorf("material %+v", m)
	}
	petg := importPrusaFile(t, path, ImportOptions{Printer: "creality ender-3 (0.6 mm nozzle)", Filament: "Generic PETG @CREALITY", ID: "garage"})
	if p := petg.File.Printers[0]; p.ID != "garage" || p.NozzleMM != 0.6 {
		t.Errorf("0.6 mm preset: %q nozzle %v", p.ID, p.NozzleMM)
	}
	if m := petg.File.Materials[0]; m.ID != "PETG" || m.PricePerKg != 30 {
		t.Errorf("PETG: %+v", m)
	}
	if err := petg.File.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestImportPrusaFlatConfig(t *testing.T) {
	im := importPrusaFile(t, "testdata/prusa/bench-ender3.ini", ImportOptions{Name: "bench-ender3"})
	p := im.File.Printers[0]
	if p.ID != "bench-ender3" || p.BuildVolume != (Vec3{220, 220, 250}) || p.RelativeE || p.Firmware != FirmwareMarlin {
		t.Errorf("printer %+v", p)
	}
	// No start_gcode in the file: PrusaSlicer's default (G28, lift), with
	// the heating PrusaSlicer adds before it and the modes after it.
	want := "M190 S{bed_temp} ; heat the bed (the slicer adds this when its start G-code does not)\n" +
		"M109 S{hotend_temp} ; heat the hotend (likewise)\nG28 ; home all axes\nG1 Z5 F5000 ; lift nozzle\n" +
		"G90 ; absolute positioning\nM82 ; absolute extrusion"
	if p.StartGCode != want {
		t.Errorf("start G-code\n%s\nwant\n%s", p.StartGCode, want)
	}
	for _, w := range []string{"no machine limits", "baud", "no temperature limits"} {
		if !hasWarning(im, w) {
			t.Errorf("no warning about %s: %q", w, im.Warnings)
		}
	}
	m := im.File.Materials[0]
	// filament_type is not in the file: PLA is assumed, density and price
	// come from the bundled PLA.
	if m.ID != "PLA" || m.HotendC != 205 || m.FirstLayerHotendC != 210 || m.BedC != 60 || m.DensityGCm3 != 1.24 || !hasWarning(im, "no density") {
		t.Errorf("material %+v, warnings %q", m, im.Warnings)
	}
}

func TestImportPrusaInherits(t *testing.T) {
	ini := `
[printer:*a*]
bed_shape = 0x0,100x0,100x100,0x100
max_print_height = 100
nozzle_diameter = 0.4
[printer:*b*]
nozzle_diameter = 0.6
max_print_height = 150
[printer:mine]
inherits = *a*; *b*
max_print_height = 120
`
	im, err := ImportPrusa(strings.NewReader(ini), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Later parents override earlier ones, the preset's own keys both.
	if p := im.File.Printers[0]; p.NozzleMM != 0.6 || p.BuildVolume.Z != 120 || p.ID != "mine" {
		t.Fatalf("nozzle %v height %v id %q", p.NozzleMM, p.BuildVolume.Z, p.ID)
	}
	if !hasWarning(im, "no filament preset") || len(im.File.Materials) != 0 {
		t.Fatalf("warnings %q, materials %d", im.Warnings, len(im.File.Materials))
	}
}

func TestImportPrusaTemplates(t *testing.T) {
	tests := []struct{ name, in, want, warn string }{
		{"braces with index", `M104 S{first_layer_temperature[0]}`, "M104 S{hotend_temp}", ""},
		{"legacy brackets", `M190 S[first_layer_bed_temperature]`, "M190 S{bed_temp}", ""},
		{"nested legacy", `print_start EXTRUDER=[first_layer_temperature[initial_tool]]`, "print_start EXTRUDER={hotend_temp}", ""},
		{"literal value", `M862.3 P "[printer_model]"`, `M862.3 P "ENDER3"`, ""},
		{"bed size", `G1 Y{max_print_height}`, "G1 Y{bed_z}", ""},
		{"conditional line", "G28\n{if max_layer_z < max_print_height}G1 Z{max_layer_z+2}{endif}\nM84", "G28\nM84", "1 line(s)"},
		{"conditional block", "G28\n{if foo}\nG1 Z5\n{else}\nG1 Z9\n{endif}\nM84", "G28\nM84", "5 line(s)"},
		{"expression", "G1 X5 F{travel_speed*60}\nM84", "M84", "1 line(s)"},
		{"unknown in comment", "G28 ; {mystery}\nM84", "G28 \nM84", ""},
		{"unknown placeholder", "M117 {mystery}\nM84", "M84", "1 line(s)"},
		{"brackets that name nothing", "M118 [not a placeholder]", "M118 [not a placeholder]", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			im := &Imported{}
			conf := map[string]string{"printer_model": "ENDER3", "travel_speed": "150"}
			got := templateFixer{im: im, field: "start_gcode", placeholder: func(n string) (string, bool) { return prusaPlaceholder(n, conf) }}.fix(tc.in)
			if got != tc.want {
				t.Errorf("got %q want %q", got, tc.want)
			}
			if (tc.warn == "") != (len(im.Warnings) == 0) || tc.warn != "" && !hasWarning(*im, tc.warn) {
				t.Errorf("warnings %q, want %q", im.Warnings, tc.warn)
			}
		})
	}
}

func TestImportPrusaRejects(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "no settings"},
		{"json", `{"overrides": {}}`, "neither [section] nor key = value"},
		{"no bed", "layer_height = 0.2\n", "no bed_shape"},
		{"bad bed", "bed_shape = 0x0,big\n", "bed_shape"},
		{"loop", "[printer:*a*]\ninherits = *b*\n[printer:*b*]\ninherits = *a*\n[printer:p]\ninherits = *a*\n", "a loop?"},
		{"missing parent", "[printer:p]\ninherits = *gone*\nbed_shape = 0x0,1x0,1x1\n", "no [printer:*gone*]"},
		{"unknown preset", "[printer:p]\nbed_shape = 0x0,1x0,1x1\n", ""},
		{"resin", "[printer:SL1]\nprinter_technology = SLA\nbed_shape = 0x0,1x0,1x1\n", "resin (SLA) printer"},
		{"bed too big", "bed_shape = 0x0,220000x0,220000x220000\n", "build_volume_mm.x is 220000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := ImportOptions{}
			if tc.name == "unknown preset" {
				opts.Printer, tc.want = "q", `no printer preset "q" in the bundle (it has ["p"])`
			}
			_, err := ImportPrusa(strings.NewReader(tc.in), opts)
			if !errors.Is(err, ErrImport) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrImport with %q", err, tc.want)
			}
		})
	}
}

// TestImportPrusaEveryVendorPreset imports every printer preset of the
// vendor bundles PrusaSlicer installs (when it is installed): each one
// imports to a valid profile or is refused with ErrImport.
func TestImportPrusaEveryVendorPreset(t *testing.T) {
	paths, _ := filepath.Glob("/usr/share/PrusaSlicer/profiles/*.ini")
	if len(paths) == 0 {
		t.Skip("PrusaSlicer's vendor bundles are not installed (apt-get install prusa-slicer)")
	}
	imported := 0
	var refused []string
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := parsePrusaINI(strings.NewReader(string(data)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, name := range c.presets("printer") {
			im, err := ImportPrusa(strings.NewReader(string(data)), ImportOptions{Printer: name})
			if err != nil {
				if !errors.Is(err, ErrImport) {
					t.Errorf("%s %q: %v", filepath.Base(path), name, err)
				}
				refused = append(refused, filepath.Base(path)+" "+name+": "+err.Error())
				continue
			}
			if err := im.File.Validate(); err != nil {
				t.Errorf("%s %q: %v", filepath.Base(path), name, err)
			}
			imported++
		}
	}
	if imported < 100 {
		t.Errorf("only %d vendor presets imported", imported)
	}
	t.Logf("%d printer presets imported from %d bundles; %d refused:\n%s", imported, len(paths), len(refused), strings.Join(refused, "\n"))
}

func TestImportCura(t *testing.T) {
	f, err := os.Open("testdata/cura/creality_ender3.def.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	im, err := ImportCura(f, dirParent("testdata/cura"), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := im.File.Printers[0]
	// creality_ender3 sets the bed, creality_base the limits and end
	// G-code, creality_base_extruder_0 the nozzle and filament.
	if p.ID != "creality-ender-3" || p.BuildVolume != (Vec3{235, 235, 250}) || p.NozzleMM != 0.4 || p.FilamentMM != 1.75 ||
		p.MaxFeedrate != (Axes{500, 500, 10, 50}) || p.PrintAccel != 500 || p.TravelAccel != 500 || p.MaxJerk.X != 10 ||
		p.Firmware != FirmwareMarlin || p.RelativeE {
		t.Errorf("printer %+v", p)
	}
	// Cura heats before a start G-code that does not; fabgrid too.
	if !strings.HasPrefix(p.StartGCode, "M190 S{bed_temp}") || !strings.Contains(p.StartGCode, "M109 S{hotend_temp}") ||
		!strings.HasSuffix(p.StartGCode, "M82 ; absolute extrusion") {
		t.Errorf("start G-code:\n%s", p.StartGCode)
	}
	if !strings.Contains(p.EndGCode, "G1 X0 Y{bed_y} ;Present print") {
		t.Errorf("end G-code: {machine_depth} not translated:\n%s", p.EndGCode)
	}
	if len(im.File.Materials) != 0 || !hasWarning(im, "no material") {
		t.Errorf("materials %v, warnings %q", im.File.Materials, im.Warnings)
	}
}

func TestImportCuraRejects(t *testing.T) {
	none := func(string) ([]byte, error) { return nil, fs.ErrNotExist }
	tests := []struct {
		name, in string
		parent   CuraParent
		want     string
	}{
		{"not json", "[printer:x]", none, "not a Cura machine definition"},
		{"no overrides", `{"name": "x"}`, none, "no \"overrides\""},
		{"missing parent", `{"name": "x", "inherits": "creality_base", "overrides": {}}`, none, "put creality_base.def.json (from Cura's resources/definitions) beside it"},
		{"loop", `{"name": "x", "inherits": "y", "overrides": {}}`, func(string) ([]byte, error) { return []byte(`{"inherits": "y", "overrides": {}}`), nil }, "loops"},
		{"no bed", `{"name": "x", "overrides": {"machine_width": {"default_value": 0}}}`, none, "build_volume_mm.x is 0"},
		{"expression bed", `{"name": "x", "overrides": {"machine_width": {"value": "machine_depth * 2"}, "machine_depth": {"default_value": -5}}}`, none, "build_volume_mm.y is -5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ImportCura(strings.NewReader(tc.in), tc.parent, ImportOptions{})
			if !errors.Is(err, ErrImport) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrImport with %q", err, tc.want)
			}
		})
	}
	// An expression "value" falls back to the definition's default_value.
	im, err := ImportCura(strings.NewReader(`{"name": "x", "overrides": {"machine_width": {"value": "machine_depth", "default_value": 150}}}`), none, ImportOptions{})
	if err != nil || im.File.Printers[0].BuildVolume.X != 150 {
		t.Fatalf("expression value: %v, %+v", err, im.File.Printers)
	}
}

// FuzzImportPrusa and FuzzImportCura: any input is refused with ErrImport
// or gives a profile file that validates.
func FuzzImportPrusa(f *testing.F) {
	for _, p := range []string{"testdata/prusa/bench-ender3.ini", "testdata/prusa/creality-ender3.ini"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "")
	}
	f.Add([]byte("[printer:a]\ninherits = a\n"), "a")
	f.Fuzz(func(t *testing.T, data []byte, printer string) {
		im, err := ImportPrusa(strings.NewReader(string(data)), ImportOptions{Printer: printer})
		if err != nil {
			if !errors.Is(err, ErrImport) {
				t.Fatalf("error without ErrImport: %v", err)
			}
			return
		}
		if err := im.File.Validate(); err != nil {
			t.Fatalf("imported file does not validate: %v", err)
		}
	})
}

func FuzzImportCura(f *testing.F) {
	data, err := os.ReadFile("testdata/cura/creality_ender3.def.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"name": "x", "overrides": {"machine_width": {"value": "'a'"}}}`))
	parent := dirParent("testdata/cura")
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := ImportCura(strings.NewReader(string(data)), parent, ImportOptions{})
		if err != nil {
			if !errors.Is(err, ErrImport) {
				t.Fatalf("error without ErrImport: %v", err)
			}
			return
		}
		if err := im.File.Validate(); err != nil {
			t.Fatalf("imported file does not validate: %v", err)
		}
	})
}

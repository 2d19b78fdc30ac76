package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/slicer/testmesh"
)

func TestSliceAndGCodeInfo(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "cube.gcode")
	model := filepath.Join("..", "..", "testdata", "models", "cube20.stl")

	var o, e bytes.Buffer
	if code := run([]string{"slice", model, "-o", out, "--infill", "15", "--json"}, &o, &e); code != 0 {
		t.Fatalf("slice exit %d: %s", code, e.String())
	}
	var res struct {
		Layers  int     `json:"layers"`
		Seconds float64 `json:"seconds"`
		Grams   float64 `json:"grams"`
		Mesh    struct {
			Triangles  int  `json:"triangles"`
			Watertight bool `json:"watertight"`
		} `json:"mesh"`
	}
	if err := json.Unmarshal(o.Bytes(), &res); err != nil {
		t.Fatalf("slice --json: %v: %s", err, o.String())
	}
	if res.Layers != 100 || res.Seconds <= 0 || res.Grams <= 0 || res.Mesh.Triangles != 12 || !res.Mesh.Watertight {
		t.Fatalf("slice result %+v", res)
	}

	o.Reset()
	e.Reset()
	if code := run([]string{"gcode", "info", out, "--json"}, &o, &e); code != 0 {
		t.Fatalf("gcode info exit %d: %s", code, e.String())
	}
	var a struct {
		Layers  int      `json:"layers"`
		Seconds float64  `json:"seconds"`
		Flags   []string `json:"flags"`
	}
	if err := json.Unmarshal(o.Bytes(), &a); err != nil {
		t.Fatal(err)
	}
	if a.Layers != 100 || len(a.Flags) != 0 || a.Seconds < res.Seconds*0.99 || a.Seconds > res.Seconds*1.01 {
		t.Fatalf("gcode info %+v, slice said %+v", a, res)
	}

	// A file with a problem exits 3 and names it.
	bad := filepath.Join(dir, "bad.gcode")
	if err := os.WriteFile(bad, []byte("G1 X10 Y10 E5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o.Reset()
	e.Reset()
	if code := run([]string{"gcode", "info", bad}, &o, &e); code != 3 || !strings.Contains(o.String(), "before the hotend") {
		t.Fatalf("bad file: exit %d, %s", code, o.String())
	}
}

func TestSliceErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.stl")
	// A 300 mm box: too big for the Ender-3.
	stl := "solid b\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 300 0 0\nvertex 0 300 10\nendloop\nendfacet\nendsolid b\n"
	if err := os.WriteFile(big, []byte(stl), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no model", []string{"slice"}, 2, "exactly one model"},
		{"unknown profile", []string{"slice", big, "--profile", "nope"}, 2, "unknown profile"},
		{"does not fit", []string{"slice", big, "-o", filepath.Join(dir, "x.gcode")}, 1, "does not fit"},
		{"missing file", []string{"slice", filepath.Join(dir, "none.stl")}, 1, "no such file"},
		{"gcode without info", []string{"gcode"}, 2, "info"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o, e bytes.Buffer
			if code := run(tc.args, &o, &e); code != tc.code || !strings.Contains(e.String(), tc.msg) {
				t.Fatalf("exit %d (want %d), stderr %q lacks %q", code, tc.code, e.String(), tc.msg)
			}
		})
	}
}

// TestSliceFailureLeavesNoFile: the G-code streams to the file, which is
// created only once the model has been sliced.
func TestSliceFailureLeavesNoFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cube.gcode")
	model := filepath.Join("..", "..", "testdata", "models", "cube20.stl")
	var o, e bytes.Buffer
	if code := run([]string{"slice", model, "-o", out, "--line-width", "5"}, &o, &e); code == 0 {
		t.Fatalf("slice with a 5 mm line width succeeded: %s", o.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("failed slice left %s behind (stat: %v)", out, err)
	}
	// An old file stays as it was, and nothing half-written remains.
	if err := os.WriteFile(out, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"slice", model, "-o", out, "--line-width", "5"}, &o, &e); code == 0 {
		t.Fatal("second failing slice succeeded")
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "old\n" {
		t.Fatalf("old file now %q, %v", b, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 1 {
		t.Fatalf("files left in the output dir: %v", ents)
	}
	// A good slice replaces it whole.
	if code := run([]string{"slice", model, "-o", out}, &o, &e); code != 0 {
		t.Fatalf("slice: %s", e.String())
	}
	if b, err := os.ReadFile(out); err != nil || !bytes.Contains(b, []byte(";LAYER:")) {
		t.Fatalf("sliced file: %d bytes, %v", len(b), err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 1 {
		t.Fatalf("files left in the output dir: %v", ents)
	}
}

// TestSlice3MF: fabgrid slice takes a 3MF and writes what it writes for
// the same model as STL.
func TestSlice3MF(t *testing.T) {
	dir := t.TempDir()
	ts := testmesh.Cube(20)
	files := map[string][]byte{"cube.stl": testmesh.WriteSTL("cube", ts), "cube.3mf": testmesh.Write3MF(ts)}
	out := map[string][]byte{}
	for name, data := range files {
		in := filepath.Join(dir, name)
		if err := os.WriteFile(in, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var o, e bytes.Buffer
		if code := run([]string{"slice", in, "-o", "-", "--quiet"}, &o, &e); code != 0 {
			t.Fatalf("slice %s: exit %d: %s", name, code, e.String())
		}
		out[name] = o.Bytes()
	}
	if len(out["cube.3mf"]) == 0 || !bytes.Equal(out["cube.3mf"], out["cube.stl"]) {
		t.Fatalf("3MF gave %d bytes of G-code, STL %d, and they differ", len(out["cube.3mf"]), len(out["cube.stl"]))
	}
}

// TestSliceSupportFlags: --support puts support under the T's wings, and
// gcode info counts it.
func TestSliceSupportFlags(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "t.stl")
	if err := os.WriteFile(in, testmesh.WriteSTL("t", testmesh.TShape()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args    []string
		support bool
	}{
		{nil, false},
		{[]string{"--support"}, true},
		{[]string{"--support", "--support-angle", "30", "--support-pattern", "grid"}, true},
		{[]string{"--support", "--support-angle", "89"}, false},
	} {
		out := filepath.Join(dir, "t.gcode")
		var o, e bytes.Buffer
		if code := run(append([]string{"slice", in, "-o", out, "--quiet"}, tc.args...), &o, &e); code != 0 {
			t.Fatalf("slice %v: exit %d: %s", tc.args, code, e.String())
		}
		o.Reset()
		if code := run([]string{"gcode", "info", out, "--json"}, &o, &e); code != 0 {
			t.Fatalf("gcode info: exit %d: %s", code, e.String())
		}
		var a struct {
			Types map[string]float64 `json:"type_filament_mm"`
		}
		if err := json.Unmarshal(o.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		if got := a.Types["SUPPORT"] > 0; got != tc.support {
			t.Fatalf("slice %v: support filament %.1f mm", tc.args, a.Types["SUPPORT"])
		}
	}
	var o, e bytes.Buffer
	if code := run([]string{"slice", in, "-o", "-", "--support", "--support-angle", "95"}, &o, &e); code != 1 || !strings.Contains(e.String(), "support angle") {
		t.Fatalf("bad support angle: exit %d, %s", code, e.String())
	}
}

// TestSliceCopiesFlag: --copies 4 slices four cubes into one file.
func TestSliceCopiesFlag(t *testing.T) {
	model := filepath.Join("..", "..", "testdata", "models", "cube20.stl")
	out := filepath.Join(t.TempDir(), "four.gcode")
	var o, e bytes.Buffer
	if code := run([]string{"slice", model, "-o", out, "--copies", "4", "--json"}, &o, &e); code != 0 {
		t.Fatalf("slice: exit %d: %s", code, e.String())
	}
	var res struct {
		Copies     int     `json:"copies"`
		FilamentMM float64 `json:"filament_mm"`
	}
	if err := json.Unmarshal(o.Bytes(), &res); err != nil || res.Copies != 4 {
		t.Fatalf("%v: %s", err, o.String())
	}
	o.Reset()
	if code := run([]string{"slice", model, "-o", out, "--copies", "200"}, &o, &e); code != 1 || !strings.Contains(e.String(), "holds 64") {
		t.Fatalf("200 copies: exit %d: %s", code, e.String())
	}
}

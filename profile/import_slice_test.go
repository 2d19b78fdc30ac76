package profile_test

import (
	"os"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer"
)

func loadModel(t *testing.T, path string) *slicer.Mesh {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	m, _, err := slicer.LoadSTL(f, st.Size(), slicer.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestImportedEnder3SlicesLikeTheBundledOne is the acceptance test of
// `fabgrid profile import`: the PrusaSlicer config of the comparison
// benchmarks (scripts/bench-slicers.sh) and PrusaSlicer's own Creality
// Ender-3 preset, imported, slice the test models to the same layers and
// within 2 % of the extruded model volume of the bundled ender3, and the
// analyser flags nothing in their G-code.
func TestImportedEnder3SlicesLikeTheBundledOne(t *testing.T) {
	ender3, _ := profile.LookupPrinter("ender3")
	pla, _ := profile.LookupMaterial("PLA")
	imports := []struct {
		name, path string
		opts       profile.ImportOptions
	}{
		{"bench config", "testdata/prusa/bench-ender3.ini", profile.ImportOptions{Name: "bench-ender3"}},
		{"Creality vendor preset", "testdata/prusa/creality-ender3.ini", profile.ImportOptions{Printer: "Creality Ender-3 (0.4 mm nozzle)"}},
	}
	models := []string{"cube20", "sphere", "torus", "overhang"}
	meshes := map[string]*slicer.Mesh{}
	for _, m := range models {
		meshes[m] = loadModel(t, "../testdata/models/"+m+".stl")
	}
	for _, imp := range imports {
		f, err := os.Open(imp.path)
		if err != nil {
			t.Fatal(err)
		}
		im, err := profile.ImportPrusa(f, imp.opts)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", imp.name, err)
		}
		p, m := im.File.Printers[0], im.File.Materials[0]
		for _, model := range models {
			t.Run(imp.name+"/"+model, func(t *testing.T) {
				wantRes, want := sliceAnalyse(t, meshes[model], ender3, pla)
				gotRes, got := sliceAnalyse(t, meshes[model], p, m)
				if gotRes.Layers != wantRes.Layers || got.Layers != want.Layers {
					t.Errorf("layers: imported %d (analysed %d), bundled %d (analysed %d)", gotRes.Layers, got.Layers, wantRes.Layers, want.Layers)
				}
				if d := got.ModelFilamentMM3/want.ModelFilamentMM3 - 1; d > 0.02 || d < -0.02 {
					t.Errorf("model volume: imported %.1f mm³, bundled %.1f mm³ (%+.2f %%)", got.ModelFilamentMM3, want.ModelFilamentMM3, 100*d)
				}
				if len(got.Flags) > 0 {
					t.Errorf("analyser flags on the imported profile's G-code: %q", got.Flags)
				}
			})
		}
	}
}

package slicer

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/fabgrid/fabgrid/slicer/testmesh"
	"github.com/hschendel/stl"
)

var update = flag.Bool("update", false, "rewrite testdata/models from the builders")

// testModel is one of the acceptance models.
type testModel struct {
	name   string
	tris   func() []stl.Triangle
	height float64 // mm
}

var testModels = []testModel{
	{"cube20", func() []stl.Triangle { return testmesh.Cube(20) }, 20},
	{"cylinder", func() []stl.Triangle { return testmesh.Cylinder(10, 20, 64) }, 20},
	{"sphere", func() []stl.Triangle { return testmesh.Sphere(10, 24, 48) }, 20},
	{"torus", func() []stl.Triangle { return testmesh.Torus(15, 5, 48, 24) }, 10},
	{"islands", testmesh.Islands, 8},
	{"overhang", testmesh.Overhang, 14},
	{"thinwall", testmesh.ThinWall, 10},
	{"gapcube", testmesh.GapCube, 20},
}

func modelPath(name string) string { return filepath.Join("..", "testdata", "models", name+".stl") }

// TestModelFiles checks that the STL files in testdata/models are what the
// builders make (go test ./slicer -run TestModelFiles -update rewrites them).
func TestModelFiles(t *testing.T) {
	for _, m := range testModels {
		t.Run(m.name, func(t *testing.T) {
			want := testmesh.WriteSTL(m.name, m.tris())
			if len(want) > 200<<10 {
				t.Fatalf("%s is %d bytes; keep test models under 200 KB", m.name, len(want))
			}
			if *update {
				if err := os.WriteFile(modelPath(m.name), want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(modelPath(m.name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs from its builder; run with -update", modelPath(m.name))
			}
		})
	}
}

func loadModel(t testing.TB, name string) (*Mesh, MeshReport) {
	t.Helper()
	data, err := os.ReadFile(modelPath(name))
	if err != nil {
		t.Fatal(err)
	}
	m, rep, err := ParseSTL(data, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return m, rep
}

package slicer

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer/testmesh"
	"github.com/hschendel/stl"
)

// benchyPath is the shared benchmark model (../shared/bench from the
// repository root).
const benchyPath = "../../shared/bench/3DBenchy.stl"

func benchSlice(b *testing.B, data []byte, edit ...func(s *Settings)) {
	p, _ := profile.LookupPrinter("ender3")
	mat, _ := profile.LookupMaterial("PLA")
	s := DefaultSettings(p, mat)
	for _, e := range edit {
		e(&s)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var layers int
	for b.Loop() {
		m, _, err := ParseSTL(data, DefaultLimits)
		if err != nil {
			b.Fatal(err)
		}
		r, err := Slice(context.Background(), m, s, nil)
		if err != nil {
			b.Fatal(err)
		}
		layers = r.Layers
	}
	b.ReportMetric(float64(layers), "layers")
}

// BenchmarkSlice slices each test model from STL bytes to G-code.
func BenchmarkSlice(b *testing.B) {
	for _, tm := range testModels {
		data, err := os.ReadFile(modelPath(tm.name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tm.name, func(b *testing.B) { benchSlice(b, data) })
	}
}

// BenchmarkSliceBenchy slices 3DBenchy (225,154 facets).
func BenchmarkSliceBenchy(b *testing.B) {
	data, err := os.ReadFile(benchyPath)
	if err != nil {
		b.Skipf("benchmark model not available: %v", err)
	}
	benchSlice(b, data)
}

// BenchmarkSliceSupport slices the support and bridge test models and
// Benchy with support on (DefaultSupport).
func BenchmarkSliceSupport(b *testing.B) {
	models := []struct {
		name string
		data []byte
	}{
		{"tshape", testmesh.WriteSTL("t", testmesh.TShape())},
		{"bridge", testmesh.WriteSTL("b", testmesh.Bridge())},
		{"ramp60", testmesh.WriteSTL("r", testmesh.Ramp(60))},
		{"ramp75", testmesh.WriteSTL("r", testmesh.Ramp(75))},
	}
	if data, err := os.ReadFile(benchyPath); err == nil {
		models = append(models, struct {
			name string
			data []byte
		}{"benchy", data})
	}
	for _, m := range models {
		b.Run(m.name, func(b *testing.B) { benchSlice(b, m.data, withSupport) })
	}
}

// BenchmarkSliceMillion slices a 40 mm sphere of 1,000,000 triangles,
// generated here rather than stored.
func BenchmarkSliceMillion(b *testing.B) {
	benchSlice(b, testmesh.WriteSTL("sphere1m", testmesh.Sphere(20, 501, 1000)))
}

// BenchmarkParse3MF loads models as 3MF packages: the test sphere, and
// Benchy's triangles written as one 3MF object.
func BenchmarkParse3MF(b *testing.B) {
	models := map[string][]byte{"sphere": testmesh.Write3MF(testmesh.Sphere(10, 24, 48))}
	if data, err := os.ReadFile(benchyPath); err == nil {
		if s, err := stl.ReadAll(bytes.NewReader(data)); err == nil {
			models["benchy"] = testmesh.Write3MF(s.Triangles)
		}
	}
	for _, name := range []string{"sphere", "benchy"} {
		data, ok := models[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Parse3MF(data, DefaultLimits); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

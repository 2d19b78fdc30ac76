package slicer

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer/testmesh"
)

// TestPlanLayers: the layer count and the top layer's height follow
// CuraEngine's and PrusaSlicer's rounding, a layer per slicing plane (the
// layer's middle) at or below the part's top.
func TestPlanLayers(t *testing.T) {
	tests := []struct {
		name              string
		height, first, h  float64
		layers            int
		top, plane0, last float64
	}{
		{"5.66 mm part stops at 5.6", 5.66, 0.2, 0.2, 28, 5.6, 0.1, 5.5},
		{"5.72 mm part reaches 5.8", 5.72, 0.2, 0.2, 29, 5.8, 0.1, 5.7},
		{"20 mm cube", 20, 0.2, 0.2, 100, 20, 0.1, 19.9},
		{"plane at the top keeps its layer", 5.7, 0.2, 0.2, 29, 5.8, 0.1, 5.7 - 1e-4},
		{"thick first layer", 10.05, 0.3, 0.2, 50, 10.1, 0.15, 10.0},
		{"thinner than a layer", 0.05, 0.2, 0.2, 1, 0.2, 0.05 - 1e-4, 0.05 - 1e-4},
		{"48 mm Benchy", 48, 0.2, 0.2, 240, 48, 0.1, 47.9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := planLayers(tc.height, tc.first, tc.h)
			n := len(p.top)
			if n != tc.layers {
				t.Fatalf("%d layers, want %d", n, tc.layers)
			}
			if math.Abs(p.top[n-1]-tc.top) > 1e-9 || math.Abs(p.plane[0]-tc.plane0) > 1e-9 || math.Abs(p.plane[n-1]-tc.last) > 1e-9 {
				t.Fatalf("top %.4f (want %.4f), planes %.4f…%.4f (want %.4f…%.4f)", p.top[n-1], tc.top, p.plane[0], p.plane[n-1], tc.plane0, tc.last)
			}
			for i := range p.top {
				if p.plane[i] > tc.height {
					t.Fatalf("layer %d sliced at %.4f, above the part", i, p.plane[i])
				}
			}
		})
	}
}

// TestTallPartTopLayer slices the 5.66 mm part: 28 layers, the last at 5.6.
func TestTallPartTopLayer(t *testing.T) {
	m, _, err := ParseSTL(testmesh.WriteSTL("t", testmesh.Block566()), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	mat, _ := profile.LookupMaterial("PLA")
	r, err := Slice(context.Background(), m, DefaultSettings(ender3(t), mat), nil)
	if err != nil {
		t.Fatal(err)
	}
	a := analyse(t, r.GCode)
	if r.Layers != 28 || a.Layers != 28 || math.Abs(a.Max.Z-5.6) > 1e-9 {
		t.Fatalf("%d layers (analyser %d), top at %.3f mm; want 28 up to 5.6", r.Layers, a.Layers, a.Max.Z)
	}
}

func analyse(t testing.TB, g []byte) Analysis {
	t.Helper()
	a, err := Analyze(bytes.NewReader(g), ender3(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Flags) > 0 {
		t.Fatalf("analyser flags: %q", a.Flags)
	}
	return a
}

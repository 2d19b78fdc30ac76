package slicer

import (
	"errors"
	"math"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer/testmesh"
	"github.com/hschendel/stl"
)

// outerStarts returns, per layer, where its first outer wall starts.
func outerStarts(t *testing.T, r *Result) []Vec3 {
	t.Helper()
	var starts []Vec3
	last := -1
	walkGCode(t, r.GCode, func(mv move) {
		if mv.typ == "WALL-OUTER" && !mv.travel && mv.layer != last {
			starts = append(starts, mv.from)
			last = mv.layer
		}
	})
	if len(starts) != r.Layers {
		t.Fatalf("%d outer walls in %d layers", len(starts), r.Layers)
	}
	return starts
}

// spread is the largest distance in XY between any start and the first.
func spread(ps []Vec3) float64 {
	var d float64
	for _, p := range ps {
		d = max(d, math.Hypot(p.X-ps[0].X, p.Y-ps[0].Y))
	}
	return d
}

// TestSeamAligned: with the seam at the rear or in the sharpest corner,
// the outer wall starts at the same place layer after layer; at the
// nearest vertex it wanders.
func TestSeamAligned(t *testing.T) {
	models := map[string][]stl.Triangle{
		"cube":     testmesh.Cube(20),
		"cylinder": testmesh.Cylinder(10, 20, 64),
		"wedge":    testmesh.Wedge(),
	}
	for name, ts := range models {
		box := placedBox(t, ts)
		for _, mode := range []string{SeamRear, SeamSharpest} {
			t.Run(name+"/"+mode, func(t *testing.T) {
				r, s := sliceTris(t, ts, func(s *Settings) { s.Seam = mode })
				starts := outerStarts(t, r)
				if d := spread(starts); d > 0.01 {
					t.Fatalf("outer wall starts spread over %.3f mm: %v", d, starts)
				}
				p := starts[0]
				in := s.LineWidth / 2 // the outer wall's centre line lies half a line inside
				switch {
				case mode == SeamRear && name != "wedge" && math.Abs(p.Y-(box.Max.Y-in)) > 0.01:
					t.Fatalf("rear seam at y %.3f, the back wall is at %.3f", p.Y, box.Max.Y-in)
				case mode == SeamSharpest && name == "wedge" && (math.Abs(p.Y-(box.Min.Y+in)) > 0.01 || p.X < box.Max.X-3):
					// The 18° corner, at (30, 0) of the wedge; the wall's
					// corner lies further in, along the bisector.
					t.Fatalf("sharpest seam at %+v; the 18° corner is at (%.1f, %.1f)", p, box.Max.X, box.Min.Y)
				}
			})
		}
	}
	// On a sphere every layer differs: at the rear the seams stay on one
	// meridian (the same X), at the nearest vertex they wander.
	xs := map[string][2]float64{}
	for _, mode := range []string{SeamRear, SeamNearest} {
		r, _ := sliceTris(t, testmesh.Sphere(10, 24, 48), func(s *Settings) { s.Seam = mode })
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range outerStarts(t, r)[1:] { // the first layer is a speck at the pole
			lo, hi = min(lo, p.X), max(hi, p.X)
		}
		xs[mode] = [2]float64{lo, hi}
	}
	if r, n := xs[SeamRear], xs[SeamNearest]; r[1]-r[0] > 0.05 || n[1]-n[0] < 1 {
		t.Fatalf("seam X on the sphere: rear %.3f–%.3f, nearest %.3f–%.3f", r[0], r[1], n[0], n[1])
	}
}

func TestBadSeam(t *testing.T) {
	s := DefaultSettings(ender3(t), mustPLA())
	s.Seam = "random"
	if err := s.normalise(); !errors.Is(err, ErrBadSettings) {
		t.Fatalf("got %v", err)
	}
}

// TestProfileSeam: a printer profile's seam is the default, the setting
// overrides it, and a profile without one slices as SeamNearest does,
// byte for byte.
func TestProfileSeam(t *testing.T) {
	ts := testmesh.Cylinder(10, 20, 64)
	slice := func(seam string, edit func(s *Settings)) *Result {
		r, _ := sliceTris(t, ts, func(s *Settings) {
			p := s.Printer
			p.Seam = seam
			*s = DefaultSettings(p, s.Material)
			if edit != nil {
				edit(s)
			}
		})
		return r
	}
	byName := map[string]*Result{}
	for _, mode := range []string{SeamNearest, SeamRear, SeamSharpest} {
		r, _ := sliceTris(t, ts, func(s *Settings) { s.Seam = mode })
		byName[mode] = r
	}
	if string(byName[SeamRear].GCode) == string(byName[SeamNearest].GCode) {
		t.Fatal("rear and nearest seams slice the same: the test cannot tell them apart")
	}
	tests := []struct {
		name, profile string
		edit          func(s *Settings)
		want          string
	}{
		{"no field", "", nil, SeamNearest},
		{"profile rear", SeamRear, nil, SeamRear},
		{"profile sharpest", SeamSharpest, nil, SeamSharpest},
		{"setting over profile", SeamRear, func(s *Settings) { s.Seam = SeamNearest }, SeamNearest},
		{"empty setting takes the profile's", SeamRear, func(s *Settings) { s.Seam = "" }, SeamRear},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := slice(tc.profile, tc.edit); string(got.GCode) != string(byName[tc.want].GCode) {
				t.Fatalf("slices unlike seam %q", tc.want)
			}
		})
	}
	// The bundled profiles name no seam: their output is what it was.
	for _, p := range profile.Printers() {
		if p.Seam != "" {
			t.Errorf("bundled printer %q sets seam %q", p.ID, p.Seam)
		}
	}
}

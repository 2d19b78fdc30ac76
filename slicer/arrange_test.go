package slicer

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/slicer/testmesh"
)

// gridCount is how many w × h boxes a plain grid of bounding boxes puts
// on the bed, spacing apart, unturned.
func gridCount(w, h, bedX, bedY, spacing float64) int {
	return int(math.Floor((bedX+spacing)/(w+spacing))) * int(math.Floor((bedY+spacing)/(h+spacing)))
}

// TestArrangeDensity: the bed takes at least as many copies as a grid of
// bounding boxes holds, and with the 90° turn at least as many as the
// better of the two grids; one more than it reports does not fit.
func TestArrangeDensity(t *testing.T) {
	for _, tc := range []struct {
		name       string
		w, h       float64
		bedX, bedY float64
		turn       bool
		want       int
	}{
		{"cube 20", 20, 20, 220, 220, false, 64},
		{"100 × 30", 100, 30, 250, 210, false, 12},
		{"100 × 30 turned", 100, 30, 250, 210, true, 14},
		{"150 × 60 turned", 150, 60, 220, 220, true, 3},
		{"70 × 130 turned", 70, 130, 250, 210, true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := ParseSTL(testmesh.WriteSTL("b", testmesh.Box(0, 0, 0, tc.w, tc.h, 5)), DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			want := gridCount(tc.w, tc.h, tc.bedX, tc.bedY, DefaultCopySpacing)
			if tc.turn {
				want = max(want, gridCount(tc.h, tc.w, tc.bedX, tc.bedY, DefaultCopySpacing))
			}
			if want != tc.want {
				t.Fatalf("a grid holds %d, the table says %d", want, tc.want)
			}
			out, boxes, err := Arrange(m, want, tc.bedX, tc.bedY, DefaultCopySpacing, tc.turn)
			if err != nil {
				t.Fatalf("%d copies (a grid's): %v", want, err)
			}
			if len(boxes) != want || len(out.Tris) != want*len(m.Tris) {
				t.Fatalf("%d boxes, %d triangles for %d copies", len(boxes), len(out.Tris), want)
			}
			checkApart(t, boxes, tc.bedX, tc.bedY, DefaultCopySpacing)
			if _, _, err := Arrange(m, want+1, tc.bedX, tc.bedY, DefaultCopySpacing, tc.turn); !errors.Is(err, ErrNotFit) || !strings.Contains(err.Error(), "holds") {
				t.Fatalf("%d copies: %v", want+1, err)
			}
		})
	}
}

// checkApart: every box is on the bed and at least spacing from the others.
func checkApart(t *testing.T, boxes []Box, bedX, bedY, spacing float64) {
	t.Helper()
	b := Box{boxes[0].Min, boxes[0].Max}
	for _, x := range boxes {
		b.Min = Vec3{min(b.Min.X, x.Min.X), min(b.Min.Y, x.Min.Y), 0}
		b.Max = Vec3{max(b.Max.X, x.Max.X), max(b.Max.Y, x.Max.Y), 0}
	}
	if s := b.Size(); s.X > bedX+1e-6 || s.Y > bedY+1e-6 {
		t.Fatalf("copies span %.1f × %.1f mm", s.X, s.Y)
	}
	for i, p := range boxes {
		for _, q := range boxes[i+1:] {
			gx := max(q.Min.X-p.Max.X, p.Min.X-q.Max.X)
			gy := max(q.Min.Y-p.Max.Y, p.Min.Y-q.Max.Y)
			if max(gx, gy) < spacing-1e-6 {
				t.Fatalf("boxes %+v and %+v are %.2f mm apart", p, q, max(gx, gy))
			}
		}
	}
}

// TestSliceCopies: four T-shapes on one bed slice as one file: four
// islands a layer, each copy's box on the bed, four times the filament.
func TestSliceCopies(t *testing.T) {
	one, _ := sliceTris(t, testmesh.TShape(), nil)
	r, s := sliceTris(t, testmesh.TShape(), func(s *Settings) { s.Copies = 4; s.CopyTurn = true })
	if r.Copies != 4 || len(r.CopyBoxes) != 4 || r.Layers != one.Layers {
		t.Fatalf("copies %d, boxes %d, layers %d (one copy: %d)", r.Copies, len(r.CopyBoxes), r.Layers, one.Layers)
	}
	p := s.Printer.BuildVolume
	checkApart(t, r.CopyBoxes, p.X, p.Y, s.CopySpacing)
	for _, b := range r.CopyBoxes {
		if b.Min.X < 0 || b.Min.Y < 0 || b.Max.X > p.X || b.Max.Y > p.Y {
			t.Fatalf("copy %+v off the %.0f × %.0f bed", b, p.X, p.Y)
		}
	}
	if d := r.Estimate.FilamentMM / one.Estimate.FilamentMM; d < 3.9 || d > 4.1 {
		t.Fatalf("4 copies use %.2f× the filament of one", d)
	}
	// Every copy's outer wall on the middle layer, inside its own box.
	seen := make([]bool, 4)
	walkGCode(t, r.GCode, func(mv move) {
		if mv.layer == r.Layers/2 && mv.typ == "WALL-OUTER" && !mv.travel {
			for i, b := range r.CopyBoxes {
				if mv.to.X >= b.Min.X && mv.to.X <= b.Max.X && mv.to.Y >= b.Min.Y && mv.to.Y <= b.Max.Y {
					seen[i] = true
				}
			}
		}
	})
	for i, ok := range seen {
		if !ok {
			t.Fatalf("copy %d (%+v) has no outer wall on layer %d", i, r.CopyBoxes[i], r.Layers/2)
		}
	}
	a := analyse(t, r.GCode)
	if math.Abs(r.Estimate.FilamentMM-a.ModelFilamentMM) > 0.01*a.ModelFilamentMM {
		t.Fatalf("estimate %.1f mm, file %.1f mm", r.Estimate.FilamentMM, a.ModelFilamentMM)
	}
}

func TestCopiesErrors(t *testing.T) {
	m, _, _ := ParseSTL(testmesh.WriteSTL("c", testmesh.Cube(20)), DefaultLimits)
	for _, tc := range []struct {
		name string
		n    int
		want error
	}{
		{"too many for the bed", 200, ErrNotFit},
		{"negative", -1, ErrBadSettings},
		{"over the limit", maxCopies + 1, ErrBadSettings},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings(ender3(t), mustPLA())
			s.Copies = tc.n
			if _, err := Slice(t.Context(), m, s, nil); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

package poly

import (
	"math"
	"testing"
)

// TestClipRect: clipping to a rectangle is the intersection with it, as a
// region and as the operand of a difference, on convex and concave paths
// and holes.
func TestClipRect(t *testing.T) {
	sq := func(x0, y0, x1, y1 int64) Path { return Path{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}} }
	comb := Path{{0, 0}, {100, 0}, {100, 100}, {80, 100}, {80, 20}, {60, 20}, {60, 100}, {40, 100}, {40, 20}, {20, 20}, {20, 100}, {0, 100}}
	ring := Paths{sq(0, 0, 100, 100), Reverse(sq(30, 30, 70, 70))}
	for _, tc := range []struct {
		name string
		ps   Paths
		r    Rect
	}{
		{"inside", Paths{sq(10, 10, 20, 20)}, Rect{Point{0, 0}, Point{50, 50}}},
		{"outside", Paths{sq(60, 60, 70, 70)}, Rect{Point{0, 0}, Point{50, 50}}},
		{"square across", Paths{sq(0, 0, 100, 100)}, Rect{Point{50, -10}, Point{150, 60}}},
		{"comb cut through its teeth", Paths{comb}, Rect{Point{-5, 50}, Point{105, 120}}},
		{"ring cut through its hole", ring, Rect{Point{50, -10}, Point{120, 110}}},
		{"circle", Paths{circle(0, 0, 1000, 200)}, Rect{Point{-300, -2000}, Point{2000, 500}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rp := sq(tc.r.Min.X, tc.r.Min.Y, tc.r.Max.X, tc.r.Max.Y)
			got := Union(ClipRect(tc.ps, tc.r), NonZero)
			want := Intersection(tc.ps, Paths{rp})
			if a, b := TotalArea(got), TotalArea(want); math.Abs(a-b) > 1e-6*max(1, b)+float64(len(tc.ps[0])) {
				t.Fatalf("clipped area %.1f, intersection %.1f", a, b)
			}
			// As the cutter of a region inside the rectangle.
			inner := Paths{sq(tc.r.Min.X+1, tc.r.Min.Y+1, tc.r.Max.X-1, tc.r.Max.Y-1)}
			a := TotalArea(Difference(inner, ClipRect(tc.ps, tc.r)))
			b := TotalArea(Difference(inner, tc.ps))
			if math.Abs(a-b) > 1e-6*max(1, b)+float64(len(tc.ps[0])) {
				t.Fatalf("difference with the clipped paths %.1f, with the paths %.1f", a, b)
			}
		})
	}
}

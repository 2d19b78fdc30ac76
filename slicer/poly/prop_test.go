package poly

import (
	"encoding/binary"
	"math"
	"testing"

	"pgregory.net/rapid"
)

// angles draws n increasing angles covering the circle once.
func angles(t *rapid.T, label string, n int) []float64 {
	inc := make([]float64, n)
	var sum float64
	for i := range inc {
		inc[i] = rapid.Float64Range(0.05, 1).Draw(t, label+"inc")
		sum += inc[i]
	}
	out := make([]float64, n)
	var a float64
	for i := range inc {
		out[i] = a
		a += inc[i] / sum * 2 * math.Pi
	}
	return out
}

// starPoly draws a star-shaped (hence simple) counter-clockwise polygon.
func starPoly(t *rapid.T, label string) Path {
	n := rapid.IntRange(3, 24).Draw(t, label+"n")
	cx := rapid.Int64Range(-50000, 50000).Draw(t, label+"cx")
	cy := rapid.Int64Range(-50000, 50000).Draw(t, label+"cy")
	p := make(Path, 0, n)
	for _, a := range angles(t, label, n) {
		r := float64(rapid.Int64Range(1000, 40000).Draw(t, label+"r"))
		p = append(p, Point{cx + int64(r*math.Cos(a)), cy + int64(r*math.Sin(a))})
	}
	p = cleanPath(p)
	if len(p) < 3 || Area(p) <= 0 {
		t.Skip("degenerate")
	}
	return p
}

// convexPoly draws a convex counter-clockwise polygon around the origin.
func convexPoly(t *rapid.T) Path {
	n := rapid.IntRange(3, 40).Draw(t, "n")
	r := float64(rapid.Int64Range(2000, 100000).Draw(t, "r"))
	p := make(Path, 0, n)
	for _, a := range angles(t, "", n) {
		p = append(p, Point{int64(r * math.Cos(a)), int64(r * math.Sin(a))})
	}
	p = cleanPath(p)
	if len(p) < 3 || Area(p) <= 0 {
		t.Skip("degenerate")
	}
	return p
}

// inradius is the distance from the origin to the nearest edge line.
func inradius(p Path) float64 {
	best := math.Inf(1)
	for i := range p {
		a, b := p[i], p[(i+1)%len(p)]
		best = min(best, math.Abs(float64(Cross(a, b, Point{})))/Dist(a, b))
	}
	return best
}

func TestPropUnionCommutative(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := Paths{starPoly(t, "a")}
		b := Paths{starPoly(t, "b")}
		ab, ba := UnionOf(a, b), UnionOf(b, a)
		if x, y := TotalArea(ab), TotalArea(ba); x != y {
			t.Fatalf("union areas differ: %v vs %v", x, y)
		}
		for _, r := range []Paths{ab, Intersection(a, b), Difference(a, b)} {
			if err := Check(r); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestPropInclusionExclusion(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := Paths{starPoly(t, "a")}
		b := Paths{starPoly(t, "b")}
		u, i := TotalArea(UnionOf(a, b)), TotalArea(Intersection(a, b))
		d := TotalArea(Difference(a, b))
		sa, sb := TotalArea(Union(a, NonZero)), TotalArea(Union(b, NonZero))
		// Crossings are rounded to the micrometre grid: allow a little.
		tol := Perimeter(a[0]) + Perimeter(b[0])
		if math.Abs(u+i-sa-sb) > tol {
			t.Fatalf("|A∪B|+|A∩B| = %v, |A|+|B| = %v", u+i, sa+sb)
		}
		if math.Abs(d+i-sa) > tol {
			t.Fatalf("|A−B|+|A∩B| = %v, |A| = %v", d+i, sa)
		}
	})
}

func TestPropOffsetConvexArea(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := convexPoly(t)
		d := float64(rapid.Int64Range(10, 2000).Draw(t, "d"))
		got := Offset(Paths{p}, d, OffsetOptions{ArcTolerance: 1})
		want := Area(p) + Perimeter(p)*d + math.Pi*d*d
		// Each rounded vertex moves an edge by up to half a micrometre.
		if a := TotalArea(got); math.Abs(a-want) > 0.003*want+Perimeter(p) {
			t.Fatalf("offset area %v want %v", a, want)
		}
		if len(got) != 1 {
			t.Fatalf("offset of a convex polygon gave %d loops", len(got))
		}
		if err := Check(got); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPropHolesStayHoles(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		outer := convexPoly(t)
		// A hole well inside: the outer shrunk around its centroid.
		hole := make(Path, len(outer))
		for i, q := range outer {
			hole[i] = Point{q.X / 3, q.Y / 3}
		}
		ir := inradius(outer)
		if ir < 600 || Winding(outer, Point{}) == 0 {
			t.Skip("thin")
		}
		ring := Difference(Paths{outer}, Paths{hole})
		lim := int64(ir / 6)
		d := float64(rapid.Int64Range(-lim, lim).Draw(t, "d"))
		for _, r := range []Paths{ring, Offset(ring, d, OffsetOptions{})} {
			var holes int
			for _, p := range r {
				if Area(p) < 0 {
					holes++
					if Inside(Paths{p}, Point{0, 0}) == false {
						t.Fatalf("hole does not contain the centre")
					}
				}
			}
			if holes != 1 {
				t.Fatalf("want 1 hole, got %d", holes)
			}
			if Inside(r, Point{0, 0}) {
				t.Fatalf("centre of the hole is inside the region")
			}
		}
	})
}

func decodePaths(data []byte) Paths {
	var ps Paths
	var cur Path
	for len(data) >= 4 {
		x := int64(int16(binary.LittleEndian.Uint16(data)))
		y := int64(int16(binary.LittleEndian.Uint16(data[2:])))
		data = data[4:]
		if x == 0x7fff { // path separator
			ps = append(ps, cur)
			cur = nil
			continue
		}
		cur = append(cur, Point{x * 37, y * 37})
	}
	return append(ps, cur)
}

func FuzzBoolean(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 100, 0, 0, 0, 100, 0, 100, 0, 0xff, 0x7f, 0, 0, 50, 0, 50, 0, 150, 0, 50, 0, 150, 0, 150, 0}, uint8(0))
	f.Add([]byte{0, 0, 0, 0, 10, 0, 10, 0, 10, 0, 0, 0, 0, 0, 10, 0}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, opb uint8) {
		if len(data) > 400 {
			return
		}
		ps := decodePaths(data)
		a, b := ps[:len(ps)/2+1], ps[len(ps)/2+1:]
		op := Op(opb % 4)
		for _, rule := range []FillRule{EvenOdd, NonZero, Positive} {
			r := Boolean(a, b, op, rule)
			if err := Check(r); err != nil {
				t.Fatalf("op %d rule %d: %v", op, rule, err)
			}
		}
		clean := Union(a, NonZero)
		for _, d := range []float64{-300, 200} {
			if err := Check(Offset(clean, d, OffsetOptions{})); err != nil {
				t.Fatalf("offset %v: %v", d, err)
			}
		}
	})
}

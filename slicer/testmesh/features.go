package testmesh

import (
	"math"

	"github.com/hschendel/stl"
)

// The models of the feature tests: overhangs, bridges, thin features and
// a height that is not a whole number of layers.

// TShape is a 10 × 10 × 10 mm pillar carrying a 30 × 10 × 4 mm slab:
// 10 mm wings out over air on both sides.
func TShape() []stl.Triangle { return Overhang() }

// Bridge is two 5 × 10 × 10 mm pillars 20 mm apart, joined at the top by
// a 30 × 10 × 3 mm slab: the slab spans 20 mm of air between them.
func Bridge() []stl.Triangle {
	ts := Box(0, 0, 0, 5, 10, 10)
	ts = append(ts, Box(25, 0, 0, 30, 10, 10)...)
	return append(ts, Box(0, 0, 10, 30, 10, 13)...)
}

// Ramp is a 10 mm tall block on a 10 × 10 mm base whose +x face leans out
// at angle degrees from vertical (0 a wall, 90 a ceiling): the top is
// 10 + 10·tan(angle) mm long.
func Ramp(angle float64) []stl.Triangle {
	const h = 10
	top := 10 + h*math.Tan(angle*math.Pi/180)
	return PrismY([][2]float64{{0, 0}, {10, 0}, {top, h}, {0, h}}, 0, 10)
}

// Wall is a 30 × t × 10 mm upright wall t mm thick (a 1 mm wall, a 0.6 mm
// rib).
func Wall(t float64) []stl.Triangle { return Box(0, 0, 0, 30, t, 10) }

// Block566 is a 10 × 10 mm block 5.66 mm tall: not a whole number of 0.2 mm
// layers.
func Block566() []stl.Triangle { return Box(0, 0, 0, 10, 10, 5.66) }

// PrismY extrudes a convex polygon in the xz plane (points (x, z) in
// order) from y0 to y1.
func PrismY(xz [][2]float64, y0, y1 float64) []stl.Triangle {
	n := len(xz)
	var cx, cz float64
	for _, p := range xz {
		cx, cz = cx+p[0]/float64(n), cz+p[1]/float64(n)
	}
	c := V{cx, (y0 + y1) / 2, cz}
	at := func(i int, y float64) V { p := xz[i%n]; return V{p[0], y, p[1]} }
	var ts []stl.Triangle
	for i := 0; i < n; i++ {
		ts = append(ts, quad(at(i, y0), at(i+1, y0), at(i+1, y1), at(i, y1))...)
		if i > 0 && i < n-1 {
			ts = append(ts, tri(at(0, y0), at(i, y0), at(i+1, y0)), tri(at(0, y1), at(i+1, y1), at(i, y1)))
		}
	}
	return outward(ts, c)
}

// outward turns every triangle of a convex solid to face away from its
// centre c.
func outward(ts []stl.Triangle, c V) []stl.Triangle {
	for i := range ts {
		a, n := ts[i].Vertices[0], ts[i].Normal
		if (float64(a[0])-c[0])*float64(n[0])+(float64(a[1])-c[1])*float64(n[1])+(float64(a[2])-c[2])*float64(n[2]) < 0 {
			v := ts[i].Vertices
			ts[i] = tri(V{float64(v[0][0]), float64(v[0][1]), float64(v[0][2])}, V{float64(v[2][0]), float64(v[2][1]), float64(v[2][2])}, V{float64(v[1][0]), float64(v[1][1]), float64(v[1][2])})
		}
	}
	return ts
}

// PrismZ extrudes a convex polygon in the xy plane (points in order) from
// z = 0 to h.
func PrismZ(xy [][2]float64, h float64) []stl.Triangle {
	n := len(xy)
	var cx, cy float64
	for _, p := range xy {
		cx, cy = cx+p[0]/float64(n), cy+p[1]/float64(n)
	}
	at := func(i int, z float64) V { p := xy[i%n]; return V{p[0], p[1], z} }
	var ts []stl.Triangle
	for i := 0; i < n; i++ {
		ts = append(ts, quad(at(i, 0), at(i+1, 0), at(i+1, h), at(i, h))...)
		if i > 0 && i < n-1 {
			ts = append(ts, tri(at(0, 0), at(i, 0), at(i+1, 0)), tri(at(0, h), at(i+1, h), at(i, h)))
		}
	}
	return outward(ts, V{cx, cy, h / 2})
}

// Wedge is a 10 mm tall prism on a right triangle with legs of 30 and
// 10 mm: corners of 18.4°, 71.6° and 90°.
func Wedge() []stl.Triangle { return PrismZ([][2]float64{{0, 0}, {30, 0}, {0, 10}}, 10) }

// NeckWidths are the rungs of Necks, mm: from where the second perimeter
// no longer passes (1.2 mm at 0.4 mm lines) to where the infill's own
// hatch takes over.
var NeckWidths = []float64{1.4, 1.7, 2.0, 2.3, 2.6}

// Necks is a ladder 5 mm tall: two 48 × 6 mm rails 10 mm apart joined by
// 10 mm rungs as wide as NeckWidths, 8 mm apart: thin necks inside a
// thick part, walls running from the rails down each rung and back.
// The boxes touch, without overlapping.
func Necks() []stl.Triangle {
	const h, rail, gap = 5.0, 6.0, 10.0
	ts := Box(0, 0, 0, 48, rail, h)
	ts = append(ts, Box(0, rail+gap, 0, 48, 2*rail+gap, h)...)
	x := 4.0
	for _, w := range NeckWidths {
		ts = append(ts, Box(x, rail, 0, x+w, rail+gap, h)...)
		x += w + 8
	}
	return ts
}

// Relief is a 40 × 20 × 2 mm plate with raised lettering on top, 1 mm
// high, as a sign or a name plate has it: an H, an E, an L and a T whose
// strokes are 0.8 to 2.2 mm wide, meeting at right angles: strokes
// under two lines wide (one wall loop, widened), between two and four
// (walls that overlap or leave a gap) and over four (walls and skin).
func Relief() []stl.Triangle {
	const z0, z1 = 2.0, 3.0
	ts := Box(0, 0, 0, 40, 20, z0)
	stroke := func(x0, y0, x1, y1 float64) { ts = append(ts, Box(x0, y0, z0, x1, y1, z1)...) }
	// H: 0.9 mm uprights, a 0.8 mm bar.
	stroke(3, 4, 3.9, 16)
	stroke(3.9, 9.6, 7.1, 10.4)
	stroke(7.1, 4, 8, 16)
	// E: a 1.4 mm upright, 1.1 mm arms.
	stroke(10, 4, 11.4, 16)
	stroke(11.4, 4, 15.5, 5.1)
	stroke(11.4, 9.45, 14.5, 10.55)
	stroke(11.4, 14.9, 15.5, 16)
	// L: a 1.7 mm upright, a 1.5 mm foot.
	stroke(18, 4, 19.7, 16)
	stroke(19.7, 4, 24, 5.5)
	// T: a 2.2 mm bar, a 1.9 mm stem.
	stroke(26, 13.8, 36, 16)
	stroke(30.05, 4, 31.95, 13.8)
	return ts
}

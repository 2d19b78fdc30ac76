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

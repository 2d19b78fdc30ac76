// Package testmesh builds the slicer's test models in code: cube,
// cylinder, sphere, torus, several islands, an overhang, a thin wall and a
// cube with a small gap; for the feature tests a T, a bridge between two
// pillars, ramps leaning at any angle, walls of any thickness and a
// 5.66 mm block (features.go). Each builder returns triangles wound
// counter-clockwise seen from outside, in millimetres; WriteSTL stores
// them as binary STL (the files under testdata/models come from here) and
// Write3MF as a 3MF package.
package testmesh

import (
	"bytes"
	"math"

	"github.com/hschendel/stl"
)

// V is a vertex in millimetres.
type V = [3]float64

func tri(a, b, c V) stl.Triangle {
	var t stl.Triangle
	for i, v := range [3]V{a, b, c} {
		t.Vertices[i] = stl.Vec3{float32(v[0]), float32(v[1]), float32(v[2])}
	}
	// Normal from the winding.
	ux, uy, uz := b[0]-a[0], b[1]-a[1], b[2]-a[2]
	vx, vy, vz := c[0]-a[0], c[1]-a[1], c[2]-a[2]
	nx, ny, nz := uy*vz-uz*vy, uz*vx-ux*vz, ux*vy-uy*vx
	if l := math.Sqrt(nx*nx + ny*ny + nz*nz); l > 0 {
		t.Normal = stl.Vec3{float32(nx / l), float32(ny / l), float32(nz / l)}
	}
	return t
}

func quad(a, b, c, d V) []stl.Triangle { return []stl.Triangle{tri(a, b, c), tri(a, c, d)} }

// Box is an axis-aligned box from (x0,y0,z0) to (x1,y1,z1).
func Box(x0, y0, z0, x1, y1, z1 float64) []stl.Triangle {
	var ts []stl.Triangle
	p := func(i, j, k int) V {
		return V{[2]float64{x0, x1}[i], [2]float64{y0, y1}[j], [2]float64{z0, z1}[k]}
	}
	ts = append(ts, quad(p(0, 0, 0), p(0, 1, 0), p(1, 1, 0), p(1, 0, 0))...) // bottom
	ts = append(ts, quad(p(0, 0, 1), p(1, 0, 1), p(1, 1, 1), p(0, 1, 1))...) // top
	ts = append(ts, quad(p(0, 0, 0), p(1, 0, 0), p(1, 0, 1), p(0, 0, 1))...) // front
	ts = append(ts, quad(p(1, 0, 0), p(1, 1, 0), p(1, 1, 1), p(1, 0, 1))...) // right
	ts = append(ts, quad(p(1, 1, 0), p(0, 1, 0), p(0, 1, 1), p(1, 1, 1))...) // back
	ts = append(ts, quad(p(0, 1, 0), p(0, 0, 0), p(0, 0, 1), p(0, 1, 1))...) // left
	return ts
}

// Cube is a cube of side s with a corner at the origin.
func Cube(s float64) []stl.Triangle { return Box(0, 0, 0, s, s, s) }

// Cylinder is a cylinder of radius r and height h on n sides.
func Cylinder(r, h float64, n int) []stl.Triangle {
	var ts []stl.Triangle
	at := func(i int, z float64) V {
		a := 2 * math.Pi * float64(i%n) / float64(n)
		return V{r * math.Cos(a), r * math.Sin(a), z}
	}
	for i := 0; i < n; i++ {
		ts = append(ts, quad(at(i, 0), at(i+1, 0), at(i+1, h), at(i, h))...)
		ts = append(ts, tri(V{0, 0, h}, at(i, h), at(i+1, h)))
		ts = append(ts, tri(V{0, 0, 0}, at(i+1, 0), at(i, 0)))
	}
	return ts
}

// Sphere is a UV sphere of radius r with lat bands and lon segments.
func Sphere(r float64, lat, lon int) []stl.Triangle {
	at := func(i, j int) V {
		th := math.Pi * float64(i) / float64(lat) // 0 at the south pole
		ph := 2 * math.Pi * float64(j%lon) / float64(lon)
		return V{r * math.Sin(th) * math.Cos(ph), r * math.Sin(th) * math.Sin(ph), -r * math.Cos(th)}
	}
	ts := make([]stl.Triangle, 0, 2*lat*lon)
	for i := 0; i < lat; i++ {
		for j := 0; j < lon; j++ {
			a, b, c, d := at(i, j), at(i, j+1), at(i+1, j+1), at(i+1, j)
			if i > 0 {
				ts = append(ts, tri(a, b, c))
			}
			if i < lat-1 {
				ts = append(ts, tri(a, c, d))
			}
		}
	}
	return ts
}

// Torus lies flat: major radius big, tube radius small.
func Torus(big, small float64, n, m int) []stl.Triangle {
	at := func(i, j int) V {
		u := 2 * math.Pi * float64(i%n) / float64(n)
		v := 2 * math.Pi * float64(j%m) / float64(m)
		rr := big + small*math.Cos(v)
		return V{rr * math.Cos(u), rr * math.Sin(u), small * math.Sin(v)}
	}
	var ts []stl.Triangle
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			ts = append(ts, quad(at(i, j), at(i+1, j), at(i+1, j+1), at(i, j+1))...)
		}
	}
	return ts
}

// Islands is four separate 8 mm cubes, 12 mm apart.
func Islands() []stl.Triangle {
	var ts []stl.Triangle
	for _, o := range [][2]float64{{0, 0}, {20, 0}, {0, 20}, {20, 20}} {
		ts = append(ts, Box(o[0], o[1], 0, o[0]+8, o[1]+8, 8)...)
	}
	return ts
}

// Overhang is a 10 mm pillar carrying a 30 × 10 × 4 mm slab (a T).
func Overhang() []stl.Triangle {
	ts := Box(10, 0, 0, 20, 10, 10)
	return append(ts, Box(0, 0, 10, 30, 10, 14)...)
}

// ThinWall is a 30 × 0.8 × 10 mm wall: two line widths thick.
func ThinWall() []stl.Triangle { return Box(0, 0, 0, 30, 0.8, 10) }

// GapCube is a 20 mm cube whose right face is split from the rest by a
// 0.05 mm slit: the mesh is open, and each slice has two small gaps.
func GapCube() []stl.Triangle {
	ts := Box(0, 0, 0, 20, 20, 20)
	for i := range ts {
		for k := range ts[i].Vertices {
			v := &ts[i].Vertices[k]
			// Vertices of the right face's two triangles only.
			if i == 6 || i == 7 {
				v[1] += 0.05 * float32(math.Copysign(1, float64(v[1])-10))
			}
		}
	}
	return ts
}

// WriteSTL encodes triangles as a binary STL.
func WriteSTL(name string, ts []stl.Triangle) []byte {
	s := &stl.Solid{Name: name, Triangles: ts}
	var b bytes.Buffer
	if err := s.WriteAll(&b); err != nil {
		panic(err) // writing to a bytes.Buffer does not fail
	}
	return b.Bytes()
}

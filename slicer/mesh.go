package slicer

import (
	"fmt"
	"math"
	"slices"

	"github.com/hschendel/stl"

	"github.com/fabgrid/fabgrid/profile"
)

// Vec3 is a point in millimetres.
type Vec3 struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	Z float64 `json:"z"`
}

// Mesh is an indexed triangle mesh in millimetres: vertices welded at one
// micrometre, triangles wound counter-clockwise seen from outside.
type Mesh struct {
	Verts []Vec3
	Tris  [][3]int32
	// Report is what LoadSTL found; Slice copies it into its Result.
	Report MeshReport
}

// Box is an axis-aligned bounding box in millimetres.
type Box struct{ Min, Max Vec3 }

// Size returns the box's extent per axis.
func (b Box) Size() Vec3 { return Vec3{b.Max.X - b.Min.X, b.Max.Y - b.Min.Y, b.Max.Z - b.Min.Z} }

// MeshReport says what the loader found and repaired.
type MeshReport struct {
	Format           string  `json:"format"`
	Triangles        int     `json:"triangles"`          // as read
	Vertices         int     `json:"vertices"`           // after welding
	Degenerate       int     `json:"degenerate"`         // dropped: zero area or repeated vertex
	FlippedNormals   int     `json:"flipped_normals"`    // stored normal disagreed with the winding
	OpenEdges        int     `json:"open_edges"`         // used by one triangle only
	NonManifoldEdges int     `json:"non_manifold_edges"` // used by three or more
	Watertight       bool    `json:"watertight"`
	VolumeMM3        float64 `json:"volume_mm3"`
	SurfaceMM2       float64 `json:"surface_mm2"`
	Size             Vec3    `json:"size_mm"`
}

// builder collects triangles from the STL reader (it is an stl.Writer).
type builder struct {
	lim     Limits
	verts   []Vec3
	index   weldTable
	tris    [][3]int32
	read    int
	degen   int
	flipped int
	err     error
}

var _ stl.Writer = (*builder)(nil)

func newBuilder(lim Limits) *builder {
	return &builder{lim: lim, index: newWeldTable(64)}
}

func (b *builder) SetName(string)         {}
func (b *builder) SetBinaryHeader([]byte) {}
func (b *builder) SetASCII(bool)          {}

// SetTriangleCount pre-sizes the tables (the count was checked already).
func (b *builder) SetTriangleCount(n uint32) {
	if int(n) <= b.lim.MaxTriangles && len(b.tris) == 0 {
		b.tris = make([][3]int32, 0, n)
		b.verts = make([]Vec3, 0, n/2+3)
		b.index = newWeldTable(int(n/2 + 3))
	}
}

// AppendTriangle checks, welds and stores one triangle of an STL.
func (b *builder) AppendTriangle(t stl.Triangle) {
	var p [3]Vec3
	for k, v := range t.Vertices {
		p[k] = Vec3{float64(v[0]), float64(v[1]), float64(v[2])}
	}
	n, ok := b.add(p)
	if sn := (Vec3{float64(t.Normal[0]), float64(t.Normal[1]), float64(t.Normal[2])}); ok && dot(sn, n) < 0 {
		b.flipped++
	}
}

// add checks, welds and stores one triangle (mm) of any format; it
// returns the triangle's normal from its winding, and false when the
// triangle was dropped (degenerate) or refused (b.err is set).
func (b *builder) add(p [3]Vec3) (Vec3, bool) {
	if b.err != nil {
		return Vec3{}, false
	}
	b.read++
	if b.read > b.lim.MaxTriangles {
		b.err = fmt.Errorf("%w: more than %d triangles", ErrTooLarge, b.lim.MaxTriangles)
		return Vec3{}, false
	}
	var idx [3]int32
	for k, v := range p {
		for _, c := range [3]float64{v.X, v.Y, v.Z} {
			if math.IsNaN(c) || math.IsInf(c, 0) {
				b.err = fmt.Errorf("%w: triangle %d", ErrBadNumber, b.read-1)
				return Vec3{}, false
			}
			if math.Abs(c) > b.lim.MaxExtentMM {
				b.err = fmt.Errorf("%w: coordinate %g mm beyond ±%g mm", ErrTooLarge, c, b.lim.MaxExtentMM)
				return Vec3{}, false
			}
		}
		key := [3]int32{int32(math.Round(v.X * 1000)), int32(math.Round(v.Y * 1000)), int32(math.Round(v.Z * 1000))}
		i, added := b.index.get(key, int32(len(b.verts)))
		if added {
			b.verts = append(b.verts, Vec3{float64(key[0]) / 1000, float64(key[1]) / 1000, float64(key[2]) / 1000})
		}
		idx[k] = i
		p[k] = b.verts[i]
	}
	n := cross(sub(p[1], p[0]), sub(p[2], p[0]))
	if idx[0] == idx[1] || idx[1] == idx[2] || idx[0] == idx[2] || dot(n, n) < 1e-18 {
		b.degen++
		return n, false
	}
	b.tris = append(b.tris, idx)
	return n, true
}

func (b *builder) finish() (*Mesh, MeshReport) {
	m := &Mesh{Verts: b.verts, Tris: b.tris}
	rep := MeshReport{Triangles: b.read, Vertices: len(b.verts), Degenerate: b.degen, FlippedNormals: b.flipped}
	rep.OpenEdges, rep.NonManifoldEdges = edgeCounts(m)
	rep.Watertight = rep.OpenEdges == 0 && rep.NonManifoldEdges == 0
	rep.VolumeMM3, rep.SurfaceMM2, _ = MeshStats(m)
	rep.Size = Bounds(m).Size()
	m.Report = rep
	b.index = weldTable{}
	return m, rep
}

// edgeCounts counts edges used by one triangle (open) and by more than two
// (non-manifold), by sorting undirected edge keys.
func edgeCounts(m *Mesh) (open, nonManifold int) {
	keys := make([]uint64, 0, 3*len(m.Tris))
	for _, t := range m.Tris {
		for k := 0; k < 3; k++ {
			a, b := uint32(t[k]), uint32(t[(k+1)%3])
			if a > b {
				a, b = b, a
			}
			keys = append(keys, uint64(a)<<32|uint64(b))
		}
	}
	slices.Sort(keys)
	for i := 0; i < len(keys); {
		j := i
		for j < len(keys) && keys[j] == keys[i] {
			j++
		}
		switch n := j - i; {
		case n == 1:
			open++
		case n > 2:
			nonManifold++
		}
		i = j
	}
	return open, nonManifold
}

// MeshStats returns the enclosed volume (mm³, by the divergence theorem;
// meaningful for closed meshes), the surface area (mm²) and the bounding
// box.
func MeshStats(m *Mesh) (volume, surface float64, box Box) {
	for _, t := range m.Tris {
		a, b, c := m.Verts[t[0]], m.Verts[t[1]], m.Verts[t[2]]
		volume += dot(a, cross(b, c)) / 6
		n := cross(sub(b, a), sub(c, a))
		surface += math.Sqrt(dot(n, n)) / 2
	}
	return volume, surface, Bounds(m)
}

// Bounds returns the bounding box of the mesh's used vertices.
func Bounds(m *Mesh) Box {
	inf := math.Inf(1)
	b := Box{Min: Vec3{inf, inf, inf}, Max: Vec3{-inf, -inf, -inf}}
	for _, v := range m.Verts {
		b.Min = Vec3{min(b.Min.X, v.X), min(b.Min.Y, v.Y), min(b.Min.Z, v.Z)}
		b.Max = Vec3{max(b.Max.X, v.X), max(b.Max.Y, v.Y), max(b.Max.Z, v.Z)}
	}
	return b
}

// Placed returns a copy of m centred on a bed of the given size and dropped
// to z = 0, or ErrNotFit with the model's size and the build volume it
// needs. The fit is profile's rule (Vec3.Fits); Placed does not turn the
// part, so one that fits only turned 90° about Z is ErrNotFit: turn it
// first.
func Placed(m *Mesh, bedX, bedY, bedZ float64) (*Mesh, error) {
	box := Bounds(m)
	s := box.Size()
	if ok, turned := (profile.Vec3{X: bedX, Y: bedY, Z: bedZ}).Fits(profile.Vec3(s)); !ok || turned {
		return nil, fmt.Errorf("%w: model is %.1f × %.1f × %.1f mm, needs a build volume of at least that; printer has %.0f × %.0f × %.0f mm",
			ErrNotFit, s.X, s.Y, s.Z, bedX, bedY, bedZ)
	}
	dx := bedX/2 - (box.Min.X+box.Max.X)/2
	dy := bedY/2 - (box.Min.Y+box.Max.Y)/2
	dz := -box.Min.Z
	out := &Mesh{Verts: make([]Vec3, len(m.Verts)), Tris: m.Tris, Report: m.Report}
	for i, v := range m.Verts {
		out.Verts[i] = Vec3{v.X + dx, v.Y + dy, v.Z + dz}
	}
	return out, nil
}

func sub(a, b Vec3) Vec3    { return Vec3{a.X - b.X, a.Y - b.Y, a.Z - b.Z} }
func dot(a, b Vec3) float64 { return a.X*b.X + a.Y*b.Y + a.Z*b.Z }
func cross(a, b Vec3) Vec3 {
	return Vec3{a.Y*b.Z - a.Z*b.Y, a.Z*b.X - a.X*b.Z, a.X*b.Y - a.Y*b.X}
}

// weldTable maps quantised vertex positions to vertex indices: open
// addressing with linear probing, 16 bytes a slot, grown at half load
// (a Go map of the same keys takes about three times the memory).
type weldTable struct {
	keys [][3]int32
	vals []int32 // index+1; 0 is empty
	n    int
}

func newWeldTable(expect int) weldTable {
	c := 16
	for c < 2*expect {
		c *= 2
	}
	return weldTable{keys: make([][3]int32, c), vals: make([]int32, c)}
}

func weldHash(k [3]int32) uint64 {
	h := uint64(uint32(k[0])) | uint64(uint32(k[1]))<<32
	h ^= uint64(uint32(k[2])) * 0x9E3779B97F4A7C15
	h *= 0xff51afd7ed558ccd
	return h ^ h>>33
}

// get returns the index stored for k, or stores next and reports added.
func (t *weldTable) get(k [3]int32, next int32) (int32, bool) {
	if 2*(t.n+1) > len(t.vals) {
		t.grow()
	}
	mask := uint64(len(t.vals) - 1)
	for i := weldHash(k) & mask; ; i = (i + 1) & mask {
		switch {
		case t.vals[i] == 0:
			t.keys[i], t.vals[i] = k, next+1
			t.n++
			return next, true
		case t.keys[i] == k:
			return t.vals[i] - 1, false
		}
	}
}

func (t *weldTable) grow() {
	old := *t
	*t = newWeldTable(max(8, len(old.vals)))
	for i, v := range old.vals {
		if v != 0 {
			t.get(old.keys[i], v-1)
		}
	}
}

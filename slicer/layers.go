package slicer

import (
	"math"

	"github.com/fabgrid/fabgrid/slicer/poly"
)

// heights lists the layers: each layer's top and its slicing plane (the
// middle of the layer).
type heights struct {
	top, plane, height []float64
}

// planLayers lays the layers from the bed up: the first of height first,
// the rest of height h. A layer is printed when its slicing plane (its
// middle) is not above the model's top, as in CuraEngine (middle slicing
// tolerance; slice_layer_count = (top − initial_slice_z) / h + 1 in whole
// micrometres) and PrusaSlicer (generate_object_layers): a 5.66 mm part
// at 0.2 mm gets 28 layers and stops at 5.6 mm, because the layer from 5.6
// to 5.8 would be sliced at 5.7, above the part. A plane exactly at the top
// keeps its layer, as CuraEngine does (PrusaSlicer drops it); it is sliced
// just below the top. A part lower than half the first layer still gets
// that one layer.
func planLayers(modelHeight, first, h float64) heights {
	var p heights
	for i := 0; ; i++ {
		bottom, th := 0.0, first
		if i > 0 {
			// From the index, not by summing, so long stacks do not drift.
			bottom, th = first+float64(i-1)*h, h
		}
		mid := bottom + th/2
		if i > 0 && mid > modelHeight+1e-6 {
			break
		}
		p.top = append(p.top, bottom+th)
		p.plane = append(p.plane, min(mid, modelHeight-1e-4))
		p.height = append(p.height, th)
	}
	return p
}

// triIndex lists, for every layer, the triangles its plane can cut (CSR).
type triIndex struct {
	start []int32
	tris  []int32
}

func buildTriIndex(m *Mesh, planes []float64) triIndex {
	n := len(planes)
	first := func(z float64) int { // first layer whose plane is ≥ z
		lo, hi := 0, n
		for lo < hi {
			mid := (lo + hi) / 2
			if planes[mid] < z {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo
	}
	ranges := make([][2]int32, len(m.Tris))
	count := make([]int32, n+1)
	for i, t := range m.Tris {
		z0 := min(m.Verts[t[0]].Z, m.Verts[t[1]].Z, m.Verts[t[2]].Z)
		z1 := max(m.Verts[t[0]].Z, m.Verts[t[1]].Z, m.Verts[t[2]].Z)
		a, b := first(z0), first(z1) // planes in [z0, z1)
		ranges[i] = [2]int32{int32(a), int32(b)}
		for l := a; l < b; l++ {
			count[l+1]++
		}
	}
	for l := 1; l <= n; l++ {
		count[l] += count[l-1]
	}
	idx := triIndex{start: count, tris: make([]int32, count[n])}
	fill := append([]int32(nil), count[:n]...)
	for i, r := range ranges {
		for l := r[0]; l < r[1]; l++ {
			idx.tris[fill[l]] = int32(i)
			fill[l]++
		}
	}
	return idx
}

// cut is one triangle's cross-section: from the point on edge fromKey to
// the point on edge toKey, material on the left.
type cut struct {
	fromKey, toKey uint64
	from, to       poly.Point
}

func edgeKey(a, b int32) uint64 {
	if a > b {
		a, b = b, a
	}
	return uint64(uint32(a))<<32 | uint64(uint32(b))
}

// sliceStats counts the repairs made while chaining a layer.
type sliceStats struct {
	closedGaps, droppedFragments int
}

// sliceLayer cuts the triangles tris at height z and chains the cuts into
// closed loops (µm). Loops are linked through shared mesh edges, so the
// chaining is exact on a manifold mesh; chains left open by gaps are joined
// end to start when closer than closeGap µm, and the rest dropped.
func sliceLayer(m *Mesh, tris []int32, z float64, closeGap float64, st *sliceStats) poly.Paths {
	cuts := make([]cut, 0, len(tris))
	for _, ti := range tris {
		t := m.Tris[ti]
		var below [3]bool
		nb := 0
		for k := 0; k < 3; k++ {
			below[k] = m.Verts[t[k]].Z <= z
			if below[k] {
				nb++
			}
		}
		if nb == 0 || nb == 3 {
			continue
		}
		// k is the vertex alone on its side.
		k := 0
		for ; k < 3; k++ {
			if below[k] == (nb == 1) {
				break
			}
		}
		prev, next := t[(k+2)%3], t[(k+1)%3]
		e1 := point(m, t[k], next, z) // on edge k–(k+1)
		e0 := point(m, prev, t[k], z) // on edge (k−1)–k
		c := cut{fromKey: edgeKey(t[k], next), toKey: edgeKey(prev, t[k]), from: e1, to: e0}
		if nb == 1 { // alone below: reversed
			c = cut{fromKey: c.toKey, toKey: c.fromKey, from: e0, to: e1}
		}
		cuts = append(cuts, c)
	}
	return chainCuts(cuts, closeGap, st)
}

// point returns where edge a–b crosses height z, in µm. It interpolates
// from the lower vertex index so both triangles of an edge agree exactly.
func point(m *Mesh, a, b int32, z float64) poly.Point {
	if a > b {
		a, b = b, a
	}
	p, q := m.Verts[a], m.Verts[b]
	t := (z - p.Z) / (q.Z - p.Z)
	return poly.Point{X: int64(math.Round((p.X + t*(q.X-p.X)) * 1000)), Y: int64(math.Round((p.Y + t*(q.Y-p.Y)) * 1000))}
}

func chainCuts(cuts []cut, closeGap float64, st *sliceStats) poly.Paths {
	byFrom := make(map[uint64]int32, len(cuts))
	hasPred := make(map[uint64]bool, len(cuts))
	for i, c := range cuts {
		byFrom[c.fromKey] = int32(i)
	}
	for _, c := range cuts {
		hasPred[c.toKey] = true
	}
	used := make([]bool, len(cuts))
	var loops poly.Paths
	var open []poly.Path
	follow := func(i int) (poly.Path, bool) {
		start := cuts[i].fromKey
		path := poly.Path{cuts[i].from}
		for {
			used[i] = true
			c := cuts[i]
			if c.toKey == start {
				return path, true
			}
			path = append(path, c.to)
			j, ok := byFrom[c.toKey]
			if !ok || used[j] {
				return path, false
			}
			i = int(j)
		}
	}
	// Open chains first, from their heads, so each comes out whole.
	for i, c := range cuts {
		if !used[i] && !hasPred[c.fromKey] {
			p, _ := follow(i)
			open = append(open, p)
		}
	}
	for i := range cuts {
		if used[i] {
			continue
		}
		if p, closed := follow(i); closed {
			loops = append(loops, p)
		} else {
			open = append(open, p)
		}
	}
	if len(open) > 0 {
		loops = append(loops, closeChains(open, closeGap, st)...)
	}
	return loops
}

// closeChains joins open chains end to start while the gap is below tol
// and drops what stays open.
func closeChains(open []poly.Path, tol float64, st *sliceStats) poly.Paths {
	var out poly.Paths
	alive := make([]bool, len(open))
	for i := range alive {
		alive[i] = true
	}
	for i := range open {
		if !alive[i] {
			continue
		}
		for {
			c := open[i]
			end := c[len(c)-1]
			best, bd := -1, tol
			for j := range open {
				if alive[j] {
					if d := poly.Dist(end, open[j][0]); d <= bd {
						best, bd = j, d
					}
				}
			}
			if best < 0 {
				alive[i] = false
				// A long chain whose ends are near each other compared
				// with its length is a loop with a hole in the mesh
				// wider than tol: close it straight across. Anything
				// else is a fragment.
				if d := poly.Dist(end, c[0]); len(c) >= 3 && d*10 < chainLength(c) {
					st.closedGaps++
					out = append(out, c)
				} else {
					st.droppedFragments++
				}
				break
			}
			st.closedGaps++
			if best == i {
				alive[i] = false
				out = append(out, c)
				break
			}
			open[i] = append(c, open[best]...)
			alive[best] = false
		}
	}
	return out
}

func chainLength(c poly.Path) float64 {
	var l float64
	for i := 1; i < len(c); i++ {
		l += poly.Dist(c[i-1], c[i])
	}
	return l
}

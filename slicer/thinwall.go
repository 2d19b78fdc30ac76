package slicer

import (
	"math"

	"github.com/fabgrid/fabgrid/slicer/poly"
)

// Thin walls and gap fill. A feature narrower than its walls need leaves
// either overlapping lines (a 0.6 mm rib's one wall loop runs 0.2 mm from
// itself) or a gap nothing fills (a 1 mm wall fits one loop, 0.6 mm
// across, and no second one or infill in its middle). Each wall loop with
// nothing inside it prints at the width that fills the area it serves:
// its loop grown by half a line, over its length times a line; and a
// feature too thin for even one loop (under a line wide) prints as one
// line down its middle, as wide as the feature. Where a thin part hangs
// off a thick one (a 1 mm fin on a block), the loop inside the thick part
// keeps the walls at full width and the gap left in the fin's middle, between
// one perimeter and the next, is filled with a line as wide as the gap
// (gapFill). And where a neck inside a thick part is a little wider than
// its walls (a 2 mm rung between two blocks, a letter's stroke), the
// innermost walls' two sides stand apart with a strip of sparse infill
// between them that the infill's lines, millimetres apart, hardly cross:
// such strips, under two lines wide, get a line down the middle too
// (infillGaps).

// Flow factors stay within these: narrower lines do not stick, wider ones
// the nozzle cannot lay.
const (
	minFlow = 0.3
	maxFlow = 1.6
)

// thinWallFlow sets isl.flow for the wall loops with nothing inside them:
// no loop of the next perimeter and, for the innermost perimeter, no
// infill (inner). Loops of each perimeter are regrouped, outer loops with
// their holes, so each group is one band of wall.
func thinWallFlow(isl *islandPaths, perimeters int, inner poly.Paths, wu float64) {
	var flow [][]float64
	for k, loops := range isl.walls {
		var next poly.Paths
		switch {
		case k+1 < len(isl.walls):
			next = isl.walls[k+1]
		case k == perimeters-1:
			next = inner
		}
		groups := groupIslands(loops)
		regrouped := make(poly.Paths, 0, len(loops))
		f := make([]float64, 0, len(loops))
		for _, g := range groups {
			v := 1.0
			if !anyInside(next, g[0]) {
				var per float64
				for _, p := range g {
					per += poly.Perimeter(p)
				}
				served := poly.TotalArea(poly.Offset(g, wu/2, poly.OffsetOptions{Join: poly.JoinMiter}))
				if per > 0 {
					v = min(maxFlow, max(minFlow, served/(per*wu)))
				}
				if v > 0.98 && v < 1.02 { // a full wall already
					v = 1
				}
			}
			for range g {
				f = append(f, v)
			}
			regrouped = append(regrouped, g...)
		}
		if len(regrouped) != len(loops) { // a loop groupIslands could not place
			return
		}
		isl.walls[k] = regrouped
		if flow == nil {
			for _, v := range f {
				if v != 1 {
					flow = make([][]float64, len(isl.walls))
					break
				}
			}
		}
		if flow != nil {
			flow[k] = f
		}
	}
	if flow != nil {
		for k := range flow {
			if flow[k] == nil {
				flow[k] = ones(len(isl.walls[k]))
			}
		}
	}
	isl.flow = flow
}

func ones(n int) []float64 {
	f := make([]float64, n)
	for i := range f {
		f[i] = 1
	}
	return f
}

// anyInside reports whether some outer loop of ps lies inside loop o.
func anyInside(ps poly.Paths, o poly.Path) bool {
	ob := poly.Bounds(o)
	for _, p := range ps {
		if len(p) == 0 || poly.Area(p) <= 0 || !ob.Overlaps(poly.Bounds(p)) {
			continue
		}
		if poly.Winding(o, p[0]) != 0 {
			return true
		}
	}
	return false
}

// gapFill finds the gaps between each perimeter and the next (the area
// inside perimeter k's band that perimeter k+1's band does not reach), in
// the groups whose walls keep their width (a widened group fills its own
// middle), and fills each gap wider than a quarter of a line and larger
// than minGap with one line down its middle as wide as the gap, as
// singleLineWall does.
func gapFill(isl *islandPaths, wu float64) (gaps poly.Paths, flow []float64) {
	for k := 0; k+1 < len(isl.walls); k++ {
		if offsetFollows(isl.walls[k], isl.walls[k+1], wu) {
			continue
		}
		var full poly.Paths
		for j, p := range isl.walls[k] {
			if isl.flow == nil || isl.flow[k][j] == 1 {
				full = append(full, p)
			}
		}
		if len(full) == 0 {
			continue
		}
		inside := poly.Offset(full, -wu/2, poly.OffsetOptions{Join: poly.JoinMiter})
		if len(inside) == 0 {
			continue
		}
		reached := poly.Offset(isl.walls[k+1], wu/2, poly.OffsetOptions{Join: poly.JoinMiter})
		for _, g := range groupIslands(poly.Difference(inside, reached)) {
			if poly.TotalArea(g) < minGap*wu*wu {
				continue // a corner's sliver
			}
			loops, f := singleLineWall(g, wu)
			if len(loops) == 0 {
				continue
			}
			gaps = append(gaps, loops[0]...)
			flow = append(flow, f[0]...)
		}
	}
	return gaps, flow
}

// offsetFollows reports whether perimeter b's band reaches everything
// inside perimeter a's band, leaving no gap: the area of a moved in by
// half a line and that of b moved out by half a line agree, to within a
// quarter of the smallest gap filled. Both areas come from the loops'
// areas, perimeters and corners (A + d·P + d²·Σ tan(θ/2) over the turning
// angles θ, exact for an offset by d that nothing folds over), a pass over
// the vertices against two offsets and a difference for looking; where a
// part of a is too thin for b, b moved out is smaller.
func offsetFollows(a, b poly.Paths, w float64) bool {
	ia, ok := offsetArea(a, -w/2)
	if !ok {
		return false
	}
	rb, ok := offsetArea(b, w/2)
	return ok && math.Abs(ia-rb) < minGap*w*w/4
}

// offsetArea is the area of ps offset by d µm by the formula above;
// false when a corner is sharp enough for the miter limit to square it
// off.
func offsetArea(ps poly.Paths, d float64) (float64, bool) {
	var area, per, corners float64
	for _, p := range ps {
		area += poly.Area(p)
		per += poly.Perimeter(p)
		n := len(p)
		for i := range p {
			t := turn(p[(i+n-1)%n], p[i], p[(i+1)%n])
			if math.Abs(t) > 2*math.Pi/3 {
				return 0, false
			}
			corners += math.Tan(t / 2)
		}
	}
	return area + d*per + d*d*corners, true
}

// minGap is the smallest gap filled, in square lines.
const minGap = 2

// singleLineWall is the wall of a region too thin for a loop half a line
// inside it: a loop just around its middle (an almost flat loop that runs
// down the feature and back), each pass half the feature's mean width
// (2·area/perimeter) wide. Features under a quarter of a line are left
// out: no nozzle lays them.
func singleLineWall(region poly.Paths, wu float64) ([]poly.Paths, [][]float64) {
	a := poly.TotalArea(region)
	var per float64
	for _, p := range region {
		per += poly.Perimeter(p)
	}
	if per == 0 {
		return nil, nil
	}
	m := 2 * a / per
	if m < wu/4 {
		return nil, nil
	}
	loops := poly.Offset(region, -0.45*m, poly.OffsetOptions{Join: poly.JoinMiter})
	if len(loops) == 0 {
		return nil, nil
	}
	var lp float64
	for _, p := range loops {
		lp += poly.Perimeter(p)
	}
	v := min(maxFlow, max(minFlow, a/(lp*wu)))
	f := make([]float64, len(loops))
	for i := range f {
		f[i] = v
	}
	return []poly.Paths{loops}, [][]float64{f}
}

// infillGapLines is how narrow, in lines, a part of the sparse infill
// area must be to be filled as a gap: narrower than this, the infill's
// lines (several millimetres apart) rarely cross it, and a neck's inner
// walls would stand apart with a slit between them.
const infillGapLines = 2

// infillGaps finds the parts of the sparse infill area narrower than
// infillGapLines lines (the area less its opening: moved in by half that
// width and out again), where a neck inside a thick part leaves a gap
// between the innermost perimeter's two sides that sparse infill does not
// fill, and fills each one larger than minGap with one line down its
// middle as wide as the gap, as singleLineWall does. It returns the
// lines, their flows and the sparse area left for the infill.
func infillGaps(sparse poly.Paths, wu float64) (gaps poly.Paths, flow []float64, rest poly.Paths) {
	r := infillGapLines * wu / 2
	core := poly.Offset(sparse, -r, poly.OffsetOptions{Join: poly.JoinMiter})
	if want, ok := offsetArea(sparse, -r); ok && math.Abs(poly.TotalArea(core)-want) < minGap*wu*wu/4 {
		// Moved in, the area is what the formula says: nothing folded
		// over, so no part is narrower than 2r (the usual layer, for
		// one offset).
		return nil, nil, sparse
	}
	opened := poly.Offset(core, r, poly.OffsetOptions{Join: poly.JoinMiter})
	if math.Abs(poly.TotalArea(opened)-poly.TotalArea(sparse)) < minGap*wu*wu/4 {
		return nil, nil, sparse // no neck: the opening is the area
	}
	thin := poly.Difference(sparse, opened)
	var filled poly.Paths
	for _, g := range groupIslands(thin) {
		if poly.TotalArea(g) < minGap*wu*wu {
			continue // a corner's sliver
		}
		loops, f := singleLineWall(g, wu)
		if len(loops) == 0 {
			continue
		}
		gaps = append(gaps, loops[0]...)
		flow = append(flow, f[0]...)
		filled = append(filled, g...)
	}
	if len(filled) == 0 {
		return nil, nil, sparse
	}
	return gaps, flow, poly.Difference(sparse, filled)
}

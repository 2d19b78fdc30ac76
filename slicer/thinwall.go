package slicer

import (
	"github.com/fabgrid/fabgrid/slicer/poly"
)

// Thin walls and gap fill. A feature narrower than its walls need leaves
// either overlapping lines (a 0.6 mm rib's one wall loop runs 0.2 mm from
// itself) or a gap nothing fills (a 1 mm wall fits one loop, 0.6 mm
// across, and no second one or infill in its middle). Each wall loop with
// nothing inside it prints at the width that fills the area it serves:
// its loop grown by half a line, over its length times a line; and a
// feature too thin for even one loop (under a line wide) prints as one
// line down its middle, as wide as the feature.

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

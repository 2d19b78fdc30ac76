package slicer

import (
	"math"
	"slices"

	"github.com/fabgrid/fabgrid/slicer/poly"
)

// feature is what an extrusion is for; it picks the speed and the ;TYPE:
// comment (CuraEngine's names, so viewers colour them).
type feature int

const (
	featSkirt feature = iota
	featOuter
	featInner
	featSkin
	featFill
	featSupport
	featSupportInterface
	featBridge
)

// featName: CuraEngine's names, and BRIDGE for bridge lines (PrusaSlicer
// says "Bridge infill").
var featName = [...]string{"SKIRT", "WALL-OUTER", "WALL-INNER", "SKIN", "FILL", "SUPPORT", "SUPPORT-INTERFACE", "BRIDGE"}

// islandPaths is one connected part of a layer and its toolpaths.
type islandPaths struct {
	region poly.Paths   // the sliced outline: outer and holes
	walls  []poly.Paths // walls[k]: loops of perimeter k, 0 outermost
	// flow[k][j] scales the line width of walls[k][j] (nil: all 1): the
	// walls of a feature too thin for the walls inside them widen or
	// narrow to fill it (thinwall.go).
	flow [][]float64
	// gaps are the loops filling gaps between walls, each gapFlow[j]
	// lines wide.
	gaps    poly.Paths
	gapFlow []float64
	skin    []poly.Line
	fill    []poly.Line
	bridge  []poly.Line // bridge lines, printed at the bridge speed, fan full
}

// layerPaths is the unordered toolpath plan of one layer.
type layerPaths struct {
	index         int
	z, height, wd float64 // mm
	skirt         poly.Paths
	islands       []islandPaths
	// support: the support's area (for travel), its sparse and interface lines.
	support                  poly.Paths
	supportLines, ifaceLines []poly.Line
}

// stack is what planLayer needs of the whole part: every layer's
// heights, outline, surfaces, bridges and support.
type stack struct {
	h        heights
	outlines []poly.Paths
	surf     *surfaces
	bridges  [][]bridge
	support  supportPlan
}

// surfaces holds each layer's top surface (its outline minus the next
// layer's) and bottom surface (minus the previous layer's).
type surfaces struct {
	top, bottom []poly.Paths
}

// findSurfaces computes layer i's top and bottom surfaces. Slivers (mean
// width 2·area/perimeter under minWidth µm) are dropped: they come from
// sloped walls, lie inside the perimeters, and would only make the union in
// planLayer slow.
func findSurfaces(outlines []poly.Paths, i int, surf *surfaces, minWidth float64) {
	diff := func(a, b poly.Paths) poly.Paths {
		if samePaths(a, b) {
			return nil
		}
		return dropSlivers(poly.Difference(a, b), minWidth)
	}
	if i+1 < len(outlines) {
		surf.top[i] = diff(outlines[i], outlines[i+1])
	} else {
		surf.top[i] = outlines[i]
	}
	if i > 0 {
		surf.bottom[i] = diff(outlines[i], outlines[i-1])
	} else {
		surf.bottom[i] = outlines[i]
	}
}

// planLayer computes the walls, skins and infill of layer i; the top and
// bottom surfaces of the layers around it tell which areas are solid.
func planLayer(s *Settings, st *stack, i int) layerPaths {
	h, outlines, surf := st.h, st.outlines, st.surf
	w := s.LineWidth
	if i == 0 {
		w = s.FirstLayerWidth
	}
	wu := w * 1000
	lp := layerPaths{index: i, z: h.top[i], height: h.height[i], wd: w}
	if st.support.sparse != nil && (len(st.support.sparse[i]) > 0 || len(st.support.iface[i]) > 0) {
		lp.support = append(append(poly.Paths(nil), st.support.sparse[i]...), st.support.iface[i]...)
		lp.supportLines, lp.ifaceLines = supportLines(&s.Support, st.support.sparse[i], st.support.iface[i], wu)
	}
	out := outlines[i]
	if len(out) == 0 {
		return lp
	}
	// exposed: the parts of this layer that are not covered by all of
	// the TopLayers above or all of the BottomLayers below. A point is
	// uncovered above exactly when some layer i+k (0 ≤ k < TopLayers) has
	// it in its top surface (outline minus the next outline's), and
	// likewise below; so exposed is the union of those surfaces.
	n := len(outlines)
	var exposed poly.Paths
	allSolid := i-s.BottomLayers < 0 || i+s.TopLayers >= n
	if !allSolid {
		for k := 0; k < s.TopLayers; k++ {
			exposed = append(exposed, surf.top[i+k]...)
		}
		for k := 0; k < s.BottomLayers; k++ {
			exposed = append(exposed, surf.bottom[i-k]...)
		}
		if len(exposed) > 0 {
			// Skins reach into the infill by the wall thickness so they
			// anchor on it (CuraEngine's skin expand distance); Offset
			// also unions the overlapping surfaces.
			exposed = poly.Offset(exposed, float64(max(1, s.Perimeters))*wu, poly.OffsetOptions{Join: poly.JoinMiter})
		}
	}
	angle := math.Pi / 4
	if i%2 == 1 {
		angle = 3 * math.Pi / 4
	}
	for _, region := range groupIslands(out) {
		isl := islandPaths{region: region}
		single := false
		for k := 0; k < s.Perimeters; k++ {
			loops := poly.Offset(region, -(wu/2 + float64(k)*wu), poly.OffsetOptions{Join: poly.JoinMiter})
			if len(loops) == 0 {
				if k == 0 {
					isl.walls, isl.flow = singleLineWall(region, wu)
					single = len(isl.walls) > 0
				}
				break
			}
			isl.walls = append(isl.walls, loops)
		}
		inner := region
		if s.Perimeters > 0 {
			// Infill and skin overlap the innermost wall by 10 % of a line.
			inner = poly.Offset(region, -(float64(s.Perimeters)-0.1)*wu, poly.OffsetOptions{Join: poly.JoinMiter})
		}
		if !single {
			thinWallFlow(&isl, s.Perimeters, inner, wu)
			isl.gaps, isl.gapFlow = gapFill(&isl, wu)
		}
		if len(inner) > 0 {
			var solid, sparse poly.Paths
			switch {
			case allSolid:
				solid = inner
			case len(exposed) == 0:
				sparse = inner
			default:
				solid = poly.Intersection(inner, exposed)
				if len(solid) == 0 {
					sparse = inner
				} else {
					sparse = poly.Difference(inner, exposed)
				}
			}
			// Bridges: the solid over each span, reaching onto its sides
			// by two lines, hatched from one side to the other.
			for _, br := range st.bridges[i] {
				if len(solid) == 0 {
					break
				}
				area := poly.Intersection(solid, poly.Offset(br.area, 2*wu, poly.OffsetOptions{Join: poly.JoinMiter}))
				if len(area) == 0 {
					continue
				}
				isl.bridge = append(isl.bridge, dropShort(poly.Hatch(area, br.angle, int64(wu), 0), int64(wu/2))...)
				solid = poly.Difference(solid, area)
			}
			isl.skin = dropShort(poly.Hatch(solid, angle, int64(wu), 0), int64(wu/2))
			if s.InfillPercent > 0 && s.InfillPercent < 100 && len(sparse) > 0 && s.Perimeters > 0 {
				// Necks too narrow for the sparse lines: a line down
				// each, printed with the gaps between walls.
				g, f, rest := infillGaps(sparse, wu)
				isl.gaps, isl.gapFlow, sparse = append(isl.gaps, g...), append(isl.gapFlow, f...), rest
			}
			if s.InfillPercent > 0 && len(sparse) > 0 {
				sp := int64(wu * 100 / float64(s.InfillPercent))
				if s.InfillPattern == PatternGrid {
					// Both directions on every layer, each at half the density.
					isl.fill = poly.Hatch(sparse, math.Pi/4, 2*sp, 0)
					isl.fill = append(isl.fill, poly.Hatch(sparse, 3*math.Pi/4, 2*sp, 0)...)
					isl.fill = dropShort(isl.fill, int64(wu/2))
				} else {
					isl.fill = dropShort(poly.Hatch(sparse, angle, sp, 0), int64(wu/2))
				}
			}
		}
		lp.islands = append(lp.islands, isl)
	}
	if i == 0 && s.SkirtLoops > 0 {
		bed := poly.Rect{Max: poly.Point{X: int64(s.Printer.BuildVolume.X * 1000), Y: int64(s.Printer.BuildVolume.Y * 1000)}}
		for k := 0; k < s.SkirtLoops; k++ {
			d := s.SkirtDistance*1000 + wu/2 + float64(k)*wu
			for _, p := range poly.Offset(out, d, poly.OffsetOptions{ArcTolerance: 20}) {
				if b := poly.Bounds(p); poly.Area(p) > 0 && b.Min.X >= 0 && b.Min.Y >= 0 && b.Max.X <= bed.Max.X && b.Max.Y <= bed.Max.Y {
					lp.skirt = append(lp.skirt, p)
				}
			}
		}
	}
	return lp
}

// dropSlivers removes the islands of a region whose mean width
// (2·area/perimeter) is below minWidth, with their holes.
func dropSlivers(ps poly.Paths, minWidth float64) poly.Paths {
	var out poly.Paths
	for _, isl := range groupIslands(ps) {
		var a, per float64
		for _, p := range isl {
			a += poly.Area(p)
			per += poly.Perimeter(p)
		}
		if per > 0 && 2*a/per >= minWidth {
			out = append(out, isl...)
		}
	}
	return out
}

func samePaths(a, b poly.Paths) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func dropShort(ls []poly.Line, minLen int64) []poly.Line {
	out := ls[:0]
	for _, l := range ls {
		if poly.Dist(l.A, l.B) >= float64(minLen) {
			out = append(out, l)
		}
	}
	return out
}

// groupIslands splits a clean region into islands: each outer loop with
// the holes directly inside it.
func groupIslands(ps poly.Paths) []poly.Paths {
	type outer struct {
		p    poly.Path
		area float64
		box  poly.Rect
	}
	var outers []outer
	var holes []poly.Path
	for _, p := range ps {
		if a := poly.Area(p); a > 0 {
			outers = append(outers, outer{p, a, poly.Bounds(p)})
		} else {
			holes = append(holes, p)
		}
	}
	groups := make([]poly.Paths, len(outers))
	for i, o := range outers {
		groups[i] = poly.Paths{o.p}
	}
	for _, hp := range holes {
		best := -1
		q := hp[0]
		hb := poly.Bounds(hp)
		for i, o := range outers {
			if !o.box.Overlaps(hb) || (best >= 0 && o.area >= outers[best].area) {
				continue
			}
			// A hole vertex may touch its outer; test a point just inside
			// the hole's first edge as well.
			if poly.Winding(o.p, q) != 0 || poly.Winding(o.p, midpoint(hp)) != 0 {
				best = i
			}
		}
		if best >= 0 {
			groups[best] = append(groups[best], hp)
		}
	}
	return groups
}

func midpoint(p poly.Path) poly.Point {
	a, b := p[0], p[1%len(p)]
	return poly.Point{X: (a.X + b.X) / 2, Y: (a.Y + b.Y) / 2}
}

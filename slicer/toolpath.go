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
)

var featName = [...]string{"SKIRT", "WALL-OUTER", "WALL-INNER", "SKIN", "FILL"}

// islandPaths is one connected part of a layer and its toolpaths.
type islandPaths struct {
	region poly.Paths   // the sliced outline: outer and holes
	walls  []poly.Paths // walls[k]: loops of perimeter k, 0 outermost
	skin   []poly.Line
	fill   []poly.Line
}

// layerPaths is the unordered toolpath plan of one layer.
type layerPaths struct {
	index         int
	z, height, wd float64 // mm
	skirt         poly.Paths
	islands       []islandPaths
}

// planLayer computes the walls, skins and infill of layer i. It reads the
// outlines of the layers around it to find which areas are top or bottom
// surfaces.
func planLayer(s *Settings, h heights, outlines []poly.Paths, i int) layerPaths {
	w := s.LineWidth
	if i == 0 {
		w = s.FirstLayerWidth
	}
	wu := w * 1000
	lp := layerPaths{index: i, z: h.top[i], height: h.height[i], wd: w}
	out := outlines[i]
	if len(out) == 0 {
		return lp
	}
	n := len(outlines)
	// covered: the area present in every layer of the top and bottom
	// windows. Inside it the layer is sparse, outside it solid.
	allSolid := i-s.BottomLayers < 0 || i+s.TopLayers >= n
	allSparse := s.TopLayers == 0 && s.BottomLayers == 0
	var covered poly.Paths
	if !allSolid && !allSparse {
		first := true
		for j := i - s.BottomLayers; j <= i+s.TopLayers; j++ {
			if j == i {
				continue
			}
			if first {
				covered, first = outlines[j], false
			} else if !samePaths(covered, outlines[j]) {
				covered = poly.Intersection(covered, outlines[j])
			}
			if len(covered) == 0 {
				allSolid = true
				break
			}
		}
	}
	angle := math.Pi / 4
	if i%2 == 1 {
		angle = 3 * math.Pi / 4
	}
	for _, region := range groupIslands(out) {
		isl := islandPaths{region: region}
		for k := 0; k < s.Perimeters; k++ {
			loops := poly.Offset(region, -(wu/2 + float64(k)*wu), poly.OffsetOptions{Join: poly.JoinMiter})
			if len(loops) == 0 {
				break
			}
			isl.walls = append(isl.walls, loops)
		}
		inner := region
		if s.Perimeters > 0 {
			// Infill and skin overlap the innermost wall by 10 % of a line.
			inner = poly.Offset(region, -(float64(s.Perimeters)-0.1)*wu, poly.OffsetOptions{Join: poly.JoinMiter})
		}
		if len(inner) > 0 {
			var solid, sparse poly.Paths
			switch {
			case allSolid:
				solid = inner
			case allSparse:
				sparse = inner
			default:
				solid = poly.Difference(inner, covered)
				if len(solid) == 0 {
					sparse = inner
				} else {
					sparse = poly.Intersection(inner, covered)
				}
			}
			isl.skin = dropShort(poly.Hatch(solid, angle, int64(wu), 0), int64(wu/2))
			if s.InfillPercent > 0 && len(sparse) > 0 {
				sp := int64(wu * 100 / float64(s.InfillPercent))
				isl.fill = dropShort(poly.Hatch(sparse, angle, sp, 0), int64(wu/2))
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

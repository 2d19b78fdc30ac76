package slicer

import (
	"context"
	"fmt"
	"math"

	"github.com/fabgrid/fabgrid/slicer/poly"
)

// SupportSettings configure generated support. The zero value is no
// support; DefaultSupport is CuraEngine's defaults for lines support.
type SupportSettings struct {
	Enable bool `json:"enable"`
	// AngleDeg: overhangs more than this many degrees from vertical
	// (0 a wall, 90 a ceiling) are supported.
	AngleDeg float64 `json:"angle_deg"`
	// Everywhere lets support stand on the part; otherwise it rises from
	// the build plate only, and an overhang above the part goes without.
	Everywhere bool `json:"everywhere"`
	// Pattern is PatternLines (one direction, easy to break off) or
	// PatternGrid (both directions, stiffer).
	Pattern        string  `json:"pattern"`
	DensityPercent int     `json:"density_percent"`
	XYGap          float64 `json:"xy_gap_mm"` // support to the part's sides
	// ZGapLayers of air between the support's top and the part above it
	// (and, standing on the part, between the part and the support).
	ZGapLayers int `json:"z_gap_layers"`
	// InterfaceLayers dense layers at the top of the support, printed
	// across the support lines at InterfaceDensityPercent, so the part has
	// a flat floor.
	InterfaceLayers         int `json:"interface_layers"`
	InterfaceDensityPercent int `json:"interface_density_percent"`
}

// DefaultSupport is the support --support turns on: 50°, from the build
// plate, lines at 15 %, 0.7 mm from the part's sides, one layer of air
// under it, two interface layers at 80 %.
var DefaultSupport = SupportSettings{
	Enable: true, AngleDeg: 50, Pattern: PatternLines, DensityPercent: 15,
	XYGap: 0.7, ZGapLayers: 1, InterfaceLayers: 2, InterfaceDensityPercent: 80,
}

func (s *SupportSettings) normalise() error {
	if !s.Enable {
		return nil
	}
	if s.Pattern == "" {
		s.Pattern = PatternLines
	}
	switch {
	case s.AngleDeg < 0 || s.AngleDeg >= 90 || math.IsNaN(s.AngleDeg):
		return fmt.Errorf("%w: support angle %g° must be at least 0 and below 90 (from vertical)", ErrBadSettings, s.AngleDeg)
	case s.Pattern != PatternLines && s.Pattern != PatternGrid:
		return fmt.Errorf("%w: support pattern %q (want %q or %q)", ErrBadSettings, s.Pattern, PatternLines, PatternGrid)
	case s.DensityPercent <= 0 || s.DensityPercent > 100 || s.InterfaceDensityPercent < 0 || s.InterfaceDensityPercent > 100:
		return fmt.Errorf("%w: support density %d%% must be 1–100 and its interface's 0–100", ErrBadSettings, s.DensityPercent)
	case s.XYGap < 0 || s.XYGap > 10 || s.ZGapLayers < 0 || s.ZGapLayers > 10 || s.InterfaceLayers < 0 || s.InterfaceLayers > 20:
		return fmt.Errorf("%w: support gaps must be 0–10 mm and 0–10 layers, interface layers 0–20", ErrBadSettings)
	}
	return nil
}

// bridge is an area of a layer that spans air between two supported
// sides: printed as lines at angle (from one side to the other), not
// supported.
type bridge struct {
	area  poly.Paths
	angle float64
}

// findBridges finds layer i's bridges among its bottom surfaces (the
// parts of its outline not on the layer below): an island of the bottom
// surface whose edge rests on the layer below in two or more separate
// places is a bridge, its lines running between the centres of the two
// largest of them. Islands under four square lines (wu µm a line) and
// anchors under one square line are specks, not bridges or anchors.
func findBridges(outlines []poly.Paths, surf *surfaces, i int, wu float64) []bridge {
	if i == 0 || len(surf.bottom[i]) == 0 || len(outlines[i-1]) == 0 {
		return nil
	}
	below := outlines[i-1]
	var out []bridge
	for _, isl := range groupIslands(surf.bottom[i]) {
		if poly.TotalArea(isl) < 4*wu*wu {
			continue
		}
		// The rims where the island meets the layer below.
		rim := poly.Intersection(poly.Offset(isl, wu, poly.OffsetOptions{Join: poly.JoinMiter}), below)
		type anchor struct {
			area float64
			c    [2]float64
		}
		var anchors []anchor
		for _, a := range groupIslands(rim) {
			ar := poly.TotalArea(a)
			if ar < wu*wu { // a touch at a corner carries nothing
				continue
			}
			anchors = append(anchors, anchor{ar, centroid(a)})
		}
		if len(anchors) < 2 {
			continue
		}
		// The two largest anchors.
		for k := 0; k < 2; k++ {
			for j := k + 1; j < len(anchors); j++ {
				if anchors[j].area > anchors[k].area {
					anchors[j], anchors[k] = anchors[k], anchors[j]
				}
			}
		}
		a, b := anchors[0].c, anchors[1].c
		angle := math.Atan2(b[1]-a[1], b[0]-a[0])
		if !anchoredBothEnds(isl, angle, near(below, isl, int64(2*wu)), wu) {
			continue // a shelf on two posts: its front edge hangs free
		}
		out = append(out, bridge{area: isl, angle: angle})
	}
	return out
}

// anchoredBothEnds reports whether the lines across island isl at angle
// land on the layer below (within a line of it) at both ends, for at least
// bridgeAnchored of their length, as PrusaSlicer checks a bridge's
// direction: an island that rests on two posts at its back, its front
// hanging free, is not a bridge but an overhang.
func anchoredBothEnds(isl poly.Paths, angle float64, below poly.Paths, wu float64) bool {
	zone := poly.Offset(below, wu, poly.OffsetOptions{Join: poly.JoinMiter})
	var total, held float64
	for _, l := range poly.Hatch(isl, angle, int64(wu), int64(wu/2)) {
		d := poly.Dist(l.A, l.B)
		total += d
		if poly.Inside(zone, l.A) && poly.Inside(zone, l.B) {
			held += d
		}
	}
	return total > 0 && held >= bridgeAnchored*total
}

// bridgeAnchored is the share of a bridge's line length that must be
// held at both ends.
const bridgeAnchored = 0.8

// centroid is the area-weighted centre of a region (holes subtract).
func centroid(ps poly.Paths) [2]float64 {
	var cx, cy, a float64
	for _, p := range ps {
		for k := range p {
			q, r := p[k], p[(k+1)%len(p)]
			cr := float64(q.X)*float64(r.Y) - float64(r.X)*float64(q.Y)
			cx += (float64(q.X) + float64(r.X)) * cr
			cy += (float64(q.Y) + float64(r.Y)) * cr
			a += cr
		}
	}
	if a == 0 {
		return [2]float64{float64(ps[0][0].X), float64(ps[0][0].Y)}
	}
	return [2]float64{cx / (3 * a), cy / (3 * a)}
}

// supportPlan is each layer's support: the area to print sparse and the
// dense interface under the part.
type supportPlan struct {
	sparse, iface []poly.Paths
}

// planSupport finds the overhangs that need support and the support under
// them, layer by layer from the top down.
//
// Layer i overhangs where its outline reaches further than h·tan(angle)
// beyond layer i−1's (CuraEngine's support angle), less its bridges. The
// support column under an overhang of layer i starts ZGapLayers lower and
// runs down until it meets the part (standing on it when Everywhere; with
// plate-only support a column that meets the part is dropped whole). Each
// layer's support keeps XYGap from the part's outline at that layer; the
// InterfaceLayers below the part are its interface.
func planSupport(ctx context.Context, s *Settings, h heights, outlines []poly.Paths, bridges [][]bridge) (supportPlan, error) {
	n := len(outlines)
	sp := s.Support
	wu := s.LineWidth * 1000
	tan := math.Tan(sp.AngleDeg * math.Pi / 180)
	overhang := make([]poly.Paths, n)
	err := parallel(ctx, n, s.Workers, func(_, i int) {
		if i == 0 || len(outlines[i]) == 0 {
			return
		}
		d := h.height[i] * 1000 * tan
		basic := poly.Difference(outlines[i], poly.Offset(outlines[i-1], d, poly.OffsetOptions{Join: poly.JoinMiter}))
		// Slivers thinner than 20 µm are the slicing's noise on a slope
		// just within the angle, not overhangs.
		if basic = dropSlivers(basic, 20); len(basic) == 0 {
			return
		}
		// Reach back over the layer's whole step (CuraEngine extends the
		// overhang by the allowed distance and 0.1 mm), so the strips of
		// a steep slope join up into one area, layer after layer.
		oh := poly.Intersection(poly.Offset(basic, d+100, poly.OffsetOptions{Join: poly.JoinMiter}), outlines[i])
		if len(bridges[i]) > 0 {
			var b poly.Paths
			for _, br := range bridges[i] {
				b = append(b, br.area...)
			}
			oh = poly.Difference(oh, poly.Offset(b, wu, poly.OffsetOptions{Join: poly.JoinMiter}))
		}
		overhang[i] = oh
	})
	if err != nil {
		return supportPlan{}, err
	}
	// Top down: the columns under the overhangs, cut where they meet the
	// part. A layer that changes nothing keeps the same slice, which the
	// bottom-up pass below relies on to skip it.
	column := make([]poly.Paths, n)
	var carry poly.Paths
	for j := n - 1; j >= 0; j-- {
		if err := ctx.Err(); err != nil {
			return supportPlan{}, fmt.Errorf("slicer: %w", err)
		}
		if k := j + 1 + sp.ZGapLayers; k < n && len(overhang[k]) > 0 {
			// Simplified as the outlines are: each layer's overhang adds
			// its own jagged edge, and the carry would gather them all.
			carry = poly.Simplify(poly.UnionOf(carry, overhang[k]), simplifySupport)
		}
		if len(carry) > 0 && len(outlines[j]) > 0 && poly.Bounds(carry...).Overlaps(poly.Bounds(outlines[j]...)) {
			if cut := poly.Difference(carry, near(outlines[j], carry, 1000)); !sameArea(cut, carry) {
				carry = cut
			}
		}
		column[j] = carry
	}
	if !sp.Everywhere {
		// Bottom up: a column exists only where it does on every layer
		// below, down to the plate.
		prev := column[0]
		for j := 1; j < n; j++ {
			orig := column[j]
			switch {
			case len(orig) == 0:
			case len(prev) > 0 && &orig[0] == &prev[0]:
				column[j] = column[j-1] // the same columns as the layer below
			default:
				column[j] = dropSlivers(poly.Intersection(orig, near(column[j-1], orig, 1000)), wu/2)
			}
			prev = orig
		}
	}
	plan := supportPlan{sparse: make([]poly.Paths, n), iface: make([]poly.Paths, n)}
	xy := sp.XYGap * 1000
	err = parallel(ctx, n, s.Workers, func(_, j int) {
		c := column[j]
		if len(c) == 0 {
			return
		}
		// Keep off the part: its outline grown by the XY gap, and when
		// standing on it, the ZGapLayers of air above it.
		var keepOff poly.Paths
		if len(outlines[j]) > 0 {
			keepOff = poly.Offset(near(outlines[j], c, int64(xy)+1000), xy, poly.OffsetOptions{Join: poly.JoinMiter})
		}
		if sp.Everywhere {
			for g := 1; g <= sp.ZGapLayers && j-g >= 0; g++ {
				keepOff = append(keepOff, outlines[j-g]...)
			}
		}
		if len(keepOff) > 0 {
			c = poly.Difference(c, keepOff)
		}
		c = dropSlivers(c, wu)
		if len(c) == 0 {
			return
		}
		// The interface: under the part within the gap and interface layers above.
		var above poly.Paths
		for k := j + 1; k <= j+sp.ZGapLayers+sp.InterfaceLayers && k < n && sp.InterfaceLayers > 0; k++ {
			above = append(above, outlines[k]...)
		}
		if len(above) > 0 {
			iface := poly.Intersection(c, near(above, c, 1000))
			if len(iface) > 0 {
				plan.iface[j] = iface
				c = poly.Difference(c, iface)
			}
		}
		plan.sparse[j] = c
	})
	return plan, err
}

// simplifySupport is the largest deviation, µm, of the simplified support
// area from the exact one: a fourteenth of the XY gap.
const simplifySupport = 50

// sameArea reports whether two regions have the same area to 1 mm² in a
// million: a cut that took nothing away.
func sameArea(a, b poly.Paths) bool {
	x, y := poly.TotalArea(a), poly.TotalArea(b)
	return len(a) == len(b) && math.Abs(x-y) <= 1e-6*max(x, y)+1
}

// near is ps cut down to the box around region grown by margin µm: the
// same as ps for a boolean with region (see poly.ClipRect), and much
// smaller when region is a little support beside a big outline.
func near(ps, region poly.Paths, margin int64) poly.Paths {
	b := poly.Bounds(region...)
	if b.Empty() {
		return nil
	}
	b.Min.X, b.Min.Y, b.Max.X, b.Max.Y = b.Min.X-margin, b.Min.Y-margin, b.Max.X+margin, b.Max.Y+margin
	return poly.ClipRect(ps, b)
}

// supportLines hatches layer i's support: sparse lines at the density
// (in one direction, or both for grid), and the interface across them.
func supportLines(sp *SupportSettings, sparse, iface poly.Paths, wu float64) (lines, ifaceLines []poly.Line) {
	if len(sparse) > 0 {
		spacing := int64(wu * 100 / float64(sp.DensityPercent))
		if sp.Pattern == PatternGrid {
			lines = poly.Hatch(sparse, 0, 2*spacing, 0)
			lines = append(lines, poly.Hatch(sparse, math.Pi/2, 2*spacing, 0)...)
		} else {
			lines = poly.Hatch(sparse, 0, spacing, 0)
		}
		lines = dropShort(lines, int64(wu))
	}
	if len(iface) > 0 && sp.InterfaceDensityPercent > 0 {
		spacing := int64(wu * 100 / float64(sp.InterfaceDensityPercent))
		ifaceLines = dropShort(poly.Hatch(iface, math.Pi/2, spacing, 0), int64(wu))
	}
	return lines, ifaceLines
}

package poly

import (
	"math"
	"slices"
)

// Join is how Offset fills the gap at a corner that opens up.
type Join int

// Join kinds.
const (
	JoinRound Join = iota // circular arc (within ArcTolerance)
	JoinMiter             // sharp corner, squared off past MiterLimit
)

// OffsetOptions tune Offset.
type OffsetOptions struct {
	Join Join
	// ArcTolerance is the largest distance between an arc and its chords,
	// in µm (default 5).
	ArcTolerance float64
	// MiterLimit is the largest miter length as a multiple of |delta|
	// (default 2).
	MiterLimit float64
}

// Offset grows (delta > 0) or shrinks (delta < 0) a region by delta µm.
// Outer paths must be counter-clockwise and holes clockwise (as Union
// returns them). Each edge is moved along its outward normal, corners that
// open get a round or miter join, corners that close are linked through the
// original vertex, and the union of the result under the positive fill
// rule removes everything that folded over.
func Offset(ps Paths, delta float64, o OffsetOptions) Paths {
	if delta == 0 {
		return Union(ps, NonZero)
	}
	if o.ArcTolerance <= 0 {
		o.ArcTolerance = 5
	}
	if o.MiterLimit < 1 {
		o.MiterLimit = 2
	}
	raw := make(Paths, 0, len(ps))
	signs := make([]bool, 0, len(ps))
	for _, p := range ps {
		p = cleanPath(append(Path(nil), p...))
		if len(p) < 3 {
			continue
		}
		raw = append(raw, offsetPath(p, delta, o))
		signs = append(signs, Area(p) > 0)
	}
	if out, ok := simpleOffset(raw, signs); ok {
		return out
	}
	return Union(raw, Positive)
}

// simpleOffset is the common case: no offset loop touches itself or
// another, so each loop that kept its orientation is part of the result
// and each that turned over has vanished. It reports false when some edges
// meet and the full union is needed.
func simpleOffset(raw Paths, signs []bool) (Paths, bool) {
	segs := make([]seg, 0, countPoints(raw))
	segs = addEdges(segs, raw, 0)
	n := len(segs)
	if segs = mergeSegs(segs); len(segs) != n {
		return nil, false
	}
	// A loop through one vertex twice may hide a turned-over lobe.
	ends := make([]Point, 0, 2*len(segs))
	for _, s := range segs {
		ends = append(ends, s.a, s.b)
	}
	slices.SortFunc(ends, cmpPoint)
	for i := 2; i < len(ends); i++ {
		if ends[i] == ends[i-2] {
			return nil, false
		}
	}
	if sp, _ := findSplits(segs); len(sp) > 0 {
		return nil, false
	}
	out := make(Paths, 0, len(raw))
	for i, p := range raw {
		p = cleanPath(p)
		if a := Area(p); len(p) >= 3 && a != 0 && (a > 0) == signs[i] {
			out = append(out, p)
		}
	}
	return out, true
}

func offsetPath(p Path, delta float64, o OffsetOptions) Path {
	n := len(p)
	// Unit normals of the edges p[i] → p[i+1], pointing right of travel
	// (outward for a counter-clockwise outer).
	nx := make([]float64, n)
	ny := make([]float64, n)
	ln := make([]float64, n)
	for i := range p {
		q := p[(i+1)%n]
		dx, dy := float64(q.X-p[i].X), float64(q.Y-p[i].Y)
		l := math.Hypot(dx, dy)
		nx[i], ny[i], ln[i] = dy/l, -dx/l, l
	}
	ad := math.Abs(delta)
	steps := 2 * math.Pi / (2 * math.Acos(max(-1, 1-o.ArcTolerance/ad)))
	if math.IsNaN(steps) || steps < 4 {
		steps = 4
	}
	stepAngle := 2 * math.Pi / steps
	out := make(Path, 0, n*2)
	pt := func(x, y float64) {
		out = append(out, Point{int64(math.Round(x)), int64(math.Round(y))})
	}
	for i := range p {
		j := (i + n - 1) % n // previous edge
		x, y := float64(p[i].X), float64(p[i].Y)
		n1x, n1y, n2x, n2y := nx[j], ny[j], nx[i], ny[i]
		sin := n1x*n2y - n1y*n2x
		cos := n1x*n2x + n1y*n2y
		if math.Abs(sin*ad) < 0.5 && cos > 0 {
			// Nearly straight: one point on the averaged normal.
			pt(x+(n1x+n2x)/2*delta, y+(n1y+n2y)/2*delta)
			continue
		}
		if sin*delta < 0 {
			// The corner closes. When the two offset edges meet well
			// within both edges, their meeting point is the corner;
			// otherwise link through the vertex and let the union
			// remove the fold.
			if cos > -0.9 {
				if t := ad * math.Abs(sin) / (1 + cos); t < 0.45*min(ln[j], ln[i]) {
					f := delta / (1 + cos)
					pt(x+(n1x+n2x)*f, y+(n1y+n2y)*f)
					continue
				}
			}
			pt(x+n1x*delta, y+n1y*delta)
			pt(x, y)
			pt(x+n2x*delta, y+n2y*delta)
			continue
		}
		// The corner opens.
		switch o.Join {
		case JoinMiter:
			q := 1 + cos
			if q > 2/(o.MiterLimit*o.MiterLimit) {
				f := delta / q
				pt(x+(n1x+n2x)*f, y+(n1y+n2y)*f)
			} else { // squared
				pt(x+n1x*delta, y+n1y*delta)
				pt(x+n2x*delta, y+n2y*delta)
			}
		default:
			a0 := math.Atan2(n1y, n1x)
			turn := math.Atan2(sin, cos) // signed angle from n1 to n2
			k := int(math.Ceil(math.Abs(turn) / stepAngle))
			for s := 0; s <= k; s++ {
				a := a0 + turn*float64(s)/float64(k)
				pt(x+math.Cos(a)*delta, y+math.Sin(a)*delta)
			}
		}
	}
	return out
}

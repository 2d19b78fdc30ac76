package slicer

import (
	"math"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer/poly"
)

// Seam placements: where a wall loop starts and ends. They are the values
// of a printer profile's seam field (profile.Seams), which is what
// Settings.Seam defaults to.
const (
	// SeamNearest starts each loop at the vertex nearest the nozzle: the
	// least travel, the seam wherever the last move ended.
	SeamNearest = profile.SeamNearest
	// SeamRear aligns the seams at the back of the part (largest Y), the
	// side a printer's owner looks at least.
	SeamRear = profile.SeamRear
	// SeamSharpest aligns the seams in the sharpest corner, concave
	// corners first, where a seam hides best (CuraEngine's "sharpest
	// corner", hide seam); a loop without a corner sharper than
	// seamMinCorner falls back to the rear.
	SeamSharpest = profile.SeamSharpest
)

const (
	// seamMinCorner is the smallest turn that counts as a corner.
	seamMinCorner = 30 * math.Pi / 180
	// seamTie: corners within this much of the sharpest are equally
	// sharp, and the rearmost of them wins, so the choice does not hop
	// between corners from layer to layer.
	seamTie = 5 * math.Pi / 180
	// seamRearTol: vertices within this many µm of the rearmost are
	// equally far back; the one nearest the loop's middle in X wins.
	seamRearTol = 50
)

// seamVertex returns loop p, with a vertex added where the seam goes
// when it is not on one, and the index of the vertex it starts at.
func seamVertex(p poly.Path, mode string, pos poly.Point) (poly.Path, int) {
	switch mode {
	case SeamRear:
		return rearSeam(p)
	case SeamSharpest:
		if k := sharpestVertex(p); k >= 0 {
			return p, k
		}
		return rearSeam(p)
	}
	return p, nearestVertex(p, pos)
}

// rearSeam puts the seam at the back of the loop, on the line through the
// middle of its box (in X): the crossing with the largest Y. The loop's
// vertices would not do: on a curved part the rearmost of them moves from
// layer to layer with the mesh's triangles.
func rearSeam(p poly.Path) (poly.Path, int) {
	b := poly.Bounds(p)
	x0 := (b.Min.X + b.Max.X) / 2
	bi, by := -1, int64(math.MinInt64)
	var at poly.Point
	for i, a := range p {
		c := p[(i+1)%len(p)]
		if (a.X < x0) == (c.X < x0) && a.X != x0 {
			continue
		}
		q := a
		if a.X != x0 {
			if c.X == a.X {
				continue
			}
			t := float64(x0-a.X) / float64(c.X-a.X)
			q = poly.Point{X: x0, Y: a.Y + int64(math.Round(t*float64(c.Y-a.Y)))}
		}
		if q.Y > by {
			bi, by, at = i, q.Y, q
		}
	}
	switch {
	case bi < 0:
		return p, rearVertex(p, nil)
	case at == p[bi]:
		return p, bi
	case at == p[(bi+1)%len(p)]:
		return p, (bi + 1) % len(p)
	}
	q := make(poly.Path, 0, len(p)+1)
	q = append(q, p[:bi+1]...)
	q = append(q, at)
	q = append(q, p[bi+1:]...)
	return q, bi + 1
}

// rearVertex is the rearmost vertex among those ok allows: largest Y,
// then nearest the middle of the loop in X, then smallest X.
func rearVertex(p poly.Path, ok []bool) int {
	b := poly.Bounds(p)
	cx := (b.Min.X + b.Max.X) / 2
	maxY := int64(math.MinInt64)
	for i, v := range p {
		if (ok == nil || ok[i]) && v.Y > maxY {
			maxY = v.Y
		}
	}
	best := -1
	for i, v := range p {
		if (ok != nil && !ok[i]) || v.Y < maxY-seamRearTol {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		d, bd := abs64(v.X-cx), abs64(p[best].X-cx)
		if d < bd || (d == bd && v.X < p[best].X) {
			best = i
		}
	}
	return max(best, 0)
}

// sharpestVertex is the vertex with the sharpest turn, concave corners
// (turning against the loop's direction) before convex ones, or -1 when
// no corner is sharper than seamMinCorner.
func sharpestVertex(p poly.Path) int {
	n := len(p)
	if n < 3 {
		return 0
	}
	ccw := poly.Area(p) > 0
	score := make([]float64, n)
	best := 0.0
	for i := range p {
		a, b, c := p[(i+n-1)%n], p[i], p[(i+1)%n]
		t := turn(a, b, c)
		if !ccw {
			t = -t
		}
		// t < 0 is a concave corner; weigh it as if it were sharper.
		s := math.Abs(t)
		if t < 0 {
			s += math.Pi / 4
		}
		if math.Abs(t) < seamMinCorner {
			s = 0
		}
		score[i] = s
		best = max(best, s)
	}
	if best == 0 {
		return -1
	}
	ok := make([]bool, n)
	for i, s := range score {
		ok[i] = s > 0 && s >= best-seamTie
	}
	return rearVertex(p, ok)
}

// turn is the signed angle between a→b and b→c, counter-clockwise positive.
func turn(a, b, c poly.Point) float64 {
	x1, y1 := float64(b.X-a.X), float64(b.Y-a.Y)
	x2, y2 := float64(c.X-b.X), float64(c.Y-b.Y)
	return math.Atan2(x1*y2-y1*x2, x1*x2+y1*y2)
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

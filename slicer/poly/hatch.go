package poly

import (
	"math"
	"slices"
)

// Line is an open segment from A to B.
type Line struct{ A, B Point }

// Hatch clips the family of parallel lines at angle (radians from the x
// axis), spacing µm apart and shifted by phase µm across the lines, against
// region (non-zero rule). Lines come out scanline by scanline, and within a
// scanline in order along the line direction.
func Hatch(region Paths, angle float64, spacing, phase int64) []Line {
	if spacing <= 0 {
		return nil
	}
	c, s := math.Cos(angle), math.Sin(angle)
	type edge struct {
		x0, y0, x1, y1 float64
		dir            int
	}
	var edges []edge
	minY, maxY := math.Inf(1), math.Inf(-1)
	for _, p := range region {
		if len(p) < 3 {
			continue
		}
		prev := p[len(p)-1]
		px, py := float64(prev.X)*c+float64(prev.Y)*s, -float64(prev.X)*s+float64(prev.Y)*c
		for _, q := range p {
			qx, qy := float64(q.X)*c+float64(q.Y)*s, -float64(q.X)*s+float64(q.Y)*c
			if py != qy {
				e := edge{px, py, qx, qy, 1}
				if qy < py {
					e = edge{qx, qy, px, py, -1}
				}
				edges = append(edges, e)
				minY, maxY = min(minY, e.y0), max(maxY, e.y1)
			}
			px, py = qx, qy
		}
	}
	if len(edges) == 0 {
		return nil
	}
	slices.SortFunc(edges, func(a, b edge) int {
		switch {
		case a.y0 < b.y0:
			return -1
		case a.y0 > b.y0:
			return 1
		}
		return 0
	})
	sp := float64(spacing)
	k0 := math.Ceil((minY - float64(phase)) / sp)
	var out []Line
	var active []int
	type cross struct {
		x   float64
		dir int
	}
	var xs []cross
	next := 0
	for k := k0; ; k++ {
		y := k*sp + float64(phase)
		if y >= maxY {
			break
		}
		for next < len(edges) && edges[next].y0 <= y {
			active = append(active, next)
			next++
		}
		xs = xs[:0]
		n := 0
		for _, i := range active {
			e := &edges[i]
			if e.y1 <= y {
				continue
			}
			active[n] = i
			n++
			t := (y - e.y0) / (e.y1 - e.y0)
			xs = append(xs, cross{e.x0 + t*(e.x1-e.x0), e.dir})
		}
		active = active[:n]
		slices.SortFunc(xs, func(a, b cross) int {
			switch {
			case a.x < b.x:
				return -1
			case a.x > b.x:
				return 1
			}
			return 0
		})
		w := 0
		var start float64
		for _, x := range xs {
			was := w != 0
			w += x.dir
			if !was && w != 0 {
				start = x.x
			} else if was && w == 0 && x.x > start {
				out = append(out, Line{
					A: Point{int64(math.Round(start*c - y*s)), int64(math.Round(start*s + y*c))},
					B: Point{int64(math.Round(x.x*c - y*s)), int64(math.Round(x.x*s + y*c))},
				})
			}
		}
	}
	return out
}

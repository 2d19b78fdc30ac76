// Package poly is the slicer's planar polygon geometry in integer
// micrometres: areas and orientation, point-in-polygon, simplification,
// boolean operations (union, intersection, difference, xor under the
// even-odd, non-zero and positive fill rules), offsetting with round or
// miter joins, and hatching (clipping parallel lines against a region).
//
// Conventions: a Path is a closed polygon (the last point connects to the
// first, it is not repeated). Outer boundaries run counter-clockwise
// (positive area), holes clockwise. Every result of Boolean and Offset
// follows that convention and has no self-intersections (loops may touch at
// a vertex). Coordinates must stay within ±MaxCoord so that every exact
// integer predicate fits in an int64.
//
// The package is pure: no globals, no I/O, safe for concurrent use.
package poly

import (
	"math"
)

// MaxCoord bounds every coordinate (about ±268 m in micrometres).
const MaxCoord = 1 << 28

// Point is a position in integer micrometres.
type Point struct{ X, Y int64 }

// Path is a closed polygon.
type Path []Point

// Paths is a set of polygons (a region: outers and holes).
type Paths []Path

// Less orders points lexicographically by X then Y.
func (p Point) Less(q Point) bool { return p.X < q.X || (p.X == q.X && p.Y < q.Y) }

// Sub returns p − q.
func (p Point) Sub(q Point) Point { return Point{p.X - q.X, p.Y - q.Y} }

// Cross returns the z component of (b−a) × (c−a).
func Cross(a, b, c Point) int64 { return (b.X-a.X)*(c.Y-a.Y) - (b.Y-a.Y)*(c.X-a.X) }

// Dist returns the Euclidean distance between p and q.
func Dist(p, q Point) float64 { return math.Hypot(float64(p.X-q.X), float64(p.Y-q.Y)) }

// Area returns the signed area (positive for counter-clockwise) in µm².
func Area(p Path) float64 {
	if len(p) < 3 {
		return 0
	}
	var s int64
	var acc float64
	prev := p[len(p)-1]
	for i, q := range p {
		s += prev.X*q.Y - q.X*prev.Y
		prev = q
		if i&63 == 63 { // keep the partial sum well inside int64
			acc += float64(s)
			s = 0
		}
	}
	return (acc + float64(s)) / 2
}

// TotalArea returns the sum of signed areas: the area of a region whose
// holes are clockwise.
func TotalArea(ps Paths) float64 {
	var a float64
	for _, p := range ps {
		a += Area(p)
	}
	return a
}

// Perimeter returns the length of the closed path.
func Perimeter(p Path) float64 {
	if len(p) < 2 {
		return 0
	}
	var l float64
	prev := p[len(p)-1]
	for _, q := range p {
		l += Dist(prev, q)
		prev = q
	}
	return l
}

// Reverse reverses a path in place and returns it.
func Reverse(p Path) Path {
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Rect is an axis-aligned bounding box.
type Rect struct{ Min, Max Point }

// Empty reports whether the box holds no point.
func (r Rect) Empty() bool { return r.Min.X > r.Max.X || r.Min.Y > r.Max.Y }

// Bounds returns the bounding box of all points (Empty when there are none).
func Bounds(ps ...Path) Rect {
	r := Rect{Min: Point{math.MaxInt64, math.MaxInt64}, Max: Point{math.MinInt64, math.MinInt64}}
	for _, p := range ps {
		for _, q := range p {
			r.Min.X = min(r.Min.X, q.X)
			r.Min.Y = min(r.Min.Y, q.Y)
			r.Max.X = max(r.Max.X, q.X)
			r.Max.Y = max(r.Max.Y, q.Y)
		}
	}
	return r
}

// Overlaps reports whether two boxes share a point.
func (r Rect) Overlaps(o Rect) bool {
	return r.Min.X <= o.Max.X && o.Min.X <= r.Max.X && r.Min.Y <= o.Max.Y && o.Min.Y <= r.Max.Y
}

// Winding returns the winding number of path p around point q (0 outside a
// simple polygon, ±1 inside). Points on the boundary count by the
// half-open rule.
func Winding(p Path, q Point) int {
	w := 0
	if len(p) < 3 {
		return 0
	}
	a := p[len(p)-1]
	for _, b := range p {
		if a.Y <= q.Y {
			if b.Y > q.Y && Cross(a, b, q) > 0 {
				w++
			}
		} else if b.Y <= q.Y && Cross(a, b, q) < 0 {
			w--
		}
		a = b
	}
	return w
}

// Inside reports whether q lies inside the region ps (non-zero rule).
func Inside(ps Paths, q Point) bool {
	w := 0
	for _, p := range ps {
		w += Winding(p, q)
	}
	return w != 0
}

// OnBoundary reports whether q lies on an edge of p.
func OnBoundary(p Path, q Point) bool {
	if len(p) == 0 {
		return false
	}
	a := p[len(p)-1]
	for _, b := range p {
		if Cross(a, b, q) == 0 && min(a.X, b.X) <= q.X && q.X <= max(a.X, b.X) && min(a.Y, b.Y) <= q.Y && q.Y <= max(a.Y, b.Y) {
			return true
		}
		a = b
	}
	return false
}

// Clean removes repeated points and collinear vertices; a path left with
// fewer than three points or no area is dropped.
func Clean(ps Paths) Paths {
	out := ps[:0]
	for _, p := range ps {
		p = cleanPath(p)
		if len(p) >= 3 && Area(p) != 0 {
			out = append(out, p)
		}
	}
	return out
}

func cleanPath(p Path) Path {
	// Remove duplicates.
	q := p[:0]
	for _, pt := range p {
		if len(q) > 0 && q[len(q)-1] == pt {
			continue
		}
		q = append(q, pt)
	}
	for len(q) > 1 && q[0] == q[len(q)-1] {
		q = q[:len(q)-1]
	}
	// Remove collinear vertices until none is left (a stack pass).
	changed := true
	for changed && len(q) >= 3 {
		changed = false
		r := q[:0]
		n := len(q)
		for i := 0; i < n; i++ {
			var prev Point
			if len(r) > 0 {
				prev = r[len(r)-1]
			} else {
				prev = q[n-1]
			}
			next := q[(i+1)%n]
			if Cross(prev, q[i], next) == 0 {
				changed = true
				continue
			}
			r = append(r, q[i])
		}
		q = r
	}
	return q
}

// Simplify removes vertices that deviate less than tol from the line
// through their neighbours (Douglas–Peucker on the closed loop). The result
// may touch or cross itself on pathological input; pass it through Union to
// get a clean region.
func Simplify(ps Paths, tol int64) Paths {
	out := make(Paths, 0, len(ps))
	for _, p := range ps {
		if len(p) < 4 {
			if len(p) == 3 {
				out = append(out, append(Path(nil), p...))
			}
			continue
		}
		// Split the loop at the point farthest from p[0].
		far, fd := 0, int64(-1)
		for i, q := range p {
			d := sq(q.X-p[0].X) + sq(q.Y-p[0].Y)
			if d > fd {
				far, fd = i, d
			}
		}
		keep := make([]bool, len(p))
		keep[0], keep[far] = true, true
		dp(p, 0, far, float64(tol), keep)
		dpWrap(p, far, keep, float64(tol))
		r := make(Path, 0, len(p)/2+3)
		for i, k := range keep {
			if k {
				r = append(r, p[i])
			}
		}
		if len(r) >= 3 {
			out = append(out, r)
		}
	}
	return out
}

func sq(v int64) int64 { return v * v }

// dp marks the points to keep between indices i < j (both kept).
func dp(p Path, i, j int, tol float64, keep []bool) {
	for j-i > 1 {
		a, b := p[i], p[j]
		l := Dist(a, b)
		best, bd := -1, tol
		for k := i + 1; k < j; k++ {
			var d float64
			if l == 0 {
				d = Dist(a, p[k])
			} else {
				d = math.Abs(float64(Cross(a, b, p[k]))) / l
			}
			if d > bd {
				best, bd = k, d
			}
		}
		if best < 0 {
			return
		}
		keep[best] = true
		dp(p, i, best, tol, keep)
		i = best
	}
}

// dpWrap handles the part of the loop from far back to index 0.
func dpWrap(p Path, far int, keep []bool, tol float64) {
	n := len(p)
	idx := make(Path, 0, n-far+1)
	idx = append(idx, p[far:]...)
	idx = append(idx, p[0])
	k2 := make([]bool, len(idx))
	k2[0], k2[len(k2)-1] = true, true
	dp(idx, 0, len(idx)-1, tol, k2)
	for i := 1; i < len(idx)-1; i++ {
		if k2[i] {
			keep[far+i] = true
		}
	}
}

// Translate returns a copy of ps moved by d.
func Translate(ps Paths, d Point) Paths {
	out := make(Paths, len(ps))
	for i, p := range ps {
		q := make(Path, len(p))
		for j, pt := range p {
			q[j] = Point{pt.X + d.X, pt.Y + d.Y}
		}
		out[i] = q
	}
	return out
}

// Crosses reports whether the segment a–b crosses or touches any edge of
// ps (a travel move that would pass over a perimeter).
func Crosses(ps Paths, a, b Point) bool {
	x0, x1 := min(a.X, b.X), max(a.X, b.X)
	y0, y1 := min(a.Y, b.Y), max(a.Y, b.Y)
	for _, p := range ps {
		if len(p) < 2 {
			continue
		}
		prev := p[len(p)-1]
		for _, q := range p {
			if !(max(prev.X, q.X) < x0 || min(prev.X, q.X) > x1 || max(prev.Y, q.Y) < y0 || min(prev.Y, q.Y) > y1) {
				d1, d2 := sgn(Cross(prev, q, a)), sgn(Cross(prev, q, b))
				d3, d4 := sgn(Cross(a, b, prev)), sgn(Cross(a, b, q))
				if d1*d2 <= 0 && d3*d4 <= 0 && !(d1 == 0 && d2 == 0 && d3 == 0 && d4 == 0) {
					return true
				}
			}
			prev = q
		}
	}
	return false
}

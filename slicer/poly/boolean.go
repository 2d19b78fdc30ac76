package poly

import (
	"math"
	"slices"
)

// FillRule decides which windings count as inside.
type FillRule int

// Fill rules.
const (
	EvenOdd  FillRule = iota // odd winding is inside (raw slice contours)
	NonZero                  // any non-zero winding is inside
	Positive                 // positive winding is inside (offsetting)
)

// Op is a boolean operation between a subject and a clip region.
type Op int

// Boolean operations.
const (
	OpUnion Op = iota
	OpIntersection
	OpDifference // subject minus clip
	OpXor
)

// Union returns the region covered by ps under rule, as clean oriented
// polygons. It also repairs self-intersecting input.
func Union(ps Paths, rule FillRule) Paths { return Boolean(ps, nil, OpUnion, rule) }

// Intersection returns a ∩ b (non-zero rule).
func Intersection(a, b Paths) Paths { return Boolean(a, b, OpIntersection, NonZero) }

// Difference returns a − b (non-zero rule).
func Difference(a, b Paths) Paths { return Boolean(a, b, OpDifference, NonZero) }

// UnionOf returns a ∪ b (non-zero rule).
func UnionOf(a, b Paths) Paths { return Boolean(a, b, OpUnion, NonZero) }

// seg is an undirected segment of the arrangement with a < b
// (lexicographically); w[k] is the winding contribution of operand k
// when the segment is traversed from a to b.
type seg struct {
	a, b Point
	w    [2]int32
}

// Boolean computes op(subject, clip) where each operand's inside is given
// by rule. It builds the planar arrangement of all edges (every crossing,
// touching and overlap split at an integer point), computes each operand's
// winding on both sides of every segment, keeps the segments that separate
// inside from outside and chains them into loops with the inside on the
// left.
func Boolean(subject, clip Paths, op Op, rule FillRule) Paths {
	segs := make([]seg, 0, countPoints(subject)+countPoints(clip))
	segs = addEdges(segs, subject, 0)
	segs = addEdges(segs, clip, 1)
	if len(segs) == 0 {
		return nil
	}
	segs = mergeSegs(segs)
	segs = splitAll(segs)
	if len(segs) == 0 {
		return nil
	}
	low := windings(segs)
	edges := make([]dedge, 0, len(segs)/2)
	for i, s := range segs {
		wl := low[i]
		var wh [2]int32
		if s.a.X == s.b.X { // vertical: low is left, high is right
			wh = [2]int32{wl[0] - s.w[0], wl[1] - s.w[1]}
		} else { // low is below, high is above
			wh = [2]int32{wl[0] + s.w[0], wl[1] + s.w[1]}
		}
		inL := apply(op, inside(rule, wl[0]), inside(rule, wl[1]))
		inH := apply(op, inside(rule, wh[0]), inside(rule, wh[1]))
		if inL == inH {
			continue
		}
		// Orient so that the inside is on the left.
		fwd := inH
		if s.a.X == s.b.X {
			fwd = inL
		}
		if fwd {
			edges = append(edges, dedge{s.a, s.b})
		} else {
			edges = append(edges, dedge{s.b, s.a})
		}
	}
	return Clean(chain(edges))
}

func countPoints(ps Paths) int {
	n := 0
	for _, p := range ps {
		n += len(p)
	}
	return n
}

func addEdges(segs []seg, ps Paths, k int) []seg {
	for _, p := range ps {
		if len(p) < 2 {
			continue
		}
		prev := p[len(p)-1]
		for _, q := range p {
			if prev != q {
				s := seg{a: prev, b: q}
				s.w[k] = 1
				if q.Less(prev) {
					s.a, s.b = q, prev
					s.w[k] = -1
				}
				segs = append(segs, s)
			}
			prev = q
		}
	}
	return segs
}

func inside(rule FillRule, w int32) bool {
	switch rule {
	case EvenOdd:
		return w&1 != 0
	case Positive:
		return w > 0
	default:
		return w != 0
	}
}

func apply(op Op, a, b bool) bool {
	switch op {
	case OpIntersection:
		return a && b
	case OpDifference:
		return a && !b
	case OpXor:
		return a != b
	default:
		return a || b
	}
}

func cmpPoint(p, q Point) int {
	switch {
	case p.X < q.X:
		return -1
	case p.X > q.X:
		return 1
	case p.Y < q.Y:
		return -1
	case p.Y > q.Y:
		return 1
	}
	return 0
}

// mergeSegs sorts segments and merges identical ones, dropping those whose
// contributions cancel.
func mergeSegs(segs []seg) []seg {
	slices.SortFunc(segs, func(s, t seg) int {
		if c := cmpPoint(s.a, t.a); c != 0 {
			return c
		}
		return cmpPoint(s.b, t.b)
	})
	out := segs[:0]
	for _, s := range segs {
		if n := len(out); n > 0 && out[n-1].a == s.a && out[n-1].b == s.b {
			out[n-1].w[0] += s.w[0]
			out[n-1].w[1] += s.w[1]
			continue
		}
		out = append(out, s)
	}
	res := out[:0]
	for _, s := range out {
		if s.w != [2]int32{} {
			res = append(res, s)
		}
	}
	return res
}

type split struct {
	i int32
	p Point
}

// splitAll splits segments at every crossing, touching and overlap until
// the arrangement is planar. Rounding a crossing to the integer grid can
// create a new crossing nearby, hence the (bounded) repetition.
func splitAll(segs []seg) []seg {
	for iter := 0; iter < 8; iter++ {
		sp, inexact := findSplits(segs)
		if len(sp) == 0 {
			return segs
		}
		segs = mergeSegs(applySplits(segs, sp))
		if !inexact {
			return segs
		}
	}
	return segs
}

// findSplits finds every pair of segments that touch, using a uniform grid
// as the broad phase: each segment is entered in the cells its box covers,
// and a pair is tested once, in the cell holding the lower corner of the
// overlap of their boxes.
func findSplits(segs []seg) ([]split, bool) {
	n := len(segs)
	if n < 2 {
		return nil, false
	}
	box := Rect{Min: Point{math.MaxInt64, math.MaxInt64}, Max: Point{math.MinInt64, math.MinInt64}}
	var total float64
	for i := range segs {
		s := &segs[i]
		box.Min.X, box.Max.X = min(box.Min.X, s.a.X), max(box.Max.X, s.b.X)
		box.Min.Y, box.Max.Y = min(box.Min.Y, s.a.Y, s.b.Y), max(box.Max.Y, s.a.Y, s.b.Y)
		total += float64(max(s.b.X-s.a.X, abs(s.b.Y-s.a.Y)))
	}
	w, h := float64(box.Max.X-box.Min.X+1), float64(box.Max.Y-box.Min.Y+1)
	cell := math.Max(math.Sqrt(w*h/float64(2*n)), 2*total/float64(n))
	cell = math.Max(cell, 1)
	nx := int64(w/cell) + 1
	ny := int64(h/cell) + 1
	for nx*ny > int64(4*n+16) {
		cell *= 1.5
		nx, ny = int64(w/cell)+1, int64(h/cell)+1
	}
	c := int64(math.Ceil(cell))
	cx := func(x int64) int64 { return (x - box.Min.X) / c }
	cy := func(y int64) int64 { return (y - box.Min.Y) / c }
	nx, ny = cx(box.Max.X)+1, cy(box.Max.Y)+1
	start := make([]int32, nx*ny+1)
	for i := range segs {
		s := &segs[i]
		x0, x1 := cx(s.a.X), cx(s.b.X)
		y0, y1 := cy(min(s.a.Y, s.b.Y)), cy(max(s.a.Y, s.b.Y))
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				start[y*nx+x+1]++
			}
		}
	}
	for k := int64(1); k <= nx*ny; k++ {
		start[k] += start[k-1]
	}
	items := make([]int32, start[nx*ny])
	fill := append([]int32(nil), start[:nx*ny]...)
	for i := range segs {
		s := &segs[i]
		x0, x1 := cx(s.a.X), cx(s.b.X)
		y0, y1 := cy(min(s.a.Y, s.b.Y)), cy(max(s.a.Y, s.b.Y))
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				items[fill[y*nx+x]] = int32(i)
				fill[y*nx+x]++
			}
		}
	}
	var sp []split
	var hot []Point
	for k := int64(0); k < nx*ny; k++ {
		list := items[start[k]:start[k+1]]
		kx, ky := k%nx, k/nx
		for a := 0; a < len(list); a++ {
			s := &segs[list[a]]
			sx0, sx1 := s.a.X, s.b.X
			sy0, sy1 := min(s.a.Y, s.b.Y), max(s.a.Y, s.b.Y)
			for b := a + 1; b < len(list); b++ {
				t := &segs[list[b]]
				ty0, ty1 := min(t.a.Y, t.b.Y), max(t.a.Y, t.b.Y)
				if t.b.X < sx0 || t.a.X > sx1 || ty1 < sy0 || ty0 > sy1 {
					continue
				}
				// Test the pair only in the cell of its overlap's corner.
				if cx(max(sx0, t.a.X)) != kx || cy(max(sy0, ty0)) != ky {
					continue
				}
				i, j := list[a], list[b]
				var ix bool
				sp, ix = intersect(sp, i, j, &segs[i], &segs[j])
				if ix {
					hot = append(hot, sp[len(sp)-1].p)
				}
			}
		}
	}
	// Snap rounding: a crossing rounded to the grid is a hot pixel, and
	// every segment passing through that pixel is bent through its
	// centre too; otherwise nearly parallel segments can cross again
	// after rounding, for ever.
	for _, h := range hot {
		for y := cy(max(h.Y-1, box.Min.Y)); y <= cy(min(h.Y+1, box.Max.Y)); y++ {
			for x := cx(max(h.X-1, box.Min.X)); x <= cx(min(h.X+1, box.Max.X)); x++ {
				for _, i := range items[start[y*nx+x]:start[y*nx+x+1]] {
					if s := &segs[i]; throughPixel(s.a, s.b, h) {
						sp = append(sp, split{i, h})
					}
				}
			}
		}
	}
	return sp, len(hot) > 0
}

// throughPixel reports whether segment a–b passes through the unit pixel
// centred on h (and does not end at h).
func throughPixel(a, b, h Point) bool {
	if h == a || h == b || h.X < a.X-1 || h.X > b.X+1 || h.Y < min(a.Y, b.Y)-1 || h.Y > max(a.Y, b.Y)+1 {
		return false
	}
	d := b.Sub(a)
	l2 := float64(d.X*d.X + d.Y*d.Y)
	t := float64((h.X-a.X)*d.X+(h.Y-a.Y)*d.Y) / l2
	if t <= 0 || t >= 1 {
		return false
	}
	c := float64(Cross(a, b, h))
	return c*c <= 0.5*l2
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func sgn(v int64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// strictlyOn reports whether p, known to be collinear with a–b, lies
// strictly between them.
func strictlyOn(a, b, p Point) bool {
	if p == a || p == b {
		return false
	}
	return min(a.X, b.X) <= p.X && p.X <= max(a.X, b.X) && min(a.Y, b.Y) <= p.Y && p.Y <= max(a.Y, b.Y)
}

func intersect(sp []split, i, j int32, s, t *seg) ([]split, bool) {
	p1, p2, q1, q2 := s.a, s.b, t.a, t.b
	d1 := sgn(Cross(q1, q2, p1))
	d2 := sgn(Cross(q1, q2, p2))
	d3 := sgn(Cross(p1, p2, q1))
	d4 := sgn(Cross(p1, p2, q2))
	if d1*d2 < 0 && d3*d4 < 0 {
		c1 := float64(Cross(q1, q2, p1))
		c2 := float64(Cross(q1, q2, p2))
		f := c1 / (c1 - c2)
		pt := Point{
			int64(math.Round(float64(p1.X) + f*float64(p2.X-p1.X))),
			int64(math.Round(float64(p1.Y) + f*float64(p2.Y-p1.Y))),
		}
		inexact := Cross(p1, p2, pt) != 0 || Cross(q1, q2, pt) != 0
		sp = append(sp, split{i, pt}, split{j, pt})
		return sp, inexact
	}
	if d1 == 0 && strictlyOn(q1, q2, p1) {
		sp = append(sp, split{j, p1})
	}
	if d2 == 0 && strictlyOn(q1, q2, p2) {
		sp = append(sp, split{j, p2})
	}
	if d3 == 0 && strictlyOn(p1, p2, q1) {
		sp = append(sp, split{i, q1})
	}
	if d4 == 0 && strictlyOn(p1, p2, q2) {
		sp = append(sp, split{i, q2})
	}
	return sp, false
}

func applySplits(segs []seg, sp []split) []seg {
	slices.SortFunc(sp, func(x, y split) int { return int(x.i) - int(y.i) })
	out := make([]seg, 0, len(segs)+len(sp))
	k := 0
	var pts []Point
	for i, s := range segs {
		if k >= len(sp) || sp[k].i != int32(i) {
			out = append(out, s)
			continue
		}
		pts = pts[:0]
		pts = append(pts, s.a)
		for k < len(sp) && sp[k].i == int32(i) {
			pts = append(pts, sp[k].p)
			k++
		}
		pts = append(pts, s.b)
		d := s.b.Sub(s.a)
		a := s.a
		slices.SortFunc(pts[1:len(pts)-1], func(p, q Point) int {
			dp := (p.X-a.X)*d.X + (p.Y-a.Y)*d.Y
			dq := (q.X-a.X)*d.X + (q.Y-a.Y)*d.Y
			return sgn(dp - dq)
		})
		prev := pts[0]
		for _, q := range pts[1:] {
			if q == prev {
				continue
			}
			n := seg{a: prev, b: q, w: s.w}
			if q.Less(prev) {
				n.a, n.b = q, prev
				n.w = [2]int32{-s.w[0], -s.w[1]}
			}
			out = append(out, n)
			prev = q
		}
	}
	return out
}

// windings returns, for every segment, the winding numbers of both
// operands just below it (or, for a vertical segment, just left of it),
// by casting a ray from the segment's midpoint.
func windings(segs []seg) [][2]int32 {
	low := make([][2]int32, len(segs))
	hasVertical := false
	xs := newSlabs(segs, false)
	for i := range segs {
		s := &segs[i]
		if s.a.X == s.b.X {
			hasVertical = true
			continue
		}
		mx, my := s.a.X+s.b.X, s.a.Y+s.b.Y
		var w [2]int32
		for _, j := range xs.at(mx / 2) {
			t := &segs[j]
			if 2*t.a.X <= mx && mx < 2*t.b.X {
				c := (t.b.X-t.a.X)*(my-2*t.a.Y) - (t.b.Y-t.a.Y)*(mx-2*t.a.X)
				if c > 0 {
					w[0] += t.w[0]
					w[1] += t.w[1]
				}
			}
		}
		low[i] = w
	}
	if !hasVertical {
		return low
	}
	ys := newSlabs(segs, true)
	for i := range segs {
		s := &segs[i]
		if s.a.X != s.b.X {
			continue
		}
		mx, my := 2*s.a.X, s.a.Y+s.b.Y
		var w [2]int32
		for _, j := range ys.at(floorDiv2(my)) {
			t := &segs[j]
			l, h := t.a, t.b
			up := true
			if h.Y < l.Y {
				l, h = h, l
				up = false
			}
			if 2*l.Y <= my && my < 2*h.Y {
				c := (h.X-l.X)*(my-2*l.Y) - (h.Y-l.Y)*(mx-2*l.X)
				if c < 0 {
					if up {
						w[0] -= t.w[0]
						w[1] -= t.w[1]
					} else {
						w[0] += t.w[0]
						w[1] += t.w[1]
					}
				}
			}
		}
		low[i] = w
	}
	return low
}

func floorDiv2(v int64) int64 { return v >> 1 }

// slabs buckets segments by their x (or y) extent so that a ray query only
// looks at the segments that can straddle it.
type slabs struct {
	lo, width int64
	start     []int32
	items     []int32
}

func newSlabs(segs []seg, byY bool) *slabs {
	ext := func(s *seg) (int64, int64, bool) {
		if byY {
			if s.a.Y == s.b.Y {
				return 0, 0, false
			}
			return min(s.a.Y, s.b.Y), max(s.a.Y, s.b.Y), true
		}
		if s.a.X == s.b.X {
			return 0, 0, false
		}
		return s.a.X, s.b.X, true
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range segs {
		if a, b, ok := ext(&segs[i]); ok {
			lo, hi = min(lo, a), max(hi, b)
		}
	}
	sl := &slabs{lo: lo, width: 1}
	if lo > hi {
		sl.start = []int32{0, 0}
		return sl
	}
	k := int64(len(segs)/2 + 1)
	span := hi - lo + 1
	for {
		sl.width = (span + k - 1) / k
		var total int64
		for i := range segs {
			if a, b, ok := ext(&segs[i]); ok {
				total += (b-lo)/sl.width - (a-lo)/sl.width + 1
			}
		}
		if total <= 8*int64(len(segs))+1024 || k == 1 {
			break
		}
		k = max(1, k/2)
	}
	n := (span+sl.width-1)/sl.width + 1
	sl.start = make([]int32, n+1)
	for i := range segs {
		if a, b, ok := ext(&segs[i]); ok {
			for c := (a - lo) / sl.width; c <= (b-lo)/sl.width; c++ {
				sl.start[c+1]++
			}
		}
	}
	for c := int64(1); c <= n; c++ {
		sl.start[c] += sl.start[c-1]
	}
	sl.items = make([]int32, sl.start[n])
	fill := append([]int32(nil), sl.start[:n]...)
	for i := range segs {
		if a, b, ok := ext(&segs[i]); ok {
			for c := (a - lo) / sl.width; c <= (b-lo)/sl.width; c++ {
				sl.items[fill[c]] = int32(i)
				fill[c]++
			}
		}
	}
	return sl
}

func (sl *slabs) at(v int64) []int32 {
	c := (v - sl.lo)
	if c < 0 {
		return nil
	}
	c /= sl.width
	if c+1 >= int64(len(sl.start)) {
		return nil
	}
	return sl.items[sl.start[c]:sl.start[c+1]]
}

type dedge struct{ from, to Point }

// chain links directed edges into closed loops, taking the leftmost turn
// where several edges leave one vertex (so touching regions stay separate).
func chain(edges []dedge) Paths {
	slices.SortFunc(edges, func(x, y dedge) int { return cmpPoint(x.from, y.from) })
	used := make([]bool, len(edges))
	find := func(p Point) int {
		i, _ := slices.BinarySearchFunc(edges, p, func(e dedge, p Point) int { return cmpPoint(e.from, p) })
		return i
	}
	var out Paths
	for e0 := range edges {
		if used[e0] {
			continue
		}
		used[e0] = true
		start := edges[e0].from
		path := Path{start}
		cur := edges[e0]
		ok := true
		for cur.to != start {
			path = append(path, cur.to)
			best, bestAng := -1, -10.0
			in := cur.to.Sub(cur.from)
			for k := find(cur.to); k < len(edges) && edges[k].from == cur.to; k++ {
				if used[k] {
					continue
				}
				out := edges[k].to.Sub(edges[k].from)
				ang := math.Atan2(float64(in.X*out.Y-in.Y*out.X), float64(in.X*out.X+in.Y*out.Y))
				if best < 0 || ang > bestAng {
					best, bestAng = k, ang
				}
			}
			if best < 0 {
				ok = false
				break
			}
			used[best] = true
			cur = edges[best]
		}
		if ok && len(path) >= 3 {
			out = append(out, path)
		}
	}
	return out
}

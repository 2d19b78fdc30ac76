package poly

// ClipRect cuts every path of ps to the rectangle r (Sutherland–Hodgman,
// edge by edge of r). Paths wholly inside are kept as they are and paths
// whose box misses r dropped. A concave path may come out with edges that
// run along r's border and back; as a region under the non-zero rule it is
// exactly ps ∩ r, so it is meant as an operand of a boolean whose other
// side lies within r (cutting a big outline down to a small region's
// neighbourhood before Difference or Intersection).
func ClipRect(ps Paths, r Rect) Paths {
	out := make(Paths, 0, len(ps))
	for _, p := range ps {
		b := Bounds(p)
		switch {
		case len(p) < 3 || !b.Overlaps(r):
			continue
		case b.Min.X >= r.Min.X && b.Max.X <= r.Max.X && b.Min.Y >= r.Min.Y && b.Max.Y <= r.Max.Y:
			out = append(out, p)
			continue
		}
		q := p
		for side := 0; side < 4 && len(q) > 0; side++ {
			q = clipSide(q, r, side)
		}
		if len(q) >= 3 {
			out = append(out, q)
		}
	}
	return out
}

// clipSide keeps the part of p on the inner side of one edge of r: 0 left
// (x ≥ Min.X), 1 right (x ≤ Max.X), 2 bottom (y ≥ Min.Y), 3 top (y ≤ Max.Y).
func clipSide(p Path, r Rect, side int) Path {
	in := func(q Point) bool {
		switch side {
		case 0:
			return q.X >= r.Min.X
		case 1:
			return q.X <= r.Max.X
		case 2:
			return q.Y >= r.Min.Y
		}
		return q.Y <= r.Max.Y
	}
	cut := func(a, b Point) Point {
		var t float64
		switch side {
		case 0, 1:
			x := r.Min.X
			if side == 1 {
				x = r.Max.X
			}
			t = float64(x-a.X) / float64(b.X-a.X)
			return Point{x, a.Y + roundDiv(t, b.Y-a.Y)}
		}
		y := r.Min.Y
		if side == 3 {
			y = r.Max.Y
		}
		t = float64(y-a.Y) / float64(b.Y-a.Y)
		return Point{a.X + roundDiv(t, b.X-a.X), y}
	}
	out := make(Path, 0, len(p)+4)
	prev := p[len(p)-1]
	pin := in(prev)
	for _, q := range p {
		qin := in(q)
		switch {
		case qin && pin:
			out = append(out, q)
		case qin && !pin:
			out = append(out, cut(prev, q), q)
		case !qin && pin:
			out = append(out, cut(prev, q))
		}
		prev, pin = q, qin
	}
	return out
}

func roundDiv(t float64, d int64) int64 {
	v := t * float64(d)
	if v < 0 {
		return -int64(-v + 0.5)
	}
	return int64(v + 0.5)
}

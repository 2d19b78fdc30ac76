package poly

import (
	"errors"
	"fmt"
)

// ErrNotSimple is returned by Check for a region with crossing edges.
var ErrNotSimple = errors.New("poly: region is not simple")

// Check verifies that no two edges of the region cross or overlap along a
// stretch; loops may touch at single points. It is quadratic and meant for
// tests and debugging.
func Check(ps Paths) error {
	type e struct{ a, b Point }
	var es []e
	for _, p := range ps {
		for i := range p {
			es = append(es, e{p[i], p[(i+1)%len(p)]})
		}
	}
	for i := range es {
		for j := i + 1; j < len(es); j++ {
			s, t := es[i], es[j]
			d1, d2 := sgn(Cross(t.a, t.b, s.a)), sgn(Cross(t.a, t.b, s.b))
			d3, d4 := sgn(Cross(s.a, s.b, t.a)), sgn(Cross(s.a, s.b, t.b))
			bad := d1*d2 < 0 && d3*d4 < 0
			if d1 == 0 && d2 == 0 { // collinear: overlap along a stretch?
				bad = strictlyOn(t.a, t.b, s.a) || strictlyOn(t.a, t.b, s.b) ||
					strictlyOn(s.a, s.b, t.a) || strictlyOn(s.a, s.b, t.b) ||
					(s.a == t.a && s.b == t.b) || (s.a == t.b && s.b == t.a)
			}
			if bad {
				return fmt.Errorf("%w: edge %v–%v meets %v–%v", ErrNotSimple, s.a, s.b, t.a, t.b)
			}
		}
	}
	return nil
}

package poly

import (
	"math"
	"testing"
)

func rect(x0, y0, x1, y1 int64) Path {
	return Path{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
}

func circle(cx, cy, r int64, n int) Path {
	p := make(Path, n)
	for i := range p {
		a := 2 * math.Pi * float64(i) / float64(n)
		p[i] = Point{cx + int64(math.Round(float64(r)*math.Cos(a))), cy + int64(math.Round(float64(r)*math.Sin(a)))}
	}
	return p
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestAreaAndOrientation(t *testing.T) {
	r := rect(0, 0, 10, 20)
	if a := Area(r); a != 200 {
		t.Fatalf("area %v", a)
	}
	if a := Area(Reverse(append(Path(nil), r...))); a != -200 {
		t.Fatalf("reversed area %v", a)
	}
}

func TestBooleanTable(t *testing.T) {
	a := Paths{rect(0, 0, 10, 10)}
	b := Paths{rect(5, 5, 15, 15)}
	far := Paths{rect(100, 100, 110, 110)}
	touch := Paths{rect(10, 0, 20, 10)}
	tests := []struct {
		name  string
		a, b  Paths
		op    Op
		area  float64
		loops int
	}{
		{"union overlap", a, b, OpUnion, 175, 1},
		{"intersection overlap", a, b, OpIntersection, 25, 1},
		{"difference overlap", a, b, OpDifference, 75, 1},
		{"xor overlap", a, b, OpXor, 150, 2},
		{"union disjoint", a, far, OpUnion, 200, 2},
		{"intersection disjoint", a, far, OpIntersection, 0, 0},
		{"union edge-sharing", a, touch, OpUnion, 200, 1},
		{"difference self", a, a, OpDifference, 0, 0},
		{"union self", a, a, OpUnion, 100, 1},
		{"hole", Paths{rect(0, 0, 30, 30)}, Paths{rect(10, 10, 20, 20)}, OpDifference, 800, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Boolean(tc.a, tc.b, tc.op, NonZero)
			if ar := TotalArea(got); !near(ar, tc.area, 1e-9) || len(got) != tc.loops {
				t.Fatalf("area %v loops %d (%v), want %v and %d", ar, len(got), got, tc.area, tc.loops)
			}
			checkSimple(t, got)
		})
	}
}

func TestHoleStaysHole(t *testing.T) {
	got := Difference(Paths{rect(0, 0, 30, 30)}, Paths{rect(10, 10, 20, 20)})
	var pos, neg int
	for _, p := range got {
		if Area(p) > 0 {
			pos++
		} else {
			neg++
		}
	}
	if pos != 1 || neg != 1 {
		t.Fatalf("want one outer and one hole, got %v", got)
	}
}

func TestEvenOddNested(t *testing.T) {
	// Three nested squares, all counter-clockwise, as a slicer finds them.
	in := Paths{rect(0, 0, 30, 30), rect(5, 5, 25, 25), rect(10, 10, 20, 20)}
	got := Union(in, EvenOdd)
	if a := TotalArea(got); a != 900-400+100 {
		t.Fatalf("area %v", a)
	}
	if len(got) != 3 {
		t.Fatalf("loops %d", len(got))
	}
}

func TestSelfIntersectingBowtie(t *testing.T) {
	bow := Paths{{{0, 0}, {10, 10}, {10, 0}, {0, 10}}}
	got := Union(bow, NonZero)
	if a := TotalArea(got); a != 50 {
		t.Fatalf("area %v, %v", a, got)
	}
	checkSimple(t, got)
}

func TestOffsetSquare(t *testing.T) {
	sq := Paths{rect(0, 0, 1000, 1000)}
	in := Offset(sq, -100, OffsetOptions{})
	if a := TotalArea(in); a != 800*800 {
		t.Fatalf("inset area %v: %v", a, in)
	}
	out := Offset(sq, 100, OffsetOptions{Join: JoinMiter})
	if a := TotalArea(out); a != 1200*1200 {
		t.Fatalf("miter outset area %v", a)
	}
	round := Offset(sq, 100, OffsetOptions{})
	want := 1000*1000 + 4*1000*100 + math.Pi*100*100
	if a := TotalArea(round); !near(a, want, want*0.002) {
		t.Fatalf("round outset area %v want %v", a, want)
	}
	if got := Offset(sq, -600, OffsetOptions{}); len(got) != 0 {
		t.Fatalf("over-inset should vanish: %v", got)
	}
}

func TestOffsetHoleGrows(t *testing.T) {
	ring := Difference(Paths{rect(0, 0, 3000, 3000)}, Paths{rect(1000, 1000, 2000, 2000)})
	got := Offset(ring, -100, OffsetOptions{Join: JoinMiter})
	want := 2800.0*2800 - 1200*1200
	if a := TotalArea(got); a != want {
		t.Fatalf("area %v want %v", a, want)
	}
}

func TestHatchSquare(t *testing.T) {
	sq := Paths{rect(0, 0, 10000, 10000)}
	lines := Hatch(sq, 0, 1000, 500)
	if len(lines) != 10 {
		t.Fatalf("got %d lines", len(lines))
	}
	var total float64
	for _, l := range Hatch(sq, math.Pi/4, 1000, 0) {
		total += Dist(l.A, l.B)
	}
	// Area / spacing is the total length of the hatch.
	if !near(total, 1e8/1000, 1e5/1000*3) {
		t.Fatalf("diagonal hatch length %v", total)
	}
}

func TestSimplify(t *testing.T) {
	c := Paths{circle(0, 0, 10000, 1000)}
	s := Simplify(c, 10)
	if len(s[0]) >= 500 {
		t.Fatalf("not simplified: %d", len(s[0]))
	}
	if !near(TotalArea(s), TotalArea(c), TotalArea(c)*0.005) {
		t.Fatalf("area changed: %v vs %v", TotalArea(s), TotalArea(c))
	}
}

// checkSimple fails when two edges of the result cross or overlap anywhere
// other than at shared vertices.
func checkSimple(t testing.TB, ps Paths) {
	t.Helper()
	if msg := selfIntersection(ps); msg != "" {
		t.Fatalf("result not simple: %s", msg)
	}
}

func selfIntersection(ps Paths) string {
	if err := Check(ps); err != nil {
		return err.Error()
	}
	return ""
}

func BenchmarkOffsetCircle2000(b *testing.B) {
	c := Paths{circle(0, 0, 20000, 2000)}
	for b.Loop() {
		Offset(c, -400, OffsetOptions{})
	}
}

func BenchmarkDifferenceCircles2000(b *testing.B) {
	c1 := Paths{circle(0, 0, 20000, 2000)}
	c2 := Paths{circle(300, 200, 20000, 2000)}
	for b.Loop() {
		Difference(c1, c2)
	}
}

func BenchmarkDifferenceCircles48(b *testing.B) {
	c1 := Paths{circle(0, 0, 20000, 48), Reverse(circle(0, 0, 10000, 48))}
	c2 := Paths{circle(300, 200, 20000, 48), Reverse(circle(300, 200, 10000, 48))}
	b.ReportAllocs()
	for b.Loop() {
		Difference(c1, c2)
	}
}

package slicer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer/testmesh"
	"github.com/hschendel/stl"
)

// sliceTris slices triangles with the default settings edited by edit.
func sliceTris(t testing.TB, ts []stl.Triangle, edit func(s *Settings)) (*Result, Settings) {
	t.Helper()
	m, _, err := ParseSTL(testmesh.WriteSTL("t", ts), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	mat, _ := profile.LookupMaterial("PLA")
	s := DefaultSettings(ender3(t), mat)
	if edit != nil {
		edit(&s)
	}
	if err := s.normalise(); err != nil {
		t.Fatal(err)
	}
	r, err := Slice(context.Background(), m, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r, s
}

// typeStats is what each ;TYPE: extrudes: mm³, and its box on the bed.
type typeStats struct {
	mm3      float64
	min, max Vec3
	moves    int
}

func byType(t testing.TB, r *Result) map[string]*typeStats {
	t.Helper()
	p := ender3(t)
	filArea := math.Pi * p.FilamentMM * p.FilamentMM / 4
	out := map[string]*typeStats{}
	walkGCode(t, r.GCode, func(mv move) {
		if mv.travel || mv.layer < 0 {
			return
		}
		st := out[mv.typ]
		if st == nil {
			inf := math.Inf(1)
			st = &typeStats{min: Vec3{inf, inf, inf}, max: Vec3{-inf, -inf, -inf}}
			out[mv.typ] = st
		}
		st.mm3 += mv.de * filArea
		st.moves++
		for _, q := range []Vec3{mv.from, mv.to} {
			st.min = Vec3{min(st.min.X, q.X), min(st.min.Y, q.Y), min(st.min.Z, q.Z)}
			st.max = Vec3{max(st.max.X, q.X), max(st.max.Y, q.Y), max(st.max.Z, q.Z)}
		}
	})
	return out
}

func withSupport(s *Settings) { s.Support = DefaultSupport }

// placedBox is where the model's box lands on the Ender-3's bed.
func placedBox(t testing.TB, ts []stl.Triangle) Box {
	m, _, err := ParseSTL(testmesh.WriteSTL("t", ts), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	p := ender3(t)
	pm, err := Placed(m, p.BuildVolume.X, p.BuildVolume.Y, p.BuildVolume.Z)
	if err != nil {
		t.Fatal(err)
	}
	return Bounds(pm)
}

// TestSupportByAngle: with supports at 50° from vertical, ramps leaning
// 60° and 75° get support under their leaning side and nowhere else;
// ramps at 30° and 45° get none.
func TestSupportByAngle(t *testing.T) {
	for _, tc := range []struct {
		angle   float64
		support bool
	}{{30, false}, {45, false}, {60, true}, {75, true}} {
		t.Run(strconv.FormatFloat(tc.angle, 'f', -1, 64), func(t *testing.T) {
			ts := testmesh.Ramp(tc.angle)
			r, s := sliceTris(t, ts, withSupport)
			types := byType(t, r)
			sup, iface := types["SUPPORT"], types["SUPPORT-INTERFACE"]
			if !tc.support {
				if sup != nil || iface != nil {
					t.Fatalf("support under a %g° ramp: %+v %+v", tc.angle, sup, iface)
				}
				return
			}
			if sup == nil || iface == nil || sup.mm3 < 10 {
				t.Fatalf("no support under a %g° ramp: %+v %+v", tc.angle, sup, iface)
			}
			// The base is 10 mm long: support stays clear of it by the XY
			// gap, and does not reach past the ramp's top.
			box := placedBox(t, ts)
			base := box.Min.X + 10
			for name, st := range map[string]*typeStats{"support": sup, "interface": iface} {
				if st.min.X < base+s.Support.XYGap-0.01 || st.max.X > box.Max.X+0.01 || st.min.Z > 0.2+1e-9 {
					t.Fatalf("%s spans x %.2f–%.2f from z %.2f; base ends at %.2f, part at %.2f", name, st.min.X, st.max.X, st.min.Z, base, box.Max.X)
				}
			}
			a := analyse(t, r.GCode)
			if math.Abs(a.TypeFilamentMM["SUPPORT"]*filArea(t)-sup.mm3) > 1e-6*sup.mm3 {
				t.Fatalf("analyser counts %.3f mm of support filament, the file has %.3f mm³", a.TypeFilamentMM["SUPPORT"], sup.mm3)
			}
			// Support is in the estimate: the file's filament, and more
			// time and filament than without.
			plain, _ := sliceTris(t, ts, nil)
			if math.Abs(r.Estimate.FilamentMM-a.ModelFilamentMM) > 0.01*a.ModelFilamentMM || r.Estimate.FilamentMM <= plain.Estimate.FilamentMM || r.Estimate.Seconds <= plain.Estimate.Seconds {
				t.Fatalf("estimate %+v (file %.1f mm), without support %+v", r.Estimate, a.ModelFilamentMM, plain.Estimate)
			}
		})
	}
}

func filArea(t testing.TB) float64 {
	d := ender3(t).FilamentMM
	return math.Pi * d * d / 4
}

// TestSupportTShape: both wings of the T are supported from the plate,
// clear of the pillar, with the interface under them and one layer of air.
func TestSupportTShape(t *testing.T) {
	ts := testmesh.TShape()
	r, s := sliceTris(t, ts, withSupport)
	box := placedBox(t, ts)
	pillar0, pillar1 := box.Min.X+10, box.Min.X+20
	left, right := 0, 0
	topSupport := 0.0
	walkGCode(t, r.GCode, func(mv move) {
		if mv.travel || (mv.typ != "SUPPORT" && mv.typ != "SUPPORT-INTERFACE") {
			return
		}
		for _, q := range []Vec3{mv.from, mv.to} {
			switch {
			case q.X <= pillar0-s.Support.XYGap+0.01:
				left++
			case q.X >= pillar1+s.Support.XYGap-0.01:
				right++
			default:
				t.Fatalf("support at x %.3f, within %.1f mm of the pillar (%.1f–%.1f)", q.X, s.Support.XYGap, pillar0, pillar1)
			}
		}
		topSupport = max(topSupport, mv.to.Z)
	})
	if left == 0 || right == 0 {
		t.Fatalf("support points left %d, right %d", left, right)
	}
	// The wings start at 10 mm: the support's last layer is 9.8, one
	// layer of air below them.
	if want := 10 - float64(s.Support.ZGapLayers)*s.LayerHeight; math.Abs(topSupport-want) > 1e-9 {
		t.Fatalf("support up to z %.3f, want %.3f", topSupport, want)
	}
	iface := byType(t, r)["SUPPORT-INTERFACE"]
	if iface == nil || math.Abs(iface.min.Z-(10-float64(s.Support.ZGapLayers+s.Support.InterfaceLayers-1)*s.LayerHeight)) > 1e-9 {
		t.Fatalf("interface %+v", iface)
	}
}

// TestBridge: the slab between two pillars is a bridge: its first layer
// is lines across the 20 mm span, at the bridge speed with the fan full,
// and it gets no support. Without bridge detection the same span would be
// supported.
func TestBridge(t *testing.T) {
	ts := testmesh.Bridge()
	r, s := sliceTris(t, ts, withSupport)
	types := byType(t, r)
	if types["SUPPORT"] != nil || types["SUPPORT-INTERFACE"] != nil {
		t.Fatalf("support under a bridge: %+v", types["SUPPORT"])
	}
	br := types["BRIDGE"]
	box := placedBox(t, ts)
	if br == nil || br.min.Z != 10.2 || br.max.Z != 10.2 || br.min.X > box.Min.X+5 || br.max.X < box.Max.X-5 {
		t.Fatalf("bridge lines %+v, want the layer at 10.2 mm across x %.1f–%.1f", br, box.Min.X+5, box.Max.X-5)
	}
	walkGCode(t, r.GCode, func(mv move) {
		if mv.typ == "BRIDGE" && !mv.travel && math.Abs(mv.to.Y-mv.from.Y) > 1e-3 {
			t.Fatalf("bridge line not across the span: %+v", mv)
		}
	})
	g := string(r.GCode)
	i := strings.Index(g, ";TYPE:BRIDGE")
	fan := strings.LastIndex(g[:i], "M106 S255")
	feed := fmt.Sprintf("F%d", int(s.Speeds.Bridge*60))
	if fan < 0 || strings.Contains(g[fan:i], ";TYPE:") || !strings.Contains(g[i:i+200], feed) {
		t.Fatalf("bridge without the fan full or at %s:\n%s", feed, g[max(0, i-200):i+200])
	}
	// The layer's own fan again before the next feature.
	rest := g[i+len(";TYPE:BRIDGE"):]
	next := strings.Index(rest, ";TYPE:")
	restore := fmt.Sprintf("\nM106 S%d\n", int(math.Round(float64(s.Material.FanPercent)*255/100)))
	if next < 0 || !strings.Contains(rest[:next], restore) {
		t.Fatalf("the layer's fan (%q) is not restored after the bridge", restore)
	}

	plain, _ := sliceTris(t, ts, func(s *Settings) { withSupport(s); s.NoBridges = true })
	if pt := byType(t, plain); pt["BRIDGE"] != nil || pt["SUPPORT"] == nil {
		t.Fatalf("without bridges: bridge %+v, support %+v", pt["BRIDGE"], pt["SUPPORT"])
	}
}

// shelf is a 20 mm long, 5 mm high step with a pillar at one end
// carrying a slab over the step's top at 15 mm.
func shelf() []stl.Triangle {
	ts := testmesh.Box(0, 0, 0, 20, 10, 5)
	ts = append(ts, testmesh.Box(0, 0, 5, 5, 10, 15)...)
	return append(ts, testmesh.Box(0, 0, 15, 20, 10, 18)...)
}

// TestSupportEverywhere: the slab over the step gets no support from the
// plate only (it would stand on the part), and with --support-everywhere
// support standing on the step, a layer of air above it.
func TestSupportEverywhere(t *testing.T) {
	r, _ := sliceTris(t, shelf(), withSupport)
	if sup := byType(t, r)["SUPPORT"]; sup != nil {
		t.Fatalf("plate-only support on the part: %+v", sup)
	}
	r, s := sliceTris(t, shelf(), func(s *Settings) { withSupport(s); s.Support.Everywhere = true })
	sup := byType(t, r)["SUPPORT"]
	if want := 5 + float64(s.Support.ZGapLayers+1)*s.LayerHeight; sup == nil || math.Abs(sup.min.Z-want) > 1e-9 || sup.max.Z > 15 {
		t.Fatalf("support everywhere %+v, want from z %.1f", sup, want)
	}
}

// TestSupportPatterns: grid support crosses both ways; density sets the
// amount.
func TestSupportPatterns(t *testing.T) {
	ts := testmesh.TShape()
	vol := map[string]float64{}
	for name, edit := range map[string]func(s *SupportSettings){
		"lines 15": func(s *SupportSettings) {},
		"lines 30": func(s *SupportSettings) { s.DensityPercent = 30 },
		"grid 15":  func(s *SupportSettings) { s.Pattern = PatternGrid },
	} {
		r, _ := sliceTris(t, ts, func(s *Settings) { withSupport(s); edit(&s.Support) })
		dirs := map[bool]int{}
		walkGCode(t, r.GCode, func(mv move) {
			if mv.typ == "SUPPORT" && !mv.travel {
				dirs[math.Abs(mv.to.X-mv.from.X) > math.Abs(mv.to.Y-mv.from.Y)]++
			}
		})
		if grid := name[:4] == "grid"; (dirs[false] > 0) != grid || dirs[true] == 0 {
			t.Fatalf("%s: %d lines along x, %d along y", name, dirs[true], dirs[false])
		}
		vol[name] = byType(t, r)["SUPPORT"].mm3
	}
	if r := vol["lines 30"] / vol["lines 15"]; r < 1.7 || r > 2.3 {
		t.Fatalf("support at 30%% is %.2f× the support at 15%%", r)
	}
	if r := vol["grid 15"] / vol["lines 15"]; r < 0.8 || r > 1.25 {
		t.Fatalf("grid support at 15%% is %.2f× lines", r)
	}
}

func TestBadSupportSettings(t *testing.T) {
	for name, edit := range map[string]func(s *SupportSettings){
		"angle 90":     func(s *SupportSettings) { s.AngleDeg = 90 },
		"angle -1":     func(s *SupportSettings) { s.AngleDeg = -1 },
		"pattern":      func(s *SupportSettings) { s.Pattern = "tree" },
		"density 0":    func(s *SupportSettings) { s.DensityPercent = 0 },
		"xy gap":       func(s *SupportSettings) { s.XYGap = -1 },
		"z gap layers": func(s *SupportSettings) { s.ZGapLayers = 11 },
	} {
		t.Run(name, func(t *testing.T) {
			m, _, _ := ParseSTL(testmesh.WriteSTL("t", testmesh.TShape()), DefaultLimits)
			mat, _ := profile.LookupMaterial("PLA")
			s := DefaultSettings(ender3(t), mat)
			withSupport(&s)
			edit(&s.Support)
			if _, err := Slice(context.Background(), m, s, nil); !errors.Is(err, ErrBadSettings) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// TestThinFeaturesPrint: walls thinner than two perimeters print on every
// layer with the material of the wall, within 10 %: the 1 mm wall's one
// loop widens to close the gap in its middle, the 0.6 mm rib's narrows so
// its two sides do not overlap, a 0.3 mm fin prints as one line.
func TestThinFeaturesPrint(t *testing.T) {
	for _, thick := range []float64{0.3, 0.6, 0.8, 1, 1.4} {
		t.Run(strconv.FormatFloat(thick, 'f', -1, 64), func(t *testing.T) {
			r, _ := sliceTris(t, testmesh.Wall(thick), nil)
			layers := map[int]bool{}
			var vol float64
			walkGCode(t, r.GCode, func(mv move) {
				if !mv.travel && mv.layer >= 0 && mv.typ != "SKIRT" {
					layers[mv.layer] = true
					vol += mv.de * filArea(t)
				}
			})
			solid := 30 * thick * 10
			if len(layers) != r.Layers || r.Layers != 50 || math.Abs(vol-solid) > 0.1*solid {
				t.Fatalf("%.1f mm wall: %d of %d layers print, %.1f mm³ of a %.1f mm³ wall", thick, len(layers), r.Layers, vol, solid)
			}
			t.Logf("%.1f mm wall: %.1f mm³ of %.1f", thick, vol, solid)
		})
	}
}

func mustPLA() profile.Material {
	m, _ := profile.LookupMaterial("PLA")
	return m
}

// TestGapFill: a 1 mm fin on a block: the block's second perimeter does
// not reach into the fin, and the gap it leaves in the fin's middle is
// filled, so the fin adds its own volume to the block's within 10 %.
func TestGapFill(t *testing.T) {
	vol := func(ts []stl.Triangle) (float64, *Result) {
		r, _ := sliceTris(t, ts, nil)
		var v float64
		walkGCode(t, r.GCode, func(mv move) {
			if !mv.travel && mv.layer >= 0 && mv.typ != "SKIRT" {
				v += mv.de * filArea(t)
			}
		})
		return v, r
	}
	block := testmesh.Box(0, 0, 0, 10, 10, 10)
	for _, fin := range []float64{1, 1.2} {
		finned := append(testmesh.Box(0, 0, 0, 10, 10, 10), testmesh.Box(10, 5-fin/2, 0, 20, 5+fin/2, 10)...)
		a, _ := vol(block)
		b, r := vol(finned)
		want := 10 * fin * 10
		if d := b - a; math.Abs(d-want) > 0.1*want {
			t.Fatalf("a %.1f mm fin adds %.1f mm³, it holds %.1f", fin, d, want)
		}
		if !strings.Contains(string(r.GCode), ";TYPE:WALL-INNER") {
			t.Fatal("no inner walls")
		}
		t.Logf("%.1f mm fin adds %.1f mm³ of %.1f", fin, b-a, want)
	}
}

// TestWideWallKeepsVolumetricLimit: the 1 mm wall's widened loop slows
// down so the plastic it pushes stays within the material's limit.
func TestWideWallKeepsVolumetricLimit(t *testing.T) {
	const limit = 2.5 // mm³/s: 31 mm/s for a plain line, over the outer wall's 30
	r, s := sliceTris(t, testmesh.Wall(1), func(s *Settings) { s.Material.MaxVolumetricMM3s = limit })
	var x, y, e, f float64
	worst, widest := 0.0, 0.0
	inModel := false // the start G-code's prime line is not the model's
	for _, ln := range strings.Split(string(r.GCode), "\n") {
		inModel = inModel || strings.HasPrefix(ln, ";LAYER:0")
		if i := strings.IndexByte(ln, ';'); i >= 0 {
			ln = ln[:i]
		}
		fs := strings.Fields(ln)
		if len(fs) == 0 {
			continue
		}
		w := map[byte]float64{}
		for _, a := range fs[1:] {
			if v, err := strconv.ParseFloat(a[1:], 64); err == nil {
				w[a[0]] = v
			}
		}
		switch fs[0] {
		case "G92":
			if v, ok := w['E']; ok {
				e = v
			}
		case "G0", "G1":
			nx, ny, ne := x, y, e
			if v, ok := w['X']; ok {
				nx = v
			}
			if v, ok := w['Y']; ok {
				ny = v
			}
			if v, ok := w['E']; ok {
				ne = v
			}
			if v, ok := w['F']; ok {
				f = v
			}
			if l := math.Hypot(nx-x, ny-y); inModel && l > 0 && ne > e {
				perMM := (ne - e) * filArea(t) / l // mm³ a mm of path
				widest = max(widest, perMM)
				worst = max(worst, perMM*f/60)
			}
			x, y, e = nx, ny, ne
		}
	}
	// The loop is 1.25 lines wide; at the outer wall's 30 mm/s it would
	// push 3 mm³/s.
	if widest < 1.2*s.LineWidth*s.LayerHeight || worst > 1.02*limit {
		t.Fatalf("widest line %.3f mm³/mm, the most plastic pushed %.2f mm³/s (limit %.1f)", widest, worst, limit)
	}
}

// TestShelfIsNotABridge: a slab resting on two posts at its back edge
// touches the layer below in two places, but its lines from one post to
// the other would not hold its front: it is an overhang and gets support.
func TestShelfIsNotABridge(t *testing.T) {
	ts := testmesh.Box(0, 8, 0, 5, 10, 10)
	ts = append(ts, testmesh.Box(25, 8, 0, 30, 10, 10)...)
	ts = append(ts, testmesh.Box(0, 0, 10, 30, 10, 13)...)
	r, _ := sliceTris(t, ts, withSupport)
	types := byType(t, r)
	if types["BRIDGE"] != nil || types["SUPPORT"] == nil {
		t.Fatalf("shelf on two posts: bridge %+v, support %+v", types["BRIDGE"], types["SUPPORT"])
	}
}

// TestInfillGapFill: in a neck inside a thick part (the rungs of
// testmesh.Necks), the innermost walls' two sides leave a strip of sparse
// infill narrower than two lines, which the infill's lines, millimetres
// apart, hardly cross. It is filled with a line down its middle: on the
// sparse layers the rungs up to 2.3 mm wide print within 10 % of their
// volume, while the widest, with room for infill, stays sparse.
func TestInfillGapFill(t *testing.T) {
	ts := testmesh.Necks()
	r, s := sliceTris(t, ts, nil)
	box := placedBox(t, ts)
	h := s.LayerHeight
	// The sparse layers: above the bottom layers, below the top ones.
	first, last := s.BottomLayers, r.Layers-s.TopLayers-1
	vol := make([]float64, len(testmesh.NeckWidths))
	x := 4.0
	var x0 []float64
	for _, w := range testmesh.NeckWidths {
		x0 = append(x0, box.Min.X+x)
		x += w + 8
	}
	walkGCode(t, r.GCode, func(mv move) {
		if mv.travel || mv.layer < first || mv.layer > last {
			return
		}
		for i, w := range testmesh.NeckWidths {
			// The rung's middle 8 mm, away from the rails.
			f := clipFraction(mv.from, mv.to, x0[i]-0.01, box.Min.Y+7, x0[i]+w+0.01, box.Min.Y+15)
			vol[i] += f * mv.de * filArea(t)
		}
	})
	n := float64(last - first + 1)
	for i, w := range testmesh.NeckWidths {
		got := vol[i] / (w * 8 * h * n)
		t.Logf("%.1f mm rung: %.2f of its volume on the sparse layers", w, got)
		switch {
		case w <= 2.3 && (got < 0.9 || got > 1.15):
			t.Errorf("%.1f mm rung prints %.2f of its volume on the sparse layers; want 0.9 to 1.15", w, got)
		case w > 2.3 && got > 0.9:
			t.Errorf("%.1f mm rung prints %.2f of its volume: it has room for sparse infill", w, got)
		}
	}
}

// clipFraction is the fraction of segment a–b inside the rectangle
// (x0, y0)–(x1, y1) in XY (Liang–Barsky).
func clipFraction(a, b Vec3, x0, y0, x1, y1 float64) float64 {
	lo, hi := 0.0, 1.0
	dx, dy := b.X-a.X, b.Y-a.Y
	for _, c := range [4][2]float64{{-dx, a.X - x0}, {dx, x1 - a.X}, {-dy, a.Y - y0}, {dy, y1 - a.Y}} {
		p, q := c[0], c[1]
		switch {
		case p == 0 && q < 0:
			return 0
		case p < 0:
			lo = max(lo, q/p)
		case p > 0:
			hi = min(hi, q/p)
		}
	}
	return max(0, hi-lo)
}

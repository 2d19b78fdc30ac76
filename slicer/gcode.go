package slicer

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/fabgrid/fabgrid/motion"
	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer/poly"
)

// gcodeParams are the per-job numbers the writer needs.
type gcodeParams struct {
	s          *Settings
	relE       bool
	filArea    float64 // filament cross-section, mm²
	retract    float64 // mm
	retractF   float64 // mm/min
	travelF    float64 // mm/min
	zF         float64 // mm/min
	retractMin float64 // µm
	limits     motion.Limits
}

func newGcodeParams(s *Settings) *gcodeParams {
	r := s.Material.RetractMM
	rs := s.Material.RetractSpeedMMs
	if rs <= 0 {
		rs = 30
	}
	rs = min(rs, s.Printer.MaxFeedrate.E)
	d := s.Printer.FilamentMM
	return &gcodeParams{
		s: s, relE: s.Printer.RelativeE,
		filArea: math.Pi * d * d / 4,
		retract: r, retractF: rs * 60,
		travelF:    min(s.Speeds.Travel, s.Printer.MaxFeedrate.X, s.Printer.MaxFeedrate.Y) * 60,
		zF:         min(10, s.Printer.MaxFeedrate.Z) * 60,
		retractMin: s.RetractMinTravel * 1000,
		limits:     motion.LimitsFor(s.Printer),
	}
}

// chunk is the G-code of one layer: the body starts at first (the travel
// there and the Z move are written when the layers are joined, because they
// depend on where the previous layer ended).
type chunk struct {
	empty       bool
	z           float64
	first, last poly.Point
	body        string  // exactly as long as the layer's G-code
	seconds     float64 // motion time of the body
	filament    float64 // mm of filament extruded
	err         error
}

// writer emits the body of one layer.
type writer struct {
	g         *gcodeParams
	b         []byte
	z         float64
	pos       poly.Point
	started   bool
	first     poly.Point
	e         float64 // absolute E since the layer's G92 E0
	retracted bool
	hopped    bool
	feed      float64
	filament  float64
	region    poly.Paths // island the nozzle is over, for retraction
}

func (w *writer) line(s string) { w.b = append(w.b, s...); w.b = append(w.b, '\n') }

func appendNum(b []byte, v float64, prec int) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, v, 'f', prec, 64)
	if bytes.IndexByte(b[start:], '.') >= 0 {
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
		if b[len(b)-1] == '.' {
			b = b[:len(b)-1]
		}
	}
	if string(b[start:]) == "-0" {
		b = append(b[:start], '0')
	}
	return b
}

func (w *writer) setFeed(f float64) {
	if f != w.feed {
		w.b = append(w.b, " F"...)
		w.b = appendNum(w.b, f, 0)
		w.feed = f
	}
}

func (w *writer) eWord(de float64) {
	w.b = append(w.b, " E"...)
	if w.g.relE {
		w.b = appendNum(w.b, de, 5)
	} else {
		w.e += de
		w.b = appendNum(w.b, w.e, 5)
	}
}

func (w *writer) doRetract() {
	if w.retracted || w.g.retract <= 0 {
		w.retracted = true
		return
	}
	w.b = append(w.b, "G1"...)
	w.setFeed(w.g.retractF)
	w.eWord(-w.g.retract)
	w.b = append(w.b, '\n')
	w.retracted = true
	if h := w.g.s.ZHop; h > 0 {
		w.b = append(w.b, "G1"...)
		w.setFeed(w.g.zF)
		w.b = append(w.b, " Z"...)
		w.b = appendNum(w.b, w.z+h, 3)
		w.b = append(w.b, '\n')
		w.hopped = true
	}
}

func (w *writer) unretract() {
	if w.hopped {
		w.b = append(w.b, "G1"...)
		w.setFeed(w.g.zF)
		w.b = append(w.b, " Z"...)
		w.b = appendNum(w.b, w.z, 3)
		w.b = append(w.b, '\n')
		w.hopped = false
	}
	if !w.retracted {
		return
	}
	if w.g.retract > 0 {
		w.b = append(w.b, "G1"...)
		w.setFeed(w.g.retractF)
		w.eWord(w.g.retract)
		w.b = append(w.b, '\n')
	}
	w.retracted = false
}

// travel moves without extruding, retracting first when the move leaves
// the island or crosses one of its perimeters.
func (w *writer) travel(to poly.Point, next poly.Paths) {
	if !w.started {
		w.started, w.first, w.pos, w.region = true, to, to, next
		return
	}
	if to == w.pos {
		w.region = next
		return
	}
	d := poly.Dist(w.pos, to)
	if d > w.g.retractMin {
		if !sameRegion(w.region, next) || poly.Crosses(next, w.pos, to) {
			w.doRetract()
		}
	}
	w.b = append(w.b, "G0"...)
	w.setFeed(w.g.travelF)
	w.xy(to)
	w.b = append(w.b, '\n')
	w.pos, w.region = to, next
}

func sameRegion(a, b poly.Paths) bool {
	return len(a) > 0 && len(b) > 0 && &a[0] == &b[0]
}

func (w *writer) xy(p poly.Point) {
	w.b = append(w.b, " X"...)
	w.b = appendNum(w.b, float64(p.X)/1000, 3)
	w.b = append(w.b, " Y"...)
	w.b = appendNum(w.b, float64(p.Y)/1000, 3)
}

// extrude draws the polyline pts (starting at the current position) with
// the given line width and height, at speed mm/s.
func (w *writer) extrude(pts []poly.Point, width, height, speed float64) {
	w.unretract()
	perMM := width * height / w.g.filArea // plain-rectangle flow
	f := speed * 60
	for _, p := range pts {
		if p == w.pos {
			continue
		}
		l := poly.Dist(w.pos, p) / 1000
		w.b = append(w.b, "G1"...)
		w.setFeed(f)
		w.xy(p)
		w.eWord(l * perMM)
		w.b = append(w.b, '\n')
		w.filament += l * perMM
		w.pos = p
	}
}

// writeLayer orders the layer's toolpaths and writes its body: skirt, then
// island by island (nearest next) the walls inner first and outer last,
// then skin and infill lines in nearest-neighbour order. The body is
// written in scratch, returned for the next layer, and copied out at its
// exact size; that one copy is also what the motion model replays.
func writeLayer(g *gcodeParams, lp layerPaths, scratch []byte) (chunk, []byte) {
	if len(lp.islands) == 0 && len(lp.skirt) == 0 && len(lp.supportLines) == 0 && len(lp.ifaceLines) == 0 {
		return chunk{empty: true}, scratch
	}
	s := g.s
	if scratch == nil {
		scratch = make([]byte, 0, 16<<10)
	}
	w := &writer{g: g, z: lp.z, retracted: true, b: scratch[:0]}
	h, wd := lp.height, lp.wd
	speed := func(f feature) float64 {
		v := s.Speeds.FirstLayer
		if lp.index > 0 {
			switch f {
			case featOuter:
				v = s.Speeds.OuterPerimeter
			case featInner:
				v = s.Speeds.Perimeter
			case featSkin:
				v = s.Speeds.Skin
			case featFill:
				v = s.Speeds.Infill
			case featSupport, featSupportInterface:
				v = s.Speeds.Support
			case featBridge:
				v = s.Speeds.Bridge
			}
		}
		if mv := s.Material.MaxVolumetricMM3s; mv > 0 {
			v = min(v, mv/(wd*h))
		}
		return v
	}
	typ := feature(-1)
	setType := func(f feature) {
		if f != typ {
			w.line(";TYPE:" + featName[f])
			typ = f
		}
	}
	pos := poly.Point{}
	loop := func(p poly.Path, region poly.Paths, f feature, flow float64) {
		var k int
		if f == featSkirt {
			k = nearestVertex(p, pos)
		} else {
			p, k = seamVertex(p, s.Seam, pos)
		}
		w.travel(p[k], region)
		setType(f)
		pts := make([]poly.Point, 0, len(p))
		pts = append(pts, p[k+1:]...)
		pts = append(pts, p[:k+1]...)
		v := speed(f)
		if mv := s.Material.MaxVolumetricMM3s; mv > 0 && flow > 1 {
			v = min(v, mv/(wd*flow*h)) // a widened wall pushes more plastic
		}
		w.extrude(pts, wd*flow, h, v)
		pos = w.pos
	}
	for _, p := range lp.skirt {
		loop(p, nil, featSkirt, 1)
	}
	// Support first, so the part's layer ends where the next one starts.
	if len(lp.supportLines)+len(lp.ifaceLines) > 0 {
		lines := make([]tline, 0, len(lp.supportLines)+len(lp.ifaceLines))
		for _, l := range lp.supportLines {
			lines = append(lines, tline{l, featSupport})
		}
		for _, l := range lp.ifaceLines {
			lines = append(lines, tline{l, featSupportInterface})
		}
		for _, l := range orderLines(lines, pos) {
			w.travel(l.A, lp.support)
			setType(l.f)
			w.extrude([]poly.Point{l.B}, wd, h, speed(l.f))
			pos = w.pos
		}
	}
	left := make([]bool, len(lp.islands))
	for range lp.islands {
		// The nearest island not yet printed.
		best, bd := -1, math.Inf(1)
		for i, isl := range lp.islands {
			if left[i] {
				continue
			}
			if d := poly.Dist(isl.region[0][nearestVertex(isl.region[0], pos)], pos); d < bd {
				best, bd = i, d
			}
		}
		left[best] = true
		isl := &lp.islands[best]
		for j, p := range isl.gaps {
			loop(p, isl.region, featInner, isl.gapFlow[j])
		}
		for k := len(isl.walls) - 1; k >= 0; k-- {
			f := featInner
			if k == 0 {
				f = featOuter
			}
			loops := isl.walls[k]
			done := make([]bool, len(loops))
			for range loops {
				bi, bd := -1, math.Inf(1)
				for i, p := range loops {
					if !done[i] {
						if d := poly.Dist(p[nearestVertex(p, pos)], pos); d < bd {
							bi, bd = i, d
						}
					}
				}
				done[bi] = true
				flow := 1.0
				if isl.flow != nil {
					flow = isl.flow[k][bi]
				}
				loop(loops[bi], isl.region, f, flow)
			}
		}
		if len(isl.bridge) > 0 {
			// Bridges with the fan full, then back to the layer's fan.
			w.line("M106 S255")
			for _, l := range orderLines(tlines(isl.bridge, featBridge), pos) {
				w.travel(l.A, isl.region)
				setType(l.f)
				w.extrude([]poly.Point{l.B}, wd, h, speed(l.f))
				pos = w.pos
			}
			w.line(g.layerFan(lp.index))
		}
		lines := make([]tline, 0, len(isl.skin)+len(isl.fill))
		for _, l := range isl.skin {
			lines = append(lines, tline{l, featSkin})
		}
		for _, l := range isl.fill {
			lines = append(lines, tline{l, featFill})
		}
		for _, l := range orderLines(lines, pos) {
			w.travel(l.A, isl.region)
			setType(l.f)
			w.extrude([]poly.Point{l.B}, wd, h, speed(l.f))
			pos = w.pos
		}
	}
	w.doRetract()
	c := chunk{z: lp.z, first: w.first, last: w.pos, body: string(w.b), filament: w.filament}
	m := motion.NewMachine(g.limits)
	mode := "M82"
	if g.relE {
		mode = "M83"
	}
	_, _ = m.Exec(mode)
	_, _ = m.Exec(fmt.Sprintf("G92 X%.3f Y%.3f Z%.3f E0", float64(c.first.X)/1000, float64(c.first.Y)/1000, c.z))
	c.seconds, c.err = replay(m, c.body)
	return c, w.b
}

type tline struct {
	poly.Line
	f feature
}

func tlines(ls []poly.Line, f feature) []tline {
	out := make([]tline, len(ls))
	for i, l := range ls {
		out[i] = tline{l, f}
	}
	return out
}

// layerFan is the fan command in force on layer i: off on the first
// layer, the material's fan after.
func (g *gcodeParams) layerFan(i int) string {
	fp := g.s.Material.FanPercent
	if i == 0 || fp <= 0 {
		return "M107"
	}
	return fmt.Sprintf("M106 S%d", int(math.Round(float64(fp)*255/100)))
}

// orderLines orders lines greedily: the nearest end of the nearest line
// next, flipping lines to start at that end.
func orderLines(ls []tline, pos poly.Point) []tline {
	out := make([]tline, 0, len(ls))
	done := make([]bool, len(ls))
	for range ls {
		bi, bd, flip := -1, int64(math.MaxInt64), false
		for i, l := range ls {
			if done[i] {
				continue
			}
			if d := sqDist(l.A, pos); d < bd {
				bi, bd, flip = i, d, false
			}
			if d := sqDist(l.B, pos); d < bd {
				bi, bd, flip = i, d, true
			}
		}
		done[bi] = true
		l := ls[bi]
		if flip {
			l.A, l.B = l.B, l.A
		}
		out = append(out, l)
		pos = l.B
	}
	return out
}

func sqDist(a, b poly.Point) int64 {
	dx, dy := a.X-b.X, a.Y-b.Y
	return dx*dx + dy*dy
}

func nearestVertex(p poly.Path, q poly.Point) int {
	best, bd := 0, int64(math.MaxInt64)
	for i, v := range p {
		if d := sqDist(v, q); d < bd {
			best, bd = i, d
		}
	}
	return best
}

// replay runs G-code text through the motion model and returns its time.
// It takes a string so that the lines handed to Exec are slices of one copy
// of the layer, not one allocation per line.
func replay(m *motion.Machine, text string) (float64, error) {
	var secs float64
	for len(text) > 0 {
		var ln string
		if i := strings.IndexByte(text, '\n'); i < 0 {
			ln, text = text, ""
		} else {
			ln, text = text[:i], text[i+1:]
		}
		if j := strings.IndexByte(ln, ';'); j >= 0 {
			ln = ln[:j]
		}
		ln = strings.TrimSpace(ln)
		if len(ln) == 0 {
			continue
		}
		t, err := m.Exec(ln)
		if err != nil {
			return secs, err
		}
		secs += t
	}
	return secs, nil
}

// assemble joins the layers and writes them to out: header, start
// G-code, each layer with its Z move and first travel, end G-code; and
// totals the estimate. Every layer is checked and timed before the first
// write, so a failed job writes nothing.
func assemble(g *gcodeParams, chunks []chunk, out io.Writer) (Estimate, int, error) {
	s := g.s
	start, err := profile.FillGCode(s.Printer.StartGCode, s.Printer, s.Material, true)
	if err != nil {
		return Estimate{}, 0, err
	}
	end, err := profile.FillGCode(s.Printer.EndGCode, s.Printer, s.Material, false)
	if err != nil {
		return Estimate{}, 0, err
	}
	m := motion.NewMachine(g.limits)
	secs, err := replay(m, start)
	if err != nil {
		return Estimate{}, 0, fmt.Errorf("slicer: start G-code: %w", err)
	}
	// First the small per-layer prefixes (layer comment, fan, Z move,
	// travel to the layer's start), so the header with the totals can be
	// written before the bodies are copied once into the output.
	prefixes := make([]string, len(chunks))
	var fil float64
	layers := 0
	w := &writer{g: g}
	for i, c := range chunks {
		if c.empty {
			continue
		}
		if c.err != nil {
			return Estimate{}, 0, fmt.Errorf("slicer: layer %d: %w", layers, c.err)
		}
		w.b = w.b[:0]
		if layers == 0 { // enter the first layer retracted
			w.retracted = false
			w.e = 0
			w.doRetract()
		}
		w.line(fmt.Sprintf(";LAYER:%d", layers))
		w.line(fmt.Sprintf(";Z:%.3f", c.z))
		if !g.relE {
			w.line("G92 E0")
		}
		switch layers {
		case 0:
			w.line("M107")
		case 1:
			if s.Material.FanPercent > 0 {
				w.line(g.layerFan(1))
			}
			if s.Material.HotendC != s.Material.FirstLayerHotendC {
				w.line(fmt.Sprintf("M104 S%s", strconv.FormatFloat(s.Material.HotendC, 'f', -1, 64)))
			}
			if s.Material.BedC != s.Material.FirstLayerBedC && s.Material.BedC > 0 {
				w.line(fmt.Sprintf("M140 S%s", strconv.FormatFloat(s.Material.BedC, 'f', -1, 64)))
			}
		}
		w.feed = 0
		w.b = append(w.b, "G0"...)
		w.setFeed(g.zF)
		w.b = append(w.b, " Z"...)
		w.b = appendNum(w.b, c.z, 3)
		w.b = append(w.b, "\nG0"...)
		w.setFeed(g.travelF)
		w.xy(c.first)
		w.b = append(w.b, '\n')
		prefixes[i] = string(w.b)
		t, err := replay(m, prefixes[i])
		if err != nil {
			return Estimate{}, 0, err
		}
		secs += t + c.seconds
		fil += c.filament
		// The body ends at c.last, retracted; tell the model so.
		_, _ = m.Exec(fmt.Sprintf("G92 X%.3f Y%.3f Z%.3f", float64(c.last.X)/1000, float64(c.last.Y)/1000, c.z))
		w.retracted = true
		layers++
	}
	t, err := replay(m, end)
	if err != nil {
		return Estimate{}, 0, fmt.Errorf("slicer: end G-code: %w", err)
	}
	secs += t

	est := Estimate{Seconds: secs, FilamentMM: fil, FilamentMM3: fil * g.filArea}
	est.Grams = est.FilamentMM3 / 1000 * s.Material.DensityGCm3
	est.Cost = est.Grams / 1000 * s.Material.PricePerKg

	var head bytes.Buffer
	fmt.Fprintf(&head, ";FLAVOR:Marlin\n;Generated with fabgrid slicer\n")
	fmt.Fprintf(&head, ";TIME:%d\n;Filament used: %.4fm\n;Layer height: %g\n;LAYER_COUNT:%d\n", int(math.Round(secs)), fil/1000, s.LayerHeight, layers)
	fmt.Fprintf(&head, ";PRINTER:%s\n;MATERIAL:%s\n", s.Printer.ID, s.Material.ID)
	fmt.Fprintf(&head, ";ESTIMATE: seconds=%.1f filament_mm=%.1f filament_mm3=%.1f grams=%.2f cost=%.2f\n",
		est.Seconds, est.FilamentMM, est.FilamentMM3, est.Grams, est.Cost)
	head.WriteString(start)
	head.WriteString("\n")
	if b, ok := out.(*bytes.Buffer); ok { // Slice: one allocation of the exact size
		size := head.Len() + len(end) + 1
		for i, c := range chunks {
			size += len(prefixes[i]) + len(c.body)
		}
		b.Grow(size)
	}
	ow := &errWriter{w: out}
	ow.write(head.Bytes())
	for i := range chunks {
		ow.writeString(prefixes[i])
		ow.writeString(chunks[i].body)
		chunks[i].body = "" // let the collector have it
	}
	ow.writeString(end)
	ow.writeString("\n")
	if ow.err != nil {
		return Estimate{}, 0, fmt.Errorf("slicer: write G-code: %w", ow.err)
	}
	return est, layers, nil
}

// errWriter keeps the first write error and skips the writes after it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) write(p []byte) {
	if e.err == nil && len(p) > 0 {
		_, e.err = e.w.Write(p)
	}
}

func (e *errWriter) writeString(s string) {
	if e.err == nil && len(s) > 0 {
		_, e.err = io.WriteString(e.w, s)
	}
}

package slicer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer/poly"
)

// Speeds are per-feature print speeds in mm/s.
type Speeds struct {
	OuterPerimeter float64 `json:"outer_perimeter"`
	Perimeter      float64 `json:"perimeter"`
	Infill         float64 `json:"infill"`
	Skin           float64 `json:"skin"`
	FirstLayer     float64 `json:"first_layer"`
	Travel         float64 `json:"travel"`
	// Support and Bridge: 0 means the infill speed and DefaultBridgeSpeed.
	Support float64 `json:"support,omitempty"`
	Bridge  float64 `json:"bridge,omitempty"`
}

// Settings configure one slicing run. Lengths are in millimetres.
type Settings struct {
	Printer  profile.Printer
	Material profile.Material

	LayerHeight      float64
	FirstLayerHeight float64
	LineWidth        float64 // 0: the nozzle diameter
	FirstLayerWidth  float64 // 0: LineWidth
	InfillPercent    int     // sparse infill density, 0–100
	InfillPattern    string  // PatternLines (default) or PatternGrid
	Perimeters       int
	TopLayers        int
	BottomLayers     int
	SkirtLoops       int
	SkirtDistance    float64
	Speeds           Speeds
	ZHop             float64 // lift on retraction, 0 for none
	RetractMinTravel float64 // shorter travels never retract
	CloseGap         float64 // largest mesh gap closed when chaining a layer
	Resolution       float64 // largest deviation when simplifying outlines
	// Copies on one bed (0 or 1: one), laid out by Arrange CopySpacing
	// apart (0: DefaultCopySpacing), turned 90° when CopyTurn allows and
	// that fits more tightly.
	Copies      int
	CopySpacing float64
	CopyTurn    bool
	// Seam is where each wall loop starts: SeamNearest, SeamRear or
	// SeamSharpest; "" is the printer profile's seam, else SeamNearest.
	Seam    string
	Support SupportSettings
	// NoBridges prints every unsupported span as bottom skin instead of
	// detecting bridges (lines across the span, at Speeds.Bridge, fan
	// full).
	NoBridges bool
	// Workers bounds the layers processed at once; 0 means GOMAXPROCS.
	Workers int
}

// Sparse infill patterns.
const (
	// PatternLines is rectilinear: parallel lines, the direction turning
	// 90° every layer.
	PatternLines = "lines"
	// PatternGrid crosses both directions on every layer.
	PatternGrid = "grid"
)

// Defaults used by DefaultSettings and for zero fields.
const (
	DefaultLayerHeight   = 0.2
	DefaultInfillPercent = 20
	DefaultPerimeters    = 2
	DefaultSolidLayers   = 4
	DefaultSkirtDistance = 3.0
	DefaultCloseGap      = 1.0
	DefaultResolution    = 0.025
	DefaultRetractMin    = 1.0
	DefaultBridgeSpeed   = 25.0 // mm/s
)

// DefaultSettings returns the settings fabgrid slices with unless told
// otherwise: 0.2 mm layers, 2 perimeters, 4 top and bottom layers, 20 %
// rectilinear infill, one skirt loop 3 mm out, the seam the printer
// profile names (nearest when it names none).
func DefaultSettings(p profile.Printer, m profile.Material) Settings {
	seam := p.Seam
	if seam == "" {
		seam = SeamNearest
	}
	return Settings{
		Printer: p, Material: m,
		LayerHeight: DefaultLayerHeight, FirstLayerHeight: DefaultLayerHeight,
		LineWidth: p.NozzleMM, FirstLayerWidth: p.NozzleMM,
		InfillPercent: DefaultInfillPercent, InfillPattern: PatternLines, Perimeters: DefaultPerimeters,
		TopLayers: DefaultSolidLayers, BottomLayers: DefaultSolidLayers,
		SkirtLoops: 1, SkirtDistance: DefaultSkirtDistance,
		Speeds:           Speeds{OuterPerimeter: 30, Perimeter: 45, Infill: 60, Skin: 40, FirstLayer: 20, Travel: 150},
		RetractMinTravel: DefaultRetractMin, CloseGap: DefaultCloseGap, Resolution: DefaultResolution,
		Seam: seam,
	}
}

func (s *Settings) normalise() error {
	if s.Printer.ID == "" || s.Material.ID == "" {
		return fmt.Errorf("%w: printer and material profiles are required", ErrBadSettings)
	}
	def := DefaultSettings(s.Printer, s.Material)
	if s.LayerHeight == 0 {
		s.LayerHeight = def.LayerHeight
	}
	if s.FirstLayerHeight == 0 {
		s.FirstLayerHeight = s.LayerHeight
	}
	if s.LineWidth == 0 {
		s.LineWidth = s.Printer.NozzleMM
	}
	if s.FirstLayerWidth == 0 {
		s.FirstLayerWidth = s.LineWidth
	}
	if s.InfillPattern == "" {
		s.InfillPattern = PatternLines
	}
	if s.CopySpacing == 0 {
		s.CopySpacing = DefaultCopySpacing
	}
	if s.Seam == "" {
		s.Seam = def.Seam
	}
	if s.Speeds == (Speeds{}) {
		s.Speeds = def.Speeds
	}
	if s.CloseGap == 0 {
		s.CloseGap = def.CloseGap
	}
	if s.Resolution == 0 {
		s.Resolution = def.Resolution
	}
	if s.Speeds.Support == 0 {
		s.Speeds.Support = s.Speeds.Infill
	}
	if s.Speeds.Bridge == 0 {
		s.Speeds.Bridge = DefaultBridgeSpeed
	}
	if err := s.Support.normalise(); err != nil {
		return err
	}
	noz := s.Printer.NozzleMM
	switch {
	case s.LayerHeight < 0.01 || s.LayerHeight > noz, s.FirstLayerHeight < 0.01 || s.FirstLayerHeight > noz:
		return fmt.Errorf("%w: layer height %.3g mm (first %.3g mm) must be between 0.01 mm and the nozzle's %.2g mm", ErrBadSettings, s.LayerHeight, s.FirstLayerHeight, noz)
	case s.LineWidth < noz*0.5 || s.LineWidth > noz*2 || s.FirstLayerWidth < noz*0.5 || s.FirstLayerWidth > noz*2:
		return fmt.Errorf("%w: line width %.3g mm must be within half and twice the nozzle diameter", ErrBadSettings, s.LineWidth)
	case s.InfillPercent < 0 || s.InfillPercent > 100:
		return fmt.Errorf("%w: infill %d%% must be 0–100", ErrBadSettings, s.InfillPercent)
	case s.Copies < 0 || s.Copies > maxCopies || s.CopySpacing < 0 || s.CopySpacing > 100:
		return fmt.Errorf("%w: %d copies %.3g mm apart (want 1–%d copies, 0–100 mm)", ErrBadSettings, s.Copies, s.CopySpacing, maxCopies)
	case s.Seam != SeamNearest && s.Seam != SeamRear && s.Seam != SeamSharpest:
		return fmt.Errorf("%w: seam %q (want %q, %q or %q)", ErrBadSettings, s.Seam, SeamNearest, SeamRear, SeamSharpest)
	case s.InfillPattern != PatternLines && s.InfillPattern != PatternGrid:
		return fmt.Errorf("%w: infill pattern %q (want %q or %q)", ErrBadSettings, s.InfillPattern, PatternLines, PatternGrid)
	case s.Perimeters < 0 || s.Perimeters > 50 || s.TopLayers < 0 || s.BottomLayers < 0 || s.TopLayers > 100 || s.BottomLayers > 100:
		return fmt.Errorf("%w: perimeters, top and bottom layers must be 0–50/100", ErrBadSettings)
	case s.Speeds.OuterPerimeter <= 0 || s.Speeds.Perimeter <= 0 || s.Speeds.Infill <= 0 || s.Speeds.Skin <= 0 || s.Speeds.FirstLayer <= 0 || s.Speeds.Travel <= 0 || s.Speeds.Support < 0 || s.Speeds.Bridge < 0:
		return fmt.Errorf("%w: speeds must be positive", ErrBadSettings)
	case s.SkirtLoops < 0 || s.SkirtDistance < 0 || s.ZHop < 0 || s.RetractMinTravel < 0 || s.CloseGap < 0 || s.Resolution < 0:
		return fmt.Errorf("%w: negative skirt, z-hop, retraction or tolerance setting", ErrBadSettings)
	}
	if s.Workers <= 0 {
		s.Workers = runtime.GOMAXPROCS(0)
	}
	return nil
}

// Estimate is what a sliced job will take.
type Estimate struct {
	Seconds     float64 `json:"seconds"`
	FilamentMM  float64 `json:"filament_mm"`
	FilamentMM3 float64 `json:"filament_mm3"`
	Grams       float64 `json:"grams"`
	Cost        float64 `json:"cost"`
}

// SliceReport counts the repairs made while slicing.
type SliceReport struct {
	ClosedGaps       int `json:"closed_gaps"`
	DroppedFragments int `json:"dropped_fragments"`
	EmptyLayers      int `json:"empty_layers"`
}

// Result is a sliced job.
type Result struct {
	GCode    []byte      `json:"-"`
	Layers   int         `json:"layers"`
	Estimate Estimate    `json:"estimate"`
	Mesh     MeshReport  `json:"mesh"`
	Slicing  SliceReport `json:"slicing"`
	// Placed is the model's box on the bed after centring, in mm (of all
	// the copies together).
	Placed Box `json:"placed_mm"`
	// Copies on the bed, and each one's box when more than one.
	Copies    int   `json:"copies,omitempty"`
	CopyBoxes []Box `json:"copy_boxes_mm,omitempty"`
}

// Slice turns a mesh into G-code for s.Printer and s.Material. progress,
// when not nil, is called serially with the number of finished steps out of
// total (every layer is sliced, then planned). ctx only cancels.
func Slice(ctx context.Context, m *Mesh, s Settings, progress func(done, total int)) (*Result, error) {
	var out bytes.Buffer // assemble grows it to the exact size first
	r, err := slice(ctx, &out, m, s, progress)
	if err != nil {
		return nil, err
	}
	r.GCode = out.Bytes()
	return r, nil
}

// SliceTo is Slice writing the G-code to w instead of keeping it in
// Result.GCode, which stays nil: each layer is copied once, from where it
// was written to w, and the whole file is never held in memory. Nothing is
// written before every layer has been sliced, planned and timed, so a model
// that cannot be sliced leaves w untouched; once writing has started, the
// only errors are w's, wrapped.
func SliceTo(ctx context.Context, w io.Writer, m *Mesh, s Settings, progress func(done, total int)) (*Result, error) {
	return slice(ctx, w, m, s, progress)
}

func slice(ctx context.Context, w io.Writer, m *Mesh, s Settings, progress func(done, total int)) (*Result, error) {
	if err := s.normalise(); err != nil {
		return nil, err
	}
	if m == nil || len(m.Tris) == 0 {
		return nil, ErrEmptyMesh
	}
	bv := s.Printer.BuildVolume
	src, copies := m, []Box(nil)
	if s.Copies > 1 {
		var err error
		if src, copies, err = Arrange(m, s.Copies, bv.X, bv.Y, s.CopySpacing, s.CopyTurn); err != nil {
			return nil, err
		}
	}
	pm, err := Placed(src, bv.X, bv.Y, bv.Z)
	if err != nil {
		return nil, err
	}
	box := Bounds(pm)
	if copies != nil {
		from := Bounds(src).Min
		d := Vec3{box.Min.X - from.X, box.Min.Y - from.Y, box.Min.Z - from.Z}
		for i, c := range copies {
			copies[i] = Box{Vec3{c.Min.X + d.X, c.Min.Y + d.Y, c.Min.Z + d.Z}, Vec3{c.Max.X + d.X, c.Max.Y + d.Y, c.Max.Z + d.Z}}
		}
	}
	plan := planLayers(box.Max.Z, s.FirstLayerHeight, s.LayerHeight)
	n := len(plan.top)
	idx := buildTriIndex(pm, plan.plane)

	var pmu sync.Mutex
	done := 0
	step := func() {
		if progress == nil {
			return
		}
		pmu.Lock()
		done++
		progress(done, 2*n)
		pmu.Unlock()
	}

	// 1. Slice every layer into clean outlines.
	outlines := make([]poly.Paths, n)
	stats := make([]sliceStats, n)
	res := s.Resolution * 1000
	err = parallel(ctx, n, s.Workers, func(_, i int) {
		raw := sliceLayer(pm, idx.tris[idx.start[i]:idx.start[i+1]], plan.plane[i], s.CloseGap*1000, &stats[i])
		if res > 0 {
			raw = poly.Simplify(raw, int64(math.Round(res)))
		}
		// Non-zero: loops are oriented by the triangles' winding, so
		// overlapping shells merge and reversed inner shells make holes.
		outlines[i] = dropSpecks(poly.Union(raw, poly.NonZero), 1e4)
		step()
	})
	if err != nil {
		return nil, err
	}
	idx = triIndex{}

	// 2. Find every layer's top and bottom surfaces.
	surf := &surfaces{top: make([]poly.Paths, n), bottom: make([]poly.Paths, n)}
	if err := parallel(ctx, n, s.Workers, func(_, i int) { findSurfaces(outlines, i, surf, s.LineWidth*1000/2) }); err != nil {
		return nil, err
	}

	st := &stack{h: plan, outlines: outlines, surf: surf, bridges: make([][]bridge, n)}
	if !s.NoBridges {
		if err := parallel(ctx, n, s.Workers, func(_, i int) { st.bridges[i] = findBridges(outlines, surf, i, s.LineWidth*1000) }); err != nil {
			return nil, err
		}
	}
	if s.Support.Enable {
		if st.support, err = planSupport(ctx, &s, plan, outlines, st.bridges); err != nil {
			return nil, err
		}
	}

	// 3. Plan every layer (regions, toolpaths, ordering) and write its G-code.
	g := newGcodeParams(&s)
	chunks := make([]chunk, n)
	scratch := make([][]byte, s.Workers) // each worker's G-code buffer, reused layer to layer
	err = parallel(ctx, n, s.Workers, func(w, i int) {
		lp := planLayer(&s, st, i)
		chunks[i], scratch[w] = writeLayer(g, lp, scratch[w])
		step()
	})
	if err != nil {
		return nil, err
	}

	est, layers, err := assemble(g, chunks, w)
	if err != nil {
		return nil, err
	}
	r := &Result{Estimate: est, Placed: box, Mesh: m.Report, Copies: max(1, s.Copies), CopyBoxes: copies}
	for i := range stats {
		r.Slicing.ClosedGaps += stats[i].closedGaps
		r.Slicing.DroppedFragments += stats[i].droppedFragments
		if len(outlines[i]) == 0 {
			r.Slicing.EmptyLayers++
		}
	}
	r.Layers = layers
	return r, nil
}

// dropSpecks removes loops smaller than minArea µm² (slivers no nozzle can
// print; they come from noise in the mesh).
func dropSpecks(ps poly.Paths, minArea float64) poly.Paths {
	out := ps[:0]
	for _, p := range ps {
		if math.Abs(poly.Area(p)) >= minArea {
			out = append(out, p)
		}
	}
	return out
}

// parallel runs f(w, i) for i in 0..n-1 on at most workers goroutines,
// stopping early when ctx is cancelled; w (0 ≤ w < workers) numbers the
// goroutine, so f can keep per-worker scratch space.
func parallel(ctx context.Context, n, workers int, f func(w, i int)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	workers = max(1, min(workers, n))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(w, i)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("slicer: %w", err)
	}
	return nil
}

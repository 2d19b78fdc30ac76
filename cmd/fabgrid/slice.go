package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer"
	"github.com/fabgrid/fabgrid/slicer/slicepolicy"
)

func init() {
	register(command{name: "slice", summary: "slice an STL or 3MF model into G-code for a printer and material", run: runSlice})
}

func runSlice(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("slice", "slice MODEL.stl|MODEL.3mf [-o OUT.gcode] [flags]",
		"Slices an STL (binary or ASCII) or a 3MF (every build item, with its\ntransform) for a printer profile and a material:\nthe model is centred on the bed and dropped to z=0; the G-code has the\nprinter's start and end G-code, ;LAYER: and ;TYPE: comments and a header\nwith the time, filament, weight and cost estimates.", stderr)
	out := fs.String("o", "", "output G-code file (default: MODEL with .gcode; - for stdout)")
	prof := addPrinterFlags(fs, "ender3", "printer profile ("+strings.Join(profile.PrinterIDs(), ", ")+")")
	mat := addMaterialFlags(fs, "PLA", "material ("+strings.Join(profile.MaterialIDs(), ", ")+")")
	lh := fs.Float64("layer-height", slicer.DefaultLayerHeight, "layer height, mm")
	flh := fs.Float64("first-layer-height", 0, "first layer height, mm (default: the layer height)")
	infill := fs.Int("infill", slicer.DefaultInfillPercent, "sparse infill density, percent")
	pattern := fs.String("infill-pattern", slicer.PatternLines, "sparse infill pattern: lines (direction alternating per layer) or grid")
	per := fs.Int("perimeters", slicer.DefaultPerimeters, "number of perimeters (walls)")
	top := fs.Int("top-layers", slicer.DefaultSolidLayers, "solid top layers")
	bottom := fs.Int("bottom-layers", slicer.DefaultSolidLayers, "solid bottom layers")
	width := fs.Float64("line-width", 0, "line width, mm (default: the nozzle diameter)")
	skirt := fs.Int("skirt", 1, "skirt loops around the first layer (0 for none)")
	zhop := fs.Float64("z-hop", 0, "lift the nozzle by this much on retraction, mm")
	seam := fs.String("seam", "", "where wall loops start: nearest (least travel), rear (aligned at the back) or sharpest (aligned in the sharpest corner) (default: the printer profile's seam, else nearest)")
	def := slicer.DefaultSupport
	support := fs.Bool("support", false, "generate support under overhangs")
	supAngle := fs.Float64("support-angle", def.AngleDeg, "support overhangs more than this many degrees from vertical")
	supEverywhere := fs.Bool("support-everywhere", false, "let support stand on the part (default: from the build plate only)")
	supPattern := fs.String("support-pattern", def.Pattern, "support pattern: lines (easiest to remove) or grid")
	supDensity := fs.Int("support-density", def.DensityPercent, "support density, percent")
	supXY := fs.Float64("support-xy-gap", def.XYGap, "gap between support and the part's sides, mm")
	supZ := fs.Int("support-z-gap", def.ZGapLayers, "layers of air between support and the part")
	supIface := fs.Int("support-interface", def.InterfaceLayers, "dense interface layers at the top of the support")
	copies := fs.Int("copies", 1, "copies of the model on the bed, laid out in a grid and sliced as one file")
	copySpacing := fs.Float64("copy-spacing", slicer.DefaultCopySpacing, "gap between copies, mm")
	copyTurn := fs.Bool("copy-turn", false, "turn the copies 90° when that fits them more tightly")
	noBridges := fs.Bool("no-bridges", false, "print spans between two supported sides as skin, not as bridges")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return &exitError{2, fmt.Errorf("want exactly one model file, got %d", len(pos))}
	}
	model := pos[0]
	p, err := prof.resolve()
	if err != nil {
		return err
	}
	m, err := mat.resolve()
	if err != nil {
		return err
	}
	s := slicer.DefaultSettings(p, m)
	s.LayerHeight, s.FirstLayerHeight = *lh, *flh
	if s.FirstLayerHeight == 0 {
		s.FirstLayerHeight = s.LayerHeight
	}
	s.InfillPercent, s.Perimeters, s.TopLayers, s.BottomLayers = *infill, *per, *top, *bottom
	s.InfillPattern = *pattern
	if *width > 0 {
		s.LineWidth, s.FirstLayerWidth = *width, *width
	}
	s.SkirtLoops, s.ZHop = *skirt, *zhop
	if *seam != "" {
		s.Seam = *seam
	}
	if *support {
		s.Support = def
		s.Support.AngleDeg, s.Support.Everywhere, s.Support.Pattern, s.Support.DensityPercent = *supAngle, *supEverywhere, *supPattern, *supDensity
		s.Support.XYGap, s.Support.ZGapLayers, s.Support.InterfaceLayers = *supXY, *supZ, *supIface
	}
	s.NoBridges = *noBridges
	s.Copies, s.CopySpacing, s.CopyTurn = *copies, *copySpacing, *copyTurn

	f, err := os.Open(model)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	defer slicepolicy.Begin()()
	t0 := time.Now()
	mesh, rep, err := slicer.LoadModel(f, st.Size(), model, slicer.DefaultLimits)
	if err != nil {
		return err
	}
	defer slicepolicy.LimitProcs(rep.Triangles*max(1, s.Copies), int(math.Ceil(rep.Size.Z/s.LayerHeight)))()
	var progress func(done, total int)
	if !*quiet && !*jsonOut && rep.Triangles >= 100_000 {
		last := -1
		progress = func(done, total int) {
			if pct := done * 100 / total; pct != last {
				last = pct
				fmt.Fprintf(stderr, "\rslicing %s: %3d%%", filepath.Base(model), pct)
				if done == total {
					fmt.Fprintln(stderr)
				}
			}
		}
	}
	dst := *out
	if dst == "" {
		dst = strings.TrimSuffix(model, filepath.Ext(model)) + ".gcode"
	}
	// The G-code streams to its destination layer by layer instead of being
	// assembled in memory first. A file is written beside its destination
	// and renamed over it only once complete, so a model that fails leaves
	// no file behind (and an old one as it was).
	gw := stdout
	var tmp *os.File
	if dst != "-" {
		if tmp, err = os.CreateTemp(filepath.Dir(dst), ".fabgrid-slice-*"); err != nil {
			return err
		}
		defer os.Remove(tmp.Name()) // no-op once renamed
		gw = tmp
	}
	bw := bufio.NewWriterSize(gw, 64<<10)
	res, err := slicer.SliceTo(ctx, bw, mesh, s, progress)
	if err == nil {
		err = bw.Flush()
	}
	if tmp != nil {
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o644)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), dst)
		}
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(t0)
	if *jsonOut {
		if dst == "-" {
			stdout = stderr
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Output      string             `json:"output"`
			Printer     string             `json:"printer"`
			Material    string             `json:"material"`
			Layers      int                `json:"layers"`
			Copies      int                `json:"copies"`
			Seconds     float64            `json:"seconds"`
			FilamentMM  float64            `json:"filament_mm"`
			FilamentMM3 float64            `json:"filament_mm3"`
			Grams       float64            `json:"grams"`
			Cost        float64            `json:"cost"`
			Mesh        slicer.MeshReport  `json:"mesh"`
			Slicing     slicer.SliceReport `json:"slicing"`
			SliceTimeS  float64            `json:"slice_time_s"`
		}{dst, p.ID, m.ID, res.Layers, res.Copies, res.Estimate.Seconds, res.Estimate.FilamentMM, res.Estimate.FilamentMM3,
			res.Estimate.Grams, res.Estimate.Cost, rep, res.Slicing, elapsed.Seconds()})
	}
	w := stdout
	if dst == "-" {
		w = stderr
	}
	fmt.Fprintf(w, "%s → %s (%s, %s)\n", model, dst, p.ID, m.ID)
	if res.Copies > 1 {
		fmt.Fprintf(w, "  %d copies, %.0f × %.0f mm on the bed\n", res.Copies, res.Placed.Size().X, res.Placed.Size().Y)
	}
	fmt.Fprintf(w, "  %d layers, print time %s, filament %.2f m (%.1f g, %.2f), sliced in %s\n",
		res.Layers, time.Duration(res.Estimate.Seconds*float64(time.Second)).Round(time.Second),
		res.Estimate.FilamentMM/1000, res.Estimate.Grams, res.Estimate.Cost, elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  mesh: %d triangles, %d degenerate dropped, %d open and %d non-manifold edges, %.0f mm³\n",
		rep.Triangles, rep.Degenerate, rep.OpenEdges, rep.NonManifoldEdges, rep.VolumeMM3)
	if res.Slicing.ClosedGaps > 0 || res.Slicing.DroppedFragments > 0 {
		fmt.Fprintf(w, "  repaired: %d gaps closed, %d fragments dropped\n", res.Slicing.ClosedGaps, res.Slicing.DroppedFragments)
	}
	return nil
}

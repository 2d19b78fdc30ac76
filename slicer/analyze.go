package slicer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/fabgrid/fabgrid/gcode"
	"github.com/fabgrid/fabgrid/motion"
	"github.com/fabgrid/fabgrid/profile"
)

// ErrGCode is returned by Analyze for a file it cannot read at all.
var ErrGCode = errors.New("slicer: unreadable G-code")

// Analysis describes a G-code file: what it extrudes, where, how long it
// takes on a printer, and what looks wrong. Any slicer's output can be
// analysed (the benchmark compares CuraEngine's and PrusaSlicer's this way).
type Analysis struct {
	Lines         int `json:"lines"`
	Commands      int `json:"commands"`
	LayerComments int `json:"layer_comments"` // ;LAYER: or ;LAYER_CHANGE markers
	// Layers counts the distinct heights at which something is extruded
	// (after the first layer marker, when the file has markers).
	Layers int `json:"layers"`
	// Bounds of the extruding moves, mm.
	Min Vec3 `json:"min_mm"`
	Max Vec3 `json:"max_mm"`
	// FilamentMM is all filament pushed by extruding moves; ModelFilamentMM
	// only what comes after the first layer marker (no purge lines).
	FilamentMM       float64 `json:"filament_mm"`
	FilamentMM3      float64 `json:"filament_mm3"`
	ModelFilamentMM  float64 `json:"model_filament_mm"`
	ModelFilamentMM3 float64 `json:"model_filament_mm3"`
	ExtrudeMM        float64 `json:"extrude_path_mm"`
	TravelMM         float64 `json:"travel_path_mm"`
	Retractions      int     `json:"retractions"`
	Seconds          float64 `json:"seconds"`
	// TypeFilamentMM is the filament of the model's extruding moves by
	// their ;TYPE: comment (SUPPORT, WALL-OUTER, …; "" before any).
	TypeFilamentMM map[string]float64 `json:"type_filament_mm,omitempty"`
	MaxHotendC     float64            `json:"max_hotend_c"`
	MaxBedC        float64            `json:"max_bed_c"`
	// Flags are sanity problems: extrusion outside the bed, extrusion
	// before the hotend is hot, extrusion on G0, bad numbers, temperatures
	// above the printer's limits.
	Flags []string `json:"flags"`
}

// Extrusion below this hotend temperature is flagged (Marlin's default
// cold-extrusion limit).
const coldExtrudeC = 170

// maxFlags bounds the flags kept for one file.
const maxFlags = 20

// Analyze reads G-code from r and analyses it for printer p (bed size for
// the bounds check, motion limits for the time).
func Analyze(r io.Reader, p profile.Printer) (Analysis, error) {
	var a Analysis
	inf := math.Inf(1)
	a.Min, a.Max = Vec3{inf, inf, inf}, Vec3{-inf, -inf, -inf}
	m := motion.NewMachine(motion.LimitsFor(p))
	lim := gcode.Limits{Printer: p.ID, HotendC: p.MaxHotendC, BedC: p.MaxBedC}
	hotend := 0.0
	inModel := false
	outside := "" // first out-of-bed extrusion before any layer marker
	typ := ""
	heights := map[float64]bool{}
	flagged := map[string]bool{}
	flag := func(format string, args ...any) {
		key := format
		if flagged[key] || len(a.Flags) >= maxFlags {
			return
		}
		flagged[key] = true
		a.Flags = append(a.Flags, fmt.Sprintf(format, args...))
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	filArea := math.Pi * p.FilamentMM * p.FilamentMM / 4
	for sc.Scan() {
		a.Lines++
		line := sc.Text()
		if j := strings.IndexByte(line, ';'); j >= 0 {
			if t, ok := strings.CutPrefix(line[j+1:], "TYPE:"); ok {
				typ = strings.TrimSpace(t)
			}
		}
		if _, _, ok := gcode.LayerMarker(line); ok {
			a.LayerComments++
			if !inModel {
				inModel = true
				clear(heights)
			}
		}
		if !hasCommand(line) {
			continue
		}
		a.Commands++
		cmd := gcode.Strip(line)
		if cmd == "" {
			continue // a bare line number or checksum
		}
		x, y, z, e := m.Pos()
		secs, err := m.Exec(cmd)
		if err != nil {
			flag("bad command at line %d: %v", a.Lines, err)
			continue
		}
		a.Seconds += secs
		c := gcode.Lex(cmd)
		switch c.Code {
		case gcode.G(0), gcode.G(1), gcode.M(104), gcode.M(109), gcode.M(140), gcode.M(190),
			gcode.G(90), gcode.G(91), gcode.M(82), gcode.M(83):
		default:
			continue
		}
		w, err := gcode.ParseWords(c.Args)
		if err != nil {
			flag("NaN or bad number at line %d", a.Lines)
			continue
		}
		switch c.Code {
		case gcode.M(104), gcode.M(109):
			if t, ok := gcode.Target(&w); ok {
				hotend = t
				a.MaxHotendC = max(a.MaxHotendC, t)
				if c.CheckTemps(lim) != nil {
					flag("hotend temperature %g °C above the printer's %g °C", t, p.MaxHotendC)
				}
			}
		case gcode.M(140), gcode.M(190):
			if t, ok := gcode.Target(&w); ok {
				a.MaxBedC = max(a.MaxBedC, t)
				if c.CheckTemps(lim) != nil {
					flag("bed temperature %g °C above the printer's %g °C", t, p.MaxBedC)
				}
			}
		case gcode.G(0), gcode.G(1):
			// The position before and after, from the motion model, which
			// knows the modes (G90/G91, M82/M83), G92 and homing.
			nx, ny, nz, ne := m.Pos()
			de := ne - e
			dxy := math.Hypot(nx-x, ny-y)
			switch {
			case de > 0 && dxy > 0:
				if c.Code == gcode.G(0) {
					flag("extrusion on a G0 travel move at line %d", a.Lines)
				}
				if hotend < coldExtrudeC {
					flag("extrusion before the hotend is heated at line %d", a.Lines)
				}
				a.FilamentMM += de
				a.ExtrudeMM += dxy
				if inModel {
					a.ModelFilamentMM += de
					if a.TypeFilamentMM == nil {
						a.TypeFilamentMM = map[string]float64{}
					}
					a.TypeFilamentMM[typ] += de
				}
				for _, q := range []Vec3{{x, y, z}, {nx, ny, nz}} {
					a.Min = Vec3{min(a.Min.X, q.X), min(a.Min.Y, q.Y), min(a.Min.Z, q.Z)}
					a.Max = Vec3{max(a.Max.X, q.X), max(a.Max.Y, q.Y), max(a.Max.Z, q.Z)}
				}
				// Purge lines of the printer's own start G-code may sit
				// off the nominal bed (the MK3S primes at Y−3); the model
				// may not.
				if nx < 0 || ny < 0 || nx > p.BuildVolume.X || ny > p.BuildVolume.Y || nz > p.BuildVolume.Z {
					msg := fmt.Sprintf("extrusion outside the bed at line %d (X%.3f Y%.3f Z%.3f)", a.Lines, nx, ny, nz)
					if inModel {
						flag("%s", msg)
					} else if outside == "" {
						outside = msg
					}
				}
				heights[math.Round(nz*1000)/1000] = true
			case de < 0 && dxy == 0:
				a.Retractions++
			case dxy > 0:
				a.TravelMM += dxy
			}
		}
	}
	if err := sc.Err(); err != nil {
		return a, fmt.Errorf("%w: %w", ErrGCode, err)
	}
	if outside != "" && a.LayerComments == 0 {
		flag("%s", outside)
	}
	a.Layers = len(heights)
	a.FilamentMM3 = a.FilamentMM * filArea
	a.ModelFilamentMM3 = a.ModelFilamentMM * filArea
	if a.FilamentMM == 0 {
		a.Min, a.Max = Vec3{}, Vec3{}
	}
	return a, nil
}

// hasCommand reports whether a line holds anything besides a comment and
// white space.
func hasCommand(line string) bool {
	if i := strings.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line) != ""
}

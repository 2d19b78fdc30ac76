package slicer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

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
	var x, y, z, e float64
	relXYZ, relE := false, false
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
		ln := sc.Bytes()
		if j := bytes.IndexByte(ln, ';'); j >= 0 {
			c := ln[j+1:]
			if t, ok := bytes.CutPrefix(c, []byte("TYPE:")); ok {
				typ = string(bytes.TrimSpace(t))
			}
			if bytes.HasPrefix(c, []byte("LAYER:")) || bytes.HasPrefix(c, []byte("LAYER_CHANGE")) {
				a.LayerComments++
				if !inModel {
					inModel = true
					clear(heights)
				}
			}
			ln = ln[:j]
		}
		ln = bytes.TrimSpace(ln)
		if len(ln) == 0 {
			continue
		}
		a.Commands++
		// Line numbers and checksums (N12 G1 X1*34) are not part of the command.
		if ln[0] == 'N' || ln[0] == 'n' {
			if k := bytes.IndexByte(ln, ' '); k > 0 {
				ln = bytes.TrimSpace(ln[k+1:])
			}
		}
		if k := bytes.IndexByte(ln, '*'); k >= 0 {
			ln = bytes.TrimSpace(ln[:k])
		}
		if len(ln) == 0 || ln[0] == 'N' || ln[0] == 'n' {
			continue // a bare line number
		}
		cmd := string(ln)
		secs, err := m.Exec(cmd)
		if err != nil {
			flag("bad command at line %d: %v", a.Lines, err)
			continue
		}
		a.Seconds += secs
		fields := bytes.Fields(ln)
		code := string(bytes.ToUpper(fields[0]))
		switch code {
		case "G0", "G1", "G00", "G01", "G92", "M104", "M109", "M140", "M190":
		default:
			if code == "G90" || code == "G91" || code == "M82" || code == "M83" {
				break
			}
			continue
		}
		w, bad := gwords(fields[1:])
		if bad {
			flag("NaN or bad number at line %d", a.Lines)
			continue
		}
		switch code {
		case "G90":
			relXYZ, relE = false, false
		case "G91":
			relXYZ, relE = true, true
		case "M82":
			relE = false
		case "M83":
			relE = true
		case "G92":
			if len(w) == 0 {
				x, y, z, e = 0, 0, 0, 0
			}
			for k, v := range w {
				switch k {
				case 'X':
					x = v
				case 'Y':
					y = v
				case 'Z':
					z = v
				case 'E':
					e = v
				}
			}
		case "M104", "M109":
			if s, ok := w['S']; ok {
				hotend = s
				a.MaxHotendC = max(a.MaxHotendC, s)
				if p.MaxHotendC > 0 && s > p.MaxHotendC {
					flag("hotend temperature %g °C above the printer's %g °C", s, p.MaxHotendC)
				}
			}
		case "M140", "M190":
			if s, ok := w['S']; ok {
				a.MaxBedC = max(a.MaxBedC, s)
				if p.MaxBedC > 0 && s > p.MaxBedC {
					flag("bed temperature %g °C above the printer's %g °C", s, p.MaxBedC)
				}
			}
		case "G0", "G1", "G00", "G01":
			nx, ny, nz, ne := x, y, z, e
			if v, ok := w['X']; ok {
				nx = v + pick(relXYZ, x)
			}
			if v, ok := w['Y']; ok {
				ny = v + pick(relXYZ, y)
			}
			if v, ok := w['Z']; ok {
				nz = v + pick(relXYZ, z)
			}
			if v, ok := w['E']; ok {
				ne = v + pick(relE, e)
			}
			de := ne - e
			dxy := math.Hypot(nx-x, ny-y)
			switch {
			case de > 0 && dxy > 0:
				if code == "G0" || code == "G00" {
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
			x, y, z, e = nx, ny, nz, ne
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

func pick(rel bool, cur float64) float64 {
	if rel {
		return cur
	}
	return 0
}

// gwords parses "X1 Y2.5 E.3" into letter → value; bad reports a word whose
// number does not parse or is not finite.
func gwords(fs [][]byte) (map[byte]float64, bool) {
	w := make(map[byte]float64, len(fs))
	for _, f := range fs {
		k := f[0]
		if k >= 'a' && k <= 'z' {
			k -= 'a' - 'A'
		}
		if len(f) == 1 {
			w[k] = 0
			continue
		}
		v, err := strconv.ParseFloat(string(f[1:]), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, true
		}
		w[k] = v
	}
	return w, false
}

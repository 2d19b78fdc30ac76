package scheduler

import (
	"math"

	"github.com/fabgrid/fabgrid/profile"
)

// ReferenceProfile is the printer profile that Job.EstSeconds and
// Printer.SpeedFactor are relative to.
const ReferenceProfile = "ender3"

// estimator holds the slicing defaults the estimate assumes. They mirror the
// slicer's defaults; change them together.
type estimator struct {
	layerMM       float64 // layer height
	widthFactor   float64 // extrusion width / nozzle
	shellMM       float64 // wall and top/bottom thickness
	infill        float64 // interior infill fraction
	printSpeed    float64 // mm/s, capped by the profile's feedrate
	segmentMM     float64 // typical segment length, for acceleration
	layerOverhead float64 // seconds per layer (z move, travel, retract)
	fixedSeconds  float64 // homing, heating, purge
}

func defaultEstimator() estimator {
	return estimator{
		layerMM:       0.2,
		widthFactor:   1.125,
		shellMM:       0.9,
		infill:        0.2,
		printSpeed:    50,
		segmentMM:     8,
		layerOverhead: 1.5,
		fixedSeconds:  120,
	}
}

// Estimate gives a fast estimate of the print time in seconds and the
// filament length in millimetres of a part on printer p, from the mesh's
// volume (mm³), surface (mm²) and bounding box (mm), before any slicing. It
// assumes the slicer's defaults (0.2 mm layers, two walls, 20 % infill) and
// the profile's nozzle, filament diameter, feedrate and acceleration limits.
// A non-positive volume gives the fixed overhead only.
func Estimate(p profile.Printer, volumeMM3, surfaceMM2 float64, sizeMM [3]float64) (seconds, filamentMM float64) {
	return defaultEstimator().estimate(p, volumeMM3, surfaceMM2, sizeMM)
}

func (e estimator) estimate(p profile.Printer, volumeMM3, surfaceMM2 float64, sizeMM [3]float64) (seconds, filamentMM float64) {
	nozzle := p.NozzleMM
	if nozzle <= 0 {
		nozzle = 0.4
	}
	fil := p.FilamentMM
	if fil <= 0 {
		fil = 1.75
	}
	volumeMM3 = math.Max(volumeMM3, 0)
	surfaceMM2 = math.Max(surfaceMM2, 0)
	shell := math.Min(volumeMM3, surfaceMM2*e.shellMM)
	extruded := shell + e.infill*(volumeMM3-shell)

	width := nozzle * e.widthFactor
	path := extruded / (width * e.layerMM)

	v := e.printSpeed
	if f := math.Min(p.MaxFeedrate.X, p.MaxFeedrate.Y); f > 0 {
		v = math.Min(v, f)
	}
	if p.MaxFeedrate.E > 0 {
		// Filament speed limit: v·w·h ≤ E·π·r².
		v = math.Min(v, p.MaxFeedrate.E*math.Pi*fil*fil/4/(width*e.layerMM))
	}
	if a := p.PrintAccel; a > 0 {
		// Each segment accelerates and decelerates: t = L/v + v/a.
		v = v / (1 + v*v/(a*e.segmentMM))
	}
	layers := math.Ceil(math.Max(sizeMM[2], 0) / e.layerMM)
	zTime := 0.0
	if p.MaxFeedrate.Z > 0 {
		zTime = e.layerMM / p.MaxFeedrate.Z
	}
	seconds = e.fixedSeconds + path/v + layers*(e.layerOverhead+zTime)
	filamentMM = extruded / (math.Pi * fil * fil / 4)
	return seconds, filamentMM
}

// The reference part SpeedFactor times on each profile: a 40 mm cube, a
// typical small household part.
const (
	refPartSide    = 40.0
	refPartVolume  = refPartSide * refPartSide * refPartSide
	refPartSurface = 6 * refPartSide * refPartSide
)

// SpeedFactor is how much faster profile p prints than the reference
// profile, from the estimator (ender3 → 1). Use it to fill
// Printer.SpeedFactor.
func SpeedFactor(p profile.Printer) float64 {
	ref, err := profile.LookupPrinter(ReferenceProfile)
	if err != nil {
		return 1
	}
	e := defaultEstimator()
	size := [3]float64{refPartSide, refPartSide, refPartSide}
	tr, _ := e.estimate(ref, refPartVolume, refPartSurface, size)
	tp, _ := e.estimate(p, refPartVolume, refPartSurface, size)
	if tp <= 0 {
		return 1
	}
	return tr / tp
}

// refProfileOrDefault is the reference profile, or a copy of its figures
// should the profile data ever lose it.
func refProfileOrDefault() profile.Printer {
	if p, err := profile.LookupPrinter(ReferenceProfile); err == nil {
		return p
	}
	return profile.Printer{
		ID: ReferenceProfile, NozzleMM: 0.4, FilamentMM: 1.75,
		MaxFeedrate: profile.Axes{X: 500, Y: 500, Z: 5, E: 25},
		PrintAccel:  500, TravelAccel: 500,
	}
}

// jobRefSeconds is the job's print time on the reference printer: its own
// estimate when known, else the mesh estimate.
func jobRefSeconds(j *Job, ref profile.Printer) float64 {
	if j.EstSeconds > 0 {
		return j.EstSeconds
	}
	s, _ := Estimate(ref, j.VolumeMM3, j.SurfaceMM2, j.SizeMM)
	return s
}

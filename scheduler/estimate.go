package scheduler

import (
	"math"

	"github.com/fabgrid/fabgrid/motion"
	"github.com/fabgrid/fabgrid/profile"
)

// ReferenceProfile is the printer profile that Job.EstSeconds and
// Printer.SpeedFactor are relative to.
const ReferenceProfile = "ender3"

// estimator holds the slicing defaults the estimate assumes (they mirror
// slicer.DefaultSettings: 0.2 mm layers, line width = nozzle, two walls and
// four top/bottom layers, 20 % infill) and the constants fitted against the
// slicer's own estimates (scheduler/calibrate).
type estimator struct {
	layerMM     float64 // layer height
	widthFactor float64 // extrusion width / nozzle
	shellMM     float64 // wall and top/bottom thickness
	infill      float64 // interior infill fraction
	wallSpeed   float64 // mm/s, walls and skins (capped by the profile)
	infillSpeed float64 // mm/s, sparse infill
	jerk        float64 // mm/s, junction speed
	// Segment lengths: walls follow the outline, whose segments shrink as
	// the part gets rounder (volume / bounding box volume, to fillExp);
	// infill lines span a share of the longer side.
	segMinMM   float64
	fillExp    float64
	infillSpan float64
	// Fitted: motion time factor (corners, travel, first layer), seconds
	// per layer (z move, retraction) and fixed seconds (homing, purge).
	motionFactor  float64
	layerOverhead float64
	fixedSeconds  float64
}

func defaultEstimator() estimator {
	return estimator{
		layerMM: 0.2, widthFactor: 1, shellMM: 0.8, infill: 0.2,
		wallSpeed: 40, infillSpeed: 60, jerk: motion.DefaultJerkXY,
		segMinMM: 3, fillExp: 8, infillSpan: 0.2,
		motionFactor: 1.1, layerOverhead: 0.25, fixedSeconds: 10,
	}
}

// Estimate gives a fast estimate of the print time in seconds and the
// filament length in millimetres of a part on printer p, from the mesh's
// volume (mm³), surface (mm²) and bounding box (mm), before any slicing. It
// assumes the slicer's default settings and the profile's nozzle, filament
// diameter, feedrate and acceleration limits, and like the slicer's own
// estimate it leaves out heating. Calibrated against the slicer on the
// test models (docs/benchmarks.md): about 10–15 % error, up to 30 % on odd
// shapes. A non-positive volume gives the fixed overhead only. It ignores
// the material; EstimateWith honours its flow limit.
func Estimate(p profile.Printer, volumeMM3, surfaceMM2 float64, sizeMM [3]float64) (seconds, filamentMM float64) {
	return defaultEstimator().estimate(p, profile.Material{}, volumeMM3, surfaceMM2, sizeMM)
}

// EstimateWith is Estimate for material m: like the slicer, it slows every
// move down to the material's maximum volumetric flow (TPU's 3 mm³/s
// matters; PLA's 12 does not at default speeds).
func EstimateWith(p profile.Printer, m profile.Material, volumeMM3, surfaceMM2 float64, sizeMM [3]float64) (seconds, filamentMM float64) {
	return defaultEstimator().estimate(p, m, volumeMM3, surfaceMM2, sizeMM)
}

func (e estimator) estimate(p profile.Printer, m profile.Material, volumeMM3, surfaceMM2 float64, sizeMM [3]float64) (seconds, filamentMM float64) {
	nozzle := p.NozzleMM
	if nozzle <= 0 {
		nozzle = 0.4
	}
	fil := p.FilamentMM
	if fil <= 0 {
		fil = 1.75
	}
	volumeMM3 = nonNeg(volumeMM3)
	surfaceMM2 = nonNeg(surfaceMM2)
	x, y, z := nonNeg(sizeMM[0]), nonNeg(sizeMM[1]), nonNeg(sizeMM[2])
	shell := math.Min(volumeMM3, surfaceMM2*e.shellMM)
	sparse := e.infill * (volumeMM3 - shell)
	section := nozzle * e.widthFactor * e.layerMM

	fill := 1.0
	if box := x * y * z; box > 0 {
		fill = math.Min(volumeMM3/box, 1)
	}
	wallSeg := math.Max(e.segMinMM, math.Min(x, y)*math.Pow(fill, e.fillExp))
	infillSeg := math.Max(e.segMinMM, math.Max(x, y)*e.infillSpan)
	vWall := e.cap(p, m, e.wallSpeed, section, fil)
	vInfill := e.cap(p, m, e.infillSpeed, section, fil)
	accel := p.PrintAccel
	moving := 0.0
	if shell > 0 {
		moving += shell / section * motion.Trapezoid(wallSeg, vWall, accel, e.jerk) / wallSeg
	}
	if sparse > 0 {
		moving += sparse / section * motion.Trapezoid(infillSeg, vInfill, accel, e.jerk) / infillSeg
	}
	layers := math.Ceil(z / e.layerMM)
	seconds = e.fixedSeconds + e.motionFactor*moving + layers*e.layerOverhead
	filamentMM = (shell + sparse) / (math.Pi * fil * fil / 4)
	return seconds, filamentMM
}

// cap limits a print speed by the profile's X/Y feedrate, by how fast its
// extruder may push filament and by the material's volumetric flow, for
// this extrusion section.
func (e estimator) cap(p profile.Printer, m profile.Material, v, section, fil float64) float64 {
	if m.MaxVolumetricMM3s > 0 {
		v = math.Min(v, m.MaxVolumetricMM3s/section)
	}
	if f := math.Min(p.MaxFeedrate.X, p.MaxFeedrate.Y); f > 0 {
		v = math.Min(v, f)
	}
	if p.MaxFeedrate.E > 0 {
		v = math.Min(v, p.MaxFeedrate.E*math.Pi*fil*fil/4/section)
	}
	return v
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
	tr, _ := e.estimate(ref, profile.Material{}, refPartVolume, refPartSurface, size)
	tp, _ := e.estimate(p, profile.Material{}, refPartVolume, refPartSurface, size)
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
// estimate when known, else the mesh estimate in the job's material.
func jobRefSeconds(j *Job, ref profile.Printer, mats materials) float64 {
	if j.EstSeconds > 0 {
		return j.EstSeconds
	}
	s, _ := EstimateWith(ref, mats.lookup(j.Material), j.VolumeMM3, j.SurfaceMM2, j.SizeMM)
	return s
}

// materials caches material profiles by the name a job gives (unknown
// names get no flow limit).
type materials map[string]profile.Material

func (ms materials) lookup(name string) profile.Material {
	m, ok := ms[name]
	if !ok {
		m, _ = profile.LookupMaterial(name)
		ms[name] = m
	}
	return m
}

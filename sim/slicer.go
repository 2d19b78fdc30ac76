package sim

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer"
	"github.com/fabgrid/fabgrid/worker"
)

// EstimateSlicer is a fast stand-in for the slicer: it loads the STL with
// package slicer (so size and fit are real), refuses parts that do not fit
// the bed, and estimates the print time from the part's surface and
// volume. Its G-code is a short placeholder: the simulated printer only
// needs the estimate.
type EstimateSlicer struct{}

var _ worker.Slicer = EstimateSlicer{}

// Slice estimates the job.
func (EstimateSlicer) Slice(_ context.Context, model []byte, p profile.Printer, _ profile.Material, layerHeight, infill float64) (worker.Sliced, error) {
	_, rep, err := slicer.ParseSTL(model, slicer.DefaultLimits)
	if err != nil {
		return worker.Sliced{}, err
	}
	size := [3]float64{rep.Size.X, rep.Size.Y, rep.Size.Z}
	bv := p.BuildVolume
	fits := size[2] <= bv.Z && ((size[0] <= bv.X && size[1] <= bv.Y) || (size[1] <= bv.X && size[0] <= bv.Y))
	if !fits {
		return worker.Sliced{}, fmt.Errorf("%w: model %.0f×%.0f×%.0f mm does not fit the build volume", worker.ErrRefused, size[0], size[1], size[2])
	}
	if layerHeight <= 0 {
		layerHeight = 0.2
	}
	if infill <= 0 {
		infill = 20
	}
	// Walls and skins scale with the surface, infill with the volume; at
	// about 6 mm³/s of extrusion for a 0.2 mm layer.
	mm3 := rep.SurfaceMM2*0.8 + rep.VolumeMM3*infill/100
	est := 120 + mm3/6*(0.2/layerHeight)
	layers := max(1, int(size[2]/layerHeight))
	gcode := []string{"G28", "M104 S200", "M140 S60", "M109 S200", "M190 S60", "G1 Z0.2 F600", "G1 X10 Y10 E5 F1200", "M104 S0", "M140 S0", "M84"}
	return worker.Sliced{GCode: gcode, Info: worker.SliceInfo{SizeMM: size, EstSeconds: est, Layers: layers, FilamentMM: mm3 / 2.4}}, nil
}

// CachedSlicer slices each (model, printer, material, settings) once and
// hands every printer of the same kind the same result, with the
// estimate appended as a comment for the simulated printer.
type CachedSlicer struct {
	Inner worker.Slicer

	mu    sync.Mutex
	cache map[string]*sliceEntry
}

type sliceEntry struct {
	mu   sync.Mutex
	done bool
	s    worker.Sliced
	err  error
}

var _ worker.Slicer = (*CachedSlicer)(nil)

// NewCachedSlicer caches inner (nil: EstimateSlicer).
func NewCachedSlicer(inner worker.Slicer) *CachedSlicer {
	if inner == nil {
		inner = EstimateSlicer{}
	}
	return &CachedSlicer{Inner: inner, cache: map[string]*sliceEntry{}}
}

// Slice returns the cached slice, slicing on first use.
func (c *CachedSlicer) Slice(ctx context.Context, model []byte, p profile.Printer, m profile.Material, layerHeight, infill float64) (worker.Sliced, error) {
	key := fmt.Sprintf("%x|%s|%s|%g|%g", sha256.Sum256(model), p.ID, m.ID, layerHeight, infill)
	c.mu.Lock()
	e := c.cache[key]
	if e == nil {
		e = &sliceEntry{}
		c.cache[key] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return e.s, e.err
	}
	s, err := c.Inner.Slice(ctx, model, p, m, layerHeight, infill)
	if err == nil {
		s.GCode = append(s.GCode[:len(s.GCode):len(s.GCode)], fmt.Sprintf("%s%.0f", estMarker, s.Info.EstSeconds))
	}
	// A slice cut short by a cancelled job is not an answer to keep.
	if err == nil || errors.Is(err, worker.ErrRefused) {
		e.done, e.s, e.err = true, s, err
	}
	return s, err
}

// Len returns how many distinct slices were made.
func (c *CachedSlicer) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cache)
}

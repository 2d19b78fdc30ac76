package coordinator

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/fabgrid/fabgrid/slicer"
)

// MeshInfo is what the coordinator learns from a model: its bounding box
// size, volume and surface, for placement.
type MeshInfo struct {
	Triangles  int
	SizeMM     [3]float64
	VolumeMM3  float64
	SurfaceMM2 float64
	Watertight bool
}

// Max3MFInflation bounds how many times its size a 3MF package may
// inflate to (Apache POI's zip-bomb ratio; a mesh's XML compresses about
// ten times), and never past the slicer's own limit: what the coordinator
// accepts, every worker's slicer.DefaultLimits loads.
const Max3MFInflation = 100

// CheckModel validates a model with the slicer's loader, the one the
// workers slice with (slicer.LoadModel), and measures it. The format is
// told by content, as the worker tells it: a zip (PK\x03\x04) is a 3MF
// package, anything else an STL. An STL is checked for its binary header
// count against the length, its ASCII grammar, finite coordinates and at
// least one usable triangle; a 3MF for its package structure, its XML,
// its references and numbers, with the same triangle and coordinate
// limits, and inflating to at most Max3MFInflation times its size.
// Errors wrap ErrInvalidSTL or ErrInvalid3MF (a zip bomb too), or
// ErrTooLarge for a mesh over the loader's triangle or coordinate limit.
func CheckModel(b []byte) (MeshInfo, error) {
	bad := ErrInvalidSTL
	if slicer.Is3MF(b) {
		bad = ErrInvalid3MF
	}
	if len(b) == 0 {
		return MeshInfo{}, fmt.Errorf("%w: empty file", bad)
	}
	lim := slicer.Limits{MaxBytes: int64(len(b)), MaxUncompressed: min(slicer.DefaultLimits.MaxUncompressed, Max3MFInflation*int64(len(b)))}
	_, rep, err := slicer.LoadModel(bytes.NewReader(b), int64(len(b)), "", lim)
	switch {
	case err == nil:
	case errors.Is(err, slicer.ErrInflated):
		return MeshInfo{}, fmt.Errorf("%w: %v (a 3MF may inflate to %d times its size); export the model again as 3MF or STL", ErrInvalid3MF, err, Max3MFInflation)
	case errors.Is(err, slicer.ErrTooLarge):
		return MeshInfo{}, fmt.Errorf("%w: %v", ErrTooLarge, err)
	default:
		return MeshInfo{}, fmt.Errorf("%w: %v", bad, err)
	}
	return MeshInfo{
		Triangles:  rep.Triangles,
		SizeMM:     [3]float64{rep.Size.X, rep.Size.Y, rep.Size.Z},
		VolumeMM3:  rep.VolumeMM3,
		SurfaceMM2: rep.SurfaceMM2,
		Watertight: rep.Watertight,
	}, nil
}

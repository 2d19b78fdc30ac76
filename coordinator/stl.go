package coordinator

import (
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

// CheckSTL validates an STL file with the slicer's loader (the same one
// the workers slice with: binary header count against the length, ASCII
// grammar, finite coordinates, at least one usable triangle) and
// measures it. Errors wrap ErrInvalidSTL, or ErrTooLarge for a mesh over
// the loader's triangle limit.
func CheckSTL(b []byte) (MeshInfo, error) {
	if len(b) == 0 {
		return MeshInfo{}, fmt.Errorf("%w: empty file", ErrInvalidSTL)
	}
	_, rep, err := slicer.ParseSTL(b, slicer.Limits{MaxBytes: int64(len(b))})
	if err != nil {
		if errors.Is(err, slicer.ErrTooLarge) {
			return MeshInfo{}, fmt.Errorf("%w: %v", ErrTooLarge, err)
		}
		return MeshInfo{}, fmt.Errorf("%w: %v", ErrInvalidSTL, err)
	}
	return MeshInfo{
		Triangles:  rep.Triangles,
		SizeMM:     [3]float64{rep.Size.X, rep.Size.Y, rep.Size.Z},
		VolumeMM3:  rep.VolumeMM3,
		SurfaceMM2: rep.SurfaceMM2,
		Watertight: rep.Watertight,
	}, nil
}

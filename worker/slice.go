package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer"
	"github.com/fabgrid/fabgrid/slicer/slicepolicy"
)

// ErrRefused, wrapped by a Slicer's error, makes the job refused (a policy
// answer, e.g. the part does not fit) rather than failed.
var ErrRefused = errors.New("worker: refused")

// LocalSlicer slices with package slicer on this machine.
type LocalSlicer struct {
	// Workers bounds the slicer's parallelism (0 = GOMAXPROCS).
	Workers int
}

var _ Slicer = LocalSlicer{}

// Slice loads the model (an STL, or a 3MF package: told apart by its
// content, slicer.Is3MF, the rule the coordinator's upload check uses, so
// the assignment needs no format field), turns it 90° about Z when only that way fits the
// bed, slices it with the default settings at the job's layer height and
// infill, and returns the G-code lines with the estimate.
func (s LocalSlicer) Slice(ctx context.Context, model []byte, p profile.Printer, m profile.Material, layerHeight, infill float64) (Sliced, error) {
	end := slicepolicy.Begin() // parsing welds vertices in a table as big as the mesh
	defer end()
	mesh, rep, err := slicer.LoadModel(bytes.NewReader(model), int64(len(model)), "", slicer.DefaultLimits)
	if err != nil {
		return Sliced{}, err
	}
	if len(model) >= bigModel {
		// The model is parsed. If the caller let go of it (the worker
		// does), a collection now frees it and sets the heap goal from
		// the mesh alone, not from the mesh and the file.
		model = nil
		runtime.GC()
	}
	size := [3]float64{rep.Size.X, rep.Size.Y, rep.Size.Z}
	bv := p.BuildVolume
	ok, turned := bv.Fits(profile.Box(size))
	if !ok {
		return Sliced{}, fmt.Errorf("%w: model %.0f×%.0f×%.0f mm does not fit the build volume %.0f×%.0f×%.0f mm",
			ErrRefused, size[0], size[1], size[2], bv.X, bv.Y, bv.Z)
	}
	if turned {
		mesh = turn90(mesh)
	}
	set := slicer.DefaultSettings(p, m)
	if layerHeight > 0 {
		set.LayerHeight, set.FirstLayerHeight = layerHeight, layerHeight
	}
	if infill > 0 {
		set.InfillPercent = int(math.Round(infill))
	}
	set.Workers = s.Workers
	res, err := slicer.Slice(ctx, mesh, set, nil)
	if err != nil {
		if errors.Is(err, slicer.ErrNotFit) {
			return Sliced{}, fmt.Errorf("%w: %v", ErrRefused, err)
		}
		return Sliced{}, err
	}
	return Sliced{
		GCode: splitLines(res.GCode),
		Info: SliceInfo{SizeMM: size, EstSeconds: res.Estimate.Seconds, Layers: res.Layers,
			FilamentMM: res.Estimate.FilamentMM},
	}, nil
}

// While any slice runs, the collector runs at slicepolicy.GCPercent
// instead of the process's setting, as in `fabgrid slice`. Once a big
// model (bigModel bytes of STL and up) is sliced and dropped, the worker
// returns the freed memory to the operating system at once (see
// startSlice) instead of leaving it to the runtime's scavenger, which
// takes minutes: small machines run little but the worker.
const bigModel = 4 << 20

// turn90 rotates the mesh 90° about Z, (x, y) → (−y, x): a proper
// rotation, so the triangles' winding stays outward. The mesh report
// carries over with its footprint turned.
func turn90(m *slicer.Mesh) *slicer.Mesh {
	out := &slicer.Mesh{Verts: make([]slicer.Vec3, len(m.Verts)), Tris: m.Tris, Report: m.Report}
	for i, v := range m.Verts {
		out.Verts[i] = slicer.Vec3{X: -v.Y, Y: v.X, Z: v.Z}
	}
	out.Report.Size.X, out.Report.Size.Y = m.Report.Size.Y, m.Report.Size.X
	return out
}

func splitLines(b []byte) []string {
	b = bytes.TrimRight(b, "\n")
	if len(b) == 0 {
		return nil
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

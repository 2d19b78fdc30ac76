package worker

import (
	"context"
	"io"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/profile"
)

// Coordinator is the part of the coordinator API the worker uses;
// *client.Client is the real one (multi-URL, retries with backoff).
type Coordinator interface {
	Register(ctx context.Context, r api.RegisterRequest) (*api.RegisterResponse, error)
	Heartbeat(ctx context.Context, workerID, state string) error
	GetAssignment(ctx context.Context, workerID string, wait time.Duration) (*api.Assignment, error)
	ReportProgress(ctx context.Context, jobID string, p api.ProgressRequest) (*api.ProgressResponse, error)
	ReportResult(ctx context.Context, jobID string, r api.ResultRequest) (*api.OK, error)
	BedClear(ctx context.Context, workerID string) error
	DownloadModel(ctx context.Context, sha string, w io.Writer) (int64, error)
}

var _ Coordinator = (*client.Client)(nil)

// Printer is the connected printer as the worker drives it. Print streams
// the G-code and returns when the printer finished it (nil), failed, or was
// cancelled; progress is called from Print's goroutine. Cancel runs the
// safe cancel sequence (stop streaming, heaters off, lift and park) and
// makes Print return an error. Pause and Resume hold and release the stream.
type Printer interface {
	Print(ctx context.Context, name string, gcode []string, progress func(PrintProgress)) error
	Pause() error
	Resume() error
	Cancel() error
}

// Slicer turns a model (STL or 3MF bytes) into G-code for this printer and
// material, with the part's size and the print-time estimate.
type Slicer interface {
	Slice(ctx context.Context, model []byte, p profile.Printer, m profile.Material, layerHeight, infillPercent float64) (Sliced, error)
}

// Sliced is a slicer's output.
type Sliced struct {
	GCode []string
	Info  SliceInfo
}

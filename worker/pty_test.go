package worker

import (
	"context"
	"github.com/fabgrid/fabgrid/profile"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/slicer/testmesh"
)

// TestWorkerPrintsOnVirtualPrinterOverPTY runs the real chain: fake
// coordinator over HTTP, LocalSlicer, MarlinPrinter on a pseudo-terminal
// served by the virtual printer, whose record must hold every G-code
// command of the sliced job exactly once, in order.
func TestWorkerPrintsOnVirtualPrinterOverPTY(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.AutoClear = true
	v := printerdrv.NewVirtual(printerdrv.VirtualConfig{Printer: cfg.Printer, Speed: 0})
	ctx, cancel := context.WithCancel(context.Background())
	path, err := v.ServePTY(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); v.Wait() })

	pr := NewMarlinPrinter(path, 115200, cfg.Printer, printerdrv.Options{StartWait: 300 * time.Millisecond}, cfg.Logger)
	t.Cleanup(func() { pr.Close() })
	var gcode []string
	sl := recordingSlicer{inner: LocalSlicer{Workers: 1}, out: &gcode}

	fc := newFakeCoord(t)
	startWorker(t, cfg, fc.client(), pr, sl)
	model := testmesh.WriteSTL("plate", testmesh.Box(0, 0, 0, 12, 8, 1.2))
	a := fakeAssignment("o-1-1", fc.addModel(model))
	a.ModelSize = int64(len(model))
	fc.assign <- a
	fc.waitFor("done", func() bool { return fc.res["o-1-1"].Outcome == api.OutcomeDone })
	fc.waitFor("bed cleared automatically", func() bool { return fc.clears == 1 })

	prep, err := printerdrv.Prepare(printerdrv.Job{Name: "x", Lines: gcode, Printer: cfg.Printer})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range v.Record().Commands {
		switch strings.Fields(c)[0] {
		case "M110", "M115", "M155", "M105":
			continue
		}
		got = append(got, c)
	}
	if strings.Join(got, "\n") != strings.Join(prep.Commands, "\n") {
		t.Fatalf("the printer executed %d commands, the sliced job has %d", len(got), len(prep.Commands))
	}
}

// recordingSlicer keeps the G-code it produced for the test to compare.
type recordingSlicer struct {
	inner Slicer
	out   *[]string
}

func (s recordingSlicer) Slice(ctx context.Context, model []byte, p profile.Printer, m profile.Material, lh, infill float64) (Sliced, error) {
	r, err := s.inner.Slice(ctx, model, p, m, lh, infill)
	*s.out = r.GCode
	return r, err
}

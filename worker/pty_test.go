package worker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/printerdrv/vprinter"
	"github.com/fabgrid/fabgrid/profile"

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
	v := vprinter.NewVirtual(vprinter.VirtualConfig{Printer: cfg.Printer, Speed: 0})
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

// ptyWorker starts a virtual printer with faults on a pty and a worker on it.
func ptyWorker(t *testing.T, faults vprinter.Faults, speed float64) (*vprinter.Virtual, *fakeCoord) {
	t.Helper()
	cfg := testConfig(t, t.TempDir())
	cfg.AutoClear = true
	v := vprinter.NewVirtual(vprinter.VirtualConfig{Printer: cfg.Printer, Speed: speed, Faults: faults, Seed: 1})
	ctx, cancel := context.WithCancel(context.Background())
	path, err := v.ServePTY(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); v.Wait() })
	pr := NewMarlinPrinter(path, 115200, cfg.Printer, printerdrv.Options{StartWait: 300 * time.Millisecond, CancelTimeout: 5 * time.Second}, cfg.Logger)
	t.Cleanup(func() { pr.Close() })
	fc := newFakeCoord(t)
	startWorker(t, cfg, fc.client(), pr, LocalSlicer{Workers: 1})
	model := testmesh.WriteSTL("plate", testmesh.Box(0, 0, 0, 12, 8, 1.2))
	a := fakeAssignment("o-1-1", fc.addModel(model))
	a.ModelSize = int64(len(model))
	fc.assign <- a
	return v, fc
}

func TestWorkerReportsPrinterFaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults vprinter.Faults
		want   error
	}{
		{"thermal runaway", vprinter.Faults{ThermalRunawayAt: 150}, printerdrv.ErrThermalRunaway},
		{"firmware reset", vprinter.Faults{ResetAt: 150}, printerdrv.ErrReset},
		{"disconnect", vprinter.Faults{DisconnectAt: 150}, printerdrv.ErrDisconnected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, fc := ptyWorker(t, tc.faults, 0)
			fc.waitFor("failure "+tc.name, func() bool {
				r := fc.res["o-1-1"]
				return r.Outcome == api.OutcomeFailed && strings.Contains(r.Reason, tc.want.Error())
			})
		})
	}
}

func TestWorkerSafeCancelReachesThePrinter(t *testing.T) {
	v, fc := ptyWorker(t, vprinter.Faults{}, 20) // slow enough to cancel mid-print
	fc.waitFor("printing", func() bool {
		for _, p := range fc.prog {
			if p.State == api.JobPrinting && p.Percent > 0 {
				return true
			}
		}
		return false
	})
	fc.update(func() { fc.action = api.ActionCancel })
	fc.waitFor("cancelled", func() bool { return fc.res["o-1-1"].Reason == ReasonCoordinatorCancel })
	cmds := v.Record().Commands
	seq := printerdrv.CancelSequence
	var tail []string
	for _, c := range cmds {
		if f := strings.Fields(c)[0]; f != "M105" && f != "M155" {
			tail = append(tail, c)
		}
	}
	if len(tail) < len(seq) || strings.Join(tail[len(tail)-len(seq):], "|") != strings.Join(seq, "|") {
		t.Fatalf("the printer's last commands %q are not the safe cancel sequence %q", tail[max(0, len(tail)-len(seq)):], seq)
	}
}

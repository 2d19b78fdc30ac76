package slicer

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/printerdrv/vprinter"
	"github.com/fabgrid/fabgrid/profile"
)

// TestVirtualPrinter streams sliced test models through printerdrv's
// virtual printer (instant time scale, in-memory link) and compares the
// slicer's time estimate with the motion time the printer measured.
func TestVirtualPrinter(t *testing.T) {
	models := testModels
	if testing.Short() {
		models = models[:1]
	}
	mat, _ := profile.LookupMaterial("PLA")
	for _, printer := range []string{"ender3", "mk3s"} {
		p, err := profile.LookupPrinter(printer)
		if err != nil {
			t.Fatal(err)
		}
		for _, tm := range models {
			t.Run(printer+"/"+tm.name, func(t *testing.T) {
				mesh, _ := loadModel(t, tm.name)
				r, err := Slice(context.Background(), mesh, DefaultSettings(p, mat), nil)
				if err != nil {
					t.Fatal(err)
				}
				job, err := printerdrv.ReadJob(tm.name, bytes.NewReader(r.GCode), p)
				if err != nil {
					t.Fatal(err)
				}
				v := vprinter.NewVirtual(vprinter.VirtualConfig{Printer: p})
				hostEnd, printerEnd := vprinter.Pipe()
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				done := make(chan error, 1)
				go func() { done <- v.Serve(ctx, printerEnd) }()
				defer func() { cancel(); <-done }()
				c, err := printerdrv.Connect(ctx, hostEnd, printerdrv.Options{Printer: p, StartWait: time.Second})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				sum, err := c.Print(ctx, job, nil)
				if err != nil {
					t.Fatalf("print: %v (%+v)", err, sum)
				}
				rec := v.Record()
				if rec.Halted || rec.OverflowBytes != 0 {
					t.Fatalf("printer record %+v", rec)
				}
				got := rec.MotionSeconds
				if d := math.Abs(r.Estimate.Seconds-got) / got; d > 0.10 {
					t.Fatalf("estimate %.1f s, virtual printer measured %.1f s (%.1f%% off)", r.Estimate.Seconds, got, 100*d)
				}
				t.Logf("estimate %.1f s, measured %.1f s, %d commands", r.Estimate.Seconds, got, sum.Commands)
			})
		}
	}
}

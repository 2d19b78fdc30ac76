package printerdrv_test

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/gcode"
	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/printerdrv/vprinter"
)

// benchLines returns n slicer-like commands (no comments), deterministic.
func benchLines(n int) []string {
	// PrusaSlicer-style: relative extrusion, short E values.
	r := rand.New(rand.NewSource(1))
	lines := make([]string, 0, n)
	for i := range n {
		x, y := 20+r.Float64()*180, 20+r.Float64()*180
		switch {
		case i == 0:
			lines = append(lines, "M83")
		case i%500 == 0:
			lines = append(lines, fmt.Sprintf("G1 Z%.2f F600", 0.2+float64(i/500)*0.2))
		case i%7 == 0:
			lines = append(lines, fmt.Sprintf("G1 X%.3f Y%.3f F7800", x, y))
		default:
			lines = append(lines, fmt.Sprintf("G1 X%.3f Y%.3f E.%05d", x, y, r.Intn(60000)))
		}
	}
	return lines
}

func streamOnce(b *testing.B, cfg vprinter.VirtualConfig, lines []string) (printerdrv.Summary, vprinter.Record) {
	b.Helper()
	p := printer(b, "ender3")
	cfg.Printer = p
	v := vprinter.NewVirtual(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	path, err := v.ServePTY(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { cancel(); v.Wait() }()
	port, err := printerdrv.Open(ctx, path, 115200)
	if err != nil {
		b.Fatal(err)
	}
	c, err := printerdrv.Connect(ctx, port, printerdrv.Options{Printer: p, StartWait: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	sum, err := c.Print(ctx, printerdrv.Job{Name: "bench", Lines: lines, Printer: p}, nil)
	if err != nil {
		b.Fatal(err)
	}
	rec := v.Record()
	if got := jobPart(rec.Commands); !slices.Equal(got, lines) {
		b.Fatalf("executed %d commands, sent %d: lost or repeated commands", len(got), len(lines))
	}
	if rec.OverflowBytes != 0 {
		b.Fatalf("RX buffer overflowed by %d bytes", rec.OverflowBytes)
	}
	return sum, rec
}

// BenchmarkStream100kPTY streams a 100k-line file over a pty to the
// instant virtual printer and reports commands per second.
func BenchmarkStream100kPTY(b *testing.B) {
	lines := benchLines(100_000)
	var total time.Duration
	for b.Loop() {
		sum, _ := streamOnce(b, vprinter.VirtualConfig{}, lines)
		total += sum.Duration
	}
	b.ReportMetric(float64(len(lines)*b.N)/total.Seconds(), "cmds/s")
}

// BenchmarkLinkUtilisation115200 limits the emulated link to 115200 baud
// (11520 B/s) with 2 ms ack latency and reports the share of that byte
// rate the host achieves.
func BenchmarkLinkUtilisation115200(b *testing.B) {
	lines := benchLines(3000)
	wire := 0
	for i, l := range lines {
		wire += len(gcode.FormatLine(i+3, l)) // M110, M115, M155 take lines 0-2
	}
	var total time.Duration
	for b.Loop() {
		sum, _ := streamOnce(b, vprinter.VirtualConfig{Baud: 115200, AckLatency: 2 * time.Millisecond}, lines)
		total += sum.Duration
	}
	bps := float64(wire*b.N) / total.Seconds()
	b.ReportMetric(bps, "B/s")
	b.ReportMetric(100*bps/11520, "%link")
	b.ReportMetric(float64(len(lines)*b.N)/total.Seconds(), "cmds/s")
}

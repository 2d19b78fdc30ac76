package localgrid

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/printerdrv/vprinter"
	"github.com/fabgrid/fabgrid/profile"
)

// A job printed through a PipePrinter's Link reaches its virtual printer,
// every command once, in order.
func TestPipePrinterPrintsThroughTheLink(t *testing.T) {
	prof, err := profile.LookupPrinter("ender3")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := StartPipePrinter(ctx, vprinter.VirtualConfig{Printer: prof, Speed: 1000}, printerdrv.Options{StartWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	job := []string{"G28", "G1 X10 Y10 F3000", "G1 X20 Y10"}
	sum, err := p.Link.PrintJob(ctx, "job", job, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Acked != sum.Commands {
		t.Fatalf("%d of %d commands acknowledged", sum.Acked, sum.Commands)
	}
	var got []string
	for _, c := range p.Record().Commands {
		if slices.Contains(job, c) {
			got = append(got, c)
		}
	}
	if !slices.Equal(got, job) {
		t.Fatalf("the printer ran %q, want %q", got, job)
	}
}

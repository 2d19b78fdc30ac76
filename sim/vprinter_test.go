package sim

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestVirtualPrinters runs the neighbourhood on printerdrv/vprinter's Marlin
// emulators fed by the real slicer over in-memory serial links, with a
// noisy line on one and a thermal runaway queued on another.
func TestVirtualPrinters(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Seed: 3, Coordinators: 3, Printers: 3, VirtualPrinters: 3, SpeedUp: 2000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ids := s.Fleet.IDs()
	if _, ok := s.Fleet.Printer(ids[0]).(*VirtualPrinter); !ok {
		t.Fatalf("printer %s is a %T, want a VirtualPrinter", ids[0], s.Fleet.Printer(ids[0]))
	}
	if _, err := s.InjectPrinterFault(ids[0], FaultNoisyLine); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InjectPrinterFault(ids[1], FaultThermalRunaway); err != nil {
		t.Fatal(err)
	}
	spacer := DefaultModels()[0]
	for i := range 3 {
		if _, err := s.Submit(ctx, spacer, PlannedOrder{Seq: i, Community: "makers", Quantity: 2, Material: "PLA"}); err != nil {
			t.Fatal(err)
		}
	}
	settleAndCheck(t, s)
	var done, resends int
	runaway := false
	for _, id := range ids {
		for _, r := range s.Fleet.Printer(id).Records() {
			if r.Outcome == "done" {
				done++
			}
			if r.Outcome == "failed" && strings.Contains(strings.ToLower(r.Reason), "thermal") {
				runaway = true
			}
			resends += r.Resends
		}
	}
	if !runaway {
		t.Fatal("the queued thermal runaway never stopped a print")
	}
	if done < 6 {
		t.Fatalf("%d prints finished on the virtual printers, want at least 6", done)
	}
	if resends == 0 {
		t.Fatal("the noisy line caused no resends")
	}
}

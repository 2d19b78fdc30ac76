package sim

import (
	"context"
	"strings"
	"testing"
	"time"
)

func logReport(t *testing.T, r Report) {
	t.Helper()
	var b strings.Builder
	_ = r.WriteText(&b)
	t.Log("\n" + b.String())
}

func requireOK(t *testing.T, r Report) {
	t.Helper()
	logReport(t, r)
	if !r.OK || r.Lost != 0 || r.Duplicated != 0 {
		t.Fatalf("invariants broken (seed %d)", r.Seed)
	}
	if r.Acknowledged == 0 {
		t.Fatalf("no order was acknowledged: the scenario tested nothing")
	}
}

func TestSmokeNoFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := Run(ctx, Scenario{
		Options:  Options{Seed: 1, Coordinators: 3, Printers: 6, SpeedUp: 2000, PETGFraction: 0.2, ManualClear: 0.3},
		Workload: WorkloadConfig{Orders: 12, PETGFraction: 0.2, CancelFraction: 0.1},
		Progress: func(s string) { t.Log(s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	requireOK(t, r)
	if r.OrdersDone == 0 {
		t.Fatal("no order finished")
	}
}

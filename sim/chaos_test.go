package sim

import (
	"context"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"
	"time"
)

// chaos is the combined fault load of the chaos tests: leader crashes,
// partitions, worker churn, printer faults and owner pauses together.
func chaos() Faults {
	return Faults{
		LeaderCrashEvery: 3 * time.Second, CoordinatorDowntime: time.Second,
		PartitionEvery: 4 * time.Second, PartitionFor: 1500 * time.Millisecond,
		WorkerChurn: 0.1, PrinterFaults: 0.1, OwnerPauses: 0.05,
	}
}

// TestChaos: 3 coordinators, 50 printers, 300 orders under every fault
// at once (20 printers and 100 orders under -short), with the gossip
// pool on; every invariant must hold.
func TestChaos(t *testing.T) {
	for _, seed := range []uint64{1} {
		printers, orders := 50, 300
		if testing.Short() {
			printers, orders = 20, 100
		}
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		r, err := Run(ctx, Scenario{
			Options: Options{Seed: seed, Coordinators: 3, Printers: printers, SpeedUp: 2000,
				PETGFraction: 0.2, ManualClear: 0.2, Gossip: true},
			Workload: WorkloadConfig{Orders: orders, BurstFraction: 0.2, PETGFraction: 0.15,
				DeadlineFraction: 0.3, CancelFraction: 0.03, Window: 8 * time.Second},
			Faults: chaos(), SettleTimeout: 90 * time.Second,
			Progress: func(s string) { t.Log(s) },
		})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		requireOK(t, r)
		if r.Faults["coordinator-crash"] == 0 || r.Faults["partition"] == 0 || r.Faults["worker-crash"] == 0 {
			t.Fatalf("seed %d: the fault load did not happen: %v", seed, r.Faults)
		}
	}
}

// TestSoak runs a longer, heavier chaos scenario when FABGRID_SOAK=1.
func TestSoak(t *testing.T) {
	if os.Getenv("FABGRID_SOAK") == "" {
		t.Skip("set FABGRID_SOAK=1 to run the soak")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	f := chaos()
	f.WorkerChurn, f.PrinterFaults = 0.2, 0.2
	r, err := Run(ctx, Scenario{
		Options:  Options{Seed: 99, Coordinators: 5, Printers: 150, SpeedUp: 1000, PETGFraction: 0.2, ManualClear: 0.2, Gossip: true},
		Workload: WorkloadConfig{Orders: 1500, BurstFraction: 0.3, PETGFraction: 0.2, DeadlineFraction: 0.3, CancelFraction: 0.05, Window: 60 * time.Second},
		Faults:   f, SettleTimeout: 10 * time.Minute,
		Progress: func(s string) { t.Log(s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	requireOK(t, r)
}

// TestSameSeedSamePlan: the workload and the fleet are a function of the
// seed alone.
func TestSameSeedSamePlan(t *testing.T) {
	cfg := WorkloadConfig{Orders: 200, BurstFraction: 0.3, PETGFraction: 0.2, DeadlineFraction: 0.3, CancelFraction: 0.1}
	plan := func(seed uint64) ([]PlannedOrder, []PrinterSpec) {
		return PlanWorkload(rand.New(rand.NewPCG(seed, 1)), cfg), PlanPrinters(rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), 50, 0.2, 0.2)
	}
	o1, p1 := plan(42)
	o2, p2 := plan(42)
	o3, _ := plan(43)
	if !reflect.DeepEqual(o1, o2) || !reflect.DeepEqual(p1, p2) {
		t.Fatal("the same seed planned different workloads")
	}
	if reflect.DeepEqual(o1, o3) {
		t.Fatal("different seeds planned the same workload")
	}
	if len(o1) != cfg.Orders {
		t.Fatalf("planned %d orders, want %d", len(o1), cfg.Orders)
	}
	for i := 1; i < len(o1); i++ {
		if o1[i].At < o1[i-1].At {
			t.Fatal("orders not in arrival order")
		}
	}
}

func TestJain(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 1}, {[]float64{1, 1, 1}, 1}, {[]float64{1, 0, 0, 0}, 0.25}, {[]float64{2, 1}, 0.9},
	} {
		if got := jain(tc.xs); got < tc.want-1e-9 || got > tc.want+1e-9 {
			t.Errorf("jain(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

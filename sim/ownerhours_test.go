package sim

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/hours"
)

// TestPlanOwnerHours: owners are spread over the zones, each window is
// read in its owner's zone (open now for most, opening in two hours for
// the few PLA printers chosen closed), and no PETG printer is closed.
func TestPlanOwnerHours(t *testing.T) {
	now := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC) // Madrid springs forward at 01:00 UTC
	specs := PlanPrinters(rand.New(rand.NewPCG(7, 1)), 200, 0.2, 0)
	PlanOwnerHours(rand.New(rand.NewPCG(7, 2)), specs, now, 0.1)
	zones := map[string]int{}
	var open, closed, always int
	for _, s := range specs {
		zones[s.Zone]++
		loc, err := hours.LoadZone(s.Zone)
		if err != nil {
			t.Fatalf("%s: zone %q: %v", s.ID, s.Zone, err)
		}
		w, err := hours.Parse(s.Hours, loc)
		if err != nil {
			t.Fatalf("%s: hours %q: %v", s.ID, s.Hours, err)
		}
		switch {
		case w.Always():
			always++
		case w.Open(now):
			open++
		default:
			closed++
			if s.Material != "PLA" {
				t.Errorf("%s (%s) is closed now: %s %s", s.ID, s.Material, s.Hours, s.Zone)
			}
			if !w.Open(now.Add(2*time.Hour+time.Minute)) || w.Open(now.Add(time.Hour)) {
				t.Errorf("%s: closed window %s %s should open two hours from now", s.ID, s.Hours, s.Zone)
			}
		}
	}
	if len(zones) != len(OwnerZones) {
		t.Errorf("owners in %d zones %v, want all %d", len(zones), zones, len(OwnerZones))
	}
	if open < 100 || closed == 0 || closed > 40 || always == 0 {
		t.Errorf("open %d, closed %d, always %d of 200", open, closed, always)
	}
}

// TestOwnersInManyZones: with owners spread over zones and daily windows
// (some closed for now), every copy still prints exactly once and every
// invariant holds; the closed printers are held back, not failed.
func TestOwnersInManyZones(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := Run(ctx, Scenario{
		Options:  Options{Seed: 3, Coordinators: 3, Printers: 12, SpeedUp: 2000, PETGFraction: 0.2, OwnerHours: true},
		Workload: WorkloadConfig{Orders: 20, PETGFraction: 0.2},
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

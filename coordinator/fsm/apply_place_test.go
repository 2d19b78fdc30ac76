package fsm

import (
	"testing"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// TestPlaceRechecksWithTheSchedulersRules: Apply commits a placement only
// if the scheduler's own feasibility rules still hold for it at the
// command's time (01:39 UTC on day 0 in mustApply). Before, the re-check
// looked at material, exclusions and an idle printer only, so a stale or
// hand-made plan could put a part on a bed too small for it, in the wrong
// colour or past the owner's limit. The owner's hours are the leader's
// check (TestHoursAreTheLeadersCheck): Apply places outside them.
func TestPlaceRechecksWithTheSchedulersRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		colour string // the order's
		worker func(w *Worker)
		placed bool
	}{
		{"fits", "", func(w *Worker) {}, true},
		{"bed too small", "", func(w *Worker) { w.BuildMM = [3]float64{200, 5, 200} }, false},
		{"bed too low", "", func(w *Worker) { w.BuildMM = [3]float64{200, 200, 4} }, false},
		{"other colour", "red", func(w *Worker) { w.Colour = "black" }, false},
		{"same colour", "red", func(w *Worker) { w.Colour = "Red" }, true},
		{"longer than the owner allows", "", func(w *Worker) { w.MaxJobHours = 0.001 }, false},
		{"outside hours, UTC", "", func(w *Worker) { w.Hours = "08:00-22:00" }, true},
		{"inside hours in Tokyo (09:01)", "", func(w *Worker) { w.Hours = "08:00-22:00"; w.Timezone = "Asia/Tokyo" }, true},
		{"outside hours in New York (19:01)", "", func(w *Worker) { w.Hours = "08:00-19:00"; w.Timezone = "America/New_York" }, true},
		{"a zone this system has no database for", "", func(w *Worker) { w.Hours = "08:00-09:00"; w.Timezone = "Nowhere/Atlantis" }, true},
		{"paused", "", func(w *Worker) { w.State = api.WorkerPaused }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := New(Options{})
			b := &logBuilder{}
			b.add(communityCmd("makers"))
			o := orderCmd("o-1", "makers", 1, true)
			o.Order.Order.Colour = tc.colour
			b.add(o)
			w := Worker{ID: "w-a", Name: "w-a", BuildMM: [3]float64{200, 200, 200}, NozzleMM: 0.4, Material: "PLA", State: api.WorkerIdle}
			tc.worker(&w)
			b.add(&Command{Type: CmdRegisterWorker, Worker: &WorkerCmd{Worker: w}})
			applyAll(t, f, b.cmds, 1)
			r := mustApply(t, f, &Command{Type: CmdPlace, Place: &PlaceCmd{Placements: []PlaceItem{{JobID: "o-1-1", WorkerID: "w-a"}}}})
			if placed := len(r.Placed) == 1; placed != tc.placed {
				t.Fatalf("placed %+v, want placed %v", r.Placed, tc.placed)
			}
			if j := job(f, "o-1-1"); (j.State == api.JobAssigned) != tc.placed {
				t.Fatalf("job %+v", j)
			}
		})
	}
}

// TestHoursAreTheLeadersCheck: the owner's hours, read in the owner's
// zone with this system's time zone database, are checked by the leader
// on the scheduler's view of the printer (SchedPrinter) before it
// proposes; Apply leaves them out so that replicas with different
// databases commit the same placements. A log from before the rules
// (RulesV1), whose windows are all in UTC, still has them re-checked in
// Apply, as it needs no database.
func TestHoursAreTheLeadersCheck(t *testing.T) {
	now := int64(99e9) // 01:39 UTC
	for _, tc := range []struct {
		name, hours, zone string
		open              bool
	}{
		{"UTC, closed", "08:00-22:00", "", false},
		{"Tokyo, open (10:39)", "08:00-22:00", "Asia/Tokyo", true},
		{"New York, closed (20:39)", "08:00-19:00", "America/New_York", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &Worker{ID: "w-a", BuildMM: [3]float64{200, 200, 200}, Material: "PLA", State: api.WorkerIdle, Hours: tc.hours, Timezone: tc.zone}
			sp := SchedPrinter(w)
			if sp.Hours == nil {
				t.Fatal("the leader's view has no hours")
			}
			if open := sp.Hours.Open(CommandTime(now)); open != tc.open {
				t.Fatalf("open %v, want %v", open, tc.open)
			}
		})
	}
	f := New(Options{})
	b := &logBuilder{}
	b.add(communityCmd("makers"))
	b.add(orderCmd("o-1", "makers", 1, true))
	b.add(&Command{Type: CmdRegisterWorker, Worker: &WorkerCmd{Worker: Worker{ID: "w-a", BuildMM: [3]float64{200, 200, 200}, Material: "PLA", State: api.WorkerIdle, Hours: "08:00-22:00"}}})
	applyAll(t, f, b.cmds, 1)
	if r := mustApplyRules(t, f, placeCmd("o-1-1", "w-a"), RulesV1); len(r.Placed) != 0 {
		t.Fatalf("RulesV1 placed outside a UTC window: %+v", r.Placed)
	}
}

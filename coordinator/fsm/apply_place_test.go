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
// colour, past the owner's limit or outside the owner's hours.
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
		{"outside hours, UTC", "", func(w *Worker) { w.Hours = "08:00-22:00" }, false},
		{"inside hours in Tokyo (09:01)", "", func(w *Worker) { w.Hours = "08:00-22:00"; w.Timezone = "Asia/Tokyo" }, true},
		{"outside hours in New York (19:01)", "", func(w *Worker) { w.Hours = "08:00-19:00"; w.Timezone = "America/New_York" }, false},
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

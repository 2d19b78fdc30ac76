package fsm

import (
	"slices"
	"time"

	"github.com/fabgrid/fabgrid/hours"
	"github.com/fabgrid/fabgrid/scheduler"
)

// The scheduler's view of the state: a job and a worker's printer as
// package scheduler reads them. The leader plans a round on them
// (coordinator's snapshotFor) and Apply re-checks each placement of the
// plan on them with the scheduler's own rules (placeable,
// scheduler.Feasible), so the plan and its re-check cannot disagree
// about a rule. The one rule Apply leaves to the leader is the owner's
// hours, which need the time zone database (see placeable).

// SchedJob is job j of order o for the scheduler.
func SchedJob(s *State, o *Order, j *Job) scheduler.Job {
	var m Model
	if mm := s.Models[o.ModelSHA256]; mm != nil {
		m = *mm
	}
	return scheduler.Job{
		ID: j.ID, OrderID: o.ID, Community: o.Community, Material: o.Material, Colour: o.Colour,
		SizeMM: m.SizeMM, EstSeconds: j.EstSeconds, VolumeMM3: m.VolumeMM3, SurfaceMM2: m.SurfaceMM2,
		Deadline: o.DeadlineUnix, Submitted: o.Created / int64(time.Second), Attempts: j.Attempts,
		Excluded: slices.Clone(j.Excluded),
	}
}

// SchedJobAt is SchedJob as the leader plans it at now (unix ns): the
// printers that refused the copy for a passing reason are excluded until
// their backoff ends, and every printer of a worker token that failed
// the copy is excluded.
func SchedJobAt(s *State, o *Order, j *Job, now int64) scheduler.Job {
	sj := SchedJob(s, o, j)
	if len(j.FailedTokens) > 0 {
		for _, id := range SortedKeys(s.Workers) {
			if s.tokenFailed(j, s.Workers[id]) && !slices.Contains(sj.Excluded, id) {
				sj.Excluded = append(sj.Excluded, id)
			}
		}
	}
	for _, sk := range j.Skips {
		if sk.Until > now && !slices.Contains(sj.Excluded, sk.WorkerID) {
			sj.Excluded = append(sj.Excluded, sk.WorkerID)
		}
	}
	return sj
}

// SchedPrinter is worker w's printer as the leader plans on it, its hours
// read in its zone with the system's time zone database. Apply never
// calls it (placeable): the database is outside the replicated state.
func SchedPrinter(w *Worker) scheduler.Printer {
	return schedPrinter(w, parseHours(w.Hours, w.Timezone))
}

// schedPrinter is worker w's printer with the window h (nil: any time).
func schedPrinter(w *Worker, h *hours.Window) scheduler.Printer {
	return scheduler.Printer{
		WorkerID: w.ID, Profile: w.Profile, BuildMM: w.BuildMM, NozzleMM: w.NozzleMM, Material: w.Material,
		Colour: w.Colour, State: scheduler.PrinterState(w.State), MaxJobSeconds: w.MaxJobHours * 3600,
		Successes: w.Successes, Failures: w.Failures, Neighbourhood: w.Neighbourhood, Hours: h,
	}
}

// parseHours reads a registered window ("08:00-22:00") with package
// hours, in the worker's zone ("" = UTC, as registrations without one;
// registration refuses unknown zones); a window it refuses means any time.
func parseHours(h, zone string) *hours.Window {
	loc, err := hours.LoadZone(zone)
	if err != nil {
		loc = time.UTC
	}
	w, err := hours.Parse(h, loc)
	if err != nil || w.Always() {
		return nil
	}
	return &w
}

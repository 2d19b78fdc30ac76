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
// about a rule.

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

// SchedPrinter is worker w's printer for the scheduler.
func SchedPrinter(w *Worker) scheduler.Printer {
	return scheduler.Printer{
		WorkerID: w.ID, Profile: w.Profile, BuildMM: w.BuildMM, NozzleMM: w.NozzleMM, Material: w.Material,
		Colour: w.Colour, State: scheduler.PrinterState(w.State), MaxJobSeconds: w.MaxJobHours * 3600,
		Successes: w.Successes, Failures: w.Failures, Neighbourhood: w.Neighbourhood, Hours: parseHours(w.Hours, w.Timezone),
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

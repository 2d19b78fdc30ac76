package coordinator

import (
	"slices"
	"sort"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/hours"
	"github.com/fabgrid/fabgrid/scheduler"
)

// Placer plans one placement round; package scheduler provides the real
// one.
type Placer interface {
	Place(*scheduler.Snapshot) scheduler.Plan
}

// DefaultPlacer is the placer a Node uses unless Config.Placer is set:
// package scheduler's fair, deadline-aware placement.
var DefaultPlacer Placer = schedulerPlacer{}

// schedulerPlacer is scheduler.Place as a Placer.
type schedulerPlacer struct{}

var _ Placer = schedulerPlacer{}

func (schedulerPlacer) Place(s *scheduler.Snapshot) scheduler.Plan { return scheduler.Place(s) }

// anyIdle reports whether some printer could take a job now.
func anyIdle(s *State) bool {
	for _, w := range s.Workers {
		if w.State == api.WorkerIdle && w.Job == "" {
			return true
		}
	}
	return false
}

// snapshotFor builds the scheduler's view of the state at time now.
func snapshotFor(s *State, now time.Time) *scheduler.Snapshot {
	snap := &scheduler.Snapshot{Now: now.Unix(), Seed: int64(s.Epoch)}
	// Only open orders have pending jobs; walking them avoids sorting
	// every job ever submitted on each round.
	var pending []*Job
	for _, o := range s.Orders {
		if o.State != api.OrderOpen {
			continue
		}
		for _, j := range s.orderJobs(o) {
			if j.State == api.JobPending {
				pending = append(pending, j)
			}
		}
	}
	sort.Slice(pending, func(a, b int) bool { return pending[a].ID < pending[b].ID })
	for _, j := range pending {
		o := s.Orders[j.OrderID]
		var m Model
		if mm := s.Models[o.ModelSHA256]; mm != nil {
			m = *mm
		}
		snap.Jobs = append(snap.Jobs, scheduler.Job{
			ID: j.ID, OrderID: o.ID, Community: o.Community, Material: o.Material, Colour: o.Colour,
			SizeMM: m.SizeMM, EstSeconds: j.EstSeconds, VolumeMM3: m.VolumeMM3, SurfaceMM2: m.SurfaceMM2,
			Deadline: o.DeadlineUnix, Submitted: o.Created / int64(time.Second), Attempts: j.Attempts,
			Excluded: slices.Clone(j.Excluded),
		})
	}
	for _, id := range sortedKeys(s.Workers) {
		w := s.Workers[id]
		p := scheduler.Printer{
			WorkerID: w.ID, Profile: w.Profile, BuildMM: w.BuildMM, NozzleMM: w.NozzleMM, Material: w.Material,
			Colour: w.Colour, State: scheduler.PrinterState(w.State), MaxJobSeconds: w.MaxJobHours * 3600,
			Successes: w.Successes, Failures: w.Failures, Neighbourhood: w.Neighbourhood, Hours: parseHours(w.Hours, w.Timezone),
		}
		snap.Printers = append(snap.Printers, p)
	}
	for _, name := range sortedKeys(s.Communities) {
		c := s.Communities[name]
		snap.Communities = append(snap.Communities, scheduler.Community{Name: c.Name, Weight: c.Weight, UsedPrinterSeconds: c.UsedSeconds})
	}
	return snap
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

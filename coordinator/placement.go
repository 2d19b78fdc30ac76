package coordinator

import (
	"sort"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
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
func anyIdle(s *fsm.State) bool {
	for _, w := range s.Workers {
		if w.State == api.WorkerIdle && w.Job == "" {
			return true
		}
	}
	return false
}

// snapshotFor builds the scheduler's view of the state at time now.
func snapshotFor(s *fsm.State, now time.Time) *scheduler.Snapshot {
	snap := &scheduler.Snapshot{Now: now.Unix(), Seed: int64(s.Epoch)}
	// Only open orders have pending jobs; walking them avoids sorting
	// every job ever submitted on each round.
	var pending []*fsm.Job
	for _, o := range s.Orders {
		if o.State != api.OrderOpen {
			continue
		}
		for _, j := range s.OrderJobs(o) {
			if j.State == api.JobPending {
				pending = append(pending, j)
			}
		}
	}
	sort.Slice(pending, func(a, b int) bool { return pending[a].ID < pending[b].ID })
	for _, j := range pending {
		snap.Jobs = append(snap.Jobs, fsm.SchedJobAt(s, s.Orders[j.OrderID], j, now.UnixNano()))
	}
	for _, id := range fsm.SortedKeys(s.Workers) {
		snap.Printers = append(snap.Printers, fsm.SchedPrinter(s.Workers[id]))
	}
	for _, name := range fsm.SortedKeys(s.Communities) {
		c := s.Communities[name]
		snap.Communities = append(snap.Communities, scheduler.Community{Name: c.Name, Weight: c.Weight, UsedPrinterSeconds: c.UsedSeconds})
	}
	return snap
}

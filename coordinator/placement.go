package coordinator

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/fabgrid/fabgrid/scheduler"
)

// Placer plans one placement round. Package scheduler provides the real
// one; FirstFit is the simple fallback with the same shape.
type Placer interface {
	Place(*scheduler.Snapshot) scheduler.Plan
}

// PlacerFunc adapts a function to Placer.
type PlacerFunc func(*scheduler.Snapshot) scheduler.Plan

var _ Placer = PlacerFunc(nil)

// Place calls f.
func (f PlacerFunc) Place(s *scheduler.Snapshot) scheduler.Plan { return f(s) }

// DefaultPlacer is the placer a Node uses unless Config.Placer is set:
// package scheduler's fair, deadline-aware placement.
var DefaultPlacer Placer = PlacerFunc(scheduler.Place)

// FirstFit places each pending job, oldest first, on the first idle
// printer (by ID) whose build volume holds the part (turned 90° about Z
// if needed), with the material (and colour, when asked) loaded and that
// the job has not failed on. It gives every unplaced job a reason.
func FirstFit(s *scheduler.Snapshot) scheduler.Plan {
	jobs := slices.Clone(s.Jobs)
	sort.SliceStable(jobs, func(a, b int) bool {
		if jobs[a].Submitted != jobs[b].Submitted {
			return jobs[a].Submitted < jobs[b].Submitted
		}
		return jobs[a].ID < jobs[b].ID
	})
	printers := slices.Clone(s.Printers)
	sort.Slice(printers, func(a, b int) bool { return printers[a].ID < printers[b].ID })
	taken := map[string]bool{}
	var plan scheduler.Plan
	for _, j := range jobs {
		placedOn, rank := "", 0
		for _, p := range printers {
			r, ok := fitRank(j, p)
			if r > rank {
				rank = r
			}
			if !ok || p.State != scheduler.StateIdle || taken[p.ID] {
				continue
			}
			placedOn = p.ID
			break
		}
		if placedOn != "" {
			taken[placedOn] = true
			plan.Placements = append(plan.Placements, scheduler.Placement{JobID: j.ID, PrinterID: placedOn, EstSeconds: j.EstSeconds})
			continue
		}
		code := []string{scheduler.CodeNoPrinter, scheduler.CodeTooLarge, scheduler.CodeNoMaterial, scheduler.CodeNoColour, scheduler.CodeExcluded, scheduler.CodeWaiting}[rank]
		plan.Unplaced = append(plan.Unplaced, scheduler.Unplaced{JobID: j.ID, Code: code, Reason: reasonText(code, j)})
	}
	return plan
}

// fitRank says how far a printer gets in fitting a job (1 = online, 2 =
// size fits, 3 = material, 4 = colour, 5 = not excluded) and whether it
// fits fully.
func fitRank(j scheduler.Job, p scheduler.Printer) (int, bool) {
	if p.State == scheduler.StateOffline {
		return 0, false
	}
	x, y, z := j.SizeMM[0], j.SizeMM[1], j.SizeMM[2]
	b := p.BuildMM
	if z > b[2] || !(x <= b[0] && y <= b[1] || y <= b[0] && x <= b[1]) {
		return 1, false
	}
	if !strings.EqualFold(j.Material, p.Material) {
		return 2, false
	}
	if j.Colour != "" && !strings.EqualFold(j.Colour, p.Colour) {
		return 3, false
	}
	if slices.Contains(j.Excluded, p.ID) {
		return 4, false
	}
	return 5, true
}

func reasonText(code string, j scheduler.Job) string {
	switch code {
	case scheduler.CodeNoPrinter:
		return "no printer is online; the job waits for one to register"
	case scheduler.CodeTooLarge:
		return fmt.Sprintf("the part (%.0f×%.0f×%.0f mm) fits no online printer's build volume", j.SizeMM[0], j.SizeMM[1], j.SizeMM[2])
	case scheduler.CodeNoMaterial:
		return "no online printer has " + j.Material + " loaded"
	case scheduler.CodeNoColour:
		return "no online printer has " + j.Material + " in " + j.Colour + " loaded"
	case scheduler.CodeExcluded:
		return "every fitting printer already failed this job; waiting for another"
	default:
		return "every fitting printer is busy or awaiting bed clear; the job waits its turn"
	}
}

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
		o := s.Orders[j.OrderID]
		var m fsm.Model
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
	for _, id := range fsm.SortedKeys(s.Workers) {
		w := s.Workers[id]
		p := scheduler.Printer{
			ID: w.ID, Profile: w.Profile, BuildMM: w.BuildMM, NozzleMM: w.NozzleMM, Material: w.Material,
			Colour: w.Colour, State: scheduler.PrinterState(w.State), MaxJobSeconds: w.MaxJobHours * 3600,
			Successes: w.Successes, Failures: w.Failures, Neighbourhood: w.Neighbourhood, Hours: parseHours(w.Hours),
		}
		snap.Printers = append(snap.Printers, p)
	}
	for _, name := range fsm.SortedKeys(s.Communities) {
		c := s.Communities[name]
		snap.Communities = append(snap.Communities, scheduler.Community{Name: c.Name, Weight: c.Weight, UsedPrinterSeconds: c.UsedSeconds})
	}
	return snap
}

// parseHours reads "08:00-22:00"; anything else means any time.
func parseHours(h string) *scheduler.Window {
	a, b, ok := strings.Cut(h, "-")
	if !ok {
		return nil
	}
	s, ok1 := hhmm(a)
	e, ok2 := hhmm(b)
	if !ok1 || !ok2 {
		return nil
	}
	return &scheduler.Window{StartMin: s, EndMin: e}
}

func hhmm(s string) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return 0, false
	}
	hi, err1 := strconv.Atoi(h)
	mi, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hi < 0 || hi > 24 || mi < 0 || mi > 59 {
		return 0, false
	}
	return hi*60 + mi, true
}

package scheduler

import (
	"fmt"
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/fabgrid/fabgrid/hours"
)

// genSnapshot draws small snapshots from narrow domains, so that jobs and
// printers collide on every attribute and shrink to readable cases.
func genSnapshot(t *rapid.T) *Snapshot {
	materials := []string{"PLA", "pla", "PETG"}
	colours := []string{"", "red", "Red", "blue"}
	nP := rapid.IntRange(0, 12).Draw(t, "printers")
	nJ := rapid.IntRange(0, 20).Draw(t, "jobs")
	s := &Snapshot{
		Now:  day0 + rapid.Int64Range(0, secondsPerDay-1).Draw(t, "now"),
		Seed: rapid.Int64().Draw(t, "seed"),
	}
	if rapid.Bool().Draw(t, "communities") {
		s.Communities = []Community{
			{Name: "a", Weight: rapid.Float64Range(0, 3).Draw(t, "wa"), UsedPrinterSeconds: rapid.Float64Range(0, 1e5).Draw(t, "ua")},
			{Name: "b", Weight: rapid.Float64Range(0, 3).Draw(t, "wb"), Neighbourhood: "n1"},
		}
	}
	for i := range nP {
		p := Printer{
			WorkerID:      fmt.Sprintf("p%d", rapid.IntRange(0, 14).Draw(t, "pid")), // duplicates possible
			BuildMM:       [3]float64{rapid.SampledFrom([]float64{100, 200, 300}).Draw(t, "bx"), rapid.SampledFrom([]float64{100, 200, 300}).Draw(t, "by"), rapid.SampledFrom([]float64{100, 200, 300}).Draw(t, "bz")},
			NozzleMM:      rapid.SampledFrom([]float64{0.4, 0.6}).Draw(t, "pn"),
			Material:      rapid.SampledFrom(materials).Draw(t, "pm"),
			Colour:        rapid.SampledFrom(colours).Draw(t, "pc"),
			State:         rapid.SampledFrom([]PrinterState{StateIdle, StateIdle, StateBusy, StateAwaitingBedClear, StatePaused, StateOffline, "bogus"}).Draw(t, "ps"),
			BusyUntil:     s.Now + rapid.Int64Range(-100, 1e5).Draw(t, "pbu"),
			MaxJobSeconds: rapid.SampledFrom([]float64{0, 3600, 20000}).Draw(t, "pmax"),
			SpeedFactor:   rapid.SampledFrom([]float64{0, 1, 2, 0.5}).Draw(t, "psf"),
			Successes:     rapid.IntRange(0, 20).Draw(t, "psucc"),
			Failures:      rapid.IntRange(0, 20).Draw(t, "pfail"),
			Neighbourhood: rapid.SampledFrom([]string{"", "n1", "n2"}).Draw(t, "phood"),
		}
		if rapid.Bool().Draw(t, "hours") {
			p.Hours = &hours.Window{StartMin: rapid.IntRange(-100, 1600).Draw(t, "hs"), EndMin: rapid.IntRange(0, 1440).Draw(t, "he")}
		}
		_ = i
		s.Printers = append(s.Printers, p)
	}
	for i := range nJ {
		j := Job{
			ID:            fmt.Sprintf("j%d", i), // duplicates: TestDuplicateJobID
			Community:     rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "jc"),
			Material:      rapid.SampledFrom(append(materials, "")).Draw(t, "jm"),
			Colour:        rapid.SampledFrom(colours).Draw(t, "jcol"),
			SizeMM:        [3]float64{rapid.Float64Range(0, 320).Draw(t, "sx"), rapid.Float64Range(0, 320).Draw(t, "sy"), rapid.Float64Range(0, 320).Draw(t, "sz")},
			NozzleMM:      rapid.SampledFrom([]float64{0, 0.4, 0.6}).Draw(t, "jn"),
			EstSeconds:    rapid.SampledFrom([]float64{0, 600, 3600, 30000}).Draw(t, "jest"),
			VolumeMM3:     rapid.Float64Range(0, 1e6).Draw(t, "jv"),
			SurfaceMM2:    rapid.Float64Range(0, 1e5).Draw(t, "js"),
			Deadline:      rapid.SampledFrom([]int64{0, s.Now + 100, s.Now + 5000}).Draw(t, "jd"),
			Submitted:     rapid.Int64Range(0, 10).Draw(t, "jsub"),
			Neighbourhood: rapid.SampledFrom([]string{"", "n1", "n2"}).Draw(t, "jhood"),
		}
		if len(s.Printers) > 0 && rapid.Bool().Draw(t, "excl") {
			j.Excluded = []string{s.Printers[rapid.IntRange(0, len(s.Printers)-1).Draw(t, "ex")].WorkerID}
		}
		s.Jobs = append(s.Jobs, j)
	}
	return s
}

// firstCopies are the printers Place considers: the first of each ID.
func firstCopies(s *Snapshot) map[string]*Printer {
	out := map[string]*Printer{}
	for i := range s.Printers {
		if _, ok := out[s.Printers[i].WorkerID]; !ok {
			out[s.Printers[i].WorkerID] = &s.Printers[i]
		}
	}
	return out
}

func TestPropertyPlan(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSnapshot(t)
		checkPlan(t, s, Place(s))
	})
}

// fataler is what checkPlan needs from *testing.T and *rapid.T.
type fataler interface {
	Fatalf(format string, args ...any)
}

// checkPlan asserts the plan's invariants for snapshot s: deterministic,
// every job once, no printer twice, never an infeasible placement,
// maximal (no unplaced job fits a printer left idle), and every reason
// agreeing with a brute-force check on whether the job could ever wait
// for a printer.
func checkPlan(t fataler, s *Snapshot, plan Plan) {
	if again := Place(s); !reflect.DeepEqual(plan, again) {
		t.Fatalf("same snapshot gave two plans:\n%+v\n%+v", plan, again)
	}
	if got := len(plan.Placements) + len(plan.Unplaced); got != len(s.Jobs) {
		t.Fatalf("plan covers %d jobs, snapshot has %d", got, len(s.Jobs))
	}
	jobs := map[string]*Job{}
	for i := range s.Jobs {
		if _, ok := jobs[s.Jobs[i].ID]; !ok {
			jobs[s.Jobs[i].ID] = &s.Jobs[i]
		}
	}
	byID := firstCopies(s)
	usedP, placedJ := map[string]bool{}, map[string]bool{}
	for _, pl := range plan.Placements {
		if usedP[pl.WorkerID] {
			t.Fatalf("printer %s got two jobs", pl.WorkerID)
		}
		if placedJ[pl.JobID] {
			t.Fatalf("job %s placed twice", pl.JobID)
		}
		usedP[pl.WorkerID], placedJ[pl.JobID] = true, true
		if code := Feasible(jobs[pl.JobID], byID[pl.WorkerID], s.Now); code != "" {
			t.Fatalf("infeasible placement %+v: %s", pl, code)
		}
	}
	for _, u := range plan.Unplaced {
		if u.Reason == "" || u.Code == "" {
			t.Fatalf("unplaced %s without a reason", u.JobID)
		}
		if u.Code == CodeInvalid {
			continue
		}
		j := jobs[u.JobID]
		canWait := false
		for _, p := range byID {
			code := Feasible(j, p, s.Now)
			if code == "" && !usedP[p.WorkerID] {
				t.Fatalf("job %s (%s: %s) fits idle printer %s that stayed free", u.JobID, u.Code, u.Reason, p.WorkerID)
			}
			if (code == "" || code == CodeWaiting) && online(p.State) {
				canWait = true
			}
		}
		if canWait != (u.Code == CodeWaiting) {
			t.Fatalf("job %s: code %s (%s), but brute force says waiting=%v", u.JobID, u.Code, u.Reason, canWait)
		}
	}
}

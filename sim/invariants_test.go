package sim

import (
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// The checkers catch what they are for: after a clean run every invariant
// holds, and each tampering below — with the printers' records or with
// the coordinators' states as Check reads them — breaks exactly the
// invariant meant to catch it. Every invariant is shown to fire. Before,
// "no copy counted done twice" counted jobs per copy in the state, where
// each copy is one job: it could not fail.
func TestCheckDetectsViolations(t *testing.T) {
	t.Parallel()
	s := startSmall(t, 1, 0)
	submit(t, s, 1, 1)
	settleAndCheck(t, s)

	p := s.Fleet.Printer(s.Fleet.IDs()[0]).(*SimPrinter)
	recs := p.Records()
	if len(recs) == 0 {
		t.Fatal("the printer has no print record")
	}
	done := recs[len(recs)-1]

	for _, tc := range []struct {
		name   string
		tamper func() (undo func())
		broken string
	}{
		{"acknowledged order missing", func() func() {
			s.mu.Lock()
			s.acked["o-never-stored"] = AckedOrder{ID: "o-never-stored", Community: "makers", Quantity: 1, At: time.Now()}
			s.mu.Unlock()
			return func() {
				s.mu.Lock()
				delete(s.acked, "o-never-stored")
				s.mu.Unlock()
			}
		}, InvNoLostOrders},
		{"two prints at once", func() func() {
			overlap := done
			overlap.Job = "j-overlapping"
			overlap.Outcome = "failed"
			overlap.Start = done.Start.Add(done.End.Sub(done.Start) / 2)
			overlap.End = done.End.Add(time.Second)
			return p.appendRecord(overlap)
		}, InvOneJobPerPrinter},
		{"a print the coordinators never heard of", func() func() {
			ghost := done
			ghost.Job = "j-ghost"
			ghost.Start, ghost.End = done.End.Add(time.Hour), done.End.Add(2*time.Hour)
			return p.appendRecord(ghost)
		}, InvPrintersAgree},
		{"one copy printed to the end twice", func() func() {
			again := done
			again.Start, again.End = done.End.Add(time.Hour), done.End.Add(2*time.Hour)
			return p.appendRecord(again)
		}, InvNoDoubleCount},
		{"a job left pending", func() func() {
			return tamperStates(s, func(st *stateCopy) { addOrder(st, "o-stuck", fsm.Job{State: api.JobPending}) })
		}, InvJobsFinished},
		{"a job failed without reasons", func() func() {
			return tamperStates(s, func(st *stateCopy) { addOrder(st, "o-failed", fsm.Job{State: api.JobFailed}) })
		}, InvJobsFinished},
		{"two coordinators disagree", func() func() {
			s.tamper = func(states []stateCopy) {
				o := states[len(states)-1].orders
				for id, v := range o {
					v.PickupNote += " (changed on one replica)"
					o[id] = v
				}
			}
			return func() { s.tamper = nil }
		}, InvReplicasAgree},
	} {
		undo := tc.tamper()
		for _, r := range s.Check() {
			if want := r.Name != tc.broken; r.OK != want {
				t.Errorf("%s: invariant %s ok=%v, want %v (%v)", tc.name, r.Name, r.OK, want, r.Details)
			}
		}
		undo()
	}
	for _, r := range s.Check() {
		if !r.OK {
			t.Fatalf("after undoing the tampering, %s broke: %v", r.Name, r.Details)
		}
	}
}

// tamperStates changes every coordinator's state as Check reads it; undo
// stops.
func tamperStates(s *Sim, fn func(st *stateCopy)) (undo func()) {
	s.tamper = func(states []stateCopy) {
		for i := range states {
			fn(&states[i])
		}
	}
	return func() { s.tamper = nil }
}

// addOrder adds a one-copy order whose job is j to a state copy.
func addOrder(st *stateCopy, id string, j fsm.Job) {
	j.ID, j.OrderID, j.Copy = id+"-1", id, 1
	st.jobs[j.ID] = j
	st.orders[id] = fsm.Order{ID: id, Community: "makers", Quantity: 1, State: api.OrderOpen, JobIDs: []string{j.ID}}
}

// appendRecord adds a record as if the printer had made it; undo removes it.
func (p *SimPrinter) appendRecord(r PrintRecord) (undo func()) {
	p.mu.Lock()
	p.records = append(p.records, r)
	n := len(p.records)
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		p.records = append(p.records[:n-1], p.records[n:]...)
		p.mu.Unlock()
	}
}

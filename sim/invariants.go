package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// Invariant names.
const (
	InvNoLostOrders     = "no-acknowledged-order-lost"
	InvNoDoubleCount    = "no-copy-counted-done-twice"
	InvJobsFinished     = "every-job-done-cancelled-or-failed-with-reasons"
	InvOneJobPerPrinter = "no-printer-given-two-jobs-at-once"
	InvPrintersAgree    = "printer-records-agree-with-coordinators"
	InvReplicasAgree    = "coordinators-agree"
)

// InvariantResult is one checked invariant.
type InvariantResult struct {
	Name       string   `json:"name"`
	OK         bool     `json:"ok"`
	Violations int      `json:"violations"`
	Details    []string `json:"details,omitempty"`
}

type checker struct {
	res map[string]*InvariantResult
}

func (c *checker) fail(name, format string, args ...any) {
	r := c.res[name]
	r.OK = false
	r.Violations++
	if len(r.Details) < 10 {
		r.Details = append(r.Details, fmt.Sprintf(format, args...))
	}
}

// stateCopy is what the checks read of one coordinator's state.
type stateCopy struct {
	node   string
	index  uint64
	orders map[string]fsm.Order
	jobs   map[string]fsm.Job
	// workers maps a worker id to its name (the printer's NodeID).
	workers map[string]string
	blob    []byte // orders and jobs, canonical JSON, for comparison
}

func copyState(n *coordinator.Node) stateCopy {
	sc := stateCopy{node: n.ID(), index: n.FSM().Index(), orders: map[string]fsm.Order{},
		jobs: map[string]fsm.Job{}, workers: map[string]string{}}
	n.FSM().View(func(st *fsm.State) {
		for id, o := range st.Orders {
			sc.orders[id] = *o
		}
		for id, j := range st.Jobs {
			sc.jobs[id] = *j
		}
		for id, w := range st.Workers {
			sc.workers[id] = w.Name
		}
	})
	sc.reblob()
	return sc
}

// reblob encodes the orders and jobs for comparison.
func (sc *stateCopy) reblob() {
	sc.blob, _ = json.Marshal(struct {
		O map[string]fsm.Order
		J map[string]fsm.Job
	}{sc.orders, sc.jobs})
}

// Check runs every invariant over the current state: call it after the
// scenario settled and every node caught up (CheckAfterSettle does that).
func (s *Sim) Check() []InvariantResult {
	c := &checker{res: map[string]*InvariantResult{}}
	names := []string{InvNoLostOrders, InvNoDoubleCount, InvJobsFinished, InvOneJobPerPrinter, InvPrintersAgree, InvReplicasAgree}
	for _, n := range names {
		c.res[n] = &InvariantResult{Name: n, OK: true}
	}
	var states []stateCopy
	for _, n := range s.Cluster.live() {
		states = append(states, copyState(n))
	}
	if s.tamper != nil {
		s.tamper(states)
		for i := range states {
			states[i].reblob()
		}
	}
	if len(states) == 0 {
		c.fail(InvNoLostOrders, "no coordinator is running")
	}
	acked := s.Acked()
	ackedIDs := make([]string, 0, len(acked))
	for id := range acked {
		ackedIDs = append(ackedIDs, id)
	}
	sort.Strings(ackedIDs)

	// 1. Every acknowledged order is on every live coordinator, as ordered.
	for _, st := range states {
		for _, id := range ackedIDs {
			o, ok := st.orders[id]
			switch {
			case !ok:
				c.fail(InvNoLostOrders, "%s: acknowledged order %s missing", st.node, id)
			case o.Community != acked[id].Community || o.Quantity != acked[id].Quantity:
				c.fail(InvNoLostOrders, "%s: order %s is %s×%d, acknowledged as %s×%d", st.node, id, o.Community, o.Quantity, acked[id].Community, acked[id].Quantity)
			}
		}
	}
	// Replicas agree on orders and jobs.
	for _, st := range states[min(1, len(states)):] {
		if !bytes.Equal(st.blob, states[0].blob) {
			c.fail(InvReplicasAgree, "%s (index %d) and %s (index %d) differ in orders or jobs", states[0].node, states[0].index, st.node, st.index)
		}
	}
	if len(states) == 0 {
		return c.list(names)
	}
	st := states[0]

	// The printers' own records: every print of a job that ran to the
	// end. A superseded print that was stopped ends cancelled, not done.
	printed := map[string][]PrintRecord{} // job → done prints
	for _, id := range s.Fleet.IDs() {
		for _, r := range s.Fleet.Printer(id).Records() {
			if r.Outcome == "done" {
				printed[r.Job] = append(printed[r.Job], r)
			}
		}
	}

	// 2 and 3: per order, each copy printed to the end at most once (the
	// printers' records) and counted done once; every job finished,
	// failures with reasons.
	for _, oid := range sortedIDs(st.orders) {
		o := st.orders[oid]
		if len(o.JobIDs) != o.Quantity {
			c.fail(InvNoDoubleCount, "order %s has %d jobs for %d copies", oid, len(o.JobIDs), o.Quantity)
		}
		for _, jid := range o.JobIDs {
			recs := printed[jid]
			if len(recs) < 2 {
				continue
			}
			// A print goes on while its worker is cut off; once its
			// lease is lost (requeued after lost-after of silence) a
			// holder that finishes before it can be told makes a second
			// full print nobody could stop. Any other second full print
			// is a violation: a superseded holder that could be told
			// must have stopped.
			var who []string
			outlived := 0
			for _, r := range recs {
				w := string(r.Printer)
				if lostLease(st, jid, r.Printer) {
					w += " (lease lost while it printed)"
					outlived++
				}
				who = append(who, w)
			}
			if len(recs)-outlived > 1 {
				c.fail(InvNoDoubleCount, "copy %s was printed to the end %d times (%v)", jid, len(recs), who)
			}
		}
		copies := map[int]int{}
		for _, jid := range o.JobIDs {
			j, ok := st.jobs[jid]
			if !ok {
				c.fail(InvJobsFinished, "order %s: job %s missing", oid, jid)
				continue
			}
			if j.State == api.JobDone {
				copies[j.Copy]++
			}
			switch j.State {
			case api.JobDone, api.JobCancelled:
			case api.JobFailed:
				if len(j.Failures) == 0 {
					c.fail(InvJobsFinished, "job %s failed without reasons", jid)
				}
				for _, f := range j.Failures {
					if f.Reason == "" {
						c.fail(InvJobsFinished, "job %s: failure on %s without a reason", jid, f.Printer)
					}
				}
			default:
				c.fail(InvJobsFinished, "job %s is still %s (printer %q, attempts %d)", jid, j.State, j.WorkerID, j.Attempts)
			}
		}
		for cp, k := range copies {
			if k > 1 {
				c.fail(InvNoDoubleCount, "order %s copy %d counted done %d times", oid, cp, k)
			}
		}
		if o.State == api.OrderDone && len(copies) != o.Quantity {
			c.fail(InvNoDoubleCount, "order %s done with %d of %d copies", oid, len(copies), o.Quantity)
		}
	}

	// 4. No printer printed two jobs at once (the printers' own records)
	// and the leader never showed a printer holding two active jobs.
	for _, id := range s.Fleet.IDs() {
		p := s.Fleet.Printer(id)
		for _, o := range p.Overlaps() {
			c.fail(InvOneJobPerPrinter, "%s", o)
		}
		recs := p.Records()
		sort.Slice(recs, func(a, b int) bool { return recs[a].Start.Before(recs[b].Start) })
		for k := 1; k < len(recs); k++ {
			if recs[k].Start.Before(recs[k-1].End) {
				c.fail(InvOneJobPerPrinter, "%s printed %s and %s at once", id, recs[k-1].Job, recs[k].Job)
			}
		}
	}
	_, _, doubles, _ := s.mon.result()
	for _, d := range doubles {
		c.fail(InvOneJobPerPrinter, "leader state: %s", d)
	}

	// 5. The printers' records agree: every done job was printed to the
	// end by the printer credited with it; every print that ended well is
	// a done (or cancelled) job, unless its worker crashed before it could
	// say so.
	for _, jid := range sortedIDs(st.jobs) {
		j := st.jobs[jid]
		if j.State != api.JobDone {
			continue
		}
		name := st.workers[j.WorkerID]
		found := false
		for _, r := range printed[jid] {
			if string(r.Printer) == name {
				found = true
			}
		}
		if !found {
			c.fail(InvPrintersAgree, "job %s is done on %s (%s) but that printer has no finished print of it", jid, j.WorkerID, name)
		}
	}
	for _, jid := range sortedIDs(printed) {
		j, ok := st.jobs[jid]
		if ok && (j.State == api.JobDone || j.State == api.JobCancelled) {
			continue
		}
		for _, r := range printed[jid] {
			if !s.Fleet.crashedDuring(r.Printer, jid) {
				state := "unknown"
				if ok {
					state = j.State
				}
				c.fail(InvPrintersAgree, "%s finished %s but the coordinators have it %s", r.Printer, jid, state)
			}
		}
	}
	return c.list(names)
}

// lostLease reports whether printer's lease of job was lost: the
// coordinators requeued the copy after its worker went silent.
func lostLease(st stateCopy, job string, printer NodeID) bool {
	for _, f := range st.jobs[job].Failures {
		if st.workers[f.Printer] == string(printer) && strings.HasPrefix(f.Reason, "lost: ") {
			return true
		}
	}
	return false
}

func (c *checker) list(names []string) []InvariantResult {
	out := make([]InvariantResult, 0, len(names))
	for _, n := range names {
		out = append(out, *c.res[n])
	}
	return out
}

func sortedIDs[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// crashedDuring reports whether printer id's worker crashed while the
// printer printed job (then a finished print may never have been reported).
func (f *Fleet) crashedDuring(id NodeID, job string) bool {
	sw, err := f.get(id)
	if err != nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return sw.crashedDuring[job]
}

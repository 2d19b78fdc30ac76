package scheduler

import (
	"math"
)

// scarceShare: a job that fewer than this share of the online printers
// carrying its material can print (a big part, a rare nozzle or colour) is
// offered printers before the others in a round, so that flexible jobs do
// not take the few printers it could use while it waits behind them.
const scarceShare = 0.25

// jobStatus is where a job of the snapshot stands in the round.
type jobStatus uint8

const (
	jobPending jobStatus = iota // not placed (yet): gets a reason
	jobPlaced                   // in Plan.Placements
	jobInvalid                  // malformed or a duplicate id: CodeInvalid
)

// Place plans one round: it offers idle printers to pending jobs in fair
// order (see the fair queue; scarce jobs first) and gives each job the free
// feasible printer with the earliest expected completion (print time on
// that printer over its reliability, favouring its neighbourhood and
// keeping big beds for big parts), at most one job per printer. Every job
// it does not place is listed in Plan.Unplaced with a reason. Place only
// reads s; a nil snapshot gives an empty plan.
func Place(s *Snapshot) Plan {
	if s == nil {
		return Plan{}
	}
	x := newIndex(s)
	refProf := refProfileOrDefault()
	mats := materials{}

	q := fairQueue{refs: make([]jobRef, len(s.Jobs))}
	commIdx := make(map[string]int32, len(s.Communities))
	var hoods []string
	for _, c := range s.Communities {
		if _, dup := commIdx[c.Name]; dup {
			continue
		}
		w := weightOf(c.Weight)
		commIdx[c.Name] = int32(len(q.comms))
		q.comms = append(q.comms, community{
			name: c.Name, weight: w, vtime: nonNeg(c.UsedPrinterSeconds) / w,
			tie: tieHash(s.Seed, c.Name),
		})
		hoods = append(hoods, x.norm(c.Neighbourhood))
	}

	status := make([]jobStatus, len(s.Jobs))
	refs := q.refs
	seen := make(map[string]struct{}, len(s.Jobs))
	plan := Plan{Unplaced: make([]Unplaced, 0, len(s.Jobs))}
	for i := range s.Jobs {
		j := &s.Jobs[i]
		if _, dup := seen[j.ID]; dup || validJob(j) != "" {
			status[i] = jobInvalid
			continue
		}
		seen[j.ID] = struct{}{}
		ci, ok := commIdx[j.Community]
		if !ok {
			ci = int32(len(q.comms))
			commIdx[j.Community] = ci
			q.comms = append(q.comms, community{name: j.Community, weight: 1, tie: tieHash(s.Seed, j.Community)})
			hoods = append(hoods, "")
		}
		long, short, height := footprint(j.SizeMM)
		r := jobRef{
			idx: int32(i), comm: ci, deadline: j.Deadline,
			ref: jobRefSeconds(j, refProf, mats), tie: tieHash(s.Seed, j.ID),
			material: x.norm(j.Material), colour: x.norm(j.Colour), hood: x.norm(j.Neighbourhood),
			nozzle: j.NozzleMM, long: long, short: short, height: height,
		}
		r.order = float64(j.Submitted) - r.ref
		if r.deadline <= 0 {
			r.deadline = math.MaxInt64
		}
		if r.hood == "" {
			r.hood = hoods[ci]
		}
		if fit, all := x.reach(&r); float64(fit) < scarceShare*float64(all) {
			r.scarce = true
		}
		refs[i] = r
		q.comms[ci].jobs = append(q.comms[ci].jobs, int32(i))
	}
	// Two passes over the same communities: scarce jobs, then the rest;
	// the virtual times carry over.
	rest := fairQueue{refs: refs, comms: make([]community, len(q.comms))}
	for ci := range q.comms {
		c := &q.comms[ci]
		rest.comms[ci] = *c
		rest.comms[ci].jobs = nil
		n := 0
		for _, ji := range c.jobs {
			if refs[ji].scarce {
				c.jobs[n] = ji
				n++
			} else {
				rest.comms[ci].jobs = append(rest.comms[ci].jobs, ji)
			}
		}
		c.jobs = c.jobs[:n]
	}
	plan.Placements = make([]Placement, 0, min(x.idleLeft, len(s.Jobs)))
	hopeless := map[sig]struct{}{}
	q.init()
	x.drain(s, &q, hopeless, status, &plan)
	for ci := range q.comms {
		rest.comms[ci].vtime = q.comms[ci].vtime
	}
	rest.init()
	x.drain(s, &rest, hopeless, status, &plan)

	ex := newExplainer(x, s)
	for i := range s.Jobs {
		switch status[i] {
		case jobPlaced:
			continue
		case jobInvalid:
			plan.Unplaced = append(plan.Unplaced, invalidReason(&s.Jobs[i], seen))
		default:
			code, reason := ex.explain(&refs[i], &s.Jobs[i])
			plan.Unplaced = append(plan.Unplaced, Unplaced{JobID: s.Jobs[i].ID, Code: code, Reason: reason})
		}
	}
	return plan
}

// drain offers free printers to q's jobs in order until either runs out.
// hopeless remembers job shapes that found no printer: printers are only
// taken within a round, so they never will.
func (x *index) drain(s *Snapshot, q *fairQueue, hopeless map[sig]struct{}, status []jobStatus, plan *Plan) {
	for x.idleLeft > 0 {
		_, j := q.peek()
		if j == nil {
			break
		}
		excl := s.Jobs[j.idx].Excluded
		var js sig
		if len(excl) == 0 {
			js = j.sig()
			if _, ok := hopeless[js]; ok {
				q.advance(0)
				continue
			}
		}
		p, _ := x.best(j, excl)
		if p < 0 {
			if len(excl) == 0 {
				hopeless[js] = struct{}{}
			}
			q.advance(0)
			continue
		}
		x.take(p)
		secs := j.ref / x.classes[x.class[p]].key.speed
		status[j.idx] = jobPlaced
		plan.Placements = append(plan.Placements, Placement{JobID: s.Jobs[j.idx].ID, WorkerID: s.Printers[p].WorkerID, EstSeconds: secs})
		q.advance(secs)
	}
}

// nonNeg maps negative, NaN and infinite values to 0.
func nonNeg(v float64) float64 {
	if v > 0 && !math.IsInf(v, 0) {
		return v
	}
	return 0
}

package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// Report is a scenario's outcome.
type Report struct {
	Seed         uint64  `json:"seed"`
	Coordinators int     `json:"coordinators"`
	Printers     int     `json:"printers"`
	Orders       int     `json:"orders"`
	SpeedUp      float64 `json:"speed_up"`

	Acknowledged int `json:"acknowledged"`
	SubmitErrors int `json:"submit_errors"`
	Cancelled    int `json:"cancel_requests"`

	OrdersDone      int `json:"orders_done"`
	OrdersCancelled int `json:"orders_cancelled"`
	OrdersFailed    int `json:"orders_failed"`
	OrdersOpen      int `json:"orders_open"`
	JobsDone        int `json:"jobs_done"`
	JobsCancelled   int `json:"jobs_cancelled"`
	JobsFailed      int `json:"jobs_failed"`

	// Makespan: first submission to the last job finished, in simulated
	// hours (real seconds × SpeedUp) and in real seconds.
	MakespanSimHours    float64 `json:"makespan_sim_hours"`
	MakespanRealSeconds float64 `json:"makespan_real_seconds"`
	// Utilisation: simulated printing time of all prints (failed ones
	// too) over printers × makespan.
	Utilisation float64 `json:"utilisation"`
	// Fairness: Jain's index over communities of printer time per unit of
	// weight (1 = perfectly weighted-fair).
	FairnessJain float64          `json:"fairness_jain"`
	Communities  []CommunityStats `json:"communities"`

	// Failovers: leader changes seen; FailoverMS the leaderless gaps.
	Failovers  int       `json:"failovers"`
	FailoverMS []float64 `json:"failover_ms"`
	// Requeues: extra assignments of jobs (lease lost, failure, restart);
	// PrintFailures: failures recorded on jobs.
	Requeues      int `json:"requeues"`
	PrintFailures int `json:"print_failures"`
	// SurplusPrints: prints that finished but did not count (a copy
	// printed twice after a requeue, or cancelled).
	SurplusPrints int            `json:"surplus_prints"`
	Faults        map[string]int `json:"faults"`
	// Gossip is what the gossip pool's network carried (Options.Gossip).
	Gossip *GossipStats `json:"gossip,omitempty"`

	Invariants []InvariantResult `json:"invariants"`
	// Lost and Duplicated are the violations of the two first invariants.
	Lost       int  `json:"lost"`
	Duplicated int  `json:"duplicated"`
	OK         bool `json:"ok"`
	// Varies names the figures that depend on real timing and may differ
	// between runs of the same seed.
	Varies []string `json:"varies_between_runs"`
}

// GossipStats counts the gossip pool's traffic: packets delivered, lost
// over cut links or to crashed members, and streams (joins, push/pull).
type GossipStats struct {
	Packets int64 `json:"packets"`
	Lost    int64 `json:"lost"`
	Streams int64 `json:"streams"`
}

// CommunityStats is one community's share.
type CommunityStats struct {
	Name         string  `json:"name"`
	Weight       float64 `json:"weight"`
	Orders       int     `json:"orders"`
	JobsDone     int     `json:"jobs_done"`
	PrinterHours float64 `json:"printer_hours"`
}

// varies lists the timing-dependent figures of a Report.
var varies = []string{"makespan_sim_hours", "makespan_real_seconds", "utilisation", "fairness_jain",
	"communities.printer_hours", "failovers", "failover_ms", "requeues", "print_failures", "surplus_prints",
	"faults (targets hit while printing)", "submit_errors", "gossip"}

// report builds the report from the leader's (or any live node's) state.
func (s *Sim) report(seed uint64, orders int, first, last time.Time) Report {
	r := Report{Seed: seed, Coordinators: len(s.Cluster.ids), Printers: len(s.Fleet.IDs()), Orders: orders,
		SpeedUp: s.opts.SpeedUp, Faults: map[string]int{}, Varies: varies}
	r.Acknowledged = len(s.Acked())
	if s.gossip != nil {
		st := s.gossip.stats()
		r.Gossip = &GossipStats{Packets: st.Packets, Lost: st.Lost + st.Dropped, Streams: st.Streams}
	}
	var n *coordinator.Node
	if li := s.Cluster.LeaderIndex(); li >= 0 {
		n = s.Cluster.Node(li)
	} else if live := s.Cluster.live(); len(live) > 0 {
		n = live[0]
	}
	used := map[string]float64{}
	ordersBy := map[string]int{}
	jobsBy := map[string]int{}
	if n != nil {
		n.FSM().View(func(st *fsm.State) {
			for _, o := range st.Orders {
				ordersBy[o.Community]++
				switch o.State {
				case api.OrderDone:
					r.OrdersDone++
				case api.OrderCancelled:
					r.OrdersCancelled++
				case api.OrderFailed:
					r.OrdersFailed++
				default:
					r.OrdersOpen++
				}
			}
			for _, j := range st.Jobs {
				switch j.State {
				case api.JobDone:
					r.JobsDone++
					if o := st.Orders[j.OrderID]; o != nil {
						jobsBy[o.Community]++
					}
				case api.JobCancelled:
					r.JobsCancelled++
				case api.JobFailed:
					r.JobsFailed++
				}
				r.Requeues += max(0, len(j.Assignments)-1)
				r.PrintFailures += len(j.Failures)
			}
			for name, c := range st.Communities {
				used[name] = c.UsedSeconds
			}
		})
	}
	busy := 0.0
	donePrints := 0
	for _, id := range s.Fleet.IDs() {
		for _, rec := range s.Fleet.Printer(id).Records() {
			busy += rec.SimSeconds * min(1, rec.End.Sub(rec.Start).Seconds()*s.opts.SpeedUp/max(rec.SimSeconds, 1e-9))
			if rec.Outcome == "done" {
				donePrints++
			}
		}
	}
	r.SurplusPrints = max(0, donePrints-r.JobsDone)
	if !first.IsZero() && last.After(first) {
		r.MakespanRealSeconds = last.Sub(first).Seconds()
		r.MakespanSimHours = r.MakespanRealSeconds * s.opts.SpeedUp / 3600
		if r.Printers > 0 {
			r.Utilisation = busy / (float64(r.Printers) * r.MakespanRealSeconds * s.opts.SpeedUp)
		}
	}
	var xs []float64
	for _, c := range s.opts.Communities {
		cs := CommunityStats{Name: c.Name, Weight: c.Weight, Orders: ordersBy[c.Name], JobsDone: jobsBy[c.Name], PrinterHours: used[c.Name] / 3600}
		r.Communities = append(r.Communities, cs)
		if c.Weight > 0 && cs.Orders > 0 {
			xs = append(xs, used[c.Name]/c.Weight)
		}
	}
	r.FairnessJain = jain(xs)
	changes, gaps, _, _ := s.mon.result()
	r.Failovers = changes
	for _, g := range gaps {
		r.FailoverMS = append(r.FailoverMS, float64(g.Milliseconds()))
	}
	s.mu.Lock()
	for _, e := range s.events {
		r.Faults[e.Kind]++
	}
	s.mu.Unlock()
	return r
}

// jain is Jain's fairness index of xs: (Σx)² / (n·Σx²).
func jain(xs []float64) float64 {
	if len(xs) == 0 {
		return 1
	}
	var s, s2 float64
	for _, x := range xs {
		s += x
		s2 += x * x
	}
	if s2 == 0 {
		return 1
	}
	return s * s / (float64(len(xs)) * s2)
}

// finish fills in the invariant results.
func (r *Report) finish(inv []InvariantResult) {
	r.Invariants = inv
	r.OK = true
	for _, i := range inv {
		if !i.OK {
			r.OK = false
		}
		switch i.Name {
		case InvNoLostOrders:
			r.Lost = i.Violations
		case InvNoDoubleCount:
			r.Duplicated = i.Violations
		}
	}
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// WriteText writes the report for people.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "fabgrid sim  seed %d: %d coordinators, %d printers, %d orders, printing %.0f× real time\n",
		r.Seed, r.Coordinators, r.Printers, r.Orders, r.SpeedUp)
	fmt.Fprintf(&b, "orders      acknowledged %d (submit errors %d, cancel requests %d); done %d, cancelled %d, failed %d, open %d\n",
		r.Acknowledged, r.SubmitErrors, r.Cancelled, r.OrdersDone, r.OrdersCancelled, r.OrdersFailed, r.OrdersOpen)
	fmt.Fprintf(&b, "jobs        done %d, cancelled %d, failed %d; requeues %d, print failures %d, surplus prints %d\n",
		r.JobsDone, r.JobsCancelled, r.JobsFailed, r.Requeues, r.PrintFailures, r.SurplusPrints)
	fmt.Fprintf(&b, "makespan    %.1f simulated hours (%.1f s real); utilisation %.0f%%\n", r.MakespanSimHours, r.MakespanRealSeconds, 100*r.Utilisation)
	fmt.Fprintf(&b, "fairness    Jain %.3f over printer time per weight\n", r.FairnessJain)
	for _, c := range r.Communities {
		fmt.Fprintf(&b, "            %-12s weight %-4g orders %-5d copies done %-5d printer hours %.1f\n", c.Name, c.Weight, c.Orders, c.JobsDone, c.PrinterHours)
	}
	fmt.Fprintf(&b, "failovers   %d leader changes; leaderless gaps %s\n", r.Failovers, msSummary(r.FailoverMS))
	kinds := make([]string, 0, len(r.Faults))
	for k := range r.Faults {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var fs []string
	for _, k := range kinds {
		fs = append(fs, fmt.Sprintf("%s %d", k, r.Faults[k]))
	}
	fmt.Fprintf(&b, "faults      %s\n", strings.Join(fs, ", "))
	if g := r.Gossip; g != nil {
		fmt.Fprintf(&b, "gossip      %d packets delivered, %d lost (cut links, crashes, full queues), %d streams\n", g.Packets, g.Lost, g.Streams)
	}
	fmt.Fprintf(&b, "invariants  lost %d, duplicated %d\n", r.Lost, r.Duplicated)
	for _, i := range r.Invariants {
		mark := "ok  "
		if !i.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s %s", mark, i.Name)
		if !i.OK {
			fmt.Fprintf(&b, " (%d)", i.Violations)
		}
		b.WriteString("\n")
		for _, d := range i.Details {
			fmt.Fprintf(&b, "         %s\n", d)
		}
	}
	if r.OK {
		b.WriteString("result      all invariants hold\n")
	} else {
		fmt.Fprintf(&b, "result      INVARIANT BROKEN; replay with --seed %d\n", r.Seed)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func msSummary(ms []float64) string {
	if len(ms) == 0 {
		return "none"
	}
	s := append([]float64(nil), ms...)
	sort.Float64s(s)
	return fmt.Sprintf("%d, median %.0f ms, max %.0f ms", len(s), s[len(s)/2], s[len(s)-1])
}

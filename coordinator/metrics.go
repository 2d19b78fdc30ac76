package coordinator

import (
	"io"
	"net/http"
	"strings"
	"sync"

	vmetrics "github.com/VictoriaMetrics/metrics"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/hashicorp/raft"
)

// metrics are one node's Prometheus metrics, in a set of their own so
// several nodes can live in one process. Served at GET /metrics:
//
//	fabgrid_coordinator_apply_seconds            histogram: time from proposing a command to its commit and apply
//	fabgrid_coordinator_commands_applied_total   counter{outcome,type}: commands applied by the FSM
//	fabgrid_coordinator_placements_total         counter: jobs placed on printers by this node as leader
//	fabgrid_coordinator_lease_expiries_total     counter: leases expired by this node as leader
//	fabgrid_orders                               gauge{state}: orders by state, read at each scrape
//	fabgrid_jobs                                 gauge{state}: jobs by state, read at each scrape
//	fabgrid_workers                              gauge{state}: workers by state, read at each scrape
//	fabgrid_raft_state                           gauge{state}: 1 for this node's raft state
//	fabgrid_raft_commit_index                    gauge: raft commit index
type metrics struct {
	set           *vmetrics.Set
	applyLatency  *vmetrics.PrometheusHistogram
	placements    *vmetrics.Counter
	leaseExpiries *vmetrics.Counter
	applied       sync.Map // appliedKey → *vmetrics.Counter
	n             *Node
}

func newMetrics(n *Node) *metrics {
	// Process-wide and idempotent: TYPE lines (and HELP lines, which the
	// library leaves without text; the table above says what each means).
	vmetrics.ExposeMetadata(true)
	s := vmetrics.NewSet()
	m := &metrics{
		set:           s,
		applyLatency:  s.NewPrometheusHistogramExt("fabgrid_coordinator_apply_seconds", vmetrics.ExponentialBuckets(0.0005, 2, 14)),
		placements:    s.NewCounter("fabgrid_coordinator_placements_total"),
		leaseExpiries: s.NewCounter("fabgrid_coordinator_lease_expiries_total"),
		n:             n,
	}
	s.RegisterMetricsWriter(m.writeState)
	return m
}

func (m *metrics) observeApply(typ string, r fsm.ApplyResult) {
	outcome := "ok"
	if r.Err != nil {
		outcome = "refused"
	}
	k := appliedKey{typ, outcome}
	c, ok := m.applied.Load(k)
	if !ok {
		c, _ = m.applied.LoadOrStore(k, m.set.GetOrCreateCounter(series("fabgrid_coordinator_commands_applied_total", "outcome", outcome, "type", typ)))
	}
	c.(*vmetrics.Counter).Inc()
}

// appliedKey picks a commands-applied counter; the counters are kept by key
// so the FSM's apply path builds no series name once a pair has been seen.
type appliedKey struct{ typ, outcome string }

var (
	orderStates = []string{api.OrderOpen, api.OrderDone, api.OrderCancelled, api.OrderFailed}
	jobStates   = []string{api.JobPending, api.JobAssigned, api.JobSlicing, api.JobPrinting, api.JobDone, api.JobFailed, api.JobCancelled}
	raftStates  = []raft.RaftState{raft.Follower, raft.Candidate, raft.Leader, raft.Shutdown}
)

// writeState writes the state gauges, read from the FSM and raft at each
// scrape into a set made for that scrape.
func (m *metrics) writeState(w io.Writer) {
	orders, jobs, workers := map[string]int{}, map[string]int{}, map[string]int{}
	m.n.fsm.View(func(s *fsm.State) {
		for _, o := range s.Orders {
			orders[o.State]++
		}
		for _, j := range s.Jobs {
			jobs[j.State]++
		}
		for _, w := range s.Workers {
			workers[w.State]++
		}
	})
	s := vmetrics.NewSet()
	byState(s, "fabgrid_orders", orderStates, orders)
	byState(s, "fabgrid_jobs", jobStates, jobs)
	byState(s, "fabgrid_workers", nil, workers)
	current := m.n.raft.State()
	for _, st := range raftStates {
		s.NewGauge(series("fabgrid_raft_state", "state", st.String()), nil).Set(b2f(current == st))
	}
	s.NewGauge("fabgrid_raft_commit_index", nil).Set(float64(m.n.raft.CommitIndex()))
	s.WritePrometheus(w)
}

// byState adds family{state=…} gauges to s: one per known state, zero when
// nothing is in it, and one per other state that counts holds.
func byState(s *vmetrics.Set, family string, known []string, counts map[string]int) {
	for _, st := range known {
		s.NewGauge(series(family, "state", st), nil)
	}
	for st, c := range counts {
		s.GetOrCreateGauge(series(family, "state", st), nil).Set(float64(c))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (m *metrics) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m.set.WritePrometheus(w)
	})
}

// series names one series of family from label name and value pairs,
// family{name="value",…}, with each value escaped as the Prometheus text
// format wants, so any string from the replicated state (a command type, a
// record's state) makes a valid name.
func series(family string, pairs ...string) string {
	var b strings.Builder
	b.WriteString(family)
	b.WriteByte('{')
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(pairs[i])
		b.WriteString(`="`)
		labelEscaper.WriteString(&b, strings.ToValidUTF8(pairs[i+1], "\uFFFD"))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// labelEscaper escapes a label value: the text format's three escapes.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

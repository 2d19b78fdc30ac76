package coordinator

import (
	"net/http"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are one node's Prometheus metrics, in a registry of its own so
// several nodes can live in one process.
type metrics struct {
	reg           *prometheus.Registry
	applyLatency  prometheus.Histogram
	applied       *prometheus.CounterVec
	placements    prometheus.Counter
	leaseExpiries prometheus.Counter
	orders        *prometheus.GaugeVec
	jobs          *prometheus.GaugeVec
	workers       *prometheus.GaugeVec
	raftState     *prometheus.GaugeVec
	commitIndex   prometheus.Gauge
	n             *Node
}

func newMetrics(n *Node) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		n:   n,
		applyLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "fabgrid_coordinator_apply_seconds", Help: "Time from proposing a command to its commit and apply.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		applied:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fabgrid_coordinator_commands_applied_total", Help: "Commands applied by the FSM, by type and outcome."}, []string{"type", "outcome"}),
		placements:    prometheus.NewCounter(prometheus.CounterOpts{Name: "fabgrid_coordinator_placements_total", Help: "Jobs placed on printers by this node as leader."}),
		leaseExpiries: prometheus.NewCounter(prometheus.CounterOpts{Name: "fabgrid_coordinator_lease_expiries_total", Help: "Leases expired by this node as leader."}),
		orders:        prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fabgrid_orders", Help: "Orders by state."}, []string{"state"}),
		jobs:          prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fabgrid_jobs", Help: "Jobs by state."}, []string{"state"}),
		workers:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fabgrid_workers", Help: "Workers by state."}, []string{"state"}),
		raftState:     prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fabgrid_raft_state", Help: "1 for this node's raft state."}, []string{"state"}),
		commitIndex:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "fabgrid_raft_commit_index", Help: "Raft commit index."}),
	}
	m.reg.MustRegister(m.applyLatency, m.applied, m.placements, m.leaseExpiries, m.orders, m.jobs, m.workers, m.raftState, m.commitIndex)
	return m
}

func (m *metrics) observeApply(typ string, r ApplyResult) {
	outcome := "ok"
	if r.Err != nil {
		outcome = "refused"
	}
	m.applied.WithLabelValues(typ, outcome).Inc()
}

// refresh sets the state gauges just before a scrape.
func (m *metrics) refresh() {
	m.orders.Reset()
	m.jobs.Reset()
	m.workers.Reset()
	for _, st := range []string{api.OrderOpen, api.OrderDone, api.OrderCancelled, api.OrderFailed} {
		m.orders.WithLabelValues(st)
	}
	for _, st := range []string{api.JobPending, api.JobAssigned, api.JobSlicing, api.JobPrinting, api.JobDone, api.JobFailed, api.JobCancelled} {
		m.jobs.WithLabelValues(st)
	}
	m.n.fsm.View(func(s *State) {
		for _, o := range s.Orders {
			m.orders.WithLabelValues(o.State).Inc()
		}
		for _, j := range s.Jobs {
			m.jobs.WithLabelValues(j.State).Inc()
		}
		for _, w := range s.Workers {
			m.workers.WithLabelValues(w.State).Inc()
		}
	})
	m.raftState.Reset()
	for _, st := range []raft.RaftState{raft.Follower, raft.Candidate, raft.Leader, raft.Shutdown} {
		v := 0.0
		if m.n.raft.State() == st {
			v = 1
		}
		m.raftState.WithLabelValues(st.String()).Set(v)
	}
	m.commitIndex.Set(float64(m.n.raft.CommitIndex()))
}

func (m *metrics) handler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.refresh()
		h.ServeHTTP(w, r)
	})
}

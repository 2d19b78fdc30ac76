package worker

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The worker's health and metrics, served beside the owner's controls:
//
//	GET /v1/health → {"status":"ok","worker_id",…}
//	GET /metrics   → Prometheus text, read from the worker's Status at
//	                 each scrape (no counters kept apart from the state).

var (
	descRegistered = prometheus.NewDesc("fabgrid_worker_registered",
		"1 while the worker is registered with the coordinators.", nil, nil)
	descPhase = prometheus.NewDesc("fabgrid_worker_phase",
		"1 for the worker's current phase (idle, fetching, slicing, printing, stopping, awaiting-bed-clear).", []string{"phase"}, nil)
	descPaused = prometheus.NewDesc("fabgrid_worker_paused",
		"1 while the owner has paused the printer.", nil, nil)
	descJobPercent = prometheus.NewDesc("fabgrid_worker_job_percent",
		"Progress of the job being printed, 0-100.", nil, nil)
	descJobETA = prometheus.NewDesc("fabgrid_worker_job_eta_seconds",
		"Estimated time left of the job being printed.", nil, nil)
	descTemp = prometheus.NewDesc("fabgrid_worker_temperature_celsius",
		"Last reported temperature of the printer.", []string{"heater"}, nil)
)

var allPhases = []Phase{PhaseIdle, PhaseFetching, PhaseSlicing, PhasePrinting, PhaseStopping, PhaseAwaitingBedClear}

// statusCollector turns the worker's Status into metrics at scrape time.
type statusCollector struct{ w *Worker }

var _ prometheus.Collector = statusCollector{}

func (statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRegistered, descPhase, descPaused, descJobPercent, descJobETA, descTemp} {
		ch <- d
	}
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := c.w.Status(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descPhase, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descRegistered, prometheus.GaugeValue, b2f(c.w.sess.registered.Load()))
	for _, p := range allPhases {
		ch <- prometheus.MustNewConstMetric(descPhase, prometheus.GaugeValue, b2f(s.Phase == p), string(p))
	}
	ch <- prometheus.MustNewConstMetric(descPaused, prometheus.GaugeValue, b2f(s.Paused))
	if j := s.Job; j != nil {
		ch <- prometheus.MustNewConstMetric(descJobPercent, prometheus.GaugeValue, j.Percent)
		ch <- prometheus.MustNewConstMetric(descJobETA, prometheus.GaugeValue, j.ETAS)
		ch <- prometheus.MustNewConstMetric(descTemp, prometheus.GaugeValue, j.HotendC, "hotend")
		ch <- prometheus.MustNewConstMetric(descTemp, prometheus.GaugeValue, j.BedC, "bed")
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricsHandler serves the worker's metrics and the Go runtime's.
func metricsHandler(w *Worker) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(statusCollector{w}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// Health is what GET /v1/health answers.
type Health struct {
	Status     string `json:"status"` // "ok"
	WorkerID   string `json:"worker_id"`
	Name       string `json:"name"`
	Phase      Phase  `json:"phase"`
	Registered bool   `json:"registered"`
	Gossip     string `json:"gossip"`
}

func healthHandler(w *Worker) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		s, err := w.Status(r.Context())
		if err != nil {
			writeErr(rw, http.StatusServiceUnavailable, "unavailable", err.Error())
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(Health{Status: "ok", WorkerID: s.WorkerID, Name: w.cfg.Name, Phase: s.Phase,
			Registered: w.sess.registered.Load(), Gossip: w.gossipState()})
	}
}

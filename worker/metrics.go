package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// The worker's health and metrics, served beside the owner's controls:
//
//	GET /v1/health → {"status":"ok","worker_id",…}
//	GET /metrics   → Prometheus text, read from the worker's Status at
//	                 each scrape (no counters kept apart from the state),
//	                 then the Go runtime's and the process's metrics.
//
// The worker's own metrics, all gauges:
//
//	fabgrid_worker_registered                  1 while the worker is registered with the coordinators
//	fabgrid_worker_phase{phase}                1 for the worker's current phase (idle, fetching, slicing, printing, stopping, awaiting-bed-clear)
//	fabgrid_worker_paused                      1 while the owner has paused the printer
//	fabgrid_worker_job_percent                 progress of the job being printed, 0-100
//	fabgrid_worker_job_eta_seconds             estimated time left of the job being printed
//	fabgrid_worker_temperature_celsius{heater} last reported temperature of the printer (hotend, bed)

var allPhases = []Phase{PhaseIdle, PhaseFetching, PhaseSlicing, PhasePrinting, PhaseStopping, PhaseAwaitingBedClear}

// statusMetrics turns the worker's Status into metrics, in a set made for
// one scrape. Phases and heaters are fixed identifiers, for which %q is the
// text format's quoting.
func statusMetrics(s Status, registered bool) *metrics.Set {
	set := metrics.NewSet()
	set.NewGauge("fabgrid_worker_registered", nil).Set(b2f(registered))
	for _, p := range allPhases {
		set.NewGauge(fmt.Sprintf("fabgrid_worker_phase{phase=%q}", p), nil).Set(b2f(s.Phase == p))
	}
	set.NewGauge("fabgrid_worker_paused", nil).Set(b2f(s.Paused))
	if j := s.Job; j != nil {
		set.NewGauge("fabgrid_worker_job_percent", nil).Set(j.Percent)
		set.NewGauge("fabgrid_worker_job_eta_seconds", nil).Set(j.ETAS)
		set.NewGauge(`fabgrid_worker_temperature_celsius{heater="hotend"}`, nil).Set(j.HotendC)
		set.NewGauge(`fabgrid_worker_temperature_celsius{heater="bed"}`, nil).Set(j.BedC)
	}
	return set
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricsHandler serves the worker's metrics and the Go runtime's.
func metricsHandler(w *Worker) http.Handler {
	// Process-wide and idempotent: TYPE lines (and HELP lines, which the
	// library leaves without text; the table above says what each means).
	metrics.ExposeMetadata(true)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		s, err := w.Status(ctx)
		if err != nil {
			http.Error(rw, "worker status: "+err.Error(), http.StatusInternalServerError)
			return
		}
		rw.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		statusMetrics(s, w.sess.registered.Load()).WritePrometheus(rw)
		metrics.WriteProcessMetrics(rw)
		metrics.WriteFDMetrics(rw)
	})
}

// Health is what GET /v1/health answers.
type Health struct {
	Status     string `json:"status"` // "ok"
	WorkerID   string `json:"worker_id"`
	Name       string `json:"name"`
	Phase      Phase  `json:"phase"`
	Registered bool   `json:"registered"`
	// RegisterError is why the coordinators refused or could not take
	// the last registration (a printer name taken by another worker
	// token, no coordinator reachable); empty once registered.
	RegisterError string `json:"register_error,omitempty"`
	Gossip        string `json:"gossip"`
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
			Registered: w.sess.registered.Load(), RegisterError: w.sess.registerError(), Gossip: w.gossipState()})
	}
}

package localgrid

import (
	"context"
	"fmt"

	"github.com/fabgrid/fabgrid/worker"
)

// Worker is a worker.Worker running in this process until Stop or Kill.
type Worker struct {
	*worker.Worker
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// StartWorker makes a worker of cfg that reaches the coordinators through
// coord, prints on p and slices with s, and runs it until Stop, Kill or
// the end of ctx. An error that ends Run is logged to cfg.Logger.
func StartWorker(ctx context.Context, cfg worker.Config, coord worker.Coordinator, p worker.Printer, s worker.Slicer) (*Worker, error) {
	w, err := worker.New(cfg, coord, p, s)
	if err != nil {
		return nil, fmt.Errorf("localgrid: worker %s: %w", cfg.Name, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	lw := &Worker{Worker: w, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(lw.done)
		if lw.err = w.Run(ctx); lw.err != nil && cfg.Logger != nil {
			cfg.Logger.Error("worker stopped", "err", lw.err)
		}
	}()
	return lw, nil
}

// Cancel asks the worker to stop cleanly (as Ctrl-C does); Done says when
// it has.
func (w *Worker) Cancel() { w.cancel() }

// Done is closed once the worker's Run has returned.
func (w *Worker) Done() <-chan struct{} { return w.done }

// Err is what Run returned, once Done is closed.
func (w *Worker) Err() error { return w.err }

// Stop stops the worker cleanly and waits for it.
func (w *Worker) Stop() error {
	w.cancel()
	<-w.done
	return w.err
}

// Kill crashes the worker (no safe cancel, no report) and waits for it.
func (w *Worker) Kill() error {
	w.Worker.Kill()
	<-w.done
	return w.err
}

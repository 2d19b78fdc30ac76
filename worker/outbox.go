package worker

import (
	"context"
	"sync"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
)

// delivery is one message that must reach the coordinators, in order:
// a job's result or a bed-clear.
type delivery struct {
	jobID    string
	result   *api.ResultRequest
	bedClear bool
}

// outbox delivers results and bed-clears one by one, retrying with backoff
// and jitter until the coordinators answer. A result the coordinators
// reject for good (stale epoch, unknown job, conflict) counts as delivered:
// retrying would not change the answer.
type outbox struct {
	w     *Worker
	mu    sync.Mutex
	queue []delivery
	busy  bool
	wake  chan struct{}
}

func newOutbox(w *Worker) *outbox { return &outbox{w: w, wake: make(chan struct{}, 1)} }

func (o *outbox) push(d delivery) {
	o.mu.Lock()
	o.queue = append(o.queue, d)
	o.mu.Unlock()
	kick(o.wake)
}

func (o *outbox) empty() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue) == 0 && !o.busy
}

func (o *outbox) run(ctx context.Context) {
	for {
		o.mu.Lock()
		if len(o.queue) == 0 {
			o.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-o.wake:
			}
			continue
		}
		d := o.queue[0]
		o.queue = o.queue[1:]
		o.busy = true
		o.mu.Unlock()
		ok := o.deliver(ctx, d)
		o.mu.Lock()
		o.busy = false
		o.mu.Unlock()
		if !ok {
			return
		}
		// Wake the shutdown wait, which watches empty().
		o.w.post(func() {})
	}
}

// deliver retries d until it is taken or ctx ends (false).
func (o *outbox) deliver(ctx context.Context, d delivery) bool {
	w := o.w
	for k := 0; ; k++ {
		var err error
		if d.bedClear {
			err = w.coord.BedClear(ctx, w.id)
		} else {
			var ok *api.OK
			ok, err = w.coord.ReportResult(ctx, d.jobID, *d.result)
			if err == nil && ok != nil && ok.Duplicate {
				w.log.Info("result was a duplicate; the other copy counts", "job", d.jobID)
			}
		}
		switch st := client.StatusOf(err); {
		case err == nil:
		case client.IsCode(err, api.CodeUnknownWorker):
			kick(w.sess.regKick) // register, then try again
			if !sleepCtx(ctx, backoff(k)) {
				return false
			}
			continue
		case st == 400 || st == 403 || st == 404 || st == 409:
			w.log.Warn("coordinator refused the report for good; dropping it", "job", d.jobID, "bed_clear", d.bedClear, "err", err)
		default:
			if ctx.Err() != nil {
				return false
			}
			w.log.Warn("cannot deliver report yet; retrying", "job", d.jobID, "bed_clear", d.bedClear, "err", err)
			if !sleepCtx(ctx, backoff(k)) {
				return false
			}
			continue
		}
		if d.result != nil {
			jobID := d.jobID
			w.post(func() { w.apply(w.m.ResultDelivered(jobID)) })
		}
		return true
	}
}

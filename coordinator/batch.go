package coordinator

import (
	"context"
	"fmt"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/hashicorp/raft"
)

// Group commit of order submissions.
//
//	handleSubmit ──encode──▶ batcher.in ──▶ run: take the first waiting,
//	                                        then whatever else is waiting
//	                                        (never wait for more)
//	                                             │ one → its plain command
//	                                             │ many → one batch entry
//	                                             ▼
//	                                        raft.Apply ──future──▶ answer:
//	                                        each submitter gets its own
//	                                        ApplyResult (or the batch's error)
//
// While raft's leader loop is busy writing and replicating one entry, the
// next submissions queue up here and leave together as one entry: one
// boltdb put, one FSM call and one future instead of one per order. A
// lone submission leaves at once as the same plain command as before, so
// an idle coordinator adds no latency. The batch entry's framing, and
// how the state machine applies it, is fsm/batch.go.

// applier is what the batcher needs from raft.
type applier interface {
	Apply(cmd []byte, timeout time.Duration) raft.ApplyFuture
}

var _ applier = (*raft.Raft)(nil)

// batcher packs concurrent order submissions into raft entries.
type batcher struct {
	r       applier
	timeout time.Duration
	max     int
	in      chan *batchReq
	// spawn runs a function in a goroutine owned by the node.
	spawn func(func())
	// observe records a submission's time from queueing to its answer.
	observe func(time.Duration)
	// stop is run's ctx.Done(), set before the first batch.
	stop <-chan struct{}
}

type batchReq struct {
	data  []byte
	start time.Time
	done  chan batchAnswer // buffered: the answer never blocks
}

type batchAnswer struct {
	res fsm.ApplyResult
	err error
}

func newBatcher(r applier, timeout time.Duration, spawn func(func()), observe func(time.Duration)) *batcher {
	return &batcher{r: r, timeout: timeout, max: fsm.MaxBatch, in: make(chan *batchReq), spawn: spawn, observe: observe}
}

// submit queues an encoded order submission and waits for its outcome:
// like propose, raft's errors wrap ErrNoLeader and the command's own
// refusal is both ApplyResult.Err and the error. Once the batcher has
// taken the submission it always answers (raft resolves every future,
// also at shutdown), so only the hand-over watches ctx.
func (b *batcher) submit(ctx context.Context, data []byte) (fsm.ApplyResult, error) {
	req := &batchReq{data: data, start: time.Now(), done: make(chan batchAnswer, 1)}
	select {
	case b.in <- req:
	case <-ctx.Done():
		return fsm.ApplyResult{}, fmt.Errorf("%w: %w", ErrNoLeader, ErrClosed)
	}
	a := <-req.done
	return a.res, a.err
}

// run proposes batches until ctx ends.
func (b *batcher) run(ctx context.Context) {
	b.stop = ctx.Done()
	batch := make([]*batchReq, 0, b.max)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case r := <-b.in:
			batch = append(batch, r)
		}
	drain:
		for len(batch) < b.max {
			select {
			case r := <-b.in:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		b.propose(batch)
	}
}

// propose hands one batch to raft and answers its submitters from
// another goroutine, so the next batch forms while this one commits.
func (b *batcher) propose(batch []*batchReq) {
	reqs := append([]*batchReq(nil), batch...)
	var entry []byte
	if len(reqs) == 1 {
		entry = reqs[0].data
	} else {
		datas := make([][]byte, len(reqs))
		for i, r := range reqs {
			datas[i] = r.data
		}
		entry = fsm.EncodeBatch(datas)
	}
	f := b.r.Apply(entry, b.timeout)
	b.spawn(func() { b.answer(reqs, f) })
}

// futureError waits for f, or for the batcher to stop (ok false). A
// fabgrid sim run (seed 2 of the issue-13 command) showed raft 1.7.3
// leaving a future unresolved after Shutdown, and the node's Kill waited
// for this goroutine for ever. The waiting goroutine below is the one not
// owned by the node: it ends when raft resolves the future, if ever.
func (b *batcher) futureError(f raft.ApplyFuture) (bool, error) {
	ch := make(chan error, 1)
	go func() { ch <- f.Error() }()
	select {
	case err := <-ch:
		return true, err
	case <-b.stop:
		select {
		case err := <-ch:
			return true, err
		default:
			return false, nil
		}
	}
}

// answer waits for a batch's future and gives each submitter its result.
func (b *batcher) answer(reqs []*batchReq, f raft.ApplyFuture) {
	all := func(a batchAnswer) {
		for _, r := range reqs {
			r.done <- a
		}
	}
	ok, err := b.futureError(f)
	if !ok {
		all(batchAnswer{err: fmt.Errorf("%w: %w", ErrNoLeader, ErrClosed)})
		return
	}
	if err != nil {
		all(batchAnswer{err: fmt.Errorf("%w: %v", ErrNoLeader, err)})
		return
	}
	now := time.Now()
	for _, r := range reqs {
		b.observe(now.Sub(r.start))
	}
	switch res := f.Response().(type) {
	case fsm.ApplyResult:
		// One plain command, or a batch refused as a whole.
		if len(reqs) > 1 && res.Err == nil {
			res.Err = fmt.Errorf("%w: batch of %d answered with one result", ErrBadCommand, len(reqs))
		}
		all(batchAnswer{res: res, err: res.Err})
	case fsm.BatchResult:
		if len(res.Results) != len(reqs) {
			all(batchAnswer{err: fmt.Errorf("%w: %d results for a batch of %d", ErrBadCommand, len(res.Results), len(reqs))})
			return
		}
		for i, r := range reqs {
			r.done <- batchAnswer{res: res.Results[i], err: res.Results[i].Err}
		}
	default:
		all(batchAnswer{err: fmt.Errorf("%w: unexpected apply result %T", ErrBadCommand, res)})
	}
}

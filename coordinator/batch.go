package coordinator

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

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
// an idle coordinator adds no latency.

// BatchVersion is the version of the batch framing. Apply refuses a batch
// of another version, changing nothing.
const BatchVersion = 1

// batchMagic starts a batch entry: batchMagic, uvarint BatchVersion,
// uvarint count, then each command as uvarint length + its encoding
// (EncodeCommand). JSON commands start with '{', framed ones with
// framedMagic.
const batchMagic = 0x02

// A batch holds at most maxBatch commands when proposed; decoding
// accepts up to maxBatchDecode so a later, larger limit still applies.
const (
	maxBatch       = 64
	maxBatchDecode = 4096
)

// BatchResult is what applying a batch entry returns: one result per
// command, in the batch's order. A batch refused as a whole (it does not
// decode) returns an ApplyResult with the error instead, and changes
// nothing.
type BatchResult struct {
	Results []ApplyResult
}

// EncodeBatch frames encoded commands (EncodeCommand) as one log entry.
func EncodeBatch(cmds [][]byte) []byte {
	size := 1 + 2*binary.MaxVarintLen64
	for _, c := range cmds {
		size += binary.MaxVarintLen32 + len(c)
	}
	b := make([]byte, 0, size)
	b = append(b, batchMagic)
	b = binary.AppendUvarint(b, BatchVersion)
	b = binary.AppendUvarint(b, uint64(len(cmds)))
	for _, c := range cmds {
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
	}
	return b
}

// decodeBatch parses a batch entry and every command in it. Any fault —
// framing, version, a command that does not decode or is not an order
// submission — refuses the whole batch with ErrBadCommand.
func decodeBatch(data []byte) ([]*Command, error) {
	if len(data) == 0 || data[0] != batchMagic {
		return nil, fmt.Errorf("%w: not a batch", ErrBadCommand)
	}
	b := data[1:]
	v, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("%w: batch version", ErrBadCommand)
	}
	if v != BatchVersion {
		return nil, fmt.Errorf("%w: batch version %d", ErrBadCommand, v)
	}
	b = b[k:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n == 0 || n > maxBatchDecode {
		return nil, fmt.Errorf("%w: batch count", ErrBadCommand)
	}
	b = b[k:]
	cmds := make([]*Command, 0, n)
	for i := range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, fmt.Errorf("%w: batch command %d: length", ErrBadCommand, i)
		}
		c, err := DecodeCommand(b[k : k+int(l)])
		if err != nil {
			return nil, fmt.Errorf("batch command %d: %w", i, err)
		}
		if c.Type != CmdSubmitOrder {
			return nil, fmt.Errorf("%w: batch command %d: %q cannot be batched", ErrBadCommand, i, c.Type)
		}
		cmds = append(cmds, c)
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: trailing data after batch", ErrBadCommand)
	}
	return cmds, nil
}

// applyBatch applies a batch entry: all its commands under one lock, one
// index, one wake-up of the Changed waiters. Each command validates
// before it mutates, so each fails or succeeds alone; a batch that does
// not decode changes nothing.
func (f *FSM) applyBatch(l *raft.Log) any {
	cmds, err := decodeBatch(l.Data)
	var out BatchResult
	f.mu.Lock()
	if err == nil {
		out.Results = make([]ApplyResult, len(cmds))
		for i, c := range cmds {
			out.Results[i] = f.state.apply(c)
		}
	}
	f.advanceLocked(l.Index)
	f.mu.Unlock()
	if err != nil {
		f.log.Warn("bad log entry", "index", l.Index, "err", err)
		return ApplyResult{Err: err}
	}
	if f.applied != nil {
		for i, c := range cmds {
			f.applied(c.Type, out.Results[i])
		}
	}
	return out
}

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
}

type batchReq struct {
	data  []byte
	start time.Time
	done  chan batchAnswer // buffered: the answer never blocks
}

type batchAnswer struct {
	res ApplyResult
	err error
}

func newBatcher(r applier, timeout time.Duration, spawn func(func()), observe func(time.Duration)) *batcher {
	return &batcher{r: r, timeout: timeout, max: maxBatch, in: make(chan *batchReq), spawn: spawn, observe: observe}
}

// submit queues an encoded order submission and waits for its outcome:
// like propose, raft's errors wrap ErrNoLeader and the command's own
// refusal is both ApplyResult.Err and the error. Once the batcher has
// taken the submission it always answers (raft resolves every future,
// also at shutdown), so only the hand-over watches ctx.
func (b *batcher) submit(ctx context.Context, data []byte) (ApplyResult, error) {
	req := &batchReq{data: data, start: time.Now(), done: make(chan batchAnswer, 1)}
	select {
	case b.in <- req:
	case <-ctx.Done():
		return ApplyResult{}, fmt.Errorf("%w: %w", ErrNoLeader, ErrClosed)
	}
	a := <-req.done
	return a.res, a.err
}

// run proposes batches until ctx ends.
func (b *batcher) run(ctx context.Context) {
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
		entry = EncodeBatch(datas)
	}
	f := b.r.Apply(entry, b.timeout)
	b.spawn(func() { b.answer(reqs, f) })
}

// answer waits for a batch's future and gives each submitter its result.
func (b *batcher) answer(reqs []*batchReq, f raft.ApplyFuture) {
	all := func(a batchAnswer) {
		for _, r := range reqs {
			r.done <- a
		}
	}
	if err := f.Error(); err != nil {
		all(batchAnswer{err: fmt.Errorf("%w: %v", ErrNoLeader, err)})
		return
	}
	now := time.Now()
	for _, r := range reqs {
		b.observe(now.Sub(r.start))
	}
	switch res := f.Response().(type) {
	case ApplyResult:
		// One plain command, or a batch refused as a whole.
		if len(reqs) > 1 && res.Err == nil {
			res.Err = fmt.Errorf("%w: batch of %d answered with one result", ErrBadCommand, len(reqs))
		}
		all(batchAnswer{res: res, err: res.Err})
	case BatchResult:
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

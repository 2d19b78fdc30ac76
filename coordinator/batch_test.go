package coordinator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/hashicorp/raft"
)

// encodeAll stamps and encodes commands for a batch.
func encodeAll(t *testing.T, cmds ...*fsm.Command) [][]byte {
	t.Helper()
	out := make([][]byte, len(cmds))
	for i, c := range cmds {
		c.V, c.Time = fsm.CommandVersion, int64(100+i)*1e9
		b, err := fsm.EncodeCommand(c)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func applyEntry(f *FSM, data []byte) any {
	return f.Apply(&raft.Log{Index: f.Index() + 1, Type: raft.LogCommand, Data: data})
}

func withRequestID(c *fsm.Command, id string) *fsm.Command {
	c.Order.Order.RequestID = id
	return c
}

// mixedBatch is a batch whose orders succeed and fail side by side.
func mixedBatch() []*fsm.Command {
	bad := orderCmd("o-bad", "makers", 0, false) // quantity 0
	return []*fsm.Command{
		orderCmd("o-10", "makers", 2, false),
		orderCmd("o-1", "makers", 1, false), // id taken: conflict
		bad,
		withRequestID(orderCmd("o-11", "makers", 1, false), "r-new"),
		withRequestID(orderCmd("o-12", "makers", 1, false), "r-new"), // same request in the same batch
		withRequestID(orderCmd("o-13", "makers", 1, false), "r-old"), // used before the batch
		orderCmd("o-14", "nobody", 1, false),                         // unknown community
		orderCmd("o-15", "makers", 1, false),
	}
}

// fakeRaft records entries and answers each with what answer returns.
type fakeRaft struct {
	mu      sync.Mutex
	entries [][]byte
	fsm     *FSM
	err     error
}

func (r *fakeRaft) Apply(data []byte, _ time.Duration) raft.ApplyFuture {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, data)
	if r.err != nil {
		return &fakeFuture{err: r.err}
	}
	return &fakeFuture{resp: applyEntry(r.fsm, data)}
}

type fakeFuture struct {
	err  error
	resp any
}

func (f *fakeFuture) Error() error  { return f.err }
func (f *fakeFuture) Index() uint64 { return 0 }
func (f *fakeFuture) Response() any { return f.resp }

func newTestBatcher(r applier) *batcher {
	return newBatcher(r, time.Second, func(fn func()) { go fn() }, func(time.Duration) {}, nil)
}

func TestBatcherAnswersEachSubmitter(t *testing.T) {
	f := base(t)
	fr := &fakeRaft{fsm: f}
	bt := newTestBatcher(fr)
	cmds := mixedBatch()[:3] // ok, conflict, bad
	datas := encodeAll(t, cmds...)
	reqs := make([]*batchReq, len(datas))
	for i, d := range datas {
		reqs[i] = &batchReq{data: d, done: make(chan batchAnswer, 1)}
	}
	bt.propose(reqs)
	wants := []error{nil, ErrConflict, ErrBadCommand}
	for i, r := range reqs {
		a := <-r.done
		if !errors.Is(a.err, wants[i]) || (wants[i] == nil) != (a.err == nil) || a.res.Err != a.err {
			t.Errorf("submitter %d got %v, want %v", i, a.err, wants[i])
		}
	}
	if len(fr.entries) != 1 || !fsm.IsBatch(fr.entries[0]) {
		t.Fatalf("%d entries; want one batch", len(fr.entries))
	}
}

func TestBatcherFailedBatchAnswersEveryone(t *testing.T) {
	f := base(t)
	before := f.SnapshotBytes()
	fr := &fakeRaft{fsm: f, err: raft.ErrLeadershipLost}
	bt := newTestBatcher(fr)
	reqs := make([]*batchReq, 3)
	for i, d := range encodeAll(t, mixedBatch()[:3]...) {
		reqs[i] = &batchReq{data: d, done: make(chan batchAnswer, 1)}
	}
	bt.propose(reqs)
	for i, r := range reqs {
		if a := <-r.done; !errors.Is(a.err, ErrNoLeader) {
			t.Errorf("submitter %d got %v, want ErrNoLeader", i, a.err)
		}
	}
	if !bytes.Equal(before, f.SnapshotBytes()) {
		t.Fatal("a failed batch changed the state")
	}
}

// A lone submission goes out at once as its plain command; concurrent
// ones all get their own answers, batched or not.
func TestBatcherLoneAndConcurrent(t *testing.T) {
	f := base(t)
	fr := &fakeRaft{fsm: f}
	bt := newTestBatcher(fr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); bt.run(ctx) }()
	defer func() { cancel(); <-done }()

	lone := encodeAll(t, orderCmd("o-30", "makers", 1, false))[0]
	if _, err := bt.submit(ctx, lone); err != nil {
		t.Fatal(err)
	}
	if len(fr.entries) != 1 || !bytes.Equal(fr.entries[0], lone) {
		t.Fatal("a lone submission was not proposed as its plain command")
	}

	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := orderCmd(fmt.Sprintf("o-c%d", i), "makers", 1, false)
			c.V, c.Time = fsm.CommandVersion, 1
			data, _ := fsm.EncodeCommand(c)
			_, errs[i] = bt.submit(ctx, data)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("submission %d: %v", i, err)
		}
	}
	f.View(func(s *fsm.State) {
		for i := range n {
			if s.Orders[fmt.Sprintf("o-c%d", i)] == nil {
				t.Fatalf("order o-c%d missing", i)
			}
		}
	})
}

func TestBatcherStoppedRefuses(t *testing.T) {
	bt := newTestBatcher(&fakeRaft{fsm: base(t)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := bt.submit(ctx, []byte("{}")); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("submit to a stopped batcher: %v", err)
	}
}

// silentRaft takes entries and never answers their futures, as
// hashicorp/raft does with a future its FSM goroutine had not reached
// when it shut down.
type silentRaft struct{}

func (silentRaft) Apply([]byte, time.Duration) raft.ApplyFuture { return silentFuture{} }

type silentFuture struct{}

func (silentFuture) Error() error  { select {} }
func (silentFuture) Index() uint64 { return 0 }
func (silentFuture) Response() any { return nil }

// TestBatcherGivesUpWhenRaftIsDown: a submission whose future raft never
// answers is answered ErrClosed once raft has shut down, and the
// goroutine that waited for it ends, so the node's Close and Kill (which
// wait for the node's goroutines) return. Before, a leader crashed with
// submissions in flight hung its Kill for ever (sim TestChaos).
func TestBatcherGivesUpWhenRaftIsDown(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	bt := newBatcher(silentRaft{}, time.Second, func(fn func()) { wg.Add(1); go func() { defer wg.Done(); fn() }() }, func(time.Duration) {}, stop)
	req := &batchReq{data: []byte("x"), done: make(chan batchAnswer, 1)}
	bt.propose([]*batchReq{req})
	select {
	case a := <-req.done:
		t.Fatalf("answered %v before raft was down", a.err)
	default:
	}
	close(stop)
	select {
	case a := <-req.done:
		if !errors.Is(a.err, ErrNoLeader) || !errors.Is(a.err, ErrClosed) {
			t.Fatalf("answer %v, want ErrNoLeader and ErrClosed", a.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no answer 10 s after raft shut down")
	}
	ended := make(chan struct{})
	go func() { wg.Wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the answering goroutine did not end after raft shut down")
	}
}

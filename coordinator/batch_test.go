package coordinator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// encodeAll stamps and encodes commands for a batch.
func encodeAll(t *testing.T, cmds ...*Command) [][]byte {
	t.Helper()
	out := make([][]byte, len(cmds))
	for i, c := range cmds {
		c.V, c.Time = CommandVersion, int64(100+i)*1e9
		b, err := EncodeCommand(c)
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

func withRequestID(c *Command, id string) *Command {
	c.Order.Order.RequestID = id
	return c
}

// mixedBatch is a batch whose orders succeed and fail side by side.
func mixedBatch() []*Command {
	bad := orderCmd("o-bad", "makers", 0, false) // quantity 0
	return []*Command{
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

func TestBatchEachOrderHasItsOwnResult(t *testing.T) {
	f := base(t)
	mustApply(t, f, withRequestID(orderCmd("o-5", "makers", 1, false), "r-old"))
	res, ok := applyEntry(f, EncodeBatch(encodeAll(t, mixedBatch()...))).(BatchResult)
	if !ok {
		t.Fatal("a batch did not answer with a BatchResult")
	}
	want := []struct {
		err     error
		orderID string
	}{
		{nil, ""}, {ErrConflict, ""}, {ErrBadCommand, ""}, {nil, ""},
		{nil, "o-11"}, {nil, "o-5"}, {ErrBadCommand, ""}, {nil, ""},
	}
	if len(res.Results) != len(want) {
		t.Fatalf("%d results for %d commands", len(res.Results), len(want))
	}
	for i, w := range want {
		r := res.Results[i]
		if !errors.Is(r.Err, w.err) || (w.err == nil) != (r.Err == nil) || r.OrderID != w.orderID {
			t.Errorf("command %d: err %v, order %q; want %v, %q", i, r.Err, r.OrderID, w.err, w.orderID)
		}
	}
	f.View(func(s *State) {
		for _, id := range []string{"o-10", "o-11", "o-15"} {
			if s.Orders[id] == nil {
				t.Errorf("order %s missing", id)
			}
		}
		for _, id := range []string{"o-bad", "o-12", "o-13", "o-14"} {
			if s.Orders[id] != nil {
				t.Errorf("refused or retried order %s was stored", id)
			}
		}
		if len(s.Orders["o-10"].JobIDs) != 2 || s.Jobs["o-10-2"] == nil {
			t.Error("order o-10's jobs")
		}
		if s.Orders["o-1"].Quantity != 1 {
			t.Error("the conflicting order touched o-1")
		}
	})
}

// A batch leaves the same state as its commands applied one by one, and
// two FSMs fed the same log of batches agree, also through a snapshot.
func TestBatchSameStateAsOneByOne(t *testing.T) {
	prep := func() *FSM {
		f := base(t)
		mustApply(t, f, withRequestID(orderCmd("o-5", "makers", 1, false), "r-old"))
		return f
	}
	data := EncodeBatch(encodeAll(t, mixedBatch()...))
	single := prep()
	for i, c := range mixedBatch() {
		c.V, c.Time = CommandVersion, int64(100+i)*1e9 // as encodeAll stamps them
		single.ApplyCommand(single.Index()+1, c)       // refusals are part of the test
	}
	a, b := prep(), prep()
	applyEntry(a, data)
	applyEntry(b, data)
	if !bytes.Equal(a.SnapshotBytes(), b.SnapshotBytes()) {
		t.Fatal("same batch, different states")
	}
	if !bytes.Equal(a.SnapshotBytes(), single.SnapshotBytes()) {
		t.Fatal("a batch and its commands one by one left different states")
	}
	restored := NewFSM(nil)
	if err := restored.Restore(restoreBytes(a.Index(), a.SnapshotBytes())); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.SnapshotBytes(), restored.SnapshotBytes()) || restored.Index() != a.Index() {
		t.Fatal("snapshot + restore after a batch differs")
	}
}

func TestBatchRefusedAsWholeChangesNothing(t *testing.T) {
	good := func(t *testing.T) [][]byte {
		return encodeAll(t, orderCmd("o-20", "makers", 1, false), orderCmd("o-21", "makers", 1, false))
	}
	for _, tc := range []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"version 2", func(t *testing.T) []byte { b := EncodeBatch(good(t)); b[1] = 2; return b }},
		{"no version", func(t *testing.T) []byte { return []byte{batchMagic} }},
		{"empty", func(t *testing.T) []byte { return EncodeBatch(nil) }},
		{"truncated", func(t *testing.T) []byte { b := EncodeBatch(good(t)); return b[:len(b)-1] }},
		{"trailing data", func(t *testing.T) []byte { return append(EncodeBatch(good(t)), 0) }},
		{"count beyond entries", func(t *testing.T) []byte { b := EncodeBatch(good(t)); b[2] = 3; return b }},
		{"a command does not decode", func(t *testing.T) []byte {
			return EncodeBatch(append(good(t), []byte(`{"v":1,"type":"submit_order","order":{},"extra":1}`)))
		}},
		{"a command of another version", func(t *testing.T) []byte {
			c := orderCmd("o-22", "makers", 1, false)
			c.V = 2
			b, _ := EncodeCommand(c)
			return EncodeBatch(append(good(t), b))
		}},
		{"not an order", func(t *testing.T) []byte {
			return EncodeBatch(append(good(t), encodeAll(t, &Command{Type: CmdCancelOrder, Cancel: &CancelCmd{OrderID: "o-1"}})...))
		}},
		{"nested batch", func(t *testing.T) []byte { return EncodeBatch([][]byte{EncodeBatch(good(t))}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := base(t)
			before := f.SnapshotBytes()
			r, ok := applyEntry(f, tc.data(t)).(ApplyResult)
			if !ok || !errors.Is(r.Err, ErrBadCommand) {
				t.Fatalf("answer %+v, want a refusal with ErrBadCommand", r)
			}
			if !bytes.Equal(before, f.SnapshotBytes()) {
				t.Fatal("a refused batch changed the state")
			}
		})
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
	return newBatcher(r, time.Second, func(fn func()) { go fn() }, func(time.Duration) {})
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
	if len(fr.entries) != 1 || fr.entries[0][0] != batchMagic {
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
			c.V, c.Time = CommandVersion, 1
			data, _ := EncodeCommand(c)
			_, errs[i] = bt.submit(ctx, data)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("submission %d: %v", i, err)
		}
	}
	f.View(func(s *State) {
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

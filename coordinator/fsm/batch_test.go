package fsm

import (
	"bytes"
	"errors"
	"testing"
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

func applyEntry(f *Machine, data []byte) any {
	return f.ApplyEntry(f.Index()+1, data)
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
	prep := func() *Machine {
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
	restored := New(Options{})
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

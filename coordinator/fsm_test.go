package coordinator

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/hashicorp/raft"
)

// memSink is a raft.SnapshotSink into memory that records how it ended.
type memSink struct {
	bytes.Buffer
	failWrite         bool
	cancelled, closed bool
}

func (s *memSink) Write(p []byte) (int, error) {
	if s.failWrite {
		return 0, errors.New("disk full")
	}
	return s.Buffer.Write(p)
}
func (*memSink) ID() string      { return "test" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Close() error  { s.closed = true; return nil }

// The raft adapter hands committed command entries to the machine,
// ignores other entries, and moves snapshots through raft's sink.
func TestFSMAdapter(t *testing.T) {
	f := base(t)
	idx := f.Index()
	if r := f.Apply(&raft.Log{Index: idx + 1, Type: raft.LogConfiguration}); r.(fsm.ApplyResult).Err != nil || f.Index() != idx {
		t.Fatalf("a configuration entry was applied: %+v, index %d", r, f.Index())
	}
	data, err := fsm.EncodeCommand(&fsm.Command{V: fsm.CommandVersion, Type: fsm.CmdCancelOrder, Time: 1, Cancel: &fsm.CancelCmd{OrderID: "o-x"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.Apply(&raft.Log{Index: idx + 1, Type: raft.LogCommand, Data: data}); !errors.Is(r.(fsm.ApplyResult).Err, ErrNotFound) || f.Index() != idx+1 {
		t.Fatalf("command entry: %+v, index %d", r, f.Index())
	}

	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil || !sink.closed || sink.cancelled {
		t.Fatalf("persist: %v, closed %v, cancelled %v", err, sink.closed, sink.cancelled)
	}
	g := NewFSM(nil, nil)
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if g.Index() != f.Index() || !bytes.Equal(g.SnapshotBytes(), f.SnapshotBytes()) {
		t.Fatal("restored FSM differs")
	}
	if b, ok := g.Model(sha256Hex(testModel)); !ok || !bytes.Equal(b, testModel) {
		t.Fatal("restored FSM lost the model")
	}

	failing := memSink{failWrite: true}
	if err := snap.Persist(&failing); err == nil || !failing.cancelled || failing.closed {
		t.Fatalf("failed persist: %v, closed %v, cancelled %v", err, failing.closed, failing.cancelled)
	}
}

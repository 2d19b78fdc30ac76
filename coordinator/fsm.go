package coordinator

import (
	"io"
	"log/slog"

	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/hashicorp/raft"
)

// FSM is the raft.FSM of the coordinator: a thin adapter that hands
// raft's committed entries to the state machine (package fsm) and moves
// its snapshots to and from raft's snapshot store. Readers use View,
// Changed and Index, as on fsm.Machine.
type FSM struct {
	m *fsm.Machine
	// refs: snapshots refer to the models in a model store that lasts
	// as long as the snapshots (the data dir's); otherwise they carry
	// the models' bytes.
	refs bool
}

var (
	_ raft.FSM         = (*FSM)(nil)
	_ raft.FSMSnapshot = (*fsmSnapshot)(nil)
)

// NewFSM returns an FSM over an empty state. applied, when set, is called
// after each command with its type and result.
func NewFSM(log *slog.Logger, applied func(typ string, r fsm.ApplyResult)) *FSM {
	return &FSM{m: fsm.New(fsm.Options{Log: log, Applied: applied})}
}

// NewFSMOver returns an FSM whose models are kept in models, a store
// that lasts as long as raft's snapshots: the snapshots refer to its
// models rather than carry them (snapshotstore.go).
func NewFSMOver(models fsm.ModelStore, log *slog.Logger, applied func(typ string, r fsm.ApplyResult)) *FSM {
	return &FSM{m: fsm.New(fsm.Options{Log: log, Applied: applied, Models: models}), refs: true}
}

// Apply applies one log entry (fsm.Machine.ApplyEntry); entries other
// than commands change nothing.
func (f *FSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return fsm.ApplyResult{}
	}
	return f.m.ApplyEntry(l.Index, l.Data)
}

// Snapshot captures the state; raft persists it later, off the apply
// path.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	return &fsmSnapshot{s: f.m.Snapshot(), refs: f.refs}, nil
}

// Restore replaces the state with a snapshot's.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	return f.m.Restore(rc)
}

// Machine returns the state machine itself.
func (f *FSM) Machine() *fsm.Machine { return f.m }

// View runs fn with the state under the read lock. fn must not keep
// references to the state after it returns.
func (f *FSM) View(fn func(s *fsm.State)) { f.m.View(fn) }

// Changed returns a channel closed at the next applied entry.
func (f *FSM) Changed() <-chan struct{} { return f.m.Changed() }

// Index returns the index of the last applied entry.
func (f *FSM) Index() uint64 { return f.m.Index() }

// Model returns the bytes of a model in the state, read whole.
func (f *FSM) Model(sha256 string) ([]byte, bool) { return f.m.Model(sha256) }

// OpenModel opens a model of the state to read it from the store.
func (f *FSM) OpenModel(sha256 string) (io.ReadSeekCloser, fsm.Model, error) {
	return f.m.OpenModel(sha256)
}

// SnapshotBytes returns the encoded state (without the applied index),
// for comparing two FSMs.
func (f *FSM) SnapshotBytes() []byte { return f.m.SnapshotBytes() }

// ApplyCommand applies a command directly, outside raft (tests, tools).
func (f *FSM) ApplyCommand(index uint64, c *fsm.Command) fsm.ApplyResult {
	return f.m.ApplyCommand(index, c)
}

// fsmSnapshot persists an fsm.Snapshot into raft's sink.
type fsmSnapshot struct {
	s    *fsm.Snapshot
	refs bool
}

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	persist := s.s.PersistStandalone
	if s.refs {
		persist = s.s.Persist
	}
	if d, ok := sink.(interface{ direct() raft.SnapshotSink }); ok {
		sink = d.direct() // in this node's form already (snapshotstore.go)
	}
	if err := persist(sink); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}

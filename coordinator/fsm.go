package coordinator

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/hashicorp/raft"
)

// FSM is the raft.FSM of the coordinator: it applies commands to State.
// Readers take a read lock through View; every applied entry wakes the
// waiters of Changed.
type FSM struct {
	mu      sync.RWMutex
	state   *State
	index   uint64
	changed chan struct{}
	log     *slog.Logger
	// applied, when set, is called after each command with its type.
	applied func(typ string, r ApplyResult)
}

var (
	_ raft.FSM         = (*FSM)(nil)
	_ raft.FSMSnapshot = (*fsmSnapshot)(nil)
)

// NewFSM returns an FSM over an empty state.
func NewFSM(log *slog.Logger) *FSM {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &FSM{state: NewState(), changed: make(chan struct{}), log: log}
}

// advanceLocked records index as applied and wakes the Changed waiters;
// f.mu is held.
func (f *FSM) advanceLocked(index uint64) {
	f.index = index
	close(f.changed)
	f.changed = make(chan struct{})
}

// Apply applies one log entry. Entries that do not decode, or whose
// command is refused, change nothing; the refusal is the result. A batch
// entry (batch.go) returns a BatchResult.
func (f *FSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return ApplyResult{}
	}
	if len(l.Data) > 0 && l.Data[0] == batchMagic {
		return f.applyBatch(l)
	}
	c, err := DecodeCommand(l.Data)
	f.mu.Lock()
	var r ApplyResult
	if err != nil {
		r = ApplyResult{Err: err}
	} else {
		r = f.state.apply(c)
	}
	f.advanceLocked(l.Index)
	f.mu.Unlock()
	if err != nil {
		f.log.Warn("bad log entry", "index", l.Index, "err", err)
	}
	if f.applied != nil && c != nil {
		f.applied(c.Type, r)
	}
	return r
}

// ApplyCommand applies a command directly, outside raft (tests, tools).
func (f *FSM) ApplyCommand(index uint64, c *Command) ApplyResult {
	data, err := EncodeCommand(c)
	if err != nil {
		return ApplyResult{Err: err}
	}
	return f.Apply(&raft.Log{Index: index, Type: raft.LogCommand, Data: data}).(ApplyResult)
}

// View runs fn with the state under the read lock. fn must not keep
// references to the state after it returns.
func (f *FSM) View(fn func(s *State)) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.state)
}

// Changed returns a channel closed at the next applied entry.
func (f *FSM) Changed() <-chan struct{} {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.changed
}

// Index returns the index of the last applied entry.
func (f *FSM) Index() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.index
}

// Snapshot captures the state. Raft calls it between two Applies, so it
// only takes a shallow copy (state.clone); the encoding happens in
// Persist, off the apply path.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return &fsmSnapshot{index: f.index, state: f.state.clone()}, nil
}

// Restore replaces the state with a snapshot's.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var idx [8]byte
	if _, err := io.ReadFull(rc, idx[:]); err != nil {
		return fmt.Errorf("%w: index: %v", ErrBadSnapshot, err)
	}
	s, err := decodeSnapshot(rc)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.state = s
	f.advanceLocked(binary.BigEndian.Uint64(idx[:]))
	f.mu.Unlock()
	return nil
}

// SnapshotBytes returns the encoded state (without the applied index),
// for comparing two FSMs.
func (f *FSM) SnapshotBytes() []byte {
	f.mu.RLock()
	defer f.mu.RUnlock()
	b, err := encodeSnapshot(f.state)
	if err != nil {
		panic(err)
	}
	return b
}

// fsmSnapshot is the FSM's applied index (uint64 big-endian) followed by
// the encoded state (snapshot.go).
type fsmSnapshot struct {
	index uint64
	state *State
}

func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	var idx [8]byte
	binary.BigEndian.PutUint64(idx[:], s.index)
	parts, err := cutSnapshot(s.state)
	if err != nil {
		sink.Cancel()
		return err
	}
	w := bufio.NewWriterSize(sink, 1<<20)
	_, err = w.Write(idx[:])
	if err == nil {
		err = parts.writeTo(w)
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) Release() {}

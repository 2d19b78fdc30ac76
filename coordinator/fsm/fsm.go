package fsm

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// Machine applies log entries to State. Readers take a read lock through
// View; every applied entry wakes the waiters of Changed. It knows
// nothing of raft: a driver hands it each committed entry's index and
// bytes (ApplyEntry) and moves snapshots between it and raft's store
// (Snapshot, Restore).
type Machine struct {
	mu      sync.RWMutex
	state   *State
	index   uint64
	changed chan struct{}
	log     *slog.Logger
	applied func(typ string, r ApplyResult)
	models  ModelStore
}

// Options configure a Machine. The zero value works.
type Options struct {
	// Log receives a warning for each entry that does not decode
	// (default: discard).
	Log *slog.Logger
	// Applied, when set, is called after each command with its type and
	// result, outside the lock (the coordinator counts them in its
	// metrics).
	Applied func(typ string, r ApplyResult)
	// Models keeps the models' bytes (default: NewMemModels()).
	Models ModelStore
}

// New returns a Machine over an empty state.
func New(opts Options) *Machine {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := NewState()
	if opts.Models != nil {
		s.models = opts.Models
	}
	return &Machine{state: s, models: s.models, changed: make(chan struct{}), log: log, applied: opts.Applied}
}

// advanceLocked records index as applied and wakes the Changed waiters;
// m.mu is held.
func (m *Machine) advanceLocked(index uint64) {
	m.index = index
	close(m.changed)
	m.changed = make(chan struct{})
}

// ApplyEntry applies the log entry data at index. Entries that do not
// decode, or whose command is refused, change nothing; the refusal is
// the result, an ApplyResult. A batch entry (batch.go) returns a
// BatchResult.
func (m *Machine) ApplyEntry(index uint64, data []byte) any {
	if len(data) > 0 && data[0] == batchMagic {
		return m.applyBatch(index, data)
	}
	c, err := DecodeCommand(data)
	m.mu.Lock()
	var r ApplyResult
	if err != nil {
		r = ApplyResult{Err: err}
	} else {
		r = m.state.apply(c)
	}
	m.advanceLocked(index)
	m.mu.Unlock()
	if err != nil {
		m.log.Warn("bad log entry", "index", index, "err", err)
	}
	if m.applied != nil && c != nil {
		m.applied(c.Type, r)
	}
	return r
}

// ApplyCommand encodes a command and applies it at index, as if raft had
// committed it there (tests, tools).
func (m *Machine) ApplyCommand(index uint64, c *Command) ApplyResult {
	data, err := EncodeCommand(c)
	if err != nil {
		return ApplyResult{Err: err}
	}
	return m.ApplyEntry(index, data).(ApplyResult)
}

// View runs fn with the state under the read lock. fn must not keep
// references to the state after it returns.
func (m *Machine) View(fn func(s *State)) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	fn(m.state)
}

// Changed returns a channel closed at the next applied entry.
func (m *Machine) Changed() <-chan struct{} {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.changed
}

// Index returns the index of the last applied entry.
func (m *Machine) Index() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.index
}

// Snapshot captures the state between two applies. It only takes a
// shallow copy (state.clone); the encoding happens in Persist, off the
// apply path.
func (m *Machine) Snapshot() *Snapshot {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return &Snapshot{index: m.index, state: m.state.clone()}
}

// Restore replaces the state with a snapshot's, as Snapshot.Persist
// wrote it. A snapshot that does not read changes nothing.
func (m *Machine) Restore(r io.Reader) error {
	var idx [8]byte
	if _, err := io.ReadFull(r, idx[:]); err != nil {
		return fmt.Errorf("%w: index: %v", ErrBadSnapshot, err)
	}
	s, err := decodeSnapshot(r, m.models)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.state = s
	m.advanceLocked(binary.BigEndian.Uint64(idx[:]))
	m.mu.Unlock()
	return nil
}

// SnapshotBytes returns the encoded state (without the applied index),
// for comparing two machines.
func (m *Machine) SnapshotBytes() []byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, err := encodeSnapshot(m.state)
	if err != nil {
		panic(err)
	}
	return b
}

// Snapshot is a captured state: the applied index (uint64 big-endian)
// followed by the encoded state (snapshot.go) when written.
type Snapshot struct {
	index uint64
	state *State
}

// Index returns the index of the last entry the snapshot holds.
func (s *Snapshot) Index() uint64 { return s.index }

// Persist writes the snapshot to w in the current format
// (SnapshotVersion), its models as references into the model store;
// on an error w holds part of it. ExpandSnapshot makes it stand alone.
func (s *Snapshot) Persist(w io.Writer) error { return s.persist(w, false) }

// PersistStandalone writes the snapshot with every model's bytes,
// streamed from the model store: for a node whose model store does not
// outlive it (in memory), whose snapshots must hold the models.
func (s *Snapshot) PersistStandalone(w io.Writer) error { return s.persist(w, true) }

func (s *Snapshot) persist(w io.Writer, inline bool) error {
	var idx [8]byte
	binary.BigEndian.PutUint64(idx[:], s.index)
	bw := bufio.NewWriterSize(w, 1<<20)
	_, err := bw.Write(idx[:])
	if err == nil {
		err = writeSnapshotV2(bw, s.state, inline)
	}
	if err == nil {
		err = bw.Flush()
	}
	return err
}

package fsm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrNoModel is returned by ModelStore.Open for a model it does not hold.
var ErrNoModel = errors.New("fsm: no such model")

// ModelStore holds the bytes of the state's models, by SHA-256 (hex).
// It is the machine's one way to storage. The machine writes a model
// once, when the command that completes it applies or a snapshot
// restores it, and reads it back to expand snapshots and to serve it; a
// model is never changed, so readers need no lock of the machine's.
// Implementations are safe for concurrent use.
type ModelStore interface {
	// Create starts writing the model sha256 of size bytes. Nothing is
	// readable until Commit. The machine hashes what it writes itself;
	// a store holding the model already may drop the bytes.
	Create(sha256 string, size int64) (ModelWriter, error)
	// Open returns the model to read from its start, or ErrNoModel.
	Open(sha256 string) (io.ReadSeekCloser, error)
	// Get returns the whole model, which the caller must not change
	// (tests and small tools; everything else streams with Open).
	Get(sha256 string) ([]byte, bool)
}

// ModelWriter receives one model's bytes.
type ModelWriter interface {
	io.Writer
	// Commit makes the model readable, durably for a store on disk.
	// It fails when other than the model's size was written.
	Commit() error
	// Abort drops what was written; after Commit it does nothing.
	Abort()
}

// MemModels is a ModelStore in memory.
type MemModels struct {
	mu sync.RWMutex
	m  map[string][]byte
}

var _ ModelStore = (*MemModels)(nil)

// NewMemModels returns an empty in-memory model store.
func NewMemModels() *MemModels { return &MemModels{m: map[string][]byte{}} }

// Create returns a writer that keeps the bytes in memory.
func (s *MemModels) Create(sha256 string, size int64) (ModelWriter, error) {
	return &memWriter{s: s, sha: sha256, size: size}, nil
}

// Open returns a reader over the model's bytes.
func (s *MemModels) Open(sha256 string) (io.ReadSeekCloser, error) {
	b, ok := s.Get(sha256)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoModel, sha256)
	}
	return nopCloser{bytes.NewReader(b)}, nil
}

// Get returns the bytes of model sha256, which the caller must not
// change.
func (s *MemModels) Get(sha256 string) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.m[sha256]
	return b, ok
}

type memWriter struct {
	s    *MemModels
	sha  string
	size int64
	buf  []byte
}

func (w *memWriter) Write(p []byte) (int, error) {
	if int64(len(w.buf)+len(p)) > w.size {
		return 0, fmt.Errorf("fsm: model %s: more than its %d bytes", w.sha, w.size)
	}
	if w.buf == nil {
		w.buf = make([]byte, 0, w.size)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *memWriter) Commit() error {
	if int64(len(w.buf)) != w.size {
		return fmt.Errorf("fsm: model %s: %d bytes of %d", w.sha, len(w.buf), w.size)
	}
	w.s.mu.Lock()
	w.s.m[w.sha] = w.buf
	w.s.mu.Unlock()
	return nil
}

func (w *memWriter) Abort() { w.buf = nil }

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// PutModel writes a whole model into a store (tests, tools).
func PutModel(s ModelStore, sha256 string, b []byte) error {
	w, err := s.Create(sha256, int64(len(b)))
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		w.Abort()
		return err
	}
	return w.Commit()
}

// putModel stores a model's bytes while a command applies. The command
// is committed and every other node stores the model too, so a node
// whose store fails cannot go on with the others' state: it stops.
func (s *State) putModel(sha256 string, b []byte) {
	if err := PutModel(s.models, sha256, b); err != nil {
		panic(fmt.Sprintf("fsm: model store: %v", err))
	}
}

// OpenModel opens a model of the state for reading, with its metadata.
// The reader stays valid after the state moves on: models never change.
func (m *Machine) OpenModel(sha256 string) (io.ReadSeekCloser, Model, error) {
	m.mu.RLock()
	md := m.state.Models[sha256]
	m.mu.RUnlock()
	if md == nil {
		return nil, Model{}, fmt.Errorf("%w: %s", ErrNoModel, sha256)
	}
	f, err := m.models.Open(sha256)
	return f, *md, err
}

// Model returns the bytes of a model in the state, read whole (tests,
// small tools; the API streams with OpenModel).
func (m *Machine) Model(sha256 string) ([]byte, bool) {
	f, _, err := m.OpenModel(sha256)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	return b, err == nil
}

// Models returns the machine's model store.
func (m *Machine) Models() ModelStore { return m.models }

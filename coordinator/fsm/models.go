package fsm

import (
	"fmt"
	"sync"
)

// ModelStore holds the bytes of the state's models, by SHA-256 (hex).
// It is the machine's one way to storage. The machine puts a model once,
// when the command that completes it applies (or a snapshot restores
// it), and reads it back to write snapshots and to serve it; a model is
// never changed or removed, so readers need no lock of the machine's.
// Implementations are safe for concurrent use.
type ModelStore interface {
	// Put stores b as the model sha256. The machine has checked that b
	// hashes to it. Put may keep b; the caller does not change it after.
	Put(sha256 string, b []byte) error
	// Get returns the model's bytes, which the caller must not change.
	Get(sha256 string) ([]byte, bool)
}

// MemModels is a ModelStore in memory.
type MemModels struct {
	mu sync.RWMutex
	m  map[string][]byte
}

var _ ModelStore = (*MemModels)(nil)

// NewMemModels returns an empty in-memory model store.
func NewMemModels() *MemModels { return &MemModels{m: map[string][]byte{}} }

// Put stores b.
func (s *MemModels) Put(sha256 string, b []byte) error {
	s.mu.Lock()
	s.m[sha256] = b
	s.mu.Unlock()
	return nil
}

// Get returns the bytes of model sha256.
func (s *MemModels) Get(sha256 string) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.m[sha256]
	return b, ok
}

// putModel stores a model's bytes while a command applies. The command
// is committed and every other node stores the model too, so a node
// whose store fails cannot go on with the others' state: it stops.
func (s *State) putModel(sha256 string, b []byte) {
	if err := s.models.Put(sha256, b); err != nil {
		panic(fmt.Sprintf("fsm: model store: %v", err))
	}
}

package worker

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrState is returned when the state file cannot be read or written.
var ErrState = errors.New("worker: state file")

// stateFile is the name of the state file in the state directory.
const stateFile = "worker-state.json"

// Persisted is what survives a restart.
type Persisted struct {
	// WorkerID is generated once ("w-" + 16 hex digits) and kept forever.
	WorkerID string `json:"worker_id"`
	// InFlight is the job this worker holds a lease on, if any.
	InFlight *InFlight `json:"in_flight,omitempty"`
	// AwaitingBedClear is set from a finished (or interrupted) print until
	// the owner clears the bed.
	AwaitingBedClear bool `json:"awaiting_bed_clear,omitempty"`
}

// InFlight is a held job. Outcome is set once the job ended but its result
// has not been delivered yet.
type InFlight struct {
	JobID   string `json:"job_id"`
	OrderID string `json:"order_id,omitempty"`
	Epoch   uint64 `json:"epoch"`
	// Printing is set once G-code started streaming (the bed is no longer clear).
	Printing bool   `json:"printing,omitempty"`
	Outcome  string `json:"outcome,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Refusal is the kind of a refused outcome (api.Refusal*).
	Refusal string `json:"refusal,omitempty"`
	// PrintedS is how long the printer printed the job, in seconds.
	PrintedS float64 `json:"printed_s,omitempty"`
}

// Store reads and writes the state file of one state directory.
type Store struct {
	dir string
}

// OpenStore makes the directory if needed and returns its store.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrState, err)
	}
	return &Store{dir: dir}, nil
}

// Path is the state file's path.
func (s *Store) Path() string { return filepath.Join(s.dir, stateFile) }

// Load reads the state; a missing file gives a fresh state with a new
// worker id, written at once so the id is stable from the first start.
func (s *Store) Load() (Persisted, error) {
	b, err := os.ReadFile(s.Path())
	if errors.Is(err, fs.ErrNotExist) {
		p := Persisted{WorkerID: NewWorkerID()}
		return p, s.Save(p)
	}
	if err != nil {
		return Persisted{}, fmt.Errorf("%w: %w", ErrState, err)
	}
	var p Persisted
	if err := json.Unmarshal(b, &p); err != nil {
		return Persisted{}, fmt.Errorf("%w: %s is corrupt (%v); move it away to start as a new printer", ErrState, s.Path(), err)
	}
	if p.WorkerID == "" {
		return Persisted{}, fmt.Errorf("%w: %s has no worker_id", ErrState, s.Path())
	}
	return p, nil
}

// Save writes the state atomically: a temporary file in the same
// directory is written, synced and renamed over the old one, and the
// directory is synced, so a crash leaves either the old or the new state.
func (s *Store) Save(p Persisted) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrState, err)
	}
	if err := writeAtomic(s.Path(), append(b, '\n')); err != nil {
		return fmt.Errorf("%w: %w", ErrState, err)
	}
	return nil
}

func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// NewWorkerID returns a fresh random worker id, "w-" and 16 hex digits.
func NewWorkerID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported systems
	return "w-" + hex.EncodeToString(b)
}

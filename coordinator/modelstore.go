package coordinator

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// DiskModels is the content-addressed model store in a node's data
// dir: one file per model, named by its SHA-256 (hex), in
// DataDir/models. A model is written to a temporary file in the same
// directory, fsynced, renamed to its name and the directory fsynced, so
// a model file either holds the whole model or does not exist.
type DiskModels struct {
	dir string
}

var _ fsm.ModelStore = (*DiskModels)(nil)

const tmpPrefix = ".tmp-"

// OpenDiskModels opens (creating it) the model store in dir and removes
// the temporary files a crash left.
func OpenDiskModels(dir string) (*DiskModels, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("coordinator: model store: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("coordinator: model store: %w", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return &DiskModels{dir: dir}, nil
}

// Dir returns the store's directory.
func (d *DiskModels) Dir() string { return d.dir }

func (d *DiskModels) path(sha string) (string, error) {
	if len(sha) != 64 {
		return "", fmt.Errorf("%w: %q is not a SHA-256", fsm.ErrNoModel, sha)
	}
	for _, c := range sha {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", fmt.Errorf("%w: %q is not a SHA-256", fsm.ErrNoModel, sha)
		}
	}
	return filepath.Join(d.dir, sha), nil
}

// Open opens the model's file.
func (d *DiskModels) Open(sha string) (io.ReadSeekCloser, error) {
	p, err := d.path(sha)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", fsm.ErrNoModel, sha)
	}
	return f, err
}

// Get reads the whole model (tests and small tools).
func (d *DiskModels) Get(sha string) ([]byte, bool) {
	p, err := d.path(sha)
	if err != nil {
		return nil, false
	}
	b, err := os.ReadFile(p)
	return b, err == nil
}

// Create starts writing a model. A model held already (a file of its
// size: files appear only whole) is not written again.
func (d *DiskModels) Create(sha string, size int64) (fsm.ModelWriter, error) {
	p, err := d.path(sha)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(p); err == nil && st.Size() == size {
		return &heldWriter{size: size}, nil
	}
	f, err := os.CreateTemp(d.dir, tmpPrefix+sha[:16]+"-")
	if err != nil {
		return nil, fmt.Errorf("coordinator: model store: %w", err)
	}
	return &diskWriter{d: d, f: f, path: p, sha: sha, size: size, h: sha256.New()}, nil
}

// diskWriter writes one model to its temporary file.
type diskWriter struct {
	d    *DiskModels
	f    *os.File
	path string
	sha  string
	size int64
	n    int64
	h    hash.Hash
	done bool
}

func (w *diskWriter) Write(p []byte) (int, error) {
	if w.n+int64(len(p)) > w.size {
		return 0, fmt.Errorf("coordinator: model %s: more than its %d bytes", w.sha, w.size)
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}

// Commit checks the bytes, then makes the file durable under its name.
func (w *diskWriter) Commit() error {
	if w.done {
		return nil
	}
	w.done = true
	err := w.commit()
	if err != nil {
		w.f.Close()
		os.Remove(w.f.Name())
	}
	return err
}

func (w *diskWriter) commit() error {
	if w.n != w.size {
		return fmt.Errorf("coordinator: model %s: %d bytes of %d", w.sha, w.n, w.size)
	}
	if got := hex.EncodeToString(w.h.Sum(nil)); got != w.sha {
		return fmt.Errorf("coordinator: model %s: the bytes hash to %s", w.sha, got)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("coordinator: model store: %w", err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("coordinator: model store: %w", err)
	}
	if err := os.Rename(w.f.Name(), w.path); err != nil {
		return fmt.Errorf("coordinator: model store: %w", err)
	}
	return syncDir(w.d.dir)
}

func (w *diskWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
}

// heldWriter drops the bytes of a model the store holds already.
type heldWriter struct {
	size, n int64
}

func (w *heldWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

func (w *heldWriter) Commit() error {
	if w.n != w.size {
		return fmt.Errorf("coordinator: model: %d bytes of %d", w.n, w.size)
	}
	return nil
}

func (w *heldWriter) Abort() {}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("coordinator: model store: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("coordinator: model store: sync dir: %w", err)
	}
	return nil
}

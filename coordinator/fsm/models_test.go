package fsm

import (
	"bytes"
	"errors"
	"testing"
)

// recordingModels is a ModelStore that remembers what was put, and can
// refuse.
type recordingModels struct {
	*MemModels
	puts []string
	err  error
}

func (r *recordingModels) Create(sha256 string, size int64) (ModelWriter, error) {
	if r.err != nil {
		return nil, r.err
	}
	w, err := r.MemModels.Create(sha256, size)
	return &recordingWriter{ModelWriter: w, r: r, sha: sha256}, err
}

// recordingWriter records its model when committed.
type recordingWriter struct {
	ModelWriter
	r   *recordingModels
	sha string
}

func (w *recordingWriter) Commit() error {
	w.r.puts = append(w.r.puts, w.sha)
	return w.ModelWriter.Commit()
}

func TestModelsLiveInTheGivenStore(t *testing.T) {
	store := &recordingModels{MemModels: NewMemModels()}
	a := New(Options{Models: store})
	applyAll(t, a, scenario(), 1)
	// The order's model and the chunked one, each once.
	if len(store.puts) != 2 {
		t.Fatalf("puts %v, want the two models once each", store.puts)
	}
	for _, want := range [][]byte{testModel, bigModel} {
		if b, ok := store.Get(sha256Hex(want)); !ok || !bytes.Equal(b, want) {
			t.Fatalf("model %s not in the store", sha256Hex(want))
		}
		if b, ok := a.Model(sha256Hex(want)); !ok || !bytes.Equal(b, want) {
			t.Fatalf("machine does not serve model %s", sha256Hex(want))
		}
	}
	if _, ok := a.Model(sha256Hex([]byte("other"))); ok {
		t.Fatal("a model not in the state served")
	}

	// A restore fills its machine's store, and only once the whole
	// snapshot is read.
	snap := a.SnapshotBytes()
	into := &recordingModels{MemModels: NewMemModels()}
	b := New(Options{Models: into})
	if err := b.Restore(restoreBytes(1, append(bytes.Clone(snap), 0))); err == nil {
		t.Fatal("snapshot with trailing data restored")
	}
	if len(into.puts) != 0 {
		t.Fatalf("a failed restore stored %v", into.puts)
	}
	if err := b.Restore(restoreBytes(1, snap)); err != nil {
		t.Fatal(err)
	}
	if len(into.puts) != 2 || !bytes.Equal(b.SnapshotBytes(), snap) {
		t.Fatalf("restored puts %v", into.puts)
	}
}

func TestModelStoreFailureStopsTheMachine(t *testing.T) {
	store := &recordingModels{MemModels: NewMemModels(), err: errors.New("disk full")}
	m := New(Options{Models: store})
	cmds := scenario()
	applyAll(t, m, cmds[:4], 1) // up to the first order, which brings a model
	defer func() {
		if recover() == nil {
			t.Fatal("a committed model that could not be stored was applied")
		}
	}()
	m.ApplyCommand(5, cmds[4])
}

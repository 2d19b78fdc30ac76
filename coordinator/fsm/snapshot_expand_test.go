package fsm

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

// persisted returns what Persist writes for m's state now.
func persisted(t *testing.T, m *Machine) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := m.Snapshot().Persist(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func expanded(t *testing.T, snap []byte, models ModelStore) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := ExpandSnapshot(&b, bytes.NewReader(snap), models); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPersistedSnapshotRefersToTheStoreAndExpandsToStandAlone(t *testing.T) {
	a := New(Options{})
	applyAll(t, a, scenario(), 1)
	snap := persisted(t, a)
	info, err := ScanSnapshot(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != SnapshotVersion || info.Models != 2 || info.Referenced != 2 || info.Size != int64(len(snap)) {
		t.Fatalf("persisted: %+v", info)
	}
	if ref, err := ReferencedBytes(bytes.NewReader(snap)); err != nil || ref != info.ReferencedBytes || ref != info.ModelBytes {
		t.Fatalf("ReferencedBytes %d, %v; scan says %d of %d", ref, err, info.ReferencedBytes, info.ModelBytes)
	}
	if int64(len(snap)) > info.ModelBytes {
		t.Fatalf("persisted snapshot of %d bytes holds model bytes (%d)", len(snap), info.ModelBytes)
	}

	// A node without the models cannot restore references, and stores
	// nothing trying.
	into := &recordingModels{MemModels: NewMemModels()}
	b := New(Options{Models: into})
	if err := b.Restore(bytes.NewReader(snap)); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("references restored without their models: %v", err)
	}
	if len(into.puts) != 0 || b.Index() != 0 {
		t.Fatalf("failed restore stored %v", into.puts)
	}

	// Expanded, it restores anywhere, to the same state.
	full := expanded(t, snap, a.Models())
	xi, err := ScanSnapshot(bytes.NewReader(full))
	if err != nil {
		t.Fatal(err)
	}
	if xi.Referenced != 0 || xi.Models != 2 || xi.Size != info.Size+info.ReferencedBytes || xi.Orders != info.Orders || xi.Index != a.Index() {
		t.Fatalf("expanded: %+v, persisted %+v", xi, info)
	}
	if err := b.Restore(bytes.NewReader(full)); err != nil {
		t.Fatal(err)
	}
	if len(into.puts) != 2 || !bytes.Equal(a.SnapshotBytes(), b.SnapshotBytes()) || b.Index() != a.Index() {
		t.Fatalf("expanded restore: puts %v", into.puts)
	}
	// Expanding what stands alone changes nothing, and is what
	// PersistStandalone writes.
	if again := expanded(t, full, NewMemModels()); !bytes.Equal(again, full) {
		t.Fatal("expanding an expanded snapshot changed it")
	}
	var sa bytes.Buffer
	if err := a.Snapshot().PersistStandalone(&sa); err != nil || !bytes.Equal(sa.Bytes(), full) {
		t.Fatalf("PersistStandalone is not the expanded snapshot: %v", err)
	}
	// Referred again into another store: the models are there, and the
	// snapshot is what Persist writes.
	other := NewMemModels()
	var back bytes.Buffer
	if err := ReferSnapshot(&back, bytes.NewReader(full), other); err != nil || !bytes.Equal(back.Bytes(), snap) {
		t.Fatalf("ReferSnapshot of the expanded snapshot: %v", err)
	}
	for _, m := range [][]byte{testModel, bigModel} {
		if b, ok := other.Get(sha256Hex(m)); !ok || !bytes.Equal(b, m) {
			t.Fatalf("model %s not stored by ReferSnapshot", sha256Hex(m))
		}
	}
	flipped := bytes.Clone(full)
	flipped[len(flipped)-5] ^= 1
	if err := ReferSnapshot(io.Discard, bytes.NewReader(flipped), NewMemModels()); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("ReferSnapshot of a damaged snapshot: %v", err)
	}
}

func TestRestoreRejectsCorruptSnapshotOfFormat2(t *testing.T) {
	a := New(Options{})
	applyAll(t, a, scenario(), 1)
	full := expanded(t, persisted(t, a), a.Models())
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"truncated", full[:len(full)-3]},
		// The last model's last byte sits just before the 4-byte upload count.
		{"model bit flip", func() []byte { b := bytes.Clone(full); b[len(b)-5] ^= 1; return b }()},
		{"trailing data", append(bytes.Clone(full), 0)},
		{"newer version", func() []byte { b := bytes.Clone(full); b[8+6] = '9'; return b }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			into := &recordingModels{MemModels: NewMemModels()}
			b := New(Options{Models: into})
			applyAll(t, b, scenario()[:4], 1)
			before := b.SnapshotBytes()
			if err := b.Restore(bytes.NewReader(tc.data)); !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("corrupt snapshot restored: %v", err)
			}
			if _, err := ScanSnapshot(bytes.NewReader(tc.data)); !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("scan passed a corrupt snapshot: %v", err)
			}
			if !bytes.Equal(before, b.SnapshotBytes()) || len(into.puts) != 0 {
				t.Fatalf("failed restore changed the state or stored %v", into.puts)
			}
		})
	}
}

// The golden snapshot of format 1 scans, and stands alone already.
func TestSnapshotOfFormat1ScansAndExpandsAsItIs(t *testing.T) {
	old, err := os.ReadFile("testdata/v1-scenario.snap")
	if err != nil {
		t.Fatal(err)
	}
	snap := restoreBytesSlice(7, old)
	info, err := ScanSnapshot(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != 1 || info.Referenced != 0 || info.Models == 0 || info.Index != 7 {
		t.Fatalf("format 1: %+v", info)
	}
	if got := expanded(t, snap, NewMemModels()); !bytes.Equal(got, snap) {
		t.Fatal("expanding format 1 changed it")
	}
}

// restoreBytesSlice is restoreBytes as a slice.
func restoreBytesSlice(index uint64, state []byte) []byte {
	b := make([]byte, 8+len(state))
	_, _ = restoreBytes(index, state).Read(b)
	return b
}

func FuzzRestore(f *testing.F) {
	a := New(Options{})
	for i, c := range scenario() {
		a.ApplyCommand(uint64(i+1), c)
	}
	snap := persisted(&testing.T{}, a)
	f.Add(snap)
	var full bytes.Buffer
	_ = ExpandSnapshot(&full, bytes.NewReader(snap), a.Models())
	f.Add(full.Bytes())
	f.Add(restoreBytesSlice(3, a.SnapshotBytes()))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Whatever the bytes, Restore and ScanSnapshot do not panic, and
		// a refused snapshot changes nothing.
		m := New(Options{})
		before := m.SnapshotBytes()
		if err := m.Restore(bytes.NewReader(data)); err != nil && !bytes.Equal(before, m.SnapshotBytes()) {
			t.Fatal("refused snapshot changed the state")
		}
		_, _ = ScanSnapshot(bytes.NewReader(data))
		_ = ExpandSnapshot(&bytes.Buffer{}, bytes.NewReader(data), a.Models())
	})
}

package coordinator

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// After Close, a late heartbeat's term write must not fail (raft would
// panic) and must not reach the file; log writes fail cleanly.
func TestGuardedStoreAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	bs, err := raftboltdb.New(raftboltdb.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	g := newGuardedStore(bs, bs, bs.Close)
	key := []byte("CurrentTerm")
	if err := g.SetUint64(key, 4); err != nil {
		t.Fatal(err)
	}
	if err := g.StoreLogs([]*raft.Log{{Index: 1, Term: 4, Data: []byte("a")}}); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := g.SetUint64(key, 9); err != nil {
		t.Fatalf("SetUint64 after close = %v, want it dropped without error", err)
	}
	if err := g.StoreLogs([]*raft.Log{{Index: 2, Term: 9}}); !errors.Is(err, errStoreClosed) {
		t.Fatalf("StoreLogs after close = %v, want errStoreClosed", err)
	}
	if _, err := g.GetUint64(key); !errors.Is(err, errStoreClosed) {
		t.Fatalf("GetUint64 after close = %v, want errStoreClosed", err)
	}

	re, err := raftboltdb.New(raftboltdb.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	if v, err := re.GetUint64(key); err != nil || v != 4 {
		t.Fatalf("term on disk = %d, %v; want 4 (the write after close dropped)", v, err)
	}
	if last, err := re.LastIndex(); err != nil || last != 1 {
		t.Fatalf("last index on disk = %d, %v; want 1", last, err)
	}
}

package coordinator

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// oldDataDir writes a raft.db as versions before the WAL did: the
// stable state and entries 5..204 of the log, 64 KiB each.
func oldDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bs, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, boltFile)})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(5); i < 205; i++ {
		if err := bs.StoreLog(&raft.Log{Index: i, Term: 2, Type: raft.LogCommand, Data: bytes.Repeat([]byte{byte(i)}, 64<<10)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := bs.SetUint64([]byte("CurrentTerm"), 2); err != nil {
		t.Fatal(err)
	}
	bs.Close()
	return dir
}

func checkMoved(t *testing.T, dir string) {
	t.Helper()
	before, _ := os.Stat(filepath.Join(dir, boltFile))
	rs, err := openRaftStores(dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	first, _ := rs.logs.FirstIndex()
	last, _ := rs.logs.LastIndex()
	if first != 5 || last != 204 {
		t.Fatalf("wal holds %d..%d, want 5..204", first, last)
	}
	var l raft.Log
	if err := rs.logs.GetLog(100, &l); err != nil || l.Term != 2 || len(l.Data) != 64<<10 || l.Data[0] != 100 {
		t.Fatalf("entry 100: %+v %v", l.Index, err)
	}
	if term, err := rs.stable.GetUint64([]byte("CurrentTerm")); err != nil || term != 2 {
		t.Fatalf("term %d, %v", term, err)
	}
	if last, _ := rs.stable.LastIndex(); last != 0 {
		t.Fatalf("raft.db still holds entries to %d", last)
	}
	after, _ := os.Stat(filepath.Join(dir, boltFile))
	if after.Size() >= before.Size()/4 {
		t.Fatalf("raft.db %d bytes after moving its log, %d before", after.Size(), before.Size())
	}
	if _, err := os.Stat(filepath.Join(dir, walTmpDir)); !os.IsNotExist(err) {
		t.Fatalf("%s left behind: %v", walTmpDir, err)
	}
}

func TestTheLogMovesFromRaftDBIntoTheWAL(t *testing.T) {
	dir := oldDataDir(t)
	checkMoved(t, dir)
	// Opened again: nothing to move, the log as it was.
	rs, err := openRaftStores(dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if last, _ := rs.logs.LastIndex(); last != 204 {
		t.Fatalf("second open: last %d", last)
	}
	rs.Close()
}

func TestAMoveCutShortIsDoneAgainOrFinished(t *testing.T) {
	for _, stage := range []string{"copying", "renamed"} {
		t.Run(stage, func(t *testing.T) {
			dir := oldDataDir(t)
			bs, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, boltFile)})
			if err != nil {
				t.Fatal(err)
			}
			// A start that stopped while copying leaves a partial
			// wal.migrating; one that stopped after the rename leaves the
			// entries in both.
			w, err := openWAL(filepath.Join(dir, walTmpDir), hclog.NewNullLogger())
			if err != nil {
				t.Fatal(err)
			}
			n := uint64(50)
			if stage == "renamed" {
				n = 200
			}
			for i := uint64(5); i < 5+n; i++ {
				var l raft.Log
				if err := bs.GetLog(i, &l); err != nil {
					t.Fatal(err)
				}
				if err := w.StoreLog(&l); err != nil {
					t.Fatal(err)
				}
			}
			w.Close()
			bs.Close()
			if stage == "renamed" {
				if err := os.Rename(filepath.Join(dir, walTmpDir), filepath.Join(dir, walDir)); err != nil {
					t.Fatal(err)
				}
			}
			checkMoved(t, dir)
		})
	}
}

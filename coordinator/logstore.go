package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/migrate"
	"go.etcd.io/bbolt"
)

// The raft stores in a data dir: the log in DataDir/wal (raft-wal:
// segment files, whole segments deleted once raft has compacted past
// them, so the log's disk stays near what raft keeps, TrailingLogs
// entries), the stable state (term, vote) in DataDir/raft.db
// (raft-boltdb). docs/benchmarks.md, "Log store", says why.
//
// A data dir of an older version has its log in raft.db: at the first
// start its entries are copied into a new WAL (built in wal.migrating,
// renamed to wal once whole), then deleted from raft.db, which is
// compacted to the stable state alone.
const (
	walDir     = "wal"
	walTmpDir  = "wal.migrating"
	boltFile   = "raft.db"
	compactTmp = "raft.db.compact"
)

// raftStores are the opened log and stable stores of a data dir.
type raftStores struct {
	logs   *wal
	stable *raftboltdb.BoltStore
}

func (s *raftStores) Close() error {
	return errors.Join(s.logs.Close(), s.stable.Close())
}

// wal is a raft-wal log with its meta database, which WAL.Close leaves
// open (and locked: the next open in this process would wait for ever).
type wal struct {
	*raftwal.WAL
	meta *metadb.BoltMetaDB
}

func (w *wal) Close() error { return errors.Join(w.WAL.Close(), w.meta.Close()) }

func openRaftStores(dir string, log hclog.Logger) (*raftStores, error) {
	boltPath := filepath.Join(dir, boltFile)
	bs, err := raftboltdb.New(raftboltdb.Options{Path: boltPath})
	if err != nil {
		return nil, fmt.Errorf("coordinator: raft stable store: %w", err)
	}
	moved, err := migrateLog(dir, bs, log)
	if err != nil {
		bs.Close()
		return nil, err
	}
	if moved {
		// The deleted log's pages are free, but the file keeps them:
		// copy what is left into a file of its size.
		if err := bs.Close(); err != nil {
			return nil, fmt.Errorf("coordinator: raft stable store: %w", err)
		}
		if err := compactBolt(dir); err != nil {
			return nil, err
		}
		if bs, err = raftboltdb.New(raftboltdb.Options{Path: boltPath}); err != nil {
			return nil, fmt.Errorf("coordinator: raft stable store: %w", err)
		}
	}
	w, err := openWAL(filepath.Join(dir, walDir), log)
	if err != nil {
		bs.Close()
		return nil, fmt.Errorf("coordinator: raft log (wal): %w", err)
	}
	return &raftStores{logs: w, stable: bs}, nil
}

func openWAL(dir string, log hclog.Logger) (*wal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	meta := &metadb.BoltMetaDB{}
	w, err := raftwal.Open(dir, raftwal.WithLogger(log.Named("wal")), raftwal.WithMetaStore(meta))
	if err != nil {
		meta.Close()
		return nil, err
	}
	return &wal{WAL: w, meta: meta}, nil
}

// migrateLog moves the log entries of raft.db into the WAL, if it has
// any; it reports whether it deleted some.
func migrateLog(dir string, bs *raftboltdb.BoltStore, log hclog.Logger) (bool, error) {
	first, err := bs.FirstIndex()
	if err != nil {
		return false, fmt.Errorf("coordinator: raft log (bolt): %w", err)
	}
	last, err := bs.LastIndex()
	if err != nil {
		return false, fmt.Errorf("coordinator: raft log (bolt): %w", err)
	}
	if last == 0 {
		return false, nil
	}
	if _, err := os.Stat(filepath.Join(dir, walDir)); errors.Is(err, os.ErrNotExist) {
		tmp := filepath.Join(dir, walTmpDir)
		if err := os.RemoveAll(tmp); err != nil {
			return false, fmt.Errorf("coordinator: raft log migration: %w", err)
		}
		w, err := openWAL(tmp, log)
		if err != nil {
			return false, fmt.Errorf("coordinator: raft log migration: %w", err)
		}
		err = migrate.CopyLogs(context.Background(), w, bs, 8<<20, nil)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return false, fmt.Errorf("coordinator: raft log migration: %w", err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, walDir)); err != nil {
			return false, fmt.Errorf("coordinator: raft log migration: %w", err)
		}
		if err := syncDir(dir); err != nil {
			return false, err
		}
		log.Info("raft log moved from raft.db into the wal", "first", first, "last", last)
	}
	// Moved now or by a start that stopped before this point.
	if err := bs.DeleteRange(first, last); err != nil {
		return false, fmt.Errorf("coordinator: raft log migration: %w", err)
	}
	return true, nil
}

// compactBolt rewrites raft.db without its free pages.
func compactBolt(dir string) error {
	path, tmp := filepath.Join(dir, boltFile), filepath.Join(dir, compactTmp)
	src, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("coordinator: compacting raft.db: %w", err)
	}
	defer src.Close()
	os.Remove(tmp)
	dst, err := bbolt.Open(tmp, 0o600, nil)
	if err != nil {
		return fmt.Errorf("coordinator: compacting raft.db: %w", err)
	}
	err = bbolt.Compact(dst, src, 16<<20)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("coordinator: compacting raft.db: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("coordinator: compacting raft.db: %w", err)
	}
	return syncDir(dir)
}

var _ io.Closer = (*raftStores)(nil)

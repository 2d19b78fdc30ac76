package coordinator

import (
	"errors"
	"sync"

	"github.com/hashicorp/raft"
)

// errStoreClosed is what a guarded store answers once the node has stopped.
var errStoreClosed = errors.New("coordinator: raft store closed")

// guardedStore stands between raft and its on-disk log and stable store so
// that the store can be closed while the raft transport may still be
// handling an RPC. raft.Shutdown stops raft's own goroutines, but a
// heartbeat the transport had already accepted can still reach raft's
// fast path afterwards; if it carries a newer term, raft persists the term
// and panics when that write fails ("failed to save current term:
// database not open"). Once closed, the guard refuses log writes and
// reads with errStoreClosed (raft answers the RPC with a failure) and
// drops stable-store writes: the node has stopped, and nothing it would
// write after that may count — a restarted node reads the store as the
// shutdown left it, as after a crash.
type guardedStore struct {
	mu     sync.RWMutex
	closed bool
	logs   raft.LogStore
	stable raft.StableStore
	close  func() error
}

var (
	_ raft.LogStore          = (*guardedStore)(nil)
	_ raft.MonotonicLogStore = (*guardedStore)(nil)
	_ raft.StableStore       = (*guardedStore)(nil)
)

func newGuardedStore(logs raft.LogStore, stable raft.StableStore, close func() error) *guardedStore {
	return &guardedStore{logs: logs, stable: stable, close: close}
}

// Close waits for the operations under way, then closes the stores.
func (g *guardedStore) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	return g.close()
}

// do runs op unless the store is closed, in which case it returns ifClosed.
func (g *guardedStore) do(ifClosed error, op func() error) error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return ifClosed
	}
	return op()
}

// IsMonotonic passes on whether the log store needs raft to keep its
// log without gaps (raft.MonotonicLogStore: raft-wal does).
func (g *guardedStore) IsMonotonic() bool {
	m, ok := g.logs.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

func (g *guardedStore) FirstIndex() (i uint64, err error) {
	err = g.do(errStoreClosed, func() (e error) { i, e = g.logs.FirstIndex(); return })
	return
}

func (g *guardedStore) LastIndex() (i uint64, err error) {
	err = g.do(errStoreClosed, func() (e error) { i, e = g.logs.LastIndex(); return })
	return
}

func (g *guardedStore) GetLog(index uint64, log *raft.Log) error {
	return g.do(errStoreClosed, func() error { return g.logs.GetLog(index, log) })
}

func (g *guardedStore) StoreLog(log *raft.Log) error {
	return g.do(errStoreClosed, func() error { return g.logs.StoreLog(log) })
}

func (g *guardedStore) StoreLogs(logs []*raft.Log) error {
	return g.do(errStoreClosed, func() error { return g.logs.StoreLogs(logs) })
}

func (g *guardedStore) DeleteRange(min, max uint64) error {
	return g.do(errStoreClosed, func() error { return g.logs.DeleteRange(min, max) })
}

func (g *guardedStore) Set(k, v []byte) error {
	return g.do(nil, func() error { return g.stable.Set(k, v) })
}

func (g *guardedStore) Get(k []byte) (v []byte, err error) {
	err = g.do(errStoreClosed, func() (e error) { v, e = g.stable.Get(k); return })
	return
}

func (g *guardedStore) SetUint64(k []byte, v uint64) error {
	return g.do(nil, func() error { return g.stable.SetUint64(k, v) })
}

func (g *guardedStore) GetUint64(k []byte) (v uint64, err error) {
	err = g.do(errStoreClosed, func() (e error) { v, e = g.stable.GetUint64(k); return })
	return
}

package coordinator

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"

	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/hashicorp/raft"
)

// modelSnapshots is raft's snapshot store with the models brought in.
// The snapshots the state machine persists refer to their models in the
// node's model store (fsm snapshot format 2), so a snapshot on disk is
// the state alone, not another copy of every model. Raft opens a
// snapshot for two readers: the node's own state machine when it
// starts (the references are good here), and, once running, a follower
// being sent the snapshot or an operator saving a backup, who must get
// every model: after Started, Open expands references into the models'
// bytes, streamed from the store as they are sent.
type modelSnapshots struct {
	raft.SnapshotStore
	models  fsm.ModelStore
	started atomic.Bool
	goFunc  func(func())
}

var _ raft.SnapshotStore = (*modelSnapshots)(nil)

func newModelSnapshots(s raft.SnapshotStore, models fsm.ModelStore, goFunc func(func())) *modelSnapshots {
	return &modelSnapshots{SnapshotStore: s, models: models, goFunc: goFunc}
}

// Started makes Open expand from now on.
func (s *modelSnapshots) Started() { s.started.Store(true) }

// Open opens a snapshot; once started, expanded (see modelSnapshots).
func (s *modelSnapshots) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	meta, rc, err := s.SnapshotStore.Open(id)
	if err != nil || !s.started.Load() {
		return meta, rc, err
	}
	extra, err := fsm.ReferencedBytes(rc)
	rc.Close()
	if err != nil {
		return nil, nil, err
	}
	meta, rc, err = s.SnapshotStore.Open(id)
	if err != nil || extra == 0 {
		return meta, rc, err
	}
	expanded := *meta
	expanded.Size += extra
	pr, pw := io.Pipe()
	s.goFunc(func() {
		err := fsm.ExpandSnapshot(pw, rc, s.models)
		rc.Close()
		pw.CloseWithError(err)
	})
	return &expanded, pr, nil
}

// openModels opens the data dir's model store and snapshot store and
// puts the FSM over them.
func (n *Node) openModels(hlog hclog.Logger) (raft.SnapshotStore, error) {
	dm, err := OpenDiskModels(filepath.Join(n.cfg.DataDir, "models"))
	if err != nil {
		return nil, err
	}
	fs, err := raft.NewFileSnapshotStoreWithLogger(n.cfg.DataDir, 2, hlog)
	if err != nil {
		return nil, fmt.Errorf("coordinator: snapshot store: %w", err)
	}
	n.fsm = NewFSMOver(dm, n.log, n.metrics.observeApply)
	return newModelSnapshots(fs, dm, n.goFunc), nil
}

// Create returns a sink that turns a snapshot arriving with its models
// (installed from the leader, or restored from a backup) into the form
// this node persists itself: the models into the store, references in
// the snapshot file (fsm.ReferSnapshot), so that the snapshot does not
// keep a second copy of every model. The state machine's own snapshots,
// references already, are written straight through (fsmSnapshot.Persist).
func (s *modelSnapshots) Create(version raft.SnapshotVersion, index, term uint64, configuration raft.Configuration,
	configurationIndex uint64, trans raft.Transport) (raft.SnapshotSink, error) {
	sink, err := s.SnapshotStore.Create(version, index, term, configuration, configurationIndex, trans)
	if err != nil {
		return nil, err
	}
	return &referSink{SnapshotSink: sink, s: s}, nil
}

// referSink is the sink of modelSnapshots.Create.
type referSink struct {
	raft.SnapshotSink // the store's own
	s                 *modelSnapshots
	pw                *io.PipeWriter
	done              chan error
}

// direct is the store's own sink, for a snapshot in this node's form.
func (r *referSink) direct() raft.SnapshotSink { return r.SnapshotSink }

func (r *referSink) Write(p []byte) (int, error) {
	if r.pw == nil {
		pr, pw := io.Pipe()
		r.pw, r.done = pw, make(chan error, 1)
		r.s.goFunc(func() {
			err := fsm.ReferSnapshot(r.SnapshotSink, pr, r.s.models)
			pr.CloseWithError(errors.Join(err, io.ErrClosedPipe)) // writes fail from now on
			r.done <- err
		})
	}
	return r.pw.Write(p)
}

func (r *referSink) Close() error {
	if r.pw == nil {
		return r.SnapshotSink.Close()
	}
	r.pw.Close()
	if err := <-r.done; err != nil {
		r.SnapshotSink.Cancel()
		return err
	}
	return r.SnapshotSink.Close()
}

func (r *referSink) Cancel() error {
	if r.pw != nil {
		r.pw.CloseWithError(errors.New("coordinator: snapshot cancelled"))
		<-r.done
	}
	return r.SnapshotSink.Cancel()
}

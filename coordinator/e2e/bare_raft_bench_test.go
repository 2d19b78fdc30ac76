package e2e_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// BenchmarkBareRaftBatching measures what batching commands into one raft
// entry buys, on a plain hashicorp/raft cluster shaped like the
// coordinators' (three nodes, TCP on loopback, raft-boltdb with fsync, the
// coordinator's default timings and MaxAppendEntries 32) with an FSM that
// only counts. 64 goroutines each commit payloads of an order command's
// size (549 bytes): "entry-per-command" applies each as its own entry;
// "batched" hands them to a batcher that packs whatever is waiting (up to
// 64) into one entry, the design proposed for the coordinator's intake.
//
//	go test ./coordinator/e2e -run '^$' -bench BareRaftBatching -benchtime 20000x
func BenchmarkBareRaftBatching(b *testing.B) {
	for _, batched := range []bool{false, true} {
		name := "entry-per-command"
		if batched {
			name = "batched"
		}
		b.Run(name, func(b *testing.B) {
			leader, fsms := startBareRaft(b)
			payload := make([]byte, 549)
			var apply func(i int) error
			if batched {
				bt := newBatcher(leader, 64)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { defer close(done); bt.run(ctx) }()
				defer func() { cancel(); <-done }()
				apply = func(int) error { return bt.submit(ctx, payload) }
			} else {
				apply = func(int) error { return leader.Apply(frame(payload), 5*time.Second).Error() }
			}
			runConcurrent(b, b.N, "commands", apply)
			if got := fsms[0].commands.Load(); got < int64(b.N) {
				b.Fatalf("the leader's FSM applied %d commands of %d", got, b.N)
			}
		})
	}
}

// countFSM counts the commands in each applied entry.
type countFSM struct{ commands atomic.Int64 }

func (f *countFSM) Apply(l *raft.Log) any {
	if l.Type == raft.LogCommand {
		f.commands.Add(int64(countFrames(l.Data)))
	}
	return nil
}
func (f *countFSM) Snapshot() (raft.FSMSnapshot, error) { return nopSnapshot{}, nil }
func (f *countFSM) Restore(rc io.ReadCloser) error      { return rc.Close() }

type nopSnapshot struct{}

func (nopSnapshot) Persist(s raft.SnapshotSink) error { return s.Close() }
func (nopSnapshot) Release()                          {}

// frame prefixes one command with its length; an entry is a run of frames.
func frame(p []byte) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(p))), p...)
}

func countFrames(b []byte) int {
	n := 0
	for len(b) > 0 {
		l, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < l {
			return n
		}
		b = b[k+int(l):]
		n++
	}
	return n
}

// batcher packs concurrent commands into one raft entry: it takes the
// first waiting command, then whatever else is already waiting (up to
// max), applies them as one entry and answers every sender. It never
// waits for more to arrive, so a lone command goes out at once; under
// load, batches form by themselves while the previous apply is in flight.
type batcher struct {
	r   *raft.Raft
	max int
	in  chan batchReq
}

type batchReq struct {
	data []byte
	done chan error
}

func newBatcher(r *raft.Raft, max int) *batcher {
	return &batcher{r: r, max: max, in: make(chan batchReq)}
}

func (bt *batcher) submit(ctx context.Context, p []byte) error {
	req := batchReq{data: p, done: make(chan error, 1)}
	select {
	case bt.in <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (bt *batcher) run(ctx context.Context) {
	for {
		var batch []batchReq
		select {
		case <-ctx.Done():
			return
		case r := <-bt.in:
			batch = append(batch, r)
		}
	drain:
		for len(batch) < bt.max {
			select {
			case r := <-bt.in:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		var entry []byte
		for _, r := range batch {
			entry = binary.AppendUvarint(entry, uint64(len(r.data)))
			entry = append(entry, r.data...)
		}
		// Apply hands the entry to raft's leader loop and returns a
		// future; waiting on it in its own goroutine keeps the next
		// batch forming while this one replicates.
		f := bt.r.Apply(entry, 5*time.Second)
		go func() {
			err := f.Error()
			for _, r := range batch {
				r.done <- err
			}
		}()
	}
}

// startBareRaft starts three raft nodes on loopback TCP with boltdb stores
// and returns the leader and the FSMs.
func startBareRaft(b *testing.B) (*raft.Raft, []*countFSM) {
	b.Helper()
	const n = 3
	var (
		rafts []*raft.Raft
		fsms  []*countFSM
		trans []*raft.NetworkTransport
		conf  raft.Configuration
	)
	for i := range n {
		t, err := raft.NewTCPTransport("127.0.0.1:0", nil, 3, 10*time.Second, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		trans = append(trans, t)
		conf.Servers = append(conf.Servers, raft.Server{ID: raft.ServerID(fmt.Sprintf("r%d", i+1)), Address: t.LocalAddr(), Suffrage: raft.Voter})
	}
	for i := range n {
		dir := b.TempDir()
		store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
		if err != nil {
			b.Fatal(err)
		}
		snaps, err := raft.NewFileSnapshotStore(dir, 1, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		rc := raft.DefaultConfig()
		rc.LocalID = conf.Servers[i].ID
		rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = 300*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond
		rc.CommitTimeout, rc.MaxAppendEntries = 5*time.Millisecond, 32
		rc.LogOutput, rc.LogLevel = io.Discard, "ERROR"
		fsm := &countFSM{}
		r, err := raft.NewRaft(rc, fsm, store, store, snaps, trans[i])
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			if err := r.BootstrapCluster(conf).Error(); err != nil {
				b.Fatal(err)
			}
		}
		rafts, fsms = append(rafts, r), append(fsms, fsm)
		b.Cleanup(func() {
			_ = r.Shutdown().Error()
			_ = trans[i].Close()
			_ = store.Close()
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i, r := range rafts {
			if r.State() == raft.Leader {
				// The leader's FSM comes first, for the count check.
				fsms[0], fsms[i] = fsms[i], fsms[0]
				return r, fsms
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatal("no raft leader within 10 s")
	return nil, nil
}

package fsm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// testModel is a tiny valid model.
var testModel = []byte("solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 10 0 0\nvertex 0 10 5\nendloop\nendfacet\nendsolid t\n")

// logBuilder makes commands with increasing times.
type logBuilder struct {
	t    int64
	cmds []*Command
}

func (b *logBuilder) add(c *Command) *Command {
	b.t += 1e9
	c.V, c.Time = CommandVersion, b.t
	b.cmds = append(b.cmds, c)
	return c
}

func communityCmd(name string) *Command {
	return &Command{Type: CmdCreateCommunity, Community: &CommunityCmd{Name: name, Weight: 1, TokenHash: hashToken("fgC_" + name)}}
}

func orderCmd(id, community string, qty int, withBytes bool) *Command {
	sum := sha256Hex(testModel)
	c := &Command{Type: CmdSubmitOrder, Order: &OrderCmd{
		Order:    Order{ID: id, Community: community, ModelSHA256: sum, Quantity: qty, Material: "PLA", LayerHeight: 0.2, Infill: 20},
		Model:    Model{SHA256: sum, Size: int64(len(testModel)), SizeMM: [3]float64{10, 10, 5}},
		HasBytes: withBytes,
	}}
	if withBytes {
		c.ModelBytes = testModel
	}
	return c
}

func registerCmd(id, material string) *Command {
	return &Command{Type: CmdRegisterWorker, Worker: &WorkerCmd{Worker: Worker{
		ID: id, Name: id, BuildMM: [3]float64{200, 200, 200}, Material: material, State: api.WorkerIdle}}}
}

// bound sets the worker token hash a worker's command carries (the
// caller's, as the HTTP layer sets it) and returns the command.
func bound(c *Command, hash string) *Command {
	switch {
	case c.Worker != nil:
		c.Worker.TokenHash = hash
	case c.WorkerState != nil:
		c.WorkerState.TokenHash = hash
	case c.Progress != nil:
		c.Progress.TokenHash = hash
	case c.Result != nil:
		c.Result.TokenHash = hash
	case c.BedClear != nil:
		c.BedClear.TokenHash = hash
	}
	return c
}

func placeCmd(job, printer string) *Command {
	return &Command{Type: CmdPlace, Place: &PlaceCmd{Placements: []PlaceItem{{JobID: job, WorkerID: printer, EstSeconds: 600}}}}
}

func progressCmd(job, worker string, epoch uint64, state string) *Command {
	return &Command{Type: CmdProgress, Progress: &ProgressCmd{JobID: job, Report: api.ProgressRequest{Epoch: epoch, WorkerID: worker, State: state, Percent: 10}}}
}

func resultCmd(job, worker string, epoch uint64, outcome, reason string) *Command {
	return &Command{Type: CmdResult, Result: &ResultCmd{JobID: job, MaxAttempts: 3, Result: api.ResultRequest{Epoch: epoch, WorkerID: worker, Outcome: outcome, Reason: reason}}}
}

// scenario is a log touching every command type.
func scenario() []*Command {
	b := &logBuilder{}
	b.add(&Command{Type: CmdAddAdminToken, Token: &TokenCmd{Hash: hashToken("fgA_x")}})
	b.add(&Command{Type: CmdAddWorkerToken, Token: &TokenCmd{Hash: hashToken("fgW_x"), Name: "grid"}})
	b.add(&Command{Type: CmdSetNode, Node: &NodeInfo{ID: "c1", RaftAddr: "127.0.0.1:1", HTTPAddr: "127.0.0.1:2"}})
	b.add(communityCmd("makers"))
	b.add(orderCmd("o-1", "makers", 3, true))
	b.add(orderCmd("o-2", "makers", 1, false))
	b.add(bound(registerCmd("w-a", "PLA"), hashToken("fgW_x")))
	b.add(bound(registerCmd("w-b", "PLA"), hashToken("fgW_x")))
	b.add(placeCmd("o-1-1", "w-a"))
	b.add(placeCmd("o-1-2", "w-b"))
	b.add(bound(progressCmd("o-1-1", "w-a", 1, api.JobPrinting), hashToken("fgW_x")))
	b.add(resultCmd("o-1-1", "w-a", 1, api.OutcomeDone, ""))
	b.add(resultCmd("o-1-2", "w-b", 2, api.OutcomeFailed, "thermal runaway"))
	b.add(&Command{Type: CmdBedClear, BedClear: &BedClearCmd{WorkerID: "w-a"}})
	b.add(placeCmd("o-1-2", "w-a"))
	b.add(&Command{Type: CmdLeaseExpired, Lease: &LeaseCmd{JobID: "o-1-2", Epoch: 3, Reason: "silent", MaxAttempts: 3}})
	b.add(&Command{Type: CmdWorkerState, WorkerState: &WorkerStateCmd{WorkerID: "w-b", State: api.WorkerPaused}})
	b.add(&Command{Type: CmdCancelOrder, Cancel: &CancelCmd{OrderID: "o-2"}})
	b.add(&Command{Type: CmdRemoveNode, Node: &NodeInfo{ID: "c9"}})
	// A large model in three chunks, then an order for it.
	for _, c := range chunkCmds(bigModel, 3) {
		b.add(c)
	}
	oc := orderCmd("o-3", "makers", 1, false)
	oc.Order.Order.ModelSHA256, oc.Order.Model = sha256Hex(bigModel), Model{SHA256: sha256Hex(bigModel), Size: int64(len(bigModel))}
	b.add(oc)
	// An admin releases w-b; another token's registration binds it.
	b.add(&Command{Type: CmdReleaseWorker, Release: &ReleaseCmd{WorkerID: "w-b"}})
	b.add(bound(registerCmd("w-b", "PLA"), hashToken("fgW_y")))
	return b.cmds
}

// bigModel stands for a model uploaded in chunks.
var bigModel = bytes.Repeat([]byte("0123456789abcdef"), 1000)

// chunkCmds splits model into n chunk commands.
func chunkCmds(model []byte, n int) []*Command {
	var out []*Command
	m := Model{SHA256: sha256Hex(model), Size: int64(len(model))}
	step := (len(model) + n - 1) / n
	for off := 0; off < len(model); off += step {
		end := min(off+step, len(model))
		out = append(out, &Command{Type: CmdModelChunk, Chunk: &ChunkCmd{Model: m, Offset: int64(off)}, ModelBytes: model[off:end]})
	}
	return out
}

func applyAll(t *testing.T, f *Machine, cmds []*Command, from uint64) {
	t.Helper()
	for i, c := range cmds {
		if r := f.ApplyCommand(from+uint64(i), c); r.Err != nil {
			t.Fatalf("command %d (%s): %v", i, c.Type, r.Err)
		}
	}
}

func TestTwoFSMsSameLogSameState(t *testing.T) {
	a, b := New(Options{}), New(Options{})
	applyAll(t, a, scenario(), 1)
	applyAll(t, b, scenario(), 1)
	if !bytes.Equal(a.SnapshotBytes(), b.SnapshotBytes()) {
		t.Fatal("same log, different states")
	}
	// The scenario really moved things.
	a.View(func(s *State) {
		j := s.Jobs["o-1-2"]
		if j.State != api.JobPending || len(j.Failures) != 2 || len(j.Excluded) != 2 {
			t.Fatalf("job o-1-2 %+v", j)
		}
		if s.Orders["o-2"].State != api.OrderCancelled || s.Jobs["o-1-1"].State != api.JobDone {
			t.Fatal("order/job states")
		}
		if b, ok := s.models.Get(sha256Hex(bigModel)); s.Models[sha256Hex(bigModel)] == nil || !ok || !bytes.Equal(b, bigModel) || len(s.Uploads) != 0 {
			t.Fatal("chunked model not assembled")
		}
	})
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	a := New(Options{})
	applyAll(t, a, scenario(), 1)
	snap := a.SnapshotBytes()
	b := New(Options{})
	if err := b.Restore(restoreBytes(1, snap)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snap, b.SnapshotBytes()) {
		t.Fatal("restored state differs")
	}
	b.View(func(s *State) {
		if b, _ := s.models.Get(sha256Hex(testModel)); s.Models[sha256Hex(testModel)] == nil || !bytes.Equal(b, testModel) {
			t.Fatal("model bytes lost in the snapshot")
		}
	})
}

func TestRestorePlusTailEqualsWholeLog(t *testing.T) {
	cmds := scenario()
	for cut := range len(cmds) + 1 {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			whole := New(Options{})
			applyAll(t, whole, cmds, 1)
			head := New(Options{})
			applyAll(t, head, cmds[:cut], 1)
			restored := New(Options{})
			if err := restored.Restore(restoreBytes(uint64(cut), head.SnapshotBytes())); err != nil {
				t.Fatal(err)
			}
			applyAll(t, restored, cmds[cut:], uint64(cut)+1)
			if !bytes.Equal(whole.SnapshotBytes(), restored.SnapshotBytes()) {
				t.Fatal("restore + tail differs from the whole log")
			}
		})
	}
}

func TestRestoreRejectsCorruptSnapshot(t *testing.T) {
	a := New(Options{})
	applyAll(t, a, scenario(), 1)
	snap := a.SnapshotBytes()
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"magic", append([]byte("XXSNAP1\n"), snap[8:]...)},
		{"truncated", snap[:len(snap)-3]},
		// The last model's last byte sits just before the 4-byte upload count.
		{"model bit flip", func() []byte { b := bytes.Clone(snap); b[len(b)-5] ^= 1; return b }()},
		{"trailing data", append(bytes.Clone(snap), 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := New(Options{})
			applyAll(t, b, scenario()[:4], 1)
			before := b.SnapshotBytes()
			if err := b.Restore(restoreBytes(1, tc.data)); err == nil {
				t.Fatal("corrupt snapshot restored")
			}
			if !bytes.Equal(before, b.SnapshotBytes()) {
				t.Fatal("failed restore changed the state")
			}
		})
	}
}

// restoreBytes wraps state bytes as a persisted snapshot at index.
func restoreBytes(index uint64, state []byte) *bytes.Reader {
	var idx [8]byte
	binary.BigEndian.PutUint64(idx[:], index)
	return bytes.NewReader(append(idx[:], state...))
}

// hashToken is the hash under which the coordinator stores a token
// (coordinator.HashToken).
func hashToken(tok string) string { return sha256Hex([]byte(tok)) }

func TestSnapshotIsTheStateWhenTaken(t *testing.T) {
	cmds := scenario()
	f := New(Options{})
	cut := 14 // mid-scenario, with a job assigned and progress recorded
	applyAll(t, f, cmds[:cut], 1)
	want := f.SnapshotBytes()
	snap := f.Snapshot()
	// Apply goes on before raft persists the snapshot.
	applyAll(t, f, cmds[cut:], uint64(cut)+1)
	var sink bytes.Buffer
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	// Persist writes format 2 with references into f's model store: read
	// back over that store, it is the state when taken.
	back := New(Options{Models: f.Models()})
	if err := back.Restore(bytes.NewReader(sink.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got := back.SnapshotBytes(); !bytes.Equal(got, want) {
		t.Fatal("persisted snapshot shows changes applied after it was taken")
	}
	if idx := binary.BigEndian.Uint64(sink.Bytes()[:8]); idx != uint64(cut) {
		t.Fatalf("snapshot index %d, want %d", idx, cut)
	}
}

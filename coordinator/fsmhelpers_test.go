package coordinator

import (
	"testing"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// Builders of state-machine commands for the coordinator's own tests
// (leases, the batcher); package fsm's tests have their own.

// testModel is a tiny valid model.
var testModel = []byte("solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 10 0 0\nvertex 0 10 5\nendloop\nendfacet\nendsolid t\n")

// logBuilder makes commands with increasing times.
type logBuilder struct {
	t    int64
	cmds []*fsm.Command
}

func (b *logBuilder) add(c *fsm.Command) *fsm.Command {
	b.t += 1e9
	c.V, c.Time = fsm.CommandVersion, b.t
	b.cmds = append(b.cmds, c)
	return c
}

func communityCmd(name string) *fsm.Command {
	return &fsm.Command{Type: fsm.CmdCreateCommunity, Community: &fsm.CommunityCmd{Name: name, Weight: 1, TokenHash: HashToken("fgC_" + name)}}
}

func orderCmd(id, community string, qty int, withBytes bool) *fsm.Command {
	sum := sha256Hex(testModel)
	c := &fsm.Command{Type: fsm.CmdSubmitOrder, Order: &fsm.OrderCmd{
		Order:    fsm.Order{ID: id, Community: community, ModelSHA256: sum, Quantity: qty, Material: "PLA", LayerHeight: 0.2, Infill: 20},
		Model:    fsm.Model{SHA256: sum, Size: int64(len(testModel)), SizeMM: [3]float64{10, 10, 5}},
		HasBytes: withBytes,
	}}
	if withBytes {
		c.ModelBytes = testModel
	}
	return c
}

func registerCmd(id, material string) *fsm.Command {
	return &fsm.Command{Type: fsm.CmdRegisterWorker, Worker: &fsm.WorkerCmd{Worker: fsm.Worker{
		ID: id, Name: id, BuildMM: [3]float64{200, 200, 200}, Material: material, State: api.WorkerIdle}}}
}

func placeCmd(job, printer string) *fsm.Command {
	return &fsm.Command{Type: fsm.CmdPlace, Place: &fsm.PlaceCmd{Placements: []fsm.PlaceItem{{JobID: job, WorkerID: printer, EstSeconds: 600}}}}
}

// base is a state with a community, a 1-copy order and three PLA printers.
func base(t *testing.T) *FSM {
	t.Helper()
	f := NewFSM(nil, nil)
	b := &logBuilder{}
	b.add(communityCmd("makers"))
	b.add(orderCmd("o-1", "makers", 1, true))
	b.add(registerCmd("w-a", "PLA"))
	b.add(registerCmd("w-b", "PLA"))
	b.add(registerCmd("w-c", "PLA"))
	for i, c := range b.cmds {
		if r := f.ApplyCommand(uint64(i+1), c); r.Err != nil {
			t.Fatalf("command %d (%s): %v", i, c.Type, r.Err)
		}
	}
	return f
}

func mustApply(t *testing.T, f *FSM, c *fsm.Command) fsm.ApplyResult {
	t.Helper()
	c.V, c.Time = fsm.CommandVersion, 99e9
	r := f.ApplyCommand(f.Index()+1, c)
	if r.Err != nil {
		t.Fatalf("%s: %v", c.Type, r.Err)
	}
	return r
}

// applyAt applies c at its own Time under the current rules.
func applyAt(t *testing.T, f *FSM, c *fsm.Command) fsm.ApplyResult {
	t.Helper()
	c.V, c.Rules = fsm.CommandVersion, fsm.CurrentRules
	r := f.ApplyCommand(f.Index()+1, c)
	if r.Err != nil {
		t.Fatalf("%s: %v", c.Type, r.Err)
	}
	return r
}

func progressCmd(job, worker string, epoch uint64, state string) *fsm.Command {
	return &fsm.Command{Type: fsm.CmdProgress, Progress: &fsm.ProgressCmd{JobID: job,
		Report: api.ProgressRequest{Epoch: epoch, WorkerID: worker, State: state}}}
}

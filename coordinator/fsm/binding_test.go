package fsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

var (
	hashA = hashToken("fgW_alice")
	hashB = hashToken("fgW_bob")
)

// boundToA is base with w-a registered by token A (binding it) and
// holding job o-1-1 at epoch 1, printing.
func boundToA(t *testing.T) *Machine {
	t.Helper()
	f := base(t)
	mustApply(t, f, bound(registerCmd("w-a", "PLA"), hashA))
	mustApply(t, f, placeCmd("o-1-1", "w-a"))
	mustApply(t, f, bound(progressCmd("o-1-1", "w-a", 1, api.JobPrinting), hashA))
	return f
}

// tryApply applies c as mustApply does and returns its refusal, if any.
func tryApply(f *Machine, c *Command) error {
	c.V, c.Time = CommandVersion, 99e9
	return f.ApplyCommand(f.Index()+1, c).Err
}

func TestWorkerCallsWithAnotherTokenChangeNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  *Command
	}{
		{"register", bound(registerCmd("w-a", "PETG"), hashB)},
		{"register without a token hash", registerCmd("w-a", "PETG")},
		{"heartbeat state", bound(&Command{Type: CmdWorkerState, WorkerState: &WorkerStateCmd{WorkerID: "w-a", State: api.WorkerPaused}}, hashB)},
		{"progress", bound(progressCmd("o-1-1", "w-a", 1, api.JobPrinting), hashB)},
		{"result done", bound(resultCmd("o-1-1", "w-a", 1, api.OutcomeDone, ""), hashB)},
		{"result failed", bound(resultCmd("o-1-1", "w-a", 1, api.OutcomeFailed, "jammed"), hashB)},
		{"result refused", bound(resultCmd("o-1-1", "w-a", 1, api.OutcomeRefused, "no"), hashB)},
		{"bed clear", bound(&Command{Type: CmdBedClear, BedClear: &BedClearCmd{WorkerID: "w-a"}}, hashB)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := boundToA(t)
			before := f.SnapshotBytes()
			if err := tryApply(f, tc.cmd); !errors.Is(err, ErrWorkerToken) {
				t.Fatalf("err %v, want %v", err, ErrWorkerToken)
			}
			if !bytes.Equal(before, f.SnapshotBytes()) {
				t.Fatal("a call with another token changed the state")
			}
			if j := job(f, "o-1-1"); j.WorkerID != "w-a" || j.Epoch != 1 || j.State != api.JobPrinting {
				t.Fatalf("the job left its lease: %+v", j)
			}
		})
	}
}

func TestWorkerBoundToItsFirstToken(t *testing.T) {
	f := boundToA(t)
	// The owner re-registers (after a restart) and goes on.
	mustApply(t, f, bound(registerCmd("w-a", "PLA"), hashA))
	if w := worker(f, "w-a"); w.TokenHash != hashA || w.Job != "o-1-1" || w.State != api.WorkerBusy {
		t.Fatalf("re-registered worker %+v", w)
	}
	mustApply(t, f, bound(progressCmd("o-1-1", "w-a", 1, api.JobPrinting), hashA))
	mustApply(t, f, bound(resultCmd("o-1-1", "w-a", 1, api.OutcomeDone, ""), hashA))
	mustApply(t, f, bound(&Command{Type: CmdBedClear, BedClear: &BedClearCmd{WorkerID: "w-a"}}, hashA))
	if j := job(f, "o-1-1"); j.State != api.JobDone {
		t.Fatalf("job %+v", j)
	}
	// The leader's own commands carry no hash and are not checked.
	mustApply(t, f, &Command{Type: CmdWorkerState, WorkerState: &WorkerStateCmd{WorkerID: "w-a", State: api.WorkerOffline}})

	// Workers registered before binding (base registers without a hash)
	// take calls from any token until their next registration binds them.
	if w := worker(f, "w-b"); w.TokenHash != "" {
		t.Fatalf("w-b bound to %q", w.TokenHash)
	}
	mustApply(t, f, bound(&Command{Type: CmdWorkerState, WorkerState: &WorkerStateCmd{WorkerID: "w-b", State: api.WorkerPaused}}, hashA))
	mustApply(t, f, bound(registerCmd("w-b", "PLA"), hashB))
	if w := worker(f, "w-b"); w.TokenHash != hashB {
		t.Fatalf("w-b not bound by its registration: %q", w.TokenHash)
	}
	if err := tryApply(f, bound(registerCmd("w-b", "PLA"), hashA)); !errors.Is(err, ErrWorkerToken) {
		t.Fatalf("w-b taken over: %v", err)
	}

	// A registration's token hash is stored, so it must look like one.
	if err := tryApply(f, bound(registerCmd("w-new", "PLA"), "nope")); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("bad token hash: %v", err)
	}
	// A hash in the worker record of the command is not a binding.
	c := registerCmd("w-c", "PLA")
	c.Worker.Worker.TokenHash = hashB
	mustApply(t, f, bound(c, hashA))
	if w := worker(f, "w-c"); w.TokenHash != hashA {
		t.Fatalf("w-c bound to %q, want the command's hash", w.TokenHash)
	}

	// An admin's release frees w-a; the next registration binds it.
	if err := tryApply(f, &Command{Type: CmdReleaseWorker, Release: &ReleaseCmd{WorkerID: "w-x"}}); !errors.Is(err, ErrUnknownWorker) {
		t.Fatalf("release of an unknown worker: %v", err)
	}
	mustApply(t, f, &Command{Type: CmdReleaseWorker, Release: &ReleaseCmd{WorkerID: "w-a"}})
	mustApply(t, f, bound(registerCmd("w-a", "PLA"), hashB))
	if w := worker(f, "w-a"); w.TokenHash != hashB || w.Successes != 1 {
		t.Fatalf("w-a after release and registration by B: %+v", w)
	}
	if err := tryApply(f, bound(&Command{Type: CmdBedClear, BedClear: &BedClearCmd{WorkerID: "w-a"}}, hashA)); !errors.Is(err, ErrWorkerToken) {
		t.Fatalf("A still acts for w-a: %v", err)
	}
}

// testdata/v1-scenario.log holds the log of scenario() as the coordinator
// wrote it before workers were bound to tokens (each entry a uint32
// big-endian length, then the entry), and v1-scenario.snap the state it
// led to. They stand for logs and snapshots already on disk: never
// regenerate them.
func readOldLog(t *testing.T) [][]byte {
	t.Helper()
	b, err := os.ReadFile("testdata/v1-scenario.log")
	if err != nil {
		t.Fatal(err)
	}
	var entries [][]byte
	for len(b) > 0 {
		n := binary.BigEndian.Uint32(b)
		entries, b = append(entries, b[4:4+n]), b[4+n:]
	}
	return entries
}

func TestLogAndSnapshotFromBeforeBindingApplyAsBefore(t *testing.T) {
	entries := readOldLog(t)
	want, err := os.ReadFile("testdata/v1-scenario.snap")
	if err != nil {
		t.Fatal(err)
	}
	replayed := New(Options{})
	for i, e := range entries {
		if r := replayed.ApplyEntry(uint64(i+1), e).(ApplyResult); r.Err != nil {
			t.Fatalf("entry %d: %v", i+1, r.Err)
		}
	}
	if !bytes.Equal(replayed.SnapshotBytes(), want) {
		t.Fatal("the old log applies to another state than before")
	}
	restored := New(Options{})
	if err := restored.Restore(restoreBytes(uint64(len(entries)), want)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(restored.SnapshotBytes(), want) {
		t.Fatal("the old snapshot does not encode back to itself")
	}
	// Its workers are unbound; their next registration binds them.
	for _, id := range []string{"w-a", "w-b"} {
		if w := worker(restored, id); w.TokenHash != "" {
			t.Fatalf("%s bound to %q", id, w.TokenHash)
		}
	}
	mustApply(t, restored, bound(registerCmd("w-a", "PLA"), hashA))
	if err := tryApply(restored, bound(registerCmd("w-a", "PLA"), hashB)); !errors.Is(err, ErrWorkerToken) {
		t.Fatalf("second token took w-a: %v", err)
	}
}

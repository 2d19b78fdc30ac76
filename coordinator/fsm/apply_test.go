package fsm

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// base is a state with a community, a 1-copy order and two PLA printers.
func base(t *testing.T) *Machine {
	t.Helper()
	f := New(Options{})
	b := &logBuilder{}
	b.add(communityCmd("makers"))
	b.add(orderCmd("o-1", "makers", 1, true))
	b.add(registerCmd("w-a", "PLA"))
	b.add(registerCmd("w-b", "PLA"))
	b.add(registerCmd("w-c", "PLA"))
	applyAll(t, f, b.cmds, 1)
	return f
}

// mustApply applies c under the current rules at 01:39 UTC on day 0.
func mustApply(t *testing.T, f *Machine, c *Command) ApplyResult {
	t.Helper()
	return mustApplyRules(t, f, c, CurrentRules)
}

func mustApplyRules(t *testing.T, f *Machine, c *Command, rules int) ApplyResult {
	t.Helper()
	c.V, c.Time, c.Rules = CommandVersion, 99e9, rules
	r := f.ApplyCommand(f.Index()+1, c)
	if r.Err != nil {
		t.Fatalf("%s: %v", c.Type, r.Err)
	}
	return r
}

func job(f *Machine, id string) (j Job) {
	f.View(func(s *State) { j = *s.Jobs[id] })
	return j
}

func worker(f *Machine, id string) (w Worker) {
	f.View(func(s *State) { w = *s.Workers[id] })
	return w
}

func TestBadCommandsChangeNothing(t *testing.T) {
	valid := func() *Command { return orderCmd("o-9", "makers", 1, false) }
	for _, tc := range []struct {
		name string
		data []byte
		cmd  *Command
		want error
	}{
		{name: "garbage", data: []byte("{nope"), want: ErrBadCommand},
		{name: "unknown field", data: []byte(`{"v":1,"type":"cancel_order","cancel":{"order_id":"o-1"},"extra":1}`), want: ErrBadCommand},
		{name: "version 2", data: []byte(`{"v":2,"type":"cancel_order","cancel":{"order_id":"o-1"}}`), want: ErrBadCommand},
		{name: "unknown type", data: []byte(`{"v":1,"type":"launch","cancel":{"order_id":"o-1"}}`), want: ErrBadCommand},
		{name: "missing payload", data: []byte(`{"v":1,"type":"cancel_order"}`), want: ErrBadCommand},
		{name: "framed without bytes flag", data: append([]byte{1, 0, 0, 0, 2}, []byte("{}x")...), want: ErrBadCommand},
		{name: "cancel unknown order", cmd: &Command{Type: CmdCancelOrder, Cancel: &CancelCmd{OrderID: "o-x"}}, want: ErrNotFound},
		{name: "order unknown community", cmd: func() *Command { c := valid(); c.Order.Order.Community = "x"; return c }(), want: ErrBadCommand},
		{name: "order duplicate id", cmd: orderCmd("o-1", "makers", 1, false), want: ErrConflict},
		{name: "order zero quantity", cmd: func() *Command { c := valid(); c.Order.Order.Quantity = 0; return c }(), want: ErrBadCommand},
		{name: "order new model without bytes", cmd: func() *Command {
			c := valid()
			c.Order.Model.SHA256, c.Order.Order.ModelSHA256 = sha256Hex([]byte("other")), sha256Hex([]byte("other"))
			return c
		}(), want: ErrBadCommand},
		{name: "order bytes not matching hash", cmd: func() *Command {
			c := orderCmd("o-9", "makers", 1, true)
			c.Order.Model.SHA256, c.Order.Order.ModelSHA256 = sha256Hex([]byte("other")), sha256Hex([]byte("other"))
			return c
		}(), want: ErrBadCommand},
		{name: "community exists", cmd: communityCmd("makers"), want: ErrConflict},
		{name: "community bad hash", cmd: &Command{Type: CmdCreateCommunity, Community: &CommunityCmd{Name: "x", TokenHash: "zz"}}, want: ErrBadCommand},
		{name: "worker bad state", cmd: &Command{Type: CmdWorkerState, WorkerState: &WorkerStateCmd{WorkerID: "w-a", State: "flying"}}, want: ErrBadCommand},
		{name: "worker unknown", cmd: &Command{Type: CmdBedClear, BedClear: &BedClearCmd{WorkerID: "w-x"}}, want: ErrUnknownWorker},
		{name: "progress stale", cmd: progressCmd("o-1-1", "w-a", 7, api.JobPrinting), want: ErrStaleEpoch},
		{name: "progress bad state", cmd: progressCmd("o-1-1", "w-a", 0, "done"), want: ErrBadCommand},
		{name: "result never leased", cmd: resultCmd("o-1-1", "w-a", 1, api.OutcomeDone, ""), want: ErrStaleEpoch},
		{name: "result bad outcome", cmd: resultCmd("o-1-1", "w-a", 1, "meh", ""), want: ErrBadCommand},
		{name: "lease of pending job", cmd: &Command{Type: CmdLeaseExpired, Lease: &LeaseCmd{JobID: "o-1-1", Epoch: 0}}, want: ErrStaleEpoch},
		{name: "chunk out of order", cmd: chunkCmds(bigModel, 4)[1], want: ErrConflict},
		{name: "chunk past the size", cmd: func() *Command {
			c := chunkCmds(bigModel, 1)[0]
			c.Chunk.Model.Size = 10
			return c
		}(), want: ErrBadCommand},
		{name: "chunks not matching the hash", cmd: func() *Command {
			c := chunkCmds(bigModel, 1)[0]
			c.Chunk.Model.SHA256 = sha256Hex([]byte("x"))
			return c
		}(), want: ErrBadCommand},
		{name: "register without material", cmd: &Command{Type: CmdRegisterWorker, Worker: &WorkerCmd{Worker: Worker{ID: "w-z", State: "idle"}}}, want: ErrBadCommand},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := base(t)
			before := f.SnapshotBytes()
			data := tc.data
			if tc.cmd != nil {
				tc.cmd.V, tc.cmd.Time = CommandVersion, 1
				var err error
				if data, err = EncodeCommand(tc.cmd); err != nil {
					t.Fatal(err)
				}
			}
			r := f.ApplyEntry(100, data).(ApplyResult)
			if !errors.Is(r.Err, tc.want) {
				t.Fatalf("err %v, want %v", r.Err, tc.want)
			}
			if !bytes.Equal(before, f.SnapshotBytes()) {
				t.Fatal("a refused command changed the state")
			}
		})
	}
}

func TestPlaceRechecks(t *testing.T) {
	f := base(t)
	mustApply(t, f, &Command{Type: CmdWorkerState, WorkerState: &WorkerStateCmd{WorkerID: "w-a", State: api.WorkerPaused}})
	r := mustApply(t, f, &Command{Type: CmdPlace, Place: &PlaceCmd{Placements: []PlaceItem{
		{JobID: "o-1-1", WorkerID: "w-a"}, // paused meanwhile: skipped
		{JobID: "o-1-1", WorkerID: "w-b"}, // holds
		{JobID: "o-1-1", WorkerID: "w-c"}, // job taken meanwhile: skipped
	}}})
	if len(r.Placed) != 1 || r.Placed[0].WorkerID != "w-b" {
		t.Fatalf("placed %+v", r.Placed)
	}
	if j := job(f, "o-1-1"); j.State != api.JobAssigned || j.WorkerID != "w-b" || j.Epoch != 1 || j.Attempts != 1 {
		t.Fatalf("job %+v", j)
	}
	if w := worker(f, "w-b"); w.State != api.WorkerBusy || w.Job != "o-1-1" {
		t.Fatalf("worker %+v", w)
	}
}

func TestRetryExcludesFailedPrinterThenFails(t *testing.T) {
	f := base(t)
	var epoch uint64
	for i, p := range []string{"w-a", "w-b", "w-c"} {
		r := mustApply(t, f, placeCmd("o-1-1", p))
		epoch = r.Placed[0].Epoch
		mustApply(t, f, progressCmd("o-1-1", p, epoch, api.JobPrinting))
		mustApply(t, f, resultCmd("o-1-1", p, epoch, api.OutcomeFailed, "nozzle clog "+p))
		j := job(f, "o-1-1")
		if i < 2 && (j.State != api.JobPending || j.WorkerID != "") {
			t.Fatalf("after failure %d: %+v", i+1, j)
		}
		// The failed printer is never offered the job again.
		mustApply(t, f, &Command{Type: CmdBedClear, BedClear: &BedClearCmd{WorkerID: p}})
		if r := mustApply(t, f, placeCmd("o-1-1", p)); len(r.Placed) != 0 {
			t.Fatalf("job placed again on %s, which failed it", p)
		}
	}
	j := job(f, "o-1-1")
	if j.State != api.JobFailed || len(j.Failures) != 3 || j.Failures[2].Reason != "nozzle clog w-c" {
		t.Fatalf("job %+v", j)
	}
	var o Order
	f.View(func(s *State) { o = *s.Orders["o-1"] })
	if o.State != api.OrderFailed {
		t.Fatalf("order state %s", o.State)
	}
	if w := worker(f, "w-a"); w.Failures != 1 {
		t.Fatalf("printer failures %d", w.Failures)
	}
}

// TestStaleEpochAndDuplicateDone is the late done under RulesV1, the
// rules of the logs written before RulesLifecycle (see lifecycle_test.go
// for today's).
func TestStaleEpochAndDuplicateDone(t *testing.T) {
	f := base(t)
	e1 := mustApplyRules(t, f, placeCmd("o-1-1", "w-a"), RulesV1).Placed[0].Epoch
	mustApplyRules(t, f, progressCmd("o-1-1", "w-a", e1, api.JobPrinting), RulesV1)
	// w-a goes silent; its lease expires and w-b gets the copy.
	mustApplyRules(t, f, &Command{Type: CmdLeaseExpired, Lease: &LeaseCmd{JobID: "o-1-1", Epoch: e1, Reason: "silent"}}, RulesV1)
	if w := worker(f, "w-a"); w.State != api.WorkerOffline || w.Job != "" {
		t.Fatalf("silent worker %+v", w)
	}
	e2 := mustApplyRules(t, f, placeCmd("o-1-1", "w-b"), RulesV1).Placed[0].Epoch
	mustApplyRules(t, f, progressCmd("o-1-1", "w-b", e2, api.JobPrinting), RulesV1)
	// A late report from w-a is stale.
	c := progressCmd("o-1-1", "w-a", e1, api.JobPrinting)
	c.V = CommandVersion
	if r := f.ApplyCommand(f.Index()+1, c); !errors.Is(r.Err, ErrStaleEpoch) {
		t.Fatalf("stale progress: %v", r.Err)
	}
	// w-a's print finishes after all: it counts; w-b's duplicate stops.
	if r := mustApplyRules(t, f, resultCmd("o-1-1", "w-a", e1, api.OutcomeDone, ""), RulesV1); r.Duplicate {
		t.Fatal("first done marked duplicate")
	}
	j := job(f, "o-1-1")
	if j.State != api.JobDone || j.WorkerID != "w-a" {
		t.Fatalf("job %+v", j)
	}
	c = progressCmd("o-1-1", "w-b", e2, api.JobPrinting)
	c.V = CommandVersion
	if r := f.ApplyCommand(f.Index()+1, c); !errors.Is(r.Err, ErrStaleEpoch) {
		t.Fatalf("duplicate's progress: %v", r.Err)
	}
	if w := worker(f, "w-b"); w.Job != "" || w.State != api.WorkerAwaitingBedClear {
		t.Fatalf("duplicate's printer %+v", w)
	}
	// w-b finishing too is a duplicate, not a second done.
	if r := mustApplyRules(t, f, resultCmd("o-1-1", "w-b", e2, api.OutcomeDone, ""), RulesV1); !r.Duplicate {
		t.Fatal("second done not marked duplicate")
	}
	var done int
	f.View(func(s *State) { done = s.JobsDone(s.Orders["o-1"]) })
	if done != 1 {
		t.Fatalf("copies done %d, want 1", done)
	}
}

func TestCancel(t *testing.T) {
	f := base(t)
	b := &logBuilder{}
	applyAll(t, f, []*Command{b.add(orderCmd("o-2", "makers", 2, false))}, f.Index()+1)
	e := mustApply(t, f, placeCmd("o-2-1", "w-a")).Placed[0].Epoch
	mustApply(t, f, progressCmd("o-2-1", "w-a", e, api.JobPrinting))
	mustApply(t, f, &Command{Type: CmdCancelOrder, Cancel: &CancelCmd{OrderID: "o-2"}})
	if j := job(f, "o-2-2"); j.State != api.JobCancelled {
		t.Fatalf("pending job %s", j.State)
	}
	if r := mustApply(t, f, progressCmd("o-2-1", "w-a", e, api.JobPrinting)); r.Action != api.ActionCancel {
		t.Fatalf("action %q", r.Action)
	}
	mustApply(t, f, resultCmd("o-2-1", "w-a", e, api.OutcomeFailed, "cancelled by the coordinator"))
	if j := job(f, "o-2-1"); j.State != api.JobCancelled {
		t.Fatalf("printing job %s", j.State)
	}
	var o Order
	f.View(func(s *State) { o = *s.Orders["o-2"] })
	if o.State != api.OrderCancelled {
		t.Fatalf("order %s", o.State)
	}
}

func TestChunkedUploadRestartsAndExpires(t *testing.T) {
	f := base(t)
	cs := chunkCmds(bigModel, 4)
	mustApply(t, f, cs[0])
	mustApply(t, f, cs[1])
	// The uploader died; a new upload starts over at offset 0.
	mustApply(t, f, cs[0])
	c := cs[2]
	c.V, c.Time = CommandVersion, 99e9
	if r := f.ApplyCommand(f.Index()+1, c); !errors.Is(r.Err, ErrConflict) {
		t.Fatalf("chunk 2 after a restart: %v", r.Err)
	}
	for _, c := range cs[1:] {
		mustApply(t, f, c)
	}
	f.View(func(s *State) {
		if b, ok := s.models.Get(sha256Hex(bigModel)); s.Models[sha256Hex(bigModel)] == nil || !ok || !bytes.Equal(b, bigModel) || len(s.Uploads) != 0 {
			t.Fatal("model not assembled after a restarted upload")
		}
	})
	// An abandoned upload is dropped when another starts an hour later.
	other := bytes.Repeat([]byte("z"), 5000)
	oc := chunkCmds(other, 2)
	mustApply(t, f, oc[0])
	late := chunkCmds(bytes.Repeat([]byte("y"), 5000), 2)[0]
	late.V, late.Time = CommandVersion, 99e9+int64(2*time.Hour)
	if r := f.ApplyCommand(f.Index()+1, late); r.Err != nil {
		t.Fatal(r.Err)
	}
	f.View(func(s *State) {
		if _, ok := s.Uploads[sha256Hex(other)]; ok || len(s.Uploads) != 1 {
			t.Fatalf("uploads %d", len(s.Uploads))
		}
	})
}

func TestRequestIDMakesSubmissionIdempotent(t *testing.T) {
	f := base(t)
	first := orderCmd("o-7", "makers", 2, false)
	first.Order.Order.RequestID = "r-1"
	if r := mustApply(t, f, first); r.OrderID != "" {
		t.Fatalf("first submission answered %q", r.OrderID)
	}
	before := f.SnapshotBytes()
	retry := orderCmd("o-8", "makers", 2, false)
	retry.Order.Order.RequestID = "r-1"
	if r := mustApply(t, f, retry); r.OrderID != "o-7" {
		t.Fatalf("retry answered %q, want o-7", r.OrderID)
	}
	if !bytes.Equal(before, f.SnapshotBytes()) {
		t.Fatal("a retried request changed the state")
	}
	// The same request_id from another community is another request.
	b := &logBuilder{}
	applyAll(t, f, []*Command{b.add(communityCmd("others"))}, f.Index()+1)
	other := orderCmd("o-9", "others", 1, false)
	other.Order.Order.RequestID = "r-1"
	if r := mustApply(t, f, other); r.OrderID != "" {
		t.Fatalf("other community's request answered %q", r.OrderID)
	}
}

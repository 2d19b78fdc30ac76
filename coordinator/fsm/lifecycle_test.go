package fsm

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// tryApplyAt applies c under the current rules at time ns and returns
// its whole result.
func tryApplyAt(f *Machine, c *Command, ns int64) ApplyResult {
	c.V, c.Time, c.Rules = CommandVersion, ns, CurrentRules
	return f.ApplyCommand(f.Index()+1, c)
}

func mustApplyAt(t *testing.T, f *Machine, c *Command, ns int64) ApplyResult {
	t.Helper()
	r := tryApplyAt(f, c, ns)
	if r.Err != nil {
		t.Fatalf("%s: %v", c.Type, r.Err)
	}
	return r
}

func refusalCmd(job, worker string, epoch uint64, kind, reason string) *Command {
	c := resultCmd(job, worker, epoch, api.OutcomeRefused, reason)
	c.Result.Result.Refusal = kind
	return c
}

func copiesDone(f *Machine, order string) (n int) {
	f.View(func(s *State) { n = s.JobsDone(s.Orders[order]) })
	return n
}

// Item 5: a result or progress is taken only from the worker holding
// that epoch, and only while that lease's outcome is unrecorded. On the
// code before RulesLifecycle, a done after the same worker's failed at
// the same epoch counted and unseated the present holder.
func TestReplaysAreRefused(t *testing.T) {
	f := base(t)
	e1 := mustApply(t, f, placeCmd("o-1-1", "w-a")).Placed[0].Epoch
	mustApply(t, f, progressCmd("o-1-1", "w-a", e1, api.JobPrinting))
	mustApply(t, f, resultCmd("o-1-1", "w-a", e1, api.OutcomeFailed, "nozzle clog"))
	mustApply(t, f, &Command{Type: CmdBedClear, BedClear: &BedClearCmd{WorkerID: "w-a"}})
	e2 := mustApply(t, f, placeCmd("o-1-1", "w-b")).Placed[0].Epoch
	mustApply(t, f, progressCmd("o-1-1", "w-b", e2, api.JobPrinting))

	for _, tc := range []struct {
		name string
		cmd  *Command
	}{
		{"done after failed at the same epoch", resultCmd("o-1-1", "w-a", e1, api.OutcomeDone, "")},
		{"progress after failed", progressCmd("o-1-1", "w-a", e1, api.JobPrinting)},
		{"done from a worker that never held that epoch", resultCmd("o-1-1", "w-c", e2, api.OutcomeDone, "")},
		{"progress from a worker that never held that epoch", progressCmd("o-1-1", "w-c", e2, api.JobPrinting)},
		{"done at an epoch never handed out", resultCmd("o-1-1", "w-b", 99, api.OutcomeDone, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.SnapshotBytes()
			if r := tryApplyAt(f, tc.cmd, 100e9); !errors.Is(r.Err, ErrStaleEpoch) {
				t.Fatalf("err %v, want ErrStaleEpoch", r.Err)
			}
			if string(f.SnapshotBytes()) != string(before) {
				t.Fatal("a refused replay changed the state")
			}
		})
	}
	if j := job(f, "o-1-1"); j.State != api.JobPrinting || j.WorkerID != "w-b" || j.Epoch != e2 {
		t.Fatalf("present holder unseated: %+v", j)
	}
	// The same result twice is a retry: a duplicate, not a second count.
	mustApply(t, f, resultCmd("o-1-1", "w-b", e2, api.OutcomeDone, ""))
	if r := mustApply(t, f, resultCmd("o-1-1", "w-b", e2, api.OutcomeDone, "")); !r.Duplicate {
		t.Fatal("a retried done is not a duplicate")
	}
	if r := tryApplyAt(f, resultCmd("o-1-1", "w-b", e2, api.OutcomeFailed, "late"), 101e9); !errors.Is(r.Err, ErrStaleEpoch) {
		t.Fatalf("failed after done at the same epoch: %v", r.Err)
	}
	if n := copiesDone(f, "o-1"); n != 1 {
		t.Fatalf("copies done %d", n)
	}
}

// Items 4 and 3: a late done counts the copy once and leaves the present
// holder's printer to it; the holder's next report is answered cancel
// with the reason, and its superseded result frees its printer. On the
// code before, the late done freed w-b's printer while it printed (and
// w-b's next report got a bare stale epoch).
func TestLateDoneCountsOnceAndLeavesTheHolderItsPrinter(t *testing.T) {
	f := base(t)
	e1 := mustApply(t, f, placeCmd("o-1-1", "w-a")).Placed[0].Epoch
	mustApply(t, f, progressCmd("o-1-1", "w-a", e1, api.JobPrinting))
	mustApply(t, f, &Command{Type: CmdLeaseExpired, Lease: &LeaseCmd{JobID: "o-1-1", Epoch: e1, Reason: "silent"}})
	e2 := mustApply(t, f, placeCmd("o-1-1", "w-b")).Placed[0].Epoch
	mustApply(t, f, progressCmd("o-1-1", "w-b", e2, api.JobPrinting))

	// w-a, cut off, is told at its next report that the lease passed on.
	r := mustApply(t, f, progressCmd("o-1-1", "w-a", e1, api.JobPrinting))
	if r.Action != api.ActionCancel || !r.Superseded || !strings.Contains(r.Reason, "passed to w-b") {
		t.Fatalf("superseded holder's answer %+v", r)
	}
	// But its print had finished: the late done counts.
	if r := mustApply(t, f, resultCmd("o-1-1", "w-a", e1, api.OutcomeDone, "")); r.Duplicate {
		t.Fatal("first done marked duplicate")
	}
	if j := job(f, "o-1-1"); j.State != api.JobDone || j.WorkerID != "w-a" {
		t.Fatalf("job %+v", j)
	}
	if w := worker(f, "w-b"); w.Job != "o-1-1" || w.State != api.WorkerBusy {
		t.Fatalf("the present holder's printer was freed while it prints: %+v", w)
	}
	if r := mustApply(t, f, placeCmd("o-1-1", "w-b")); len(r.Placed) != 0 {
		t.Fatal("placed on a printer still printing")
	}
	r = mustApply(t, f, progressCmd("o-1-1", "w-b", e2, api.JobPrinting))
	if r.Action != api.ActionCancel || !r.Superseded || !strings.Contains(r.Reason, "done by w-a") {
		t.Fatalf("holder's answer %+v", r)
	}
	mustApply(t, f, resultCmd("o-1-1", "w-b", e2, api.OutcomeSuperseded, "stopped: copy done elsewhere"))
	if w := worker(f, "w-b"); w.Job != "" || w.State != api.WorkerAwaitingBedClear {
		t.Fatalf("stopped holder's printer %+v", w)
	}
	if n := copiesDone(f, "o-1"); n != 1 {
		t.Fatalf("copies done %d", n)
	}
	if w := worker(f, "w-b"); w.Successes != 0 || w.Failures != 0 {
		t.Fatalf("superseded print counted on the printer: %+v", w)
	}
}

// A superseded holder that goes silent gets its printer freed by the
// leader's lease check (LeaseCmd with WorkerID), the copy untouched.
func TestSilentSupersededHolderIsFreed(t *testing.T) {
	f := base(t)
	e1 := mustApply(t, f, placeCmd("o-1-1", "w-a")).Placed[0].Epoch
	mustApply(t, f, &Command{Type: CmdLeaseExpired, Lease: &LeaseCmd{JobID: "o-1-1", Epoch: e1, Reason: "silent"}})
	e2 := mustApply(t, f, placeCmd("o-1-1", "w-b")).Placed[0].Epoch
	mustApply(t, f, resultCmd("o-1-1", "w-a", e1, api.OutcomeDone, ""))
	lease := &Command{Type: CmdLeaseExpired, Lease: &LeaseCmd{JobID: "o-1-1", Epoch: e1, WorkerID: "w-a", Reason: "silent"}}
	if r := tryApplyAt(f, lease, 100e9); !errors.Is(r.Err, ErrStaleEpoch) {
		t.Fatalf("freeing a worker that holds nothing: %v", r.Err)
	}
	mustApply(t, f, &Command{Type: CmdLeaseExpired, Lease: &LeaseCmd{JobID: "o-1-1", Epoch: e2, WorkerID: "w-b", Reason: "silent"}})
	if w := worker(f, "w-b"); w.Job != "" || w.State != api.WorkerOffline {
		t.Fatalf("silent superseded holder %+v", w)
	}
	if j := job(f, "o-1-1"); j.State != api.JobDone || j.WorkerID != "w-a" {
		t.Fatalf("job %+v", j)
	}
}

// Item 2: a temporary refusal leaves the printer eligible after a
// backoff and uses up no attempt; a permanent one excludes the printer;
// a copy every registered printer is excluded from fails with the
// reasons. On the code before, every refusal excluded the printer, and a
// copy all printers refused stayed pending for ever.
func TestRefusalsByKind(t *testing.T) {
	f := base(t)
	const t0 = int64(100e9)
	e := mustApplyAt(t, f, placeCmd("o-1-1", "w-a"), t0).Placed[0].Epoch
	mustApplyAt(t, f, refusalCmd("o-1-1", "w-a", e, api.RefusalTemporary, "outside the owner's printing hours 08:00-22:00"), t0)
	j := job(f, "o-1-1")
	if j.State != api.JobPending || j.Attempts != 0 || len(j.Excluded) != 0 || len(j.Failures) != 0 || !strings.Contains(j.Waiting, "printing hours") {
		t.Fatalf("after a temporary refusal: %+v", j)
	}
	if w := worker(f, "w-a"); w.Job != "" || w.State != api.WorkerIdle {
		t.Fatalf("refusing printer %+v", w)
	}
	if r := mustApplyAt(t, f, placeCmd("o-1-1", "w-a"), t0+DefaultRefusalBackoff-1); len(r.Placed) != 0 {
		t.Fatal("placed on the refusing printer inside its backoff")
	}
	e = mustApplyAt(t, f, placeCmd("o-1-1", "w-a"), t0+DefaultRefusalBackoff).Placed[0].Epoch
	// Permanent refusals exclude; the last printer's ends the copy.
	mustApplyAt(t, f, refusalCmd("o-1-1", "w-a", e, api.RefusalPermanent, "model checksum mismatch"), t0+DefaultRefusalBackoff)
	for _, p := range []string{"w-b", "w-c"} {
		e = mustApply(t, f, placeCmd("o-1-1", p)).Placed[0].Epoch
		mustApply(t, f, refusalCmd("o-1-1", p, e, "", "slicing failed on its profile"))
		if j := job(f, "o-1-1"); j.Attempts != 0 {
			t.Fatalf("a refusal used up an attempt: %+v", j)
		}
	}
	j = job(f, "o-1-1")
	if j.State != api.JobFailed || len(j.Failures) != 3 || !strings.Contains(j.Failures[0].Reason, "checksum") {
		t.Fatalf("copy no printer can take: %+v", j)
	}
	var o Order
	f.View(func(s *State) { o = *s.Orders["o-1"] })
	if o.State != api.OrderFailed {
		t.Fatalf("order %s", o.State)
	}
	if r := tryApplyAt(f, refusalCmd("o-1-1", "w-c", e, "sometimes", "x"), t0); !errors.Is(r.Err, ErrBadCommand) {
		t.Fatalf("unknown refusal kind: %v", r.Err)
	}
}

// Item 8: the community is charged printer time actually used: nothing
// for a placement, a refusal or a print that never started; the estimate
// while printing; the measured time at the end. On the code before, the
// placement charged the estimate at once, refused or not.
func TestChargesPrinterTimeUsed(t *testing.T) {
	used := func(f *Machine) (u float64) {
		f.View(func(s *State) { u = s.Communities["makers"].UsedSeconds })
		return u
	}
	f := base(t)
	const sec = int64(1e9)
	e := mustApplyAt(t, f, placeCmd("o-1-1", "w-a"), 100*sec).Placed[0].Epoch
	if u := used(f); u != 0 {
		t.Fatalf("placement charged %v", u)
	}
	mustApplyAt(t, f, refusalCmd("o-1-1", "w-a", e, api.RefusalTemporary, "paused"), 101*sec)
	e = mustApplyAt(t, f, placeCmd("o-1-1", "w-b"), 102*sec).Placed[0].Epoch
	mustApplyAt(t, f, progressCmd("o-1-1", "w-b", e, api.JobSlicing), 103*sec)
	if u := used(f); u != 0 {
		t.Fatalf("refusal and slicing charged %v", u)
	}
	p := progressCmd("o-1-1", "w-b", e, api.JobPrinting)
	p.Progress.Report.EstSeconds = 500
	mustApplyAt(t, f, p, 110*sec)
	if u := used(f); u != 500 {
		t.Fatalf("while printing charged %v, want the estimate 500", u)
	}
	mustApplyAt(t, f, resultCmd("o-1-1", "w-b", e, api.OutcomeDone, ""), 410*sec)
	if u := used(f); math.Abs(u-300) > 1e-9 {
		t.Fatalf("after the print charged %v, want the 300 s measured", u)
	}
	// A worker that measured its print is charged its measure.
	mustApply(t, f, &Command{Type: CmdBedClear, BedClear: &BedClearCmd{WorkerID: "w-b"}})
	applyAll(t, f, []*Command{(&logBuilder{}).add(orderCmd("o-2", "makers", 1, false))}, f.Index()+1)
	e = mustApplyAt(t, f, placeCmd("o-2-1", "w-b"), 500*sec).Placed[0].Epoch
	mustApplyAt(t, f, progressCmd("o-2-1", "w-b", e, api.JobPrinting), 501*sec)
	done := resultCmd("o-2-1", "w-b", e, api.OutcomeDone, "")
	done.Result.Result.PrintedS = 1234
	mustApplyAt(t, f, done, 502*sec)
	if u := used(f); math.Abs(u-300-1234) > 1e-9 {
		t.Fatalf("charged %v, want 300 + the worker's 1234 s", u)
	}
}

// Item 6, the state machine's part: a stalled report does not renew the
// lease (Job.Updated, which the leader's lease check counts from).
func TestStalledReportDoesNotRenewTheLease(t *testing.T) {
	f := base(t)
	e := mustApplyAt(t, f, placeCmd("o-1-1", "w-a"), 100e9).Placed[0].Epoch
	mustApplyAt(t, f, progressCmd("o-1-1", "w-a", e, api.JobPrinting), 101e9)
	p := progressCmd("o-1-1", "w-a", e, api.JobPrinting)
	p.Progress.Report.Stalled = true
	if r := mustApplyAt(t, f, p, 150e9); r.Action != api.ActionContinue {
		t.Fatalf("action %q", r.Action)
	}
	if j := job(f, "o-1-1"); j.Updated != 101e9 || j.Progress == nil || !j.Progress.Stalled {
		t.Fatalf("after a stalled report: %+v", j)
	}
}

// Item 7: one token, one vote. On the code before, one worker token's
// three printers could take a copy in turn and fail it three times,
// failing the copy and its order; and a token could register any number
// of printers.
func TestOneTokenOneVote(t *testing.T) {
	f := base(t)
	owner, other := hashToken("fgW_owner"), hashToken("fgW_other")
	mustApply(t, f, &Command{Type: CmdAddWorkerToken, Token: &TokenCmd{Hash: owner, Name: "owner"}})
	mustApply(t, f, &Command{Type: CmdAddWorkerToken, Token: &TokenCmd{Hash: other, Name: "other", MaxWorkers: 2}})
	for _, id := range []string{"f-1", "f-2", "f-3"} {
		mustApply(t, f, bound(registerCmd(id, "PLA"), owner))
	}
	e := mustApply(t, f, placeCmd("o-1-1", "f-1")).Placed[0].Epoch
	mustApply(t, f, resultCmd("o-1-1", "f-1", e, api.OutcomeFailed, "thermal runaway"))
	for _, id := range []string{"f-2", "f-3"} {
		if r := mustApply(t, f, placeCmd("o-1-1", id)); len(r.Placed) != 0 {
			t.Fatalf("copy placed on %s, whose token failed it already", id)
		}
	}
	var sj []string
	f.View(func(s *State) {
		j := s.Jobs["o-1-1"]
		sj = SchedJobAt(s, s.Orders[j.OrderID], j, 100e9).Excluded
	})
	if !slices.Contains(sj, "f-2") || !slices.Contains(sj, "f-3") || slices.Contains(sj, "w-a") {
		t.Fatalf("the leader's view excludes %v", sj)
	}
	// Printers of other tokens (and of none) still get it.
	if r := mustApply(t, f, placeCmd("o-1-1", "w-a")); len(r.Placed) != 1 {
		t.Fatal("copy not placed on another owner's printer")
	}
	if j := job(f, "o-1-1"); j.Attempts != 2 || j.State != api.JobAssigned {
		t.Fatalf("job %+v", j)
	}

	// A token registers at most its limit of workers.
	mustApply(t, f, bound(registerCmd("g-1", "PLA"), other))
	mustApply(t, f, bound(registerCmd("g-2", "PLA"), other))
	r := tryApplyAt(f, bound(registerCmd("g-3", "PLA"), other), 100e9)
	if !errors.Is(r.Err, ErrTokenFull) || !errors.Is(r.Err, ErrConflict) {
		t.Fatalf("third worker of a 2-worker token: %v", r.Err)
	}
	mustApply(t, f, bound(registerCmd("g-2", "PLA"), other)) // re-registering is not a new worker
	mustApply(t, f, &Command{Type: CmdWorkerTokenLimit, Token: &TokenCmd{Hash: other, MaxWorkers: 3}})
	mustApply(t, f, bound(registerCmd("g-3", "PLA"), other))
	for i := 4; i <= DefaultMaxWorkersPerToken; i++ {
		mustApply(t, f, bound(registerCmd(fmt.Sprintf("f-%d", i), "PLA"), owner))
	}
	if r := tryApplyAt(f, bound(registerCmd("f-9", "PLA"), owner), 100e9); !errors.Is(r.Err, ErrTokenFull) {
		t.Fatalf("worker %d of a default token: %v", DefaultMaxWorkersPerToken+1, r.Err)
	}
	// The grid's shared token has no limit and no single vote.
	grid := hashToken("fgW_grid")
	mustApply(t, f, &Command{Type: CmdAddWorkerToken, Token: &TokenCmd{Hash: grid, Name: GridTokenName}})
	for i := range DefaultMaxWorkersPerToken + 1 {
		mustApply(t, f, bound(registerCmd(fmt.Sprintf("s-%d", i), "PLA"), grid))
	}
	if r := tryApplyAt(f, &Command{Type: CmdWorkerTokenLimit, Token: &TokenCmd{Hash: hashToken("fgW_none"), MaxWorkers: 3}}, 100e9); !errors.Is(r.Err, ErrNotFound) {
		t.Fatalf("limit of an unknown token: %v", r.Err)
	}
}

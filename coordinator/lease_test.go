package coordinator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// TestLeaseExpiryRequeuesAndLateDoneReconciles: a silent worker's job is
// requeued after lost-after on another printer (not the silent one); the
// original's report is answered cancel (superseded), its late done then
// counts, the duplicate is told to cancel with the reason, and its own
// done is reported as a duplicate.
func TestLeaseExpiryRequeuesAndLateDoneReconciles(t *testing.T) {
	clock := coordinator.NewFakeClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	c := coordinatortest.Start(t, 1, coordinatortest.Options{Inmem: true, Configure: func(_ int, cfg *coordinator.Config) {
		cfg.Clock, cfg.LostAfter = clock, 10*time.Second
	}})
	u := c.WaitLeader(5 * time.Second).URL()
	tok := newCommunity(t, c, u, "makers")
	o := submit(t, u, tok, coordinatortest.CubeSTL(10, 10, 10), 1, "PLA")
	register(t, c, u, "w-a", "PLA")
	a := assignment(t, c, u, "w-a")
	mustDo(t, 200, "POST", u+"/v1/jobs/"+a.JobID+"/progress", c.WorkerToken,
		api.ProgressRequest{Epoch: a.Epoch, WorkerID: "w-a", State: "printing", Percent: 5}, nil)
	register(t, c, u, "w-b", "PLA") // busy: w-a holds the only job

	clock.Advance(6 * time.Second)
	mustDo(t, 200, "POST", u+"/v1/workers/w-b/heartbeat", c.WorkerToken, api.HeartbeatRequest{State: "idle"}, nil)
	if j := getOrder(t, u, tok, o.ID).Jobs[0]; j.State != api.JobPrinting {
		t.Fatalf("lease expired early: %+v", j)
	}
	clock.Advance(5 * time.Second) // w-a silent 11 s > lost-after
	b := assignment(t, c, u, "w-b")
	if b.JobID != a.JobID || b.Epoch <= a.Epoch {
		t.Fatalf("requeued assignment %+v after %+v", b, a)
	}
	j := getOrder(t, u, tok, o.ID).Jobs[0]
	if j.Printer != "w-b" || len(j.Failures) != 1 || j.Failures[0].Printer != "w-a" {
		t.Fatalf("job after requeue %+v", j)
	}
	mustDo(t, 200, "POST", u+"/v1/jobs/"+b.JobID+"/progress", c.WorkerToken,
		api.ProgressRequest{Epoch: b.Epoch, WorkerID: "w-b", State: "printing"}, nil)
	// w-a's report is answered cancel: its lease passed on.
	var pr api.ProgressResponse
	mustDo(t, 200, "POST", u+"/v1/jobs/"+a.JobID+"/progress", c.WorkerToken,
		api.ProgressRequest{Epoch: a.Epoch, WorkerID: "w-a", State: "printing"}, &pr)
	if pr.Action != api.ActionCancel || !pr.Superseded || pr.Reason == "" {
		t.Fatalf("superseded holder's answer %+v", pr)
	}
	// w-a's print finished after all: the first done counts.
	var ok api.OK
	mustDo(t, 200, "POST", u+"/v1/jobs/"+a.JobID+"/result", c.WorkerToken,
		api.ResultRequest{Epoch: a.Epoch, WorkerID: "w-a", Outcome: "done"}, &ok)
	if ok.Duplicate {
		t.Fatal("first done marked duplicate")
	}
	mustDo(t, 200, "POST", u+"/v1/jobs/"+b.JobID+"/progress", c.WorkerToken,
		api.ProgressRequest{Epoch: b.Epoch, WorkerID: "w-b", State: "printing"}, &pr)
	if pr.Action != api.ActionCancel || !pr.Superseded {
		t.Fatalf("duplicate's answer %+v, want cancel", pr)
	}
	mustDo(t, 200, "POST", u+"/v1/jobs/"+b.JobID+"/result", c.WorkerToken,
		api.ResultRequest{Epoch: b.Epoch, WorkerID: "w-b", Outcome: "done"}, &ok)
	if !ok.Duplicate {
		t.Fatal("second done not marked duplicate")
	}
	got := getOrder(t, u, tok, o.ID)
	if got.State != api.OrderDone || got.JobsDone != 1 || got.Jobs[0].Printer != "w-a" {
		t.Fatalf("order %+v", got)
	}
}

func TestFailedJobRetriedElsewhereThenFails(t *testing.T) {
	c := coordinatortest.Start(t, 1, coordinatortest.Options{Inmem: true, Configure: func(_ int, cfg *coordinator.Config) {
		cfg.MaxAttempts = 2
	}})
	u := c.WaitLeader(5 * time.Second).URL()
	tok := newCommunity(t, c, u, "makers")
	o := submit(t, u, tok, coordinatortest.CubeSTL(10, 10, 10), 1, "PLA")
	register(t, c, u, "w-a", "PLA")
	a := assignment(t, c, u, "w-a")
	mustDo(t, 200, "POST", u+"/v1/jobs/"+a.JobID+"/result", c.WorkerToken,
		api.ResultRequest{Epoch: a.Epoch, WorkerID: "w-a", Outcome: "failed", Reason: "thermal runaway"}, nil)
	// w-a is idle again but never gets this job back.
	mustDo(t, 200, "POST", u+"/v1/workers/w-a/bed-clear", c.WorkerToken, api.BedClearRequest{}, nil)
	code, _, _ := cl.Do("GET", u+"/v1/workers/w-a/assignment?wait=200ms", c.WorkerToken, nil, nil)
	if code != http.StatusNoContent {
		t.Fatalf("failed printer offered its job again: %d", code)
	}
	if j := getOrder(t, u, tok, o.ID).Jobs[0]; j.State != api.JobPending || j.Reason == "" {
		t.Fatalf("job %+v", j)
	}
	register(t, c, u, "w-b", "PLA")
	b := assignment(t, c, u, "w-b")
	mustDo(t, 200, "POST", u+"/v1/jobs/"+b.JobID+"/result", c.WorkerToken,
		api.ResultRequest{Epoch: b.Epoch, WorkerID: "w-b", Outcome: "failed", Reason: "disconnect"}, nil)
	got := getOrder(t, u, tok, o.ID)
	if got.State != api.OrderFailed || got.Jobs[0].State != api.JobFailed || len(got.Jobs[0].Failures) != 2 {
		t.Fatalf("order %+v", got)
	}
}

func TestCancelPrintingJobViaProgress(t *testing.T) {
	c := coordinatortest.Start(t, 1, coordinatortest.Options{Inmem: true})
	u := c.WaitLeader(5 * time.Second).URL()
	tok := newCommunity(t, c, u, "makers")
	o := submit(t, u, tok, coordinatortest.CubeSTL(10, 10, 10), 2, "PLA")
	register(t, c, u, "w-a", "PLA")
	a := assignment(t, c, u, "w-a")
	var got api.Order
	mustDo(t, 200, "DELETE", u+"/v1/orders/"+o.ID, tok, nil, &got)
	var pr api.ProgressResponse
	mustDo(t, 200, "POST", u+"/v1/jobs/"+a.JobID+"/progress", c.WorkerToken,
		api.ProgressRequest{Epoch: a.Epoch, WorkerID: "w-a", State: "printing"}, &pr)
	if pr.Action != api.ActionCancel {
		t.Fatalf("action %q, want cancel", pr.Action)
	}
	mustDo(t, 200, "POST", u+"/v1/jobs/"+a.JobID+"/result", c.WorkerToken,
		api.ResultRequest{Epoch: a.Epoch, WorkerID: "w-a", Outcome: "failed", Reason: "cancelled"}, nil)
	got = getOrder(t, u, tok, o.ID)
	if got.State != api.OrderCancelled {
		t.Fatalf("order %s", got.State)
	}
}

func TestLongPollWakesOnPlacement(t *testing.T) {
	c := coordinatortest.Start(t, 1, coordinatortest.Options{Inmem: true})
	u := c.WaitLeader(5 * time.Second).URL()
	tok := newCommunity(t, c, u, "makers")
	register(t, c, u, "w-a", "PLA")
	got := make(chan api.Assignment, 1)
	go func() {
		var a api.Assignment
		code, _, _ := cl.Do("GET", u+"/v1/workers/w-a/assignment?wait=20s", c.WorkerToken, nil, &a)
		if code == 200 {
			got <- a
		}
		close(got)
	}()
	o := submit(t, u, tok, coordinatortest.CubeSTL(10, 10, 10), 1, "PLA")
	select {
	case a, ok := <-got:
		if !ok || a.OrderID != o.ID {
			t.Fatalf("long-poll answer %+v", a)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("long-poll did not wake on placement")
	}
}

// TestNewLeaderGivesLeasesFreshGrace: a failover does not expire leases
// whose workers were silent under the old leader; the new leader counts
// lost-after from its takeover.
func TestNewLeaderGivesLeasesFreshGrace(t *testing.T) {
	clock := coordinator.NewFakeClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	c := coordinatortest.Start(t, 3, coordinatortest.Options{Configure: func(_ int, cfg *coordinator.Config) {
		cfg.Clock, cfg.LostAfter = clock, 10*time.Second
	}})
	li := c.LeaderIndex(5 * time.Second)
	u := c.Nodes[li].URL()
	tok := newCommunity(t, c, u, "makers")
	o := submit(t, u, tok, coordinatortest.CubeSTL(10, 10, 10), 1, "PLA")
	register(t, c, u, "w-a", "PLA")
	a := assignment(t, c, u, "w-a")

	clock.Advance(9 * time.Second)
	c.Kill(li)
	var leader *coordinator.Node
	coordinatortest.WaitFor(t, 10*time.Second, "a new leader to take over", func() bool {
		for _, n := range c.Nodes {
			if n != nil && n.IsLeader() && n.LeaseGrace().Equal(clock.Now()) {
				leader = n
				return true
			}
		}
		return false
	})
	jobOf := func() (j fsm.Job) {
		leader.FSM().View(func(s *fsm.State) { j = *s.Jobs[a.JobID] })
		return j
	}
	clock.Advance(5 * time.Second) // 14 s since w-a spoke, 5 s since the takeover
	leader.CheckLeasesNow()
	if j := jobOf(); j.State != api.JobAssigned || j.Epoch != a.Epoch {
		t.Fatalf("lease expired within the new leader's grace: %+v", j)
	}
	clock.Advance(6 * time.Second) // 11 s since the takeover
	leader.CheckLeasesNow()
	j := jobOf()
	if j.State != api.JobPending || len(j.Failures) != 1 || j.Failures[0].Printer != "w-a" {
		t.Fatalf("lease not expired after the grace: %+v (order %s)", j, o.ID)
	}
}

// TestHungPrintRequeuedWhileHeartbeatsGoOn: a job's lease is renewed only
// by its holder's progress reports for it. A worker whose print hangs —
// it reports nothing, or only "stalled", while its heartbeats and
// long-polls go on — loses the copy after lost-after. Before, any contact
// renewed the lease, so the copy was held for ever.
func TestHungPrintRequeuedWhileHeartbeatsGoOn(t *testing.T) {
	for _, stalled := range []bool{false, true} {
		t.Run(map[bool]string{false: "silent", true: "stalled reports"}[stalled], func(t *testing.T) {
			clock := coordinator.NewFakeClock(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
			c := coordinatortest.Start(t, 1, coordinatortest.Options{Inmem: true, Configure: func(_ int, cfg *coordinator.Config) {
				cfg.Clock, cfg.LostAfter = clock, 10*time.Second
			}})
			n := c.WaitLeader(5 * time.Second)
			u := n.URL()
			tok := newCommunity(t, c, u, "makers")
			o := submit(t, u, tok, coordinatortest.CubeSTL(10, 10, 10), 1, "PLA")
			register(t, c, u, "w-a", "PLA")
			a := assignment(t, c, u, "w-a")
			mustDo(t, 200, "POST", u+"/v1/jobs/"+a.JobID+"/progress", c.WorkerToken,
				api.ProgressRequest{Epoch: a.Epoch, WorkerID: "w-a", State: "printing", Percent: 5}, nil)
			for range 6 { // 12 s of heartbeats, every 2 s
				clock.Advance(2 * time.Second)
				mustDo(t, 200, "POST", u+"/v1/workers/w-a/heartbeat", c.WorkerToken, api.HeartbeatRequest{State: "busy"}, nil)
				if stalled {
					mustDo(t, 200, "POST", u+"/v1/jobs/"+a.JobID+"/progress", c.WorkerToken,
						api.ProgressRequest{Epoch: a.Epoch, WorkerID: "w-a", State: "printing", Percent: 5, Stalled: true}, nil)
				}
				n.CheckLeasesNow()
			}
			j := getOrder(t, u, tok, o.ID).Jobs[0]
			if j.State != api.JobPending || len(j.Failures) != 1 || j.Failures[0].Printer != "w-a" {
				t.Fatalf("hung print's copy after lost-after of heartbeats: %+v", j)
			}
		})
	}
}

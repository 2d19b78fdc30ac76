package coordinator_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// lastHeartbeat is what the leader shows of worker id's last contact.
func lastHeartbeat(t *testing.T, c *coordinatortest.Cluster, url, id string) time.Time {
	t.Helper()
	var ws api.Workers
	mustDo(t, http.StatusOK, "GET", url+"/v1/workers?consistent=leader", c.AdminToken, nil, &ws)
	for _, w := range ws.Workers {
		if w.ID == id {
			return w.LastHeartbeat
		}
	}
	t.Fatalf("no worker %s", id)
	return time.Time{}
}

// TestWorkerIDBoundToItsToken: a worker id belongs to the worker token
// that registered it first. Another worker token's calls for it are 403
// worker_token_mismatch and change nothing — not the replicated state, not
// the leader's record of the worker's contact — while the owner goes on;
// an admin's release lets another token take it. A node restarted from
// its data dir replays the log to the same state.
func TestWorkerIDBoundToItsToken(t *testing.T) {
	c := coordinatortest.StartTestCluster(t, 3)
	li := c.LeaderIndex(5 * time.Second)
	fi := (li + 1) % 3
	f := c.Nodes[fi].URL() // through a follower: the leader sees the caller's own token
	var created api.WorkerTokenCreated
	mustDo(t, http.StatusCreated, "POST", f+"/v1/worker-tokens", c.AdminToken, api.WorkerTokenRequest{Name: "bob"}, &created)
	tokA, tokB := c.WorkerToken, created.Token
	makers := newCommunity(t, c, f, "makers")
	o := submit(t, f, makers, coordinatortest.CubeSTL(20, 20, 10), 1, "PLA")
	reg := api.RegisterRequest{ID: "w-1", Name: "alice-ender", Profile: "ender3", BuildMM: [3]float64{220, 220, 250}, NozzleMM: 0.4, Material: "PLA"}
	mustDo(t, http.StatusOK, "POST", f+"/v1/workers/register", tokA, reg, nil)
	a := assignment(t, c, f, "w-1")
	mustDo(t, http.StatusOK, "POST", f+"/v1/jobs/"+a.JobID+"/progress", tokA,
		api.ProgressRequest{Epoch: a.Epoch, WorkerID: "w-1", State: api.JobPrinting, Percent: 10}, nil)

	leader := c.WaitLeader(5 * time.Second)
	c.WaitApplied(leader.FSM().Index(), 10*time.Second)
	before := leader.FSM().SnapshotBytes()
	contact := lastHeartbeat(t, c, f, "w-1")

	bodyB := reg
	bodyB.Name = "mallory"
	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"register", "POST", "/v1/workers/register", bodyB},
		{"heartbeat", "POST", "/v1/workers/w-1/heartbeat", api.HeartbeatRequest{State: api.WorkerPaused}},
		{"heartbeat same state", "POST", "/v1/workers/w-1/heartbeat", api.HeartbeatRequest{State: api.WorkerBusy}},
		{"assignment", "GET", "/v1/workers/w-1/assignment?wait=1s", nil},
		{"progress", "POST", "/v1/jobs/" + a.JobID + "/progress", api.ProgressRequest{Epoch: a.Epoch, WorkerID: "w-1", State: api.JobPrinting, Percent: 90}},
		{"result done", "POST", "/v1/jobs/" + a.JobID + "/result", api.ResultRequest{Epoch: a.Epoch, WorkerID: "w-1", Outcome: api.OutcomeDone}},
		{"result failed", "POST", "/v1/jobs/" + a.JobID + "/result", api.ResultRequest{Epoch: a.Epoch, WorkerID: "w-1", Outcome: api.OutcomeFailed, Reason: "x"}},
		{"bed clear", "POST", "/v1/workers/w-1/bed-clear", api.BedClearRequest{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b, err := retry503(func() (int, []byte, error) { return cl.Do(tc.method, f+tc.path, tokB, tc.body, nil) })
			if err != nil {
				t.Fatal(err)
			}
			var e api.Error
			_ = json.Unmarshal(b, &e)
			if code != http.StatusForbidden || e.Code != api.CodeWorkerTokenMismatch {
				t.Fatalf("status %d %s, want 403 %s", code, b, api.CodeWorkerTokenMismatch)
			}
			if !strings.Contains(e.Error, "another worker token") || !strings.Contains(e.Error, "another name") ||
				!strings.Contains(e.Error, "ask an admin") {
				t.Errorf("message does not say what happened and what to do: %s", e.Error)
			}
		})
	}
	if !bytes.Equal(before, c.WaitLeader(5*time.Second).FSM().SnapshotBytes()) {
		t.Fatal("another token's calls changed the state")
	}
	if got := lastHeartbeat(t, c, f, "w-1"); !got.Equal(contact) {
		t.Fatalf("another token's heartbeat counted as contact: %v, was %v", got, contact)
	}
	j := getOrder(t, f, makers, o.ID).Jobs[0]
	if j.State != api.JobPrinting || j.Printer != "w-1" || j.Epoch != a.Epoch || j.Progress == nil || j.Progress.Percent != 10 {
		t.Fatalf("the job's lease moved: %+v", j)
	}

	// The owner re-registers (as after a restart) and finishes the job.
	mustDo(t, http.StatusOK, "POST", f+"/v1/workers/register", tokA, reg, nil)
	mustDo(t, http.StatusOK, "POST", f+"/v1/workers/w-1/heartbeat", tokA, api.HeartbeatRequest{State: api.WorkerBusy}, nil)
	var ok api.OK
	mustDo(t, http.StatusOK, "POST", f+"/v1/jobs/"+a.JobID+"/result", tokA, api.ResultRequest{Epoch: a.Epoch, WorkerID: "w-1", Outcome: api.OutcomeDone}, &ok)
	if ok.Duplicate {
		t.Fatal("owner's done marked duplicate")
	}
	if j := getOrder(t, f, makers, o.ID).Jobs[0]; j.State != api.JobDone || j.Printer != "w-1" {
		t.Fatalf("job after the owner's done: %+v", j)
	}

	// Only an admin releases a worker id; then the next registration binds it.
	code, b, _ := retry503(func() (int, []byte, error) { return cl.Do("POST", f+"/v1/workers/w-1/release", tokB, struct{}{}, nil) })
	if code != http.StatusForbidden || !strings.Contains(string(b), api.CodeForbidden) {
		t.Fatalf("worker token released a worker: %d %s", code, b)
	}
	mustDo(t, http.StatusNotFound, "POST", f+"/v1/workers/w-nope/release", c.AdminToken, struct{}{}, nil)
	mustDo(t, http.StatusOK, "POST", f+"/v1/workers/w-1/release", c.AdminToken, struct{}{}, nil)
	mustDo(t, http.StatusOK, "POST", f+"/v1/workers/register", tokB, bodyB, nil)
	mustDo(t, http.StatusForbidden, "POST", f+"/v1/workers/w-1/bed-clear", tokA, api.BedClearRequest{}, nil)
	mustDo(t, http.StatusOK, "POST", f+"/v1/workers/w-1/bed-clear", tokB, api.BedClearRequest{}, nil)

	// Replaying the log on a fresh FSM gives the same state.
	leader = c.WaitLeader(5 * time.Second)
	c.WaitApplied(leader.FSM().Index(), 10*time.Second)
	if c.Nodes[fi] == leader {
		fi = (fi + 1) % 3
	}
	c.Kill(fi)
	n := c.Restart(fi)
	coordinatortest.WaitFor(t, 15*time.Second, "the restarted node to catch up", func() bool {
		return n.FSM().Index() >= leader.FSM().Index()
	})
	if !bytes.Equal(n.FSM().SnapshotBytes(), leader.FSM().SnapshotBytes()) {
		t.Fatal("the replayed log gives another state")
	}
	n.FSM().View(func(s *fsm.State) {
		if w := s.Workers["w-1"]; w == nil || w.TokenHash != coordinator.HashToken(tokB) || w.Name != "mallory" {
			t.Fatalf("w-1 after the replay: %+v", w)
		}
	})
}

package coordinator_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

var cl = coordinatortest.DefaultClient

// retry503 repeats a call answered 503 no_leader, as clients do, for up
// to ten seconds: on a loaded machine leadership can change mid-test.
func retry503(call func() (int, []byte, error)) (int, []byte, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, b, err := call()
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return code, b, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mustDo sends a request and fails the test unless the status is want.
// A 503 is retried (see retry503).
func mustDo(t *testing.T, want int, method, url, token string, body, out any) []byte {
	t.Helper()
	code, b, err := retry503(func() (int, []byte, error) { return cl.Do(method, url, token, body, out) })
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if code != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, code, want, b)
	}
	return b
}

// newCommunity creates a community and returns its token.
func newCommunity(t *testing.T, c *coordinatortest.Cluster, url, name string) string {
	t.Helper()
	var cc api.CommunityCreated
	mustDo(t, http.StatusCreated, "POST", url+"/v1/communities", c.AdminToken, api.CommunityRequest{Name: name, Weight: 1}, &cc)
	return cc.Token
}

func submit(t *testing.T, url, token string, model []byte, qty int, material string) api.Order {
	t.Helper()
	var o api.Order
	code, b, err := retry503(func() (int, []byte, error) {
		return cl.SubmitOrder(url, token, model, &o, "quantity", fmt.Sprint(qty), "material", material)
	})
	if err != nil || code != http.StatusCreated {
		t.Fatalf("submit: %d %v %s", code, err, b)
	}
	return o
}

func register(t *testing.T, c *coordinatortest.Cluster, url, id, material string) {
	t.Helper()
	mustDo(t, http.StatusOK, "POST", url+"/v1/workers/register", c.WorkerToken, api.RegisterRequest{
		ID: id, Name: id, Profile: "ender3", BuildMM: [3]float64{220, 220, 250}, NozzleMM: 0.4, Material: material, State: "idle",
	}, nil)
}

func assignment(t *testing.T, c *coordinatortest.Cluster, url, id string) api.Assignment {
	t.Helper()
	var a api.Assignment
	mustDo(t, http.StatusOK, "GET", url+"/v1/workers/"+id+"/assignment?wait=10s", c.WorkerToken, nil, &a)
	return a
}

func getOrder(t *testing.T, url, token, id string) api.Order {
	t.Helper()
	var o api.Order
	mustDo(t, http.StatusOK, "GET", url+"/v1/orders/"+id+"?consistent=leader", token, nil, &o)
	return o
}

func TestOrderFlowThroughFollower(t *testing.T) {
	c := coordinatortest.StartTestCluster(t, 3)
	li := c.LeaderIndex(5 * time.Second)
	f := c.Nodes[(li+1)%3].URL() // everything through a follower
	tok := newCommunity(t, c, f, "makers")
	model := coordinatortest.CubeSTL(20, 20, 10)
	o := submit(t, f, tok, model, 2, "PLA")
	if o.Quantity != 2 || len(o.Jobs) != 2 || o.State != api.OrderOpen {
		t.Fatalf("order %+v", o)
	}
	got := getOrder(t, f, tok, o.ID)
	if got.Jobs[0].State != api.JobPending || got.Jobs[0].Reason == "" {
		t.Fatalf("pending job without reason: %+v", got.Jobs[0])
	}
	register(t, c, f, "w-a", "PLA")
	a := assignment(t, c, f, "w-a")
	if a.OrderID != o.ID || a.Epoch == 0 || a.ModelSHA256 != o.ModelSHA256 {
		t.Fatalf("assignment %+v", a)
	}
	// The model as the worker fetches it.
	code, b, _ := cl.Do("GET", f+"/v1/models/"+a.ModelSHA256, c.WorkerToken, nil, nil)
	if code != 200 || string(b) != string(model) {
		t.Fatalf("model fetch %d, %d bytes", code, len(b))
	}
	var pr api.ProgressResponse
	mustDo(t, 200, "POST", f+"/v1/jobs/"+a.JobID+"/progress", c.WorkerToken,
		api.ProgressRequest{Epoch: a.Epoch, WorkerID: "w-a", State: "printing", Percent: 50}, &pr)
	if pr.Action != api.ActionContinue {
		t.Fatalf("action %q", pr.Action)
	}
	var ok api.OK
	mustDo(t, 200, "POST", f+"/v1/jobs/"+a.JobID+"/result", c.WorkerToken,
		api.ResultRequest{Epoch: a.Epoch, WorkerID: "w-a", Outcome: "done"}, &ok)
	if ok.Duplicate {
		t.Fatal("first done marked duplicate")
	}
	got = getOrder(t, f, tok, o.ID)
	if got.JobsDone != 1 {
		t.Fatalf("jobs done %d", got.JobsDone)
	}
	// Awaiting bed clear: no second job until cleared.
	var ws api.Workers
	mustDo(t, 200, "GET", f+"/v1/workers?consistent=leader", tok, nil, &ws)
	if ws.Workers[0].State != api.WorkerAwaitingBedClear {
		t.Fatalf("worker state %q", ws.Workers[0].State)
	}
	// A forwarded answer names the leader, so clients can go there next.
	req, _ := http.NewRequest("GET", f+"/v1/workers?consistent=leader", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.Header.Get(api.LeaderHeader), c.Nodes[li].URL(); resp.StatusCode != 200 || got != want {
		t.Fatalf("forwarded read: %s, %s %q; want the leader %q", resp.Status, api.LeaderHeader, got, want)
	}
	mustDo(t, 200, "POST", f+"/v1/workers/w-a/bed-clear", c.WorkerToken, api.BedClearRequest{}, nil)
	a2 := assignment(t, c, f, "w-a")
	mustDo(t, 200, "POST", f+"/v1/jobs/"+a2.JobID+"/result", c.WorkerToken,
		api.ResultRequest{Epoch: a2.Epoch, WorkerID: "w-a", Outcome: "done"}, nil)
	got = getOrder(t, f, tok, o.ID)
	if got.State != api.OrderDone || got.JobsDone != 2 {
		t.Fatalf("order %s done %d", got.State, got.JobsDone)
	}
}

func TestSubmitRetryWithRequestID(t *testing.T) {
	c := coordinatortest.Start(t, 1, coordinatortest.Options{Inmem: true})
	n := c.WaitLeader(5 * time.Second)
	tok := newCommunity(t, c, n.URL(), "makers")
	model := coordinatortest.CubeSTL(10, 10, 10)
	var a, b api.Order
	for _, o := range []*api.Order{&a, &b} {
		code, body, err := cl.SubmitOrder(n.URL(), tok, model, o, "quantity", "2", "material", "PLA", "request_id", "client-42")
		if err != nil || code != http.StatusCreated {
			t.Fatalf("submit: %d %v %s", code, err, body)
		}
	}
	if a.ID != b.ID || len(b.Jobs) != 2 {
		t.Fatalf("retry made order %s after %s", b.ID, a.ID)
	}
	n.FSM().View(func(s *fsm.State) {
		if len(s.Orders) != 1 {
			t.Fatalf("%d orders after a retried submission", len(s.Orders))
		}
	})
}

package coordinator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
)

func TestHealthClusterMetricsAndGossipView(t *testing.T) {
	c := coordinatortest.StartTestCluster(t, 3)
	li := c.LeaderIndex(5 * time.Second)
	f := c.Nodes[(li+1)%3]
	var h api.Health
	mustDo(t, 200, "GET", f.URL()+"/v1/health", c.AdminToken, nil, &h)
	if h.Role != "follower" || h.Leader != c.Nodes[li].ID() || h.Term == 0 {
		t.Fatalf("health %+v", h)
	}
	var cl1 api.Cluster
	mustDo(t, 200, "GET", f.URL()+"/v1/cluster", c.AdminToken, nil, &cl1)
	if len(cl1.Nodes) != 3 || cl1.Leader != c.Nodes[li].ID() || cl1.CommitIndex == 0 {
		t.Fatalf("cluster %+v", cl1)
	}
	for _, n := range cl1.Nodes {
		if n.HTTPAddr == "" || n.Suffrage != "voter" {
			t.Fatalf("node %+v", n)
		}
	}
	tok := newCommunity(t, c, f.URL(), "makers")
	submit(t, f.URL(), tok, coordinatortest.CubeSTL(5, 5, 5), 3, "PLA")
	register(t, c, f.URL(), "w-a", "PETG") // never fits the PLA order

	// Gossip: the worker is seen dead; its record shows it, leases don't change.
	c.Nodes[li].MemberEvent("w-a", false)
	var ws api.Workers
	mustDo(t, 200, "GET", c.Nodes[li].URL()+"/v1/workers", tok, nil, &ws)
	if len(ws.Workers) != 1 || ws.Workers[0].Gossip != api.GossipDead || ws.Workers[0].State != api.WorkerIdle {
		t.Fatalf("workers %+v", ws.Workers)
	}
	c.Nodes[li].MemberEvent("w-a", true)
	mustDo(t, 200, "GET", c.Nodes[li].URL()+"/v1/workers", tok, nil, &ws)
	if ws.Workers[0].Gossip != api.GossipAlive {
		t.Fatalf("gossip %q", ws.Workers[0].Gossip)
	}

	coordinatortest.WaitFor(t, 5*time.Second, "the follower to apply", func() bool {
		return f.FSM().Index() >= c.Nodes[li].FSM().Index()
	})
	body := string(mustDo(t, 200, "GET", f.URL()+"/metrics", "", nil, nil))
	for _, want := range []string{
		`fabgrid_jobs{state="pending"} 3`,
		`fabgrid_orders{state="open"} 1`,
		`fabgrid_raft_state{state="Follower"} 1`,
		`fabgrid_coordinator_commands_applied_total{outcome="ok",type="submit_order"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	lb := string(mustDo(t, 200, "GET", c.Nodes[li].URL()+"/metrics", "", nil, nil))
	if !strings.Contains(lb, "fabgrid_coordinator_apply_seconds_count") {
		t.Error("leader metrics lack the apply latency histogram")
	}
	var comms api.Communities
	mustDo(t, 200, "GET", f.URL()+"/v1/communities", c.AdminToken, nil, &comms)
	if len(comms.Communities) != 1 || comms.Communities[0].Orders != 1 {
		t.Fatalf("communities %+v", comms)
	}
}

func TestJoinNeedsAdminToken(t *testing.T) {
	c := coordinatortest.StartTestCluster(t, 1)
	u := c.WaitLeader(5 * time.Second).URL()
	code, _, _ := cl.Do("POST", u+"/v1/cluster/join", "fgA_wrong", api.JoinRequest{ID: "c9", RaftAddr: "127.0.0.1:1", HTTPAddr: "127.0.0.1:2"}, nil)
	if code != 401 {
		t.Fatalf("join with a wrong token: %d", code)
	}
	var cl1 api.Cluster
	mustDo(t, 200, "GET", u+"/v1/cluster?consistent=leader", c.AdminToken, nil, &cl1)
	if len(cl1.Nodes) != 1 {
		t.Fatalf("cluster changed: %+v", cl1)
	}
}

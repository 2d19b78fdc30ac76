package coordinator_test

import (
	"bytes"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

func TestJoinThroughFollowerTransferAndRemove(t *testing.T) {
	c := coordinatortest.StartTestCluster(t, 2)
	li := c.LeaderIndex(5 * time.Second)
	follower := c.Nodes[1-li]
	cfg := c.Configs[0]
	cfg.NodeID, cfg.DataDir, cfg.HTTPAddr, cfg.RaftAddr = "c3", t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.Bootstrap, cfg.Join = false, []string{follower.URL()}
	n3, err := coordinator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n3.Kill()
	u := follower.URL()
	var info api.Cluster
	coordinatortest.WaitFor(t, 10*time.Second, "c3 to join through the follower", func() bool {
		code, _, _ := cl.Do("GET", u+"/v1/cluster?consistent=leader", c.AdminToken, nil, &info)
		return code == 200 && len(info.Nodes) == 3
	})
	// Hand leadership to c3 (asked again if a loaded machine lets another
	// node win an election right after).
	coordinatortest.WaitFor(t, 15*time.Second, "c3 to lead after transfer-leader", func() bool {
		if n3.IsLeader() {
			return true
		}
		code, b, _ := cl.Do("POST", u+"/v1/cluster/transfer-leader", c.AdminToken, api.TransferRequest{ID: "c3"}, &info)
		if code != 200 && code != 503 {
			t.Fatalf("transfer-leader: %d %s", code, b)
		}
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) && !n3.IsLeader() {
			time.Sleep(10 * time.Millisecond)
		}
		return n3.IsLeader()
	})
	mustDo(t, 200, "POST", u+"/v1/cluster/remove", c.AdminToken, api.RemoveRequest{ID: c.Nodes[li].ID()}, nil)
	coordinatortest.WaitFor(t, 10*time.Second, "the removal", func() bool {
		code, _, _ := cl.Do("GET", n3.URL()+"/v1/cluster?consistent=leader", c.AdminToken, nil, &info)
		return code == 200 && len(info.Nodes) == 2
	})
	// The two left still take writes.
	newCommunity(t, c, u, "after-remove")
}

func TestLargeModelReplicatedAndDeduplicated(t *testing.T) {
	if testing.Short() {
		t.Skip("replicates an 8 MiB model")
	}
	c := coordinatortest.StartTestCluster(t, 3)
	li := c.LeaderIndex(5 * time.Second)
	u := c.Nodes[li].URL()
	tok := newCommunity(t, c, u, "makers")
	// Many stacked boxes in one binary STL, committed in 512 KiB chunks.
	var tris [][]byte
	box := coordinatortest.CubeSTL(10, 10, 10)
	for range nBoxes() {
		tris = append(tris, box[84:])
	}
	body := bytes.Join(tris, nil)
	model := append(append([]byte{}, box[:80]...), le32(uint32(len(body)/50))...)
	model = append(model, body...)
	slow := &coordinatortest.Client{HTTP: &http.Client{Timeout: 3 * time.Minute, Transport: &http.Transport{TLSClientConfig: coordinatortest.ClientTLS()}}}
	send := func(url string, qty string) api.Order {
		var o api.Order
		start := time.Now()
		code, b, err := retry503(func() (int, []byte, error) {
			return slow.SubmitOrder(url, tok, model, &o, "quantity", qty, "material", "PLA")
		})
		if err != nil || code != http.StatusCreated {
			t.Fatalf("submit: %d %v %s", code, err, b)
		}
		t.Logf("%d-byte model order acknowledged in %v", len(model), time.Since(start))
		return o
	}
	o1 := send(u, "1")
	o2 := send(c.Nodes[(li+1)%3].URL(), "2")
	if o1.ModelSHA256 != o2.ModelSHA256 {
		t.Fatal("same model, different hashes")
	}
	c.WaitApplied(c.Nodes[li].FSM().Index(), 10*time.Second)
	for _, n := range c.Nodes {
		n.FSM().View(func(s *fsm.State) {
			if len(s.Models) != 1 {
				t.Errorf("%s: %d models", n.ID(), len(s.Models))
			}
		})
		if b, _ := n.FSM().Model(o1.ModelSHA256); !bytes.Equal(b, model) {
			t.Errorf("%s: model bytes differ", n.ID())
		}
		code, b, _ := cl.Do("GET", n.URL()+"/v1/models/"+o1.ModelSHA256, c.WorkerToken, nil, nil)
		if code != 200 || !bytes.Equal(b, model) {
			t.Errorf("%s serves the model: %d, %d bytes", n.ID(), code, len(b))
		}
	}
}

func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

// nBoxes makes the test model about 8 MiB, or 64 MiB with
// FABGRID_TEST_BIG_MODEL=1.
func nBoxes() int {
	if os.Getenv("FABGRID_TEST_BIG_MODEL") != "" {
		return 111800
	}
	return 14000
}

// A node restarted from its data dir on another HTTP address announces
// it (join.go's announceLoop), so forwarding to it keeps working.
func TestRestartOnAnotherAddressIsRecorded(t *testing.T) {
	c := coordinatortest.StartTestCluster(t, 3)
	li := c.LeaderIndex(5 * time.Second)
	i := (li + 1) % 3
	c.Stop(i)
	c.Configs[i].HTTPAddr = "127.0.0.1:0"
	n := c.Restart(i)
	id, addr := n.ID(), n.HTTPAddr()
	coordinatortest.WaitFor(t, 10*time.Second, "the new address on record", func() bool {
		l := c.WaitLeader(5 * time.Second)
		recorded := ""
		l.FSM().View(func(s *fsm.State) {
			if ni := s.Nodes[id]; ni != nil {
				recorded = ni.HTTPAddr
			}
		})
		return recorded == addr
	})
}

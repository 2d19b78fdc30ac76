package coordinator_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

type acked struct {
	id, sha string
	model   []byte
}

// streamOrders submits orders from several clients to all nodes until
// stop closes, each with its own model, and returns those acknowledged.
func streamOrders(t *testing.T, c *coordinatortest.Cluster, urls []string, token string, stop <-chan struct{}, count *int64mu) []acked {
	var (
		mu  sync.Mutex
		out []acked
		wg  sync.WaitGroup
	)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				model := coordinatortest.CubeSTL(float64(10+g), float64(10+i%50), float64(1+i))
				var o api.Order
				code, _, err := cl.SubmitOrder(urls[(g+i)%len(urls)], token, model, &o, "quantity", "1", "material", "PLA")
				if err != nil || code != http.StatusCreated {
					continue // not acknowledged: the client would retry
				}
				sum := sha256.Sum256(model)
				mu.Lock()
				out = append(out, acked{o.ID, hex.EncodeToString(sum[:]), model})
				mu.Unlock()
				count.add(1)
			}
		}()
	}
	wg.Wait()
	return out
}

type int64mu struct {
	mu sync.Mutex
	n  int64
}

func (c *int64mu) add(d int64) { c.mu.Lock(); c.n += d; c.mu.Unlock() }
func (c *int64mu) get() int64  { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// checkPresent verifies every acknowledged order and its model on node n.
func checkPresent(t *testing.T, n *coordinator.Node, acks []acked) {
	t.Helper()
	n.FSM().View(func(s *fsm.State) {
		for _, a := range acks {
			o := s.Orders[a.id]
			if o == nil {
				t.Errorf("%s: acknowledged order %s missing", n.ID(), a.id)
				continue
			}
			if o.ModelSHA256 != a.sha || s.Models[a.sha] == nil {
				t.Errorf("%s: order %s's model missing or wrong", n.ID(), a.id)
			}
		}
	})
	for _, a := range acks {
		if b, ok := n.FSM().Model(a.sha); !ok || !bytes.Equal(b, a.model) {
			t.Errorf("%s: order %s's model missing or wrong", n.ID(), a.id)
		}
	}
}

func TestKillLeaderWhileOrdersStreamThenRestart(t *testing.T) {
	c := coordinatortest.StartTestCluster(t, 3)
	li := c.LeaderIndex(5 * time.Second)
	tok := newCommunity(t, c, c.Nodes[li].URL(), "makers")
	var urls []string
	for _, n := range c.Nodes {
		urls = append(urls, n.URL())
	}
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	defer halt() // also when the test fails early
	var count int64mu
	var acks []acked
	done := make(chan struct{})
	go func() { acks = streamOrders(t, c, urls, tok, stop, &count); close(done) }()

	coordinatortest.WaitFor(t, 10*time.Second, "orders before the kill", func() bool { return count.get() >= 20 })
	c.Kill(li)
	before := count.get()
	coordinatortest.WaitFor(t, 15*time.Second, "orders acknowledged after the kill", func() bool { return count.get() >= before+20 })
	halt()
	<-done
	leader := c.WaitLeader(5 * time.Second)
	c.WaitApplied(leader.FSM().Index(), 10*time.Second)
	for _, n := range c.Nodes {
		if n != nil {
			checkPresent(t, n, acks)
		}
	}
	// The killed node restarts from its data dir and catches up.
	n := c.Restart(li)
	coordinatortest.WaitFor(t, 15*time.Second, "the restarted node to catch up", func() bool {
		return n.FSM().Index() >= leader.FSM().Index()
	})
	checkPresent(t, n, acks)
	if !bytes.Equal(n.FSM().SnapshotBytes(), leader.FSM().SnapshotBytes()) {
		t.Fatal("restarted node's state differs from the leader's")
	}
	t.Logf("%d orders acknowledged, %d after the leader was killed", len(acks), len(acks)-int(before))
}

func TestPartitionedMinorityAcceptsNoWritesServesNoStaleReads(t *testing.T) {
	c := coordinatortest.Start(t, 3, coordinatortest.Options{Inmem: true})
	li := c.LeaderIndex(5 * time.Second)
	old := c.Nodes[li]
	tok := newCommunity(t, c, old.URL(), "makers")
	model := coordinatortest.CubeSTL(10, 10, 10)
	submit(t, old.URL(), tok, model, 1, "PLA")

	c.Partition(li)
	// Writes to the cut-off node are never acknowledged.
	code, b, _ := cl.SubmitOrder(old.URL(), tok, model, nil, "quantity", "1", "material", "PLA")
	if code == http.StatusCreated {
		t.Fatalf("partitioned old leader acknowledged a write: %s", b)
	}
	// The majority elects a leader and takes a new order.
	var leader *coordinator.Node
	coordinatortest.WaitFor(t, 10*time.Second, "a leader in the majority", func() bool {
		for i, n := range c.Nodes {
			if i != li && n.IsLeader() {
				leader = n
				return true
			}
		}
		return false
	})
	fresh := submit(t, leader.URL(), tok, model, 1, "PLA")
	// The minority never serves a leader-consistent read without it.
	for range 5 {
		var os api.Orders
		code, b, _ := cl.Do("GET", old.URL()+"/v1/orders?consistent=leader", tok, nil, &os)
		if code == http.StatusOK {
			found := false
			for _, o := range os.Orders {
				found = found || o.ID == fresh.ID
			}
			if !found {
				t.Fatalf("stale leader-consistent read from the minority: %s", b)
			}
		} else if code != http.StatusServiceUnavailable {
			t.Fatalf("minority read: %d %s", code, b)
		}
		code, b, _ = cl.SubmitOrder(old.URL(), tok, model, nil, "quantity", "1", "material", "PLA")
		if code != http.StatusServiceUnavailable {
			t.Fatalf("minority write: %d %s", code, b)
		}
	}
	// Healed, it catches up.
	c.Heal(li)
	coordinatortest.WaitFor(t, 10*time.Second, "the healed node to catch up", func() bool {
		found := false
		old.FSM().View(func(s *fsm.State) { found = s.Orders[fresh.ID] != nil })
		return found
	})
}

func TestSnapshotInstallOnRestart(t *testing.T) {
	c := coordinatortest.Start(t, 3, coordinatortest.Options{Configure: func(_ int, cfg *coordinator.Config) {
		cfg.SnapshotThreshold, cfg.TrailingLogs = 8, 4
	}})
	li := c.LeaderIndex(5 * time.Second)
	u := c.Nodes[li].URL()
	tok := newCommunity(t, c, u, "makers")
	victim := (li + 1) % 3
	c.Stop(victim)
	for i := range 30 {
		submit(t, u, tok, coordinatortest.CubeSTL(10, 10, float64(1+i)), 1, "PLA")
	}
	for i, n := range c.Nodes {
		if n != nil {
			if err := n.Raft().Snapshot().Error(); err != nil {
				t.Fatalf("snapshot on node %d: %v", i, err)
			}
		}
	}
	leader := c.Nodes[li]
	n := c.Restart(victim)
	coordinatortest.WaitFor(t, 15*time.Second, "catch-up from the snapshot", func() bool {
		return n.FSM().Index() >= leader.FSM().Index()
	})
	if !bytes.Equal(n.FSM().SnapshotBytes(), leader.FSM().SnapshotBytes()) {
		t.Fatal("state installed from a snapshot differs from the leader's")
	}
	// And a node restarted from its own snapshot plus log tail as well.
	c.Stop(victim)
	n = c.Restart(victim)
	coordinatortest.WaitFor(t, 15*time.Second, "restart from own snapshot", func() bool {
		return n.FSM().Index() >= leader.FSM().Index()
	})
	if !bytes.Equal(n.FSM().SnapshotBytes(), leader.FSM().SnapshotBytes()) {
		t.Fatal("state restored from the node's own snapshot differs")
	}
}

func TestGracefulCloseHandsOverLeadership(t *testing.T) {
	c := coordinatortest.StartTestCluster(t, 3)
	li := c.LeaderIndex(5 * time.Second)
	term := c.Nodes[li].Raft().CurrentTerm()
	c.Stop(li)
	leader := c.WaitLeader(5 * time.Second)
	if leader.Raft().CurrentTerm() <= term {
		t.Fatalf("term %d after handover from term %d", leader.Raft().CurrentTerm(), term)
	}
	tok := newCommunity(t, c, leader.URL(), fmt.Sprintf("after-%d", li))
	if tok == "" {
		t.Fatal("no token")
	}
}

func TestRestartOnNewHTTPAddressIsAnnounced(t *testing.T) {
	c := coordinatortest.StartTestCluster(t, 3)
	li := c.LeaderIndex(5 * time.Second)
	f := (li + 1) % 3
	c.Stop(f)
	c.Configs[f].HTTPAddr = "127.0.0.1:0"
	n := c.Restart(f)
	leader := c.Nodes[li]
	coordinatortest.WaitFor(t, 10*time.Second, "the new HTTP address on record", func() bool {
		info, err := leader.ClusterInfo()
		if err != nil {
			return false
		}
		for _, cn := range info.Nodes {
			if cn.ID == n.ID() {
				return cn.HTTPAddr == n.HTTPAddr()
			}
		}
		return false
	})
	// Writes through the restarted node still reach the leader.
	newCommunity(t, c, n.URL(), "via-restarted")
}

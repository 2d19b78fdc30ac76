package localgrid

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/gossip"
)

func fast(_ int, cfg *coordinator.Config) {
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 250*time.Millisecond, 250*time.Millisecond, 250*time.Millisecond
}

// A crashed in-memory node comes back from its stores, and a node cut off
// by SetLink no longer counts as the leader.
func TestInmemClusterCrashRestartAndPartition(t *testing.T) {
	ctx := context.Background()
	starts := map[int]int{}
	c, err := Start(ctx, 3, Options{Inmem: true, Configure: fast, Started: func(i int, _ *coordinator.Node, g *gossip.Coordinator) {
		if g != nil {
			t.Errorf("node %d has a gossip node without Options.Gossip", i)
		}
		starts[i]++
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.KillAll()
	if len(c.Live()) != 3 || starts[0] != 1 || starts[2] != 1 {
		t.Fatalf("live %d, starts %v", len(c.Live()), starts)
	}
	li := c.LeaderIndex()
	if li < 0 {
		t.Fatal("no leader after Start")
	}
	index := c.Node(li).Raft().AppliedIndex()
	if err := c.Kill(li); err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(li); !errors.Is(err, ErrCluster) {
		t.Fatalf("killing a dead node: %v, want ErrCluster", err)
	}
	n, err := c.Restart(li)
	if err != nil {
		t.Fatal(err)
	}
	if starts[li] != 2 || n.HTTPAddr() != c.Configs[li].HTTPAddr {
		t.Fatalf("restart: starts %v, address %s, want %s", starts, n.HTTPAddr(), c.Configs[li].HTTPAddr)
	}
	if err := Wait(ctx, 15*time.Second, "the cluster to converge", c.Converged); err != nil {
		t.Fatal(err)
	}
	if got := n.Raft().AppliedIndex(); got < index {
		t.Fatalf("restarted node applied %d, had %d before the crash", got, index)
	}

	li = c.LeaderIndex()
	for j := range c.Nodes {
		if j != li {
			c.SetLink(li, j, false)
		}
	}
	if got := c.LeaderIndex(); got == li {
		t.Fatalf("node %d, cut off, still counts as the leader", li)
	}
	if err := Wait(ctx, 15*time.Second, "a leader on the majority side", func() bool {
		i := c.LeaderIndex()
		return i >= 0 && i != li
	}); err != nil {
		t.Fatal(err)
	}
	for j := range c.Nodes {
		if j != li {
			c.SetLink(li, j, true)
		}
	}
	if err := Wait(ctx, 15*time.Second, "the cluster to converge after the heal", c.Converged); err != nil {
		t.Fatal(err)
	}
}

// Every coordinator gets a gossip node, joined to the running ones'.
func TestClusterGossip(t *testing.T) {
	mem := gossip.NewMemNetwork()
	c, err := Start(context.Background(), 2, Options{Inmem: true, Configure: fast,
		Gossip: func(int) gossip.Config { return gossip.Config{Transport: mem.NewTransport()} }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.KillAll()
	if addrs := c.GossipAddrs(); len(addrs) != 2 {
		t.Fatalf("gossip addresses %v, want 2", addrs)
	}
	if err := Wait(context.Background(), 10*time.Second, "both coordinators in the pool", func() bool {
		return len(c.Gossip(0).Node.Members()) == 2 && len(c.Gossip(1).Node.Members()) == 2
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(1); err != nil {
		t.Fatal(err)
	}
	if c.Gossip(1) != nil || len(c.GossipAddrs()) != 1 {
		t.Fatalf("a stopped node keeps its gossip node: %v", c.GossipAddrs())
	}
}

// DirTLS makes the CA and certificate once and reuses them.
func TestDirTLSReuses(t *testing.T) {
	dir := t.TempDir()
	caFile, tc, err := DirTLS(dir, "test CA", "n1")
	if err != nil || tc == nil {
		t.Fatal(tc, err)
	}
	first, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	caFile2, _, err := DirTLS(dir, "test CA", "n1")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(caFile2)
	if caFile2 != caFile || string(again) != string(first) || filepath.Dir(caFile) != dir {
		t.Fatalf("the second call made a new CA (%s, %s)", caFile, caFile2)
	}
}

func TestWaitTimesOut(t *testing.T) {
	err := Wait(context.Background(), 30*time.Millisecond, "never", func() bool { return false })
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait: %v, want ErrTimeout", err)
	}
}

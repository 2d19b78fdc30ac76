// Package coordinatortest starts coordinator clusters inside a test (or a
// simulation) process: real raft, over loopback TCP with data dirs and
// TLS, or over raft's in-memory transport where partitions are one call.
package coordinatortest

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/hashicorp/raft"
)

// Options tune a test cluster.
type Options struct {
	// Inmem uses raft's in-memory transport and stores (no restarts),
	// and plain HTTP on loopback.
	Inmem bool
	// Plaintext runs a TCP cluster without TLS. By default a TCP
	// cluster runs raft, forwarding and the API over TLS with
	// certificates of the test CA (tls.go).
	Plaintext bool
	// Configure, when set, adjusts each node's config before it starts.
	Configure func(i int, cfg *coordinator.Config)
	// Verbose sends the nodes' logs to stderr.
	Verbose bool
}

// Cluster is a running test cluster.
type Cluster struct {
	t           testing.TB
	opts        Options
	Nodes       []*coordinator.Node
	Configs     []coordinator.Config
	AdminToken  string
	WorkerToken string
	trans       []*raft.InmemTransport
}

// FastTimings are raft timings for tests: quick placement ticks, and
// raft timeouts a little under the LAN defaults, long enough not to flap
// on a heavily loaded two-core machine (where 150 ms did).
func FastTimings(cfg *coordinator.Config) {
	cfg.HeartbeatTimeout = 250 * time.Millisecond
	cfg.ElectionTimeout = 250 * time.Millisecond
	cfg.LeaderLeaseTimeout = 250 * time.Millisecond
	cfg.TickInterval = 20 * time.Millisecond
	cfg.ApplyTimeout = 3 * time.Second
}

// StartTestCluster starts n coordinators on loopback TCP with data dirs
// under t.TempDir(), waits until all are voters with a leader, and stops
// them at the end of the test.
func StartTestCluster(t testing.TB, n int) *Cluster {
	return Start(t, n, Options{})
}

// Start starts a cluster with options.
func Start(t testing.TB, n int, opts Options) *Cluster {
	t.Helper()
	c := &Cluster{t: t, opts: opts,
		AdminToken: coordinator.NewToken(api.AdminTokenPrefix), WorkerToken: coordinator.NewToken(api.WorkerTokenPrefix)}
	c.Nodes = make([]*coordinator.Node, n)
	c.Configs = make([]coordinator.Config, n)
	if opts.Inmem {
		c.trans = make([]*raft.InmemTransport, n)
		for i := range n {
			_, c.trans[i] = raft.NewInmemTransport(raft.ServerAddress(fmt.Sprintf("c%d", i+1)))
		}
		for i := range n {
			for j := range n {
				if i != j {
					c.trans[i].Connect(c.trans[j].LocalAddr(), c.trans[j])
				}
			}
		}
	}
	for i := range n {
		cfg := coordinator.Config{
			NodeID: fmt.Sprintf("c%d", i+1), HTTPAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0",
			AdminToken: c.AdminToken, WorkerToken: c.WorkerToken, Bootstrap: i == 0,
		}
		FastTimings(&cfg)
		if opts.Inmem {
			cfg.Transport = c.trans[i]
		} else {
			cfg.DataDir = t.TempDir()
		}
		if !opts.Inmem && !opts.Plaintext {
			cfg.TLS = NodeTLS(t, cfg.NodeID)
		}
		if opts.Verbose {
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
			cfg.RaftLogOutput = os.Stderr
		} else {
			cfg.RaftLogOutput = io.Discard
		}
		if i > 0 {
			cfg.Join = []string{c.Nodes[0].URL()}
		}
		if opts.Configure != nil {
			opts.Configure(i, &cfg)
		}
		node, err := coordinator.New(cfg)
		if err != nil {
			c.Close()
			t.Fatalf("start %s: %v", cfg.NodeID, err)
		}
		c.Nodes[i] = node
		// Later restarts reuse the addresses picked now.
		cfg.HTTPAddr, cfg.RaftAddr = node.HTTPAddr(), node.RaftAddr()
		c.Configs[i] = cfg
		if i == 0 {
			c.WaitLeader(10 * time.Second)
		}
	}
	c.WaitConverged(15 * time.Second)
	t.Cleanup(c.Close)
	return c
}

// Close stops every running node.
func (c *Cluster) Close() {
	for i, n := range c.Nodes {
		if n != nil {
			n.Kill()
			c.Nodes[i] = nil
		}
	}
}

// WaitFor polls cond until it holds or the timeout passes (then fails).
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitLeader waits until a running node leads and returns it.
func (c *Cluster) WaitLeader(timeout time.Duration) *coordinator.Node {
	c.t.Helper()
	var leader *coordinator.Node
	WaitFor(c.t, timeout, "a leader", func() bool {
		for _, n := range c.Nodes {
			if n != nil && n.IsLeader() {
				leader = n
				return true
			}
		}
		return false
	})
	return leader
}

// LeaderIndex waits for a leader and returns its index in Nodes.
func (c *Cluster) LeaderIndex(timeout time.Duration) int {
	l := c.WaitLeader(timeout)
	for i, n := range c.Nodes {
		if n == l {
			return i
		}
	}
	return -1
}

// WaitConverged waits until every running node is a voter known to the
// leader, has the addresses of all nodes, and has applied what the
// leader has.
func (c *Cluster) WaitConverged(timeout time.Duration) {
	c.t.Helper()
	WaitFor(c.t, timeout, "all nodes to join and catch up", func() bool {
		var leader *coordinator.Node
		for _, n := range c.Nodes {
			if n != nil && n.IsLeader() {
				leader = n
			}
		}
		if leader == nil {
			return false
		}
		info, err := leader.ClusterInfo()
		if err != nil || len(info.Nodes) != len(c.Nodes) {
			return false
		}
		for _, cn := range info.Nodes {
			if cn.HTTPAddr == "" {
				return false
			}
		}
		want := leader.Raft().AppliedIndex()
		for _, n := range c.Nodes {
			if n != nil && n.Raft().AppliedIndex() < want {
				return false
			}
		}
		return true
	})
}

// WaitApplied waits until every running node has applied index.
func (c *Cluster) WaitApplied(index uint64, timeout time.Duration) {
	c.t.Helper()
	WaitFor(c.t, timeout, fmt.Sprintf("every node to apply index %d", index), func() bool {
		for _, n := range c.Nodes {
			if n != nil && n.FSM().Index() < index {
				return false
			}
		}
		return true
	})
}

// Kill crashes node i.
func (c *Cluster) Kill(i int) {
	c.Nodes[i].Kill()
	c.Nodes[i] = nil
}

// Stop gracefully stops node i.
func (c *Cluster) Stop(i int) {
	if err := c.Nodes[i].Close(); err != nil {
		c.t.Logf("close %s: %v", c.Configs[i].NodeID, err)
	}
	c.Nodes[i] = nil
}

// Restart starts node i again from its data dir, on the same addresses.
func (c *Cluster) Restart(i int) *coordinator.Node {
	c.t.Helper()
	if c.opts.Inmem {
		c.t.Fatal("coordinatortest: restart needs the TCP cluster")
	}
	cfg := c.Configs[i]
	cfg.Bootstrap, cfg.Join = false, nil
	var (
		n   *coordinator.Node
		err error
	)
	// The old listener's port may take a moment to be free again.
	WaitFor(c.t, 5*time.Second, "restart of "+cfg.NodeID, func() bool {
		n, err = coordinator.New(cfg)
		return err == nil
	})
	c.Nodes[i] = n
	return n
}

// Partition cuts node i off from the others (in-memory transport only).
func (c *Cluster) Partition(i int) {
	if !c.opts.Inmem {
		c.t.Fatal("coordinatortest: partitions need Options.Inmem")
	}
	c.trans[i].DisconnectAll()
	for j, tr := range c.trans {
		if j != i {
			tr.Disconnect(c.trans[i].LocalAddr())
		}
	}
}

// Heal reconnects node i.
func (c *Cluster) Heal(i int) {
	for j, tr := range c.trans {
		if j != i {
			tr.Connect(c.trans[i].LocalAddr(), c.trans[i])
			c.trans[i].Connect(tr.LocalAddr(), tr)
		}
	}
}

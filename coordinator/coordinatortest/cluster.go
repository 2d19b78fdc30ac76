// Package coordinatortest starts coordinator clusters inside a test: the
// clusters of package localgrid (real raft, over loopback TCP with data
// dirs and TLS of a test CA, or over raft's in-memory transport where
// partitions are one call), with test timings, failing the test where
// localgrid returns an error.
package coordinatortest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/gossip"
	"github.com/fabgrid/fabgrid/localgrid"
)

// Options tune a test cluster.
type Options struct {
	// Inmem uses raft's in-memory transport and stores, and plain HTTP
	// on loopback.
	Inmem bool
	// Plaintext runs a TCP cluster without TLS. By default a TCP
	// cluster runs raft, forwarding and the API over TLS with
	// certificates of the test CA (tls.go).
	Plaintext bool
	// Configure, when set, adjusts each node's config before it starts.
	Configure func(i int, cfg *coordinator.Config)
	// Gossip, when set, gives each node a gossip node (see
	// localgrid.Options.Gossip).
	Gossip func(i int) gossip.Config
	// Verbose sends the nodes' logs to stderr.
	Verbose bool
}

// Cluster is a running test cluster: a localgrid.Cluster whose waits and
// node operations fail the test instead of returning errors.
type Cluster struct {
	*localgrid.Cluster
	t testing.TB
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
	lc, err := localgrid.Start(context.Background(), n, localgrid.Options{Inmem: opts.Inmem, Gossip: opts.Gossip,
		Configure: func(i int, cfg *coordinator.Config) {
			FastTimings(cfg)
			if !opts.Inmem {
				cfg.DataDir = t.TempDir()
				if !opts.Plaintext {
					cfg.TLS = NodeTLS(t, cfg.NodeID)
				}
			}
			cfg.RaftLogOutput = io.Discard
			if opts.Verbose {
				cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
				cfg.RaftLogOutput = os.Stderr
			}
			if opts.Configure != nil {
				opts.Configure(i, cfg)
			}
		}})
	if err != nil {
		t.Fatalf("coordinatortest: %v", err)
	}
	c := &Cluster{Cluster: lc, t: t}
	t.Cleanup(c.Close)
	return c
}

// Close stops every running node.
func (c *Cluster) Close() { c.KillAll() }

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
	WaitFor(c.t, timeout, "all nodes to join and catch up", c.Converged)
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
	if err := c.Cluster.Kill(i); err != nil {
		c.t.Fatal(err)
	}
}

// Stop gracefully stops node i.
func (c *Cluster) Stop(i int) {
	if err := c.Cluster.Stop(i); err != nil {
		c.t.Logf("close %s: %v", c.Configs[i].NodeID, err)
	}
}

// Restart starts node i again from its data dir (or in-memory stores),
// on the same addresses.
func (c *Cluster) Restart(i int) *coordinator.Node {
	c.t.Helper()
	n, err := c.Cluster.Restart(i)
	if err != nil {
		c.t.Fatalf("coordinatortest: restart: %v", err)
	}
	return n
}

// Partition cuts node i off from the others (in-memory transport only).
func (c *Cluster) Partition(i int) { c.links(i, false) }

// Heal reconnects node i.
func (c *Cluster) Heal(i int) { c.links(i, true) }

func (c *Cluster) links(i int, up bool) {
	if !c.Inmem() {
		c.t.Fatal("coordinatortest: partitions need Options.Inmem")
	}
	for j := range c.Nodes {
		if j != i {
			c.SetLink(i, j, up)
		}
	}
}

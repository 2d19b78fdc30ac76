package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/gossip"
	"github.com/fabgrid/fabgrid/localgrid"
)

// ErrCluster is returned when the coordinator cluster cannot be started or
// restarted, or does not recover in time.
var ErrCluster = errors.New("sim: cluster")

// ClusterConfig configures the simulated coordinator cluster.
type ClusterConfig struct {
	Coordinators int
	// LostAfter, HeartbeatInterval and MaxAttempts are passed to every
	// coordinator (defaults 3 s, 300 ms, 3).
	LostAfter         time.Duration
	HeartbeatInterval time.Duration
	MaxAttempts       int
	// Logger for the coordinators (default: discard).
	Logger *slog.Logger
	// gossip, if set, gives every coordinator a node in the pool.
	gossip *simGossip
}

// Cluster is a running set of real coordinators (a localgrid.Cluster) on
// raft's in-memory transport and stores. The stores outlive a crash, so a
// restarted node comes back from its own log and snapshots, like one
// restarted from its data dir.
type Cluster struct {
	cfg ClusterConfig
	net *faultNet
	lg  *localgrid.Cluster
	ids []NodeID

	AdminToken, WorkerToken string
}

func (c *ClusterConfig) setDefaults() {
	if c.Coordinators <= 0 {
		c.Coordinators = 3
	}
	if c.LostAfter <= 0 {
		c.LostAfter = 3 * time.Second
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 300 * time.Millisecond
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// startCluster starts the coordinators: c1 bootstraps, the others join it
// over HTTP, and it waits until all are voters with a leader.
func startCluster(ctx context.Context, cfg ClusterConfig, fn *faultNet) (*Cluster, error) {
	cfg.setDefaults()
	c := &Cluster{cfg: cfg, net: fn, ids: make([]NodeID, cfg.Coordinators)}
	for i := range c.ids {
		c.ids[i] = NodeID(fmt.Sprintf("c%d", i+1))
	}
	opts := localgrid.Options{Inmem: true, ConvergeTimeout: 20 * time.Second,
		Configure: func(i int, conf *coordinator.Config) {
			conf.LostAfter, conf.HeartbeatInterval, conf.MaxAttempts = cfg.LostAfter, cfg.HeartbeatInterval, cfg.MaxAttempts
			// Raft keeps its LAN defaults (300 ms): on a loaded two-core
			// machine shorter timeouts make leadership flap.
			conf.TickInterval = 50 * time.Millisecond
			conf.ApplyTimeout, conf.SnapshotThreshold, conf.TrailingLogs = 3*time.Second, 2048, 1024
			conf.Logger, conf.RaftLogOutput = cfg.Logger.With("node", string(c.ids[i])), io.Discard
			conf.HTTPClient, conf.ForwardTransport = fn.client(c.ids[i]), fn.client(c.ids[i]).Transport
		},
		Started: func(i int, n *coordinator.Node, g *gossip.Coordinator) {
			fn.setHost(n.HTTPAddr(), c.ids[i])
			fn.setDown(c.ids[i], false)
			if g != nil {
				cfg.gossip.setCoordinator(c.ids[i], g.Node.Addr())
			}
		},
		Reaches: func(i, j int) bool { return fn.Reachable(c.ids[i], c.ids[j]) },
	}
	if g := cfg.gossip; g != nil {
		opts.Gossip = func(i int) gossip.Config { return gossip.Config{Transport: g.transport(c.ids[i])} }
	}
	lg, err := localgrid.Start(ctx, cfg.Coordinators, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCluster, err)
	}
	c.lg, c.AdminToken, c.WorkerToken = lg, lg.AdminToken, lg.WorkerToken
	return c, nil
}

// forgetGossip makes coordinator i's gossip node vanish from the pool, as
// its process would in a crash.
func (c *Cluster) forgetGossip(i int) {
	if g := c.lg.Gossip(i); g != nil {
		c.cfg.gossip.setCoordinator(c.ids[i], "")
		c.cfg.gossip.crash(g.Node.Addr()) // no leave: a crash
	}
}

// GossipAlive reports whether coordinator i's gossip node sees the worker
// with ID workerID alive (false without gossip or while i is down).
func (c *Cluster) GossipAlive(i int, workerID string) bool {
	g := c.lg.Gossip(i)
	return g != nil && g.Tracker.Alive(workerID)
}

// connectRaft makes the raft links match the network: every pair of
// coordinators that reach each other is connected, every other pair not.
func (c *Cluster) connectRaft() {
	for i := range c.ids {
		for j := i + 1; j < len(c.ids); j++ {
			c.lg.SetLink(i, j, c.net.Reachable(c.ids[i], c.ids[j]))
		}
	}
}

// converged: a leader knows every coordinator with its HTTP address and
// every live node has applied what the leader has.
func (c *Cluster) converged() bool { return c.lg.Converged() }

func (c *Cluster) waitFor(ctx context.Context, d time.Duration, what string, cond func() bool) error {
	err := localgrid.Wait(ctx, d, what, cond)
	if err != nil && ctx.Err() == nil {
		err = fmt.Errorf("%w: %w", ErrCluster, err)
	}
	return err
}

// live returns the running coordinators.
func (c *Cluster) live() []*coordinator.Node { return c.lg.Live() }

// Node returns coordinator i, or nil while it is crashed.
func (c *Cluster) Node(i int) *coordinator.Node { return c.lg.Node(i) }

// IDs returns the coordinators' node IDs.
func (c *Cluster) IDs() []NodeID { return append([]NodeID(nil), c.ids...) }

// URLs returns every coordinator's API URL (crashed ones too: clients
// find out).
func (c *Cluster) URLs() []string { return c.lg.URLs() }

// leaderNode returns a running node that believes it leads and can reach
// a majority (a deposed leader in a minority may still think it leads for
// a moment), or nil.
func (c *Cluster) leaderNode() *coordinator.Node { return c.lg.Leader() }

// LeaderIndex returns the index of the leader with a majority, or -1.
func (c *Cluster) LeaderIndex() int { return c.lg.LeaderIndex() }

// crash kills coordinator i abruptly; its stores survive.
func (c *Cluster) crash(i int) error {
	if c.Node(i) == nil {
		return fmt.Errorf("%w: %s is not running", ErrCluster, c.ids[i])
	}
	c.net.setDown(c.ids[i], true)
	c.forgetGossip(i)
	return c.lg.Kill(i)
}

// restart starts coordinator i again from its stores, on its old
// addresses.
func (c *Cluster) restart(i int) error {
	if c.Node(i) != nil {
		return fmt.Errorf("%w: %s is running", ErrCluster, c.ids[i])
	}
	c.net.setDown(c.ids[i], false)
	c.connectRaft()
	if _, err := c.lg.Restart(i); err != nil {
		c.net.setDown(c.ids[i], true)
		return fmt.Errorf("%w: %w", ErrCluster, err)
	}
	return nil
}

// close kills every running coordinator.
func (c *Cluster) close() {
	for i := range c.ids {
		c.forgetGossip(i)
	}
	c.lg.KillAll()
}

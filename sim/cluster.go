package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/gossip"
	"github.com/hashicorp/raft"
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

// Cluster is a running set of real coordinators on raft's in-memory
// transport and stores. The stores outlive a crash, so a restarted node
// comes back from its own log and snapshots, like one restarted from its
// data dir.
type Cluster struct {
	cfg   ClusterConfig
	net   *faultNet
	mu    sync.Mutex
	ids   []NodeID
	node  []*coordinator.Node   // nil while crashed
	gnode []*gossip.Coordinator // nil while crashed or without gossip
	conf  []coordinator.Config
	tr    []*raft.InmemTransport
	// stores survive crashes.
	logs  []*raft.InmemStore
	snaps []*raft.InmemSnapshotStore

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
	k := cfg.Coordinators
	c := &Cluster{
		cfg: cfg, net: fn,
		ids: make([]NodeID, k), node: make([]*coordinator.Node, k), gnode: make([]*gossip.Coordinator, k), conf: make([]coordinator.Config, k),
		tr: make([]*raft.InmemTransport, k), logs: make([]*raft.InmemStore, k), snaps: make([]*raft.InmemSnapshotStore, k),
		AdminToken:  coordinator.NewToken(api.AdminTokenPrefix),
		WorkerToken: coordinator.NewToken(api.WorkerTokenPrefix),
	}
	for i := range k {
		c.ids[i] = NodeID(fmt.Sprintf("c%d", i+1))
		_, c.tr[i] = raft.NewInmemTransport(raft.ServerAddress(c.ids[i]))
		c.logs[i] = raft.NewInmemStore()
		c.snaps[i] = raft.NewInmemSnapshotStore()
	}
	c.connectRaft()
	for i := range k {
		conf := coordinator.Config{
			NodeID: string(c.ids[i]), HTTPAddr: "127.0.0.1:0",
			AdminToken: c.AdminToken, WorkerToken: c.WorkerToken, Bootstrap: i == 0,
			LostAfter: cfg.LostAfter, HeartbeatInterval: cfg.HeartbeatInterval, MaxAttempts: cfg.MaxAttempts,
			// Raft keeps its LAN defaults (300 ms): on a loaded two-core
			// machine shorter timeouts make leadership flap.
			TickInterval: 50 * time.Millisecond,
			ApplyTimeout: 3 * time.Second, SnapshotThreshold: 2048, TrailingLogs: 1024,
			Logger: cfg.Logger.With("node", string(c.ids[i])), RaftLogOutput: io.Discard,
			HTTPClient: fn.client(c.ids[i]), ForwardTransport: fn.client(c.ids[i]).Transport,
		}
		if i > 0 {
			conf.Join = []string{c.node[0].URL()}
		}
		c.conf[i] = conf
		if err := c.startNode(i); err != nil {
			c.close()
			return nil, err
		}
		c.conf[i].HTTPAddr = c.node[i].HTTPAddr()
		if i == 0 {
			if err := c.waitFor(ctx, 10*time.Second, "a first leader", func() bool { return c.node[0].IsLeader() }); err != nil {
				c.close()
				return nil, err
			}
		}
	}
	if err := c.waitFor(ctx, 20*time.Second, "every coordinator to join", c.converged); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) startNode(i int) error {
	conf := c.conf[i]
	conf.Transport = c.tr[i]
	conf.LogStore, conf.StableStore, conf.SnapshotStore = c.logs[i], c.logs[i], c.snaps[i]
	var (
		n   *coordinator.Node
		err error
	)
	// A restarted node's port may take a moment to be free again.
	for try := 0; try < 50; try++ {
		if n, err = coordinator.New(conf); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("%w: start %s: %w", ErrCluster, c.ids[i], err)
	}
	c.net.setHost(n.HTTPAddr(), c.ids[i])
	c.net.setDown(c.ids[i], false)
	var gc *gossip.Coordinator
	if g := c.cfg.gossip; g != nil {
		t := g.transport(c.ids[i])
		// Failing to join is not fatal: the workers and the other
		// coordinators join this one.
		if gc, err = gossip.StartCoordinatorConfig(n, gossip.Config{Transport: t}, g.coordinators()); gc == nil {
			n.Kill()
			return fmt.Errorf("%w: start %s: %w", ErrCluster, c.ids[i], err)
		}
		g.setCoordinator(c.ids[i], t.Addr())
	}
	c.mu.Lock()
	c.node[i], c.gnode[i] = n, gc
	c.mu.Unlock()
	return nil
}

// stopGossip crashes coordinator i's gossip node, if it has one.
func (c *Cluster) stopGossip(i int) {
	c.mu.Lock()
	gc := c.gnode[i]
	c.gnode[i] = nil
	c.mu.Unlock()
	if gc == nil {
		return
	}
	c.cfg.gossip.setCoordinator(c.ids[i], "")
	c.cfg.gossip.crash(gc.Node.Addr())
	_ = gc.Kill()
}

// GossipAlive reports whether coordinator i's gossip node sees the worker
// with ID workerID alive (false without gossip or while i is down).
func (c *Cluster) GossipAlive(i int, workerID string) bool {
	c.mu.Lock()
	gc := c.gnode[i]
	c.mu.Unlock()
	return gc != nil && gc.Tracker.Alive(workerID)
}

// connectRaft makes the raft links match the network: every pair of live
// coordinators that reach each other is connected, every other pair not.
func (c *Cluster) connectRaft() {
	for i := range c.tr {
		for j := range c.tr {
			if i == j {
				continue
			}
			if c.net.Reachable(c.ids[i], c.ids[j]) {
				c.tr[i].Connect(c.tr[j].LocalAddr(), c.tr[j])
			} else {
				c.tr[i].Disconnect(c.tr[j].LocalAddr())
			}
		}
	}
}

// converged: a leader knows every coordinator with its HTTP address and
// every live node has applied what the leader has.
func (c *Cluster) converged() bool {
	l := c.leaderNode()
	if l == nil {
		return false
	}
	info, err := l.ClusterInfo()
	if err != nil || len(info.Nodes) != len(c.ids) {
		return false
	}
	for _, cn := range info.Nodes {
		if cn.HTTPAddr == "" {
			return false
		}
	}
	want := l.Raft().AppliedIndex()
	for _, n := range c.live() {
		if n.Raft().AppliedIndex() < want {
			return false
		}
	}
	return true
}

func (c *Cluster) waitFor(ctx context.Context, d time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: timed out after %v waiting for %s", ErrCluster, d, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// live returns the running coordinators.
func (c *Cluster) live() []*coordinator.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*coordinator.Node
	for _, n := range c.node {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// Node returns coordinator i, or nil while it is crashed.
func (c *Cluster) Node(i int) *coordinator.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.node[i]
}

// IDs returns the coordinators' node IDs.
func (c *Cluster) IDs() []NodeID { return append([]NodeID(nil), c.ids...) }

// URLs returns every coordinator's API URL (crashed ones too: clients
// find out).
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.conf))
	for i, conf := range c.conf {
		out[i] = "http://" + conf.HTTPAddr
	}
	return out
}

// leaderNode returns a running node that believes it leads and can reach
// a majority (a deposed leader in a minority may still think it leads for
// a moment), or nil.
func (c *Cluster) leaderNode() *coordinator.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, n := range c.node {
		if n == nil || !n.IsLeader() {
			continue
		}
		reach := 0
		for j, m := range c.node {
			if m != nil && (j == i || c.net.Reachable(c.ids[i], c.ids[j])) {
				reach++
			}
		}
		if reach*2 > len(c.node) {
			return n
		}
	}
	return nil
}

// LeaderIndex returns the index of the leader with a majority, or -1.
func (c *Cluster) LeaderIndex() int {
	l := c.leaderNode()
	for i := range c.ids {
		if l != nil && c.Node(i) == l {
			return i
		}
	}
	return -1
}

// crash kills coordinator i abruptly; its stores survive.
func (c *Cluster) crash(i int) error {
	c.mu.Lock()
	n := c.node[i]
	c.node[i] = nil
	c.mu.Unlock()
	if n == nil {
		return fmt.Errorf("%w: %s is not running", ErrCluster, c.ids[i])
	}
	c.net.setDown(c.ids[i], true)
	c.stopGossip(i)
	n.Kill()
	return nil
}

// restart starts coordinator i again from its stores, on its old
// addresses.
func (c *Cluster) restart(i int) error {
	if c.Node(i) != nil {
		return fmt.Errorf("%w: %s is running", ErrCluster, c.ids[i])
	}
	_, c.tr[i] = raft.NewInmemTransport(raft.ServerAddress(c.ids[i]))
	c.conf[i].Bootstrap, c.conf[i].Join = false, nil
	c.net.setDown(c.ids[i], false)
	c.connectRaft()
	if err := c.startNode(i); err != nil {
		c.net.setDown(c.ids[i], true)
		return err
	}
	return nil
}

// close kills every running coordinator.
func (c *Cluster) close() {
	for i := range c.ids {
		if n := c.Node(i); n != nil {
			c.mu.Lock()
			c.node[i] = nil
			c.mu.Unlock()
			c.stopGossip(i)
			n.Kill()
		}
	}
}

package localgrid

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/gossip"
	"github.com/hashicorp/raft"
)

// ErrCluster is returned when a coordinator cannot be started or
// restarted.
var ErrCluster = errors.New("localgrid: cluster")

var _ gossip.CoordinatorSink = (*coordinator.Node)(nil)

// Options shape a cluster; the zero value is n coordinators on loopback
// TCP, in memory, without TLS or gossip.
type Options struct {
	// AdminToken and WorkerToken are the cluster's tokens (generated when
	// empty).
	AdminToken, WorkerToken string
	// Inmem runs raft over its in-memory transport and stores. The stores
	// outlive a crash, so a restarted node comes back from its own log
	// and snapshots, as from a data dir; SetLink cuts and mends links.
	Inmem bool
	// Configure adjusts coordinator i's config before its first start.
	// It gets NodeID "c<i+1>", HTTPAddr and RaftAddr "127.0.0.1:0", the
	// tokens, Bootstrap for the first node and, for the others, Join with
	// the first node's URL.
	Configure func(i int, cfg *coordinator.Config)
	// Gossip, when set, gives coordinator i a gossip node each time it
	// starts, with the config returned, joined to the gossip nodes of the
	// running coordinators. Failing to join is not fatal: the workers and
	// the other coordinators join this one.
	Gossip func(i int) gossip.Config
	// Started, when set, is called each time coordinator i has started
	// (g is its gossip node, nil without Gossip).
	Started func(i int, n *coordinator.Node, g *gossip.Coordinator)
	// Reaches, when set, says whether node i reaches node j now (what
	// LeaderIndex counts towards a majority); by default, whether their
	// raft link is up.
	Reaches func(i, j int) bool
	// ConvergeTimeout bounds the wait for every node to join (default 15 s).
	ConvergeTimeout time.Duration
}

// Cluster is a running set of coordinators.
type Cluster struct {
	opts Options
	mu   sync.Mutex
	// Nodes are the running coordinators (nil while one is down) and
	// Configs their configs, with the addresses their first start picked:
	// a restart reuses them. Read Nodes with Node while other goroutines
	// may kill or restart nodes.
	Nodes   []*coordinator.Node
	Configs []coordinator.Config
	// AdminToken and WorkerToken are the cluster's tokens.
	AdminToken, WorkerToken string

	gossip []*gossip.Coordinator
	// With Options.Inmem: the raft transports, the stores that survive
	// crashes, and the links cut between nodes.
	trans []*raft.InmemTransport
	logs  []*raft.InmemStore
	snaps []*raft.InmemSnapshotStore
	cut   map[[2]int]bool
}

// Start starts n coordinators: the first bootstraps, the others join it
// over HTTP; it returns once all are voters with a leader, caught up.
func Start(ctx context.Context, n int, opts Options) (*Cluster, error) {
	if opts.AdminToken == "" {
		opts.AdminToken = coordinator.NewToken(api.AdminTokenPrefix)
	}
	if opts.WorkerToken == "" {
		opts.WorkerToken = coordinator.NewToken(api.WorkerTokenPrefix)
	}
	if opts.ConvergeTimeout <= 0 {
		opts.ConvergeTimeout = 15 * time.Second
	}
	c := &Cluster{opts: opts, AdminToken: opts.AdminToken, WorkerToken: opts.WorkerToken,
		Nodes: make([]*coordinator.Node, n), Configs: make([]coordinator.Config, n), gossip: make([]*gossip.Coordinator, n)}
	if opts.Inmem {
		c.trans, c.logs, c.snaps, c.cut = make([]*raft.InmemTransport, n), make([]*raft.InmemStore, n), make([]*raft.InmemSnapshotStore, n), map[[2]int]bool{}
		for i := range n {
			c.logs[i], c.snaps[i] = raft.NewInmemStore(), raft.NewInmemSnapshotStore()
			c.newTransport(i)
		}
	}
	for i := range n {
		cfg := coordinator.Config{
			NodeID: fmt.Sprintf("c%d", i+1), HTTPAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0",
			AdminToken: c.AdminToken, WorkerToken: c.WorkerToken, Bootstrap: i == 0,
		}
		if i > 0 {
			cfg.Join = []string{c.Nodes[0].URL()}
		}
		if opts.Configure != nil {
			opts.Configure(i, &cfg)
		}
		c.Configs[i] = cfg
		if err := c.start(i, 0); err != nil {
			c.KillAll()
			return nil, err
		}
		// Later restarts reuse the addresses picked now.
		c.Configs[i].HTTPAddr, c.Configs[i].RaftAddr = c.Nodes[i].HTTPAddr(), c.Nodes[i].RaftAddr()
		if i == 0 {
			if err := Wait(ctx, 10*time.Second, "a first leader", c.Nodes[0].IsLeader); err != nil {
				c.KillAll()
				return nil, err
			}
		}
	}
	if err := Wait(ctx, opts.ConvergeTimeout, "every coordinator to join", c.Converged); err != nil {
		c.KillAll()
		return nil, err
	}
	return c, nil
}

// start starts node i from its config, trying again for up to retry (a
// restarted node's port may take a moment to be free again), then its
// gossip node.
func (c *Cluster) start(i int, retry time.Duration) error {
	cfg := c.Configs[i]
	if c.opts.Inmem {
		cfg.Transport = c.trans[i]
		cfg.LogStore, cfg.StableStore, cfg.SnapshotStore = c.logs[i], c.logs[i], c.snaps[i]
	}
	n, err := coordinator.New(cfg)
	if err != nil && retry > 0 {
		_ = Wait(context.Background(), retry, "a restart", func() bool {
			n, err = coordinator.New(cfg)
			return err == nil
		})
	}
	if err != nil {
		return fmt.Errorf("%w: start %s: %w", ErrCluster, cfg.NodeID, err)
	}
	var g *gossip.Coordinator
	if c.opts.Gossip != nil {
		if g, err = gossip.StartCoordinatorConfig(n, c.opts.Gossip(i), c.GossipAddrs()); g == nil {
			n.Kill()
			return fmt.Errorf("%w: start %s: %w", ErrCluster, cfg.NodeID, err)
		}
	}
	c.mu.Lock()
	c.Nodes[i], c.gossip[i] = n, g
	c.mu.Unlock()
	if c.opts.Started != nil {
		c.opts.Started(i, n, g)
	}
	return nil
}

// Node returns coordinator i, or nil while it is down.
func (c *Cluster) Node(i int) *coordinator.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Nodes[i]
}

// Gossip returns coordinator i's gossip node, or nil.
func (c *Cluster) Gossip(i int) *gossip.Coordinator {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gossip[i]
}

// GossipAddrs lists where the running coordinators gossip: what a worker
// joins.
func (c *Cluster) GossipAddrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, g := range c.gossip {
		if g != nil {
			out = append(out, g.Node.Addr())
		}
	}
	return out
}

// Live returns the running coordinators.
func (c *Cluster) Live() []*coordinator.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*coordinator.Node
	for _, n := range c.Nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// URLs lists every coordinator's API URL, down ones too (clients find
// out), as a worker's --coordinator would.
func (c *Cluster) URLs() []string {
	out := make([]string, len(c.Configs))
	for i, cfg := range c.Configs {
		scheme := "http://"
		if cfg.TLS != nil {
			scheme = "https://"
		}
		out[i] = scheme + cfg.HTTPAddr
	}
	return out
}

// LeaderIndex returns the index of a running node that believes it leads
// and has links to a majority (a deposed leader cut off in a minority
// may still think it leads for a moment), or -1.
func (c *Cluster) LeaderIndex() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, n := range c.Nodes {
		if n == nil || !n.IsLeader() {
			continue
		}
		reach := 0
		for j, m := range c.Nodes {
			if m != nil && (j == i || c.reaches(i, j)) {
				reach++
			}
		}
		if reach*2 > len(c.Nodes) {
			return i
		}
	}
	return -1
}

func (c *Cluster) reaches(i, j int) bool {
	if c.opts.Reaches != nil {
		return c.opts.Reaches(i, j)
	}
	return !c.cut[[2]int{i, j}]
}

// Leader returns the node LeaderIndex names, or nil.
func (c *Cluster) Leader() *coordinator.Node {
	if i := c.LeaderIndex(); i >= 0 {
		return c.Node(i)
	}
	return nil
}

// Converged reports whether a leader knows every coordinator with its
// HTTP address and every running node has applied what the leader has.
func (c *Cluster) Converged() bool {
	l := c.Leader()
	if l == nil {
		return false
	}
	info, err := l.ClusterInfo()
	if err != nil || len(info.Nodes) != len(c.Nodes) {
		return false
	}
	for _, cn := range info.Nodes {
		if cn.HTTPAddr == "" {
			return false
		}
	}
	want := l.Raft().AppliedIndex()
	for _, n := range c.Live() {
		if n.Raft().AppliedIndex() < want {
			return false
		}
	}
	return true
}

// take marks node i down and returns it and its gossip node.
func (c *Cluster) take(i int) (*coordinator.Node, *gossip.Coordinator) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, g := c.Nodes[i], c.gossip[i]
	c.Nodes[i], c.gossip[i] = nil, nil
	return n, g
}

// Kill crashes node i (and its gossip node, without a leave); its data
// dir or in-memory stores stay.
func (c *Cluster) Kill(i int) error {
	n, g := c.take(i)
	if n == nil {
		return fmt.Errorf("%w: %s is not running", ErrCluster, c.Configs[i].NodeID)
	}
	if g != nil {
		_ = g.Kill()
	}
	n.Kill()
	return nil
}

// Stop stops node i gracefully: its gossip node leaves the pool, a leader
// hands over leadership.
func (c *Cluster) Stop(i int) error {
	n, g := c.take(i)
	if n == nil {
		return fmt.Errorf("%w: %s is not running", ErrCluster, c.Configs[i].NodeID)
	}
	if g != nil {
		_ = g.Close()
	}
	return n.Close()
}

// Restart starts node i again from its data dir or stores, on the
// addresses of Configs[i], neither bootstrapping nor joining.
func (c *Cluster) Restart(i int) (*coordinator.Node, error) {
	if c.Node(i) != nil {
		return nil, fmt.Errorf("%w: %s is running", ErrCluster, c.Configs[i].NodeID)
	}
	c.Configs[i].Bootstrap, c.Configs[i].Join = false, nil
	if c.opts.Inmem {
		c.newTransport(i)
	}
	if err := c.start(i, 5*time.Second); err != nil {
		return nil, err
	}
	return c.Node(i), nil
}

// newTransport gives node i a fresh in-memory raft transport, linked to
// the others as the cut links say.
func (c *Cluster) newTransport(i int) {
	_, c.trans[i] = raft.NewInmemTransport(raft.ServerAddress(fmt.Sprintf("c%d", i+1)))
	for j := range c.trans {
		if j != i && c.trans[j] != nil {
			c.SetLink(i, j, !c.cut[[2]int{i, j}])
		}
	}
}

// SetLink connects (up) or cuts the raft link between nodes i and j, both
// ways; without Options.Inmem it does nothing.
func (c *Cluster) SetLink(i, j int, up bool) {
	if !c.opts.Inmem {
		return
	}
	a, b := c.trans[i], c.trans[j]
	c.mu.Lock()
	c.cut[[2]int{i, j}], c.cut[[2]int{j, i}] = !up, !up
	c.mu.Unlock()
	if up {
		a.Connect(b.LocalAddr(), b)
		b.Connect(a.LocalAddr(), a)
	} else {
		a.Disconnect(b.LocalAddr())
		b.Disconnect(a.LocalAddr())
	}
}

// Close stops every running node gracefully.
func (c *Cluster) Close() error {
	var errs []error
	for i := range c.Nodes {
		if c.Node(i) != nil {
			errs = append(errs, c.Stop(i))
		}
	}
	return errors.Join(errs...)
}

// KillAll crashes every running node.
func (c *Cluster) KillAll() {
	for i := range c.Nodes {
		if c.Node(i) != nil {
			_ = c.Kill(i)
		}
	}
}

// Inmem reports whether the cluster runs on raft's in-memory transport.
func (c *Cluster) Inmem() bool { return c.opts.Inmem }

package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// Node is one coordinator: a raft member with its FSM, the HTTP API and,
// while it leads, the placement and lease loops.
type Node struct {
	cfg   Config
	log   *slog.Logger
	clock Clock
	fsm   *FSM
	raft  *raft.Raft
	trans raft.Transport
	snaps raft.SnapshotStore
	// closers are the stores and transport to close after raft stops.
	closers []io.Closer

	ln             net.Listener
	httpSrv        *http.Server
	uploads        chan struct{} // upload slots (limits.go)
	rates          *tokenRates   // per-token request rates, nil: none
	proxyTransport http.RoundTripper
	url            string // "http://" + the HTTP listener's address

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// raftDown closes once raft has shut down: a future it has not
	// answered by then it never will (awaitFuture).
	raftDown chan struct{}

	kick    chan struct{}
	reasons reasonCache
	// uploadMu serialises chunked model uploads on the leader.
	uploadMu sync.Mutex
	contacts *contactTimes
	metrics  *metrics
	// orders group-commits order submissions (batch.go).
	orders *batcher
	// readyTerm is the term whose leader has applied every entry of the
	// terms before it (readindex.go).
	readyTerm atomic.Uint64

	closeOnce sync.Once
	closeErr  error
}

// New starts a coordinator node: it opens (or creates) its raft state,
// bootstraps or joins a cluster when it has none, and serves the HTTP API.
func New(cfg Config) (*Node, error) {
	if cfg.NodeID == "" {
		return nil, errors.New("coordinator: config: NodeID is required")
	}
	if err := cfg.checkTransportSecurity(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg: cfg, log: cfg.Logger.With("node", cfg.NodeID), clock: cfg.Clock,
		ctx: ctx, cancel: cancel, kick: make(chan struct{}, 1), raftDown: make(chan struct{}),
	}
	n.contacts = newContactTimes()
	n.proxyTransport = cfg.ForwardTransport
	if n.proxyTransport == nil {
		n.proxyTransport = newProxyTransport(cfg.TLS.peerClient())
	}
	n.metrics = newMetrics(n)
	n.fsm = NewFSM(n.log, n.metrics.observeApply)
	if err := n.start(); err != nil {
		n.cancel()
		if n.httpSrv != nil {
			n.httpSrv.Close()
		}
		if n.raft != nil {
			n.raft.Shutdown()
		}
		n.wg.Wait()
		n.closeResources()
		return nil, err
	}
	return n, nil
}

func (n *Node) start() error {
	cfg := n.cfg
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("coordinator: http listen: %w", err)
	}
	ln = n.listenHTTP(n.limitConns(ln))
	n.uploads = make(chan struct{}, cfg.MaxUploads)
	n.rates = newTokenRates(cfg.RateLimit, cfg.RateBurst)
	n.ln = ln
	n.url = n.scheme() + "://" + ln.Addr().String()
	n.closers = append(n.closers, ln)

	hlog := hclog.New(&hclog.LoggerOptions{Name: "raft." + cfg.NodeID, Level: hclog.Warn, Output: cfg.RaftLogOutput})
	logs, stable, snaps := cfg.LogStore, cfg.StableStore, cfg.SnapshotStore
	switch {
	case logs != nil:
		if stable == nil || snaps == nil {
			return errors.New("coordinator: config: LogStore needs StableStore and SnapshotStore")
		}
	case cfg.DataDir != "":
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("coordinator: data dir: %w", err)
		}
		rs, err := openRaftStores(cfg.DataDir, hlog)
		if err != nil {
			return err
		}
		g := newGuardedStore(rs.logs, rs.stable, rs.Close)
		n.closers = append(n.closers, g)
		logs, stable = g, g
		if snaps, err = n.openModels(hlog); err != nil {
			return err
		}
	default:
		ms := raft.NewInmemStore()
		logs, stable, snaps = ms, ms, raft.NewInmemSnapshotStore()
	}

	trans := cfg.Transport
	if trans == nil && cfg.TLS != nil {
		tt, err := newTLSTransport(cfg.RaftAddr, cfg.TLS, hlog, n.log)
		if err != nil {
			return fmt.Errorf("coordinator: raft transport: %w", err)
		}
		trans = tt
		n.closers = append(n.closers, tt)
	}
	if trans == nil {
		// The transport has no message size limit of its own; entries are
		// bounded by MaxModelSize and RPCs by MaxAppendEntries entries.
		// The timeout covers sending one RPC of that size on a LAN.
		tt, err := raft.NewTCPTransportWithLogger(cfg.RaftAddr, nil, 3, 10*time.Second, hlog)
		if err != nil {
			return fmt.Errorf("coordinator: raft transport: %w", err)
		}
		trans = tt
		n.closers = append(n.closers, tt)
	}
	n.trans = trans

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.CommitTimeout = cfg.CommitTimeout
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	rc.MaxAppendEntries = cfg.MaxAppendEntries
	rc.Logger = hlog

	existing, err := raft.HasExistingState(logs, stable, snaps)
	if err != nil {
		return fmt.Errorf("coordinator: raft state: %w", err)
	}
	n.snaps = snaps
	r, err := raft.NewRaft(rc, n.fsm, logs, stable, snaps, trans)
	if err != nil {
		return fmt.Errorf("coordinator: raft: %w", err)
	}
	n.raft = r
	if ms, ok := snaps.(*modelSnapshots); ok {
		ms.Started() // raft has restored its last snapshot, if any
	}
	n.orders = newBatcher(r, cfg.ApplyTimeout, n.goFunc, func(d time.Duration) { n.metrics.applyLatency.Update(d.Seconds()) }, n.raftDown)
	n.goFunc(func() { n.orders.run(n.ctx) })
	if !existing && cfg.Bootstrap {
		f := r.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter, ID: rc.LocalID, Address: trans.LocalAddr(),
		}}})
		if err := f.Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			return fmt.Errorf("coordinator: bootstrap: %w", err)
		}
	}

	n.httpSrv = n.newHTTPServer(n.Handler())
	n.httpSrv.ErrorLog = slog.NewLogLogger(n.log.Handler(), slog.LevelWarn)
	n.goFunc(func() {
		if err := n.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("http server stopped", "err", err)
		}
	})
	n.goFunc(n.watchLeadership)
	if !existing && !cfg.Bootstrap && len(cfg.Join) > 0 {
		n.goFunc(n.joinLoop)
	}
	if existing && cfg.AdminToken != "" {
		n.goFunc(n.announceLoop)
	}
	n.log.Info("coordinator started", "http", n.HTTPAddr(), "raft", string(trans.LocalAddr()), "existing_state", existing, "tls", cfg.TLS != nil)
	if w := n.healthWarning(); w != "" {
		n.log.Warn(w)
	}
	return nil
}

// goFunc runs f in a goroutine owned by the node.
func (n *Node) goFunc(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// ID returns the node's ID.
func (n *Node) ID() string { return n.cfg.NodeID }

// HTTPAddr returns the address the API listens on ("127.0.0.1:41234").
func (n *Node) HTTPAddr() string { return n.ln.Addr().String() }

// URL returns the API's base URL.
func (n *Node) URL() string { return n.url }

// RaftAddr returns the raft transport's address.
func (n *Node) RaftAddr() string { return string(n.trans.LocalAddr()) }

// IsLeader reports whether this node is the raft leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Leader returns the leader's ID, or "" when none is known.
func (n *Node) Leader() string {
	_, id := n.raft.LeaderWithID()
	return string(id)
}

// Raft exposes the raft instance (tests, benchmarks, cluster tools).
func (n *Node) Raft() *raft.Raft { return n.raft }

// FSM exposes the node's state machine (tests compare states).
func (n *Node) FSM() *FSM { return n.fsm }

// Close shuts the node down gracefully: a leader first hands leadership
// to another voter, in-flight requests finish, raft stops, stores close.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.cancel()
		if n.IsLeader() && n.voters() > 1 {
			if err := n.raft.LeadershipTransfer().Error(); err != nil {
				n.log.Warn("leadership transfer", "err", err)
			}
		}
		sctx, stop := context.WithTimeout(context.Background(), 2*time.Second)
		if err := n.httpSrv.Shutdown(sctx); err != nil {
			n.httpSrv.Close()
		}
		stop()
		n.closeErr = n.raft.Shutdown().Error()
		close(n.raftDown)
		n.wg.Wait()
		n.closeResources()
		n.log.Info("coordinator stopped")
	})
	return n.closeErr
}

// Kill stops the node abruptly, like a crash: no leadership transfer,
// connections cut. Its data dir stays as a crash would leave it.
func (n *Node) Kill() {
	n.closeOnce.Do(func() {
		n.cancel()
		n.httpSrv.Close()
		if c, ok := n.trans.(io.Closer); ok {
			c.Close()
		}
		n.closeErr = n.raft.Shutdown().Error()
		close(n.raftDown)
		n.wg.Wait()
		n.closeResources()
	})
}

func (n *Node) closeResources() {
	if t, ok := n.proxyTransport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	for i := len(n.closers) - 1; i >= 0; i-- {
		n.closers[i].Close()
	}
	n.closers = nil
}

func (n *Node) voters() int {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return 0
	}
	v := 0
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			v++
		}
	}
	return v
}

// propose commits a command through raft and returns Apply's result. It
// returns only after the entry is committed on a majority and applied
// here. Errors from raft (not leader, lost leadership, timeout) wrap
// ErrNoLeader; the command's own refusal is ApplyResult.Err.
func (n *Node) propose(c *fsm.Command) (fsm.ApplyResult, error) {
	f, err := n.proposeAsync(c)
	if err != nil {
		return fsm.ApplyResult{}, err
	}
	return f.wait()
}

// proposal is a command handed to raft whose outcome is not awaited yet.
// Proposals from one goroutine enter the log in the order made.
type proposal struct {
	n     *Node
	f     raft.ApplyFuture
	start time.Time
}

func (n *Node) proposeAsync(c *fsm.Command) (*proposal, error) {
	data, err := n.encode(c)
	if err != nil {
		return nil, err
	}
	return &proposal{n: n, f: n.raft.Apply(data, n.cfg.ApplyTimeout), start: time.Now()}, nil
}

// encode stamps a command with the version, the lifecycle rules and the
// leader's time and encodes it for the log.
func (n *Node) encode(c *fsm.Command) ([]byte, error) {
	c.V, c.Rules = fsm.CommandVersion, fsm.CurrentRules
	if c.Time == 0 {
		c.Time = n.clock.Now().UnixNano()
	}
	return fsm.EncodeCommand(c)
}

// proposeOrder commits an order submission whose model is stored
// already, through the batcher: submissions waiting at the same time
// share one log entry. Results and errors are as propose's.
func (n *Node) proposeOrder(c *fsm.Command) (fsm.ApplyResult, error) {
	data, err := n.encode(c)
	if err != nil {
		return fsm.ApplyResult{}, err
	}
	return n.orders.submit(n.ctx, data)
}

// wait blocks until the proposal is committed and applied (or refused).
func (p *proposal) wait() (fsm.ApplyResult, error) {
	if err := awaitFuture(p.f, p.n.raftDown); err != nil {
		return fsm.ApplyResult{}, fmt.Errorf("%w: %w", ErrNoLeader, err)
	}
	p.n.metrics.applyLatency.UpdateDuration(p.start)
	r, _ := p.f.Response().(fsm.ApplyResult)
	return r, r.Err
}

// Kick asks the leader's placement loop to run soon.
func (n *Node) Kick() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

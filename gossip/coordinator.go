package gossip

import (
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// CoordinatorSink is what a coordinator offers the gossip layer;
// *coordinator.Node implements it.
type CoordinatorSink interface {
	ID() string
	URL() string
	// MemberEvent says that worker name is alive (joined, or no longer
	// suspected) or dead.
	MemberEvent(name string, alive bool)
	// MemberSuspect says that the coordinator's gossip node suspects
	// worker name (see EventSuspect); MemberEvent follows.
	MemberSuspect(name string)
}

// Coordinator is a coordinator's membership in the pool.
type Coordinator struct {
	Node    *Node
	Tracker *Tracker

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}

	// peers are the other coordinators this node has seen in the pool, by
	// node name: where they gossip and when they were last seen alive.
	peersMu sync.Mutex
	peers   map[string]peer
}

type peer struct {
	addr     string
	lastSeen time.Time
}

// ForgetPeerAfter is how long a coordinator keeps joining another
// coordinator it has seen in the pool but no longer sees: a partition up
// to this long heals by itself even when no join address crosses it; a
// coordinator removed from the cluster is tried that long.
const ForgetPeerAfter = 24 * time.Hour

// StartCoordinator starts a coordinator's node at bind ("host:port"),
// named "coordinator-<id>", advertising RoleCoordinator with the node's id
// and URL, and feeds worker joins and deaths, keyed by worker id, to
// sink.MemberEvent, and suspicions to sink.MemberSuspect (workers
// restarting under a new node name are handled by a Tracker). join, if
// given, lists other members to join; failing to join is returned as an
// error but the node keeps running (close it).
//
// Every push/pull interval the node joins again through the addresses of
// join, and of the other coordinators it has seen in the pool (for up to
// ForgetPeerAfter), that it does not see among its live members: when its
// first join failed because the others were down, and after a partition
// that outlasted memberlist's gossip to the dead, whether the node was left
// alone or with some of the pool (each side declared the other dead, and
// memberlist never probes the dead again). Give join as the host:port the
// members advertise; an entry that matches no member's address (a host
// name) is joined every interval, which costs one push/pull.
func StartCoordinator(sink CoordinatorSink, bind string, key []byte, join []string, log *slog.Logger) (*Coordinator, error) {
	return StartCoordinatorConfig(sink, Config{BindAddr: bind, Key: key, Logger: log}, join)
}

// StartCoordinatorConfig is StartCoordinator with the node's Config given
// whole (for a Transport or Timing of its own); Name, Meta and OnEvent
// are set here.
func StartCoordinatorConfig(sink CoordinatorSink, cfg Config, join []string) (*Coordinator, error) {
	tr := NewTracker(func(id string, role Role, alive bool) {
		if role == RoleWorker {
			sink.MemberEvent(id, alive)
		}
	})
	tr.Suspect = func(id string, role Role) {
		if role == RoleWorker {
			sink.MemberSuspect(id)
		}
	}
	cfg.Name = "coordinator-" + sink.ID()
	cfg.Meta = Meta{Role: RoleCoordinator, ID: sink.ID(), HTTPAddr: sink.URL()}
	c := &Coordinator{Tracker: tr, stop: make(chan struct{}), done: make(chan struct{}), peers: map[string]peer{}}
	self := cfg.Name
	cfg.OnEvent = func(e Event) {
		if e.Member.Name != self && e.Member.Meta.Role == RoleCoordinator {
			switch e.Kind {
			case EventJoin, EventUpdate, EventAlive:
				c.peersMu.Lock()
				c.peers[e.Member.Name] = peer{addr: e.Member.Addr, lastSeen: time.Now()}
				c.peersMu.Unlock()
			}
		}
		tr.OnEvent(e)
	}
	n, err := Start(cfg)
	if err != nil {
		return nil, err
	}
	c.Node = n
	var joinErr error
	if len(join) > 0 {
		if _, err := n.Join(join); err != nil {
			joinErr = fmt.Errorf("gossip: coordinator %s: %w", sink.ID(), err)
		}
	}
	go c.rejoin(join, cfg.Timing.withDefaults().PushPullInterval)
	return c, joinErr
}

// rejoin joins, every interval, through the addresses of join and of the
// coordinators seen before that are not among the live members.
func (c *Coordinator) rejoin(join []string, every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			if missing := unseen(c.joinTargets(join), c.Node.Addr(), c.Node.Members()); len(missing) > 0 {
				_, _ = c.Node.Join(missing)
			}
		}
	}
}

// joinTargets is join and the addresses of the coordinators seen within
// ForgetPeerAfter; the ones alive now count as seen now.
func (c *Coordinator) joinTargets(join []string) []string {
	now := time.Now()
	alive := map[string]bool{}
	for _, m := range c.Node.Members() {
		alive[m.Name] = true
	}
	out := append([]string(nil), join...)
	c.peersMu.Lock()
	defer c.peersMu.Unlock()
	for name, p := range c.peers {
		switch {
		case alive[name]:
			p.lastSeen = now
			c.peers[name] = p
		case now.Sub(p.lastSeen) > ForgetPeerAfter:
			delete(c.peers, name)
			continue
		}
		out = append(out, p.addr)
	}
	return out
}

// unseen returns the addresses of join that are neither self nor a live
// member's, once each.
func unseen(join []string, self string, members []Member) []string {
	seen := make(map[string]bool, len(members)+1)
	seen[self] = true
	for _, m := range members {
		seen[m.Addr] = true
	}
	var out []string
	for _, a := range join {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

func (c *Coordinator) stopRejoin() {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
}

// Close leaves the pool gracefully and stops the node.
func (c *Coordinator) Close() error {
	c.stopRejoin()
	_ = c.Node.Leave(time.Second)
	return c.Node.Close()
}

// Kill stops the node at once, without a leave, as a crash would.
func (c *Coordinator) Kill() error {
	c.stopRejoin()
	return c.Node.Close()
}

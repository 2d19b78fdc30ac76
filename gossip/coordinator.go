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
}

// StartCoordinator starts a coordinator's node at bind ("host:port"),
// named "coordinator-<id>", advertising RoleCoordinator with the node's id
// and URL, and feeds worker joins and deaths, keyed by worker id, to
// sink.MemberEvent, and suspicions to sink.MemberSuspect (workers
// restarting under a new node name are handled by a Tracker). join, if given, lists other members to join; failing to
// join is returned as an error but the node keeps running (close it).
// While the node is alone in its pool — its first join failed because the
// others were down, or a partition outlasted memberlist's gossip to the
// dead — it joins through join again every push/pull interval.
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
	cfg.OnEvent = tr.OnEvent
	n, err := Start(cfg)
	if err != nil {
		return nil, err
	}
	c := &Coordinator{Node: n, Tracker: tr, stop: make(chan struct{}), done: make(chan struct{})}
	var joinErr error
	if len(join) > 0 {
		if _, err := n.Join(join); err != nil {
			joinErr = fmt.Errorf("gossip: coordinator %s: %w", sink.ID(), err)
		}
		go c.rejoin(join, cfg.Timing.withDefaults().PushPullInterval)
	} else {
		close(c.done)
	}
	return c, joinErr
}

// rejoin joins through join whenever the node finds itself alone.
func (c *Coordinator) rejoin(join []string, every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			if len(c.Node.Members()) <= 1 {
				_, _ = c.Node.Join(join)
			}
		}
	}
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

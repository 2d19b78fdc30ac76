package gossip

import (
	"fmt"
	"log/slog"
	"time"
)

// CoordinatorSink is what a coordinator offers the gossip layer;
// *coordinator.Node implements it.
type CoordinatorSink interface {
	ID() string
	URL() string
	MemberEvent(name string, alive bool)
}

// Coordinator is a coordinator's membership in the pool.
type Coordinator struct {
	Node    *Node
	Tracker *Tracker
}

// StartCoordinator starts a coordinator's node at bind ("host:port"),
// named "coordinator-<id>", advertising RoleCoordinator with the node's id
// and URL, and feeds worker joins and deaths, keyed by worker id, to
// sink.MemberEvent (workers restarting under a new node name are handled
// by a Tracker). join, if given, lists other members to join; failing to
// join is returned as an error but the node keeps running (close it).
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
	cfg.Name = "coordinator-" + sink.ID()
	cfg.Meta = Meta{Role: RoleCoordinator, ID: sink.ID(), HTTPAddr: sink.URL()}
	cfg.OnEvent = tr.OnEvent
	n, err := Start(cfg)
	if err != nil {
		return nil, err
	}
	c := &Coordinator{Node: n, Tracker: tr}
	if len(join) > 0 {
		if _, err := n.Join(join); err != nil {
			return c, fmt.Errorf("gossip: coordinator %s: %w", sink.ID(), err)
		}
	}
	return c, nil
}

// Close leaves the pool gracefully and stops the node.
func (c *Coordinator) Close() error {
	_ = c.Node.Leave(time.Second)
	return c.Node.Close()
}

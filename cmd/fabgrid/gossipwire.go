package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/gossip"
)

// The coordinator's side of the gossip pool: fabgrid coordinator calls
// startCoordinatorGossip with its --gossip address. The shared key comes
// from $FABGRID_GOSSIP_KEY (the same value the workers pass as
// --gossip-key), and other coordinators to join from $FABGRID_GOSSIP_JOIN
// (HOST:PORT, comma-separated).
func init() {
	startCoordinatorGossip = func(ctx context.Context, addr string, node *coordinator.Node, log *slog.Logger) (io.Closer, error) {
		var key []byte
		if s := os.Getenv("FABGRID_GOSSIP_KEY"); s != "" {
			k, err := gossip.ParseKey(s)
			if err != nil {
				return nil, fmt.Errorf("$FABGRID_GOSSIP_KEY: %w", err)
			}
			key = k
		}
		g, err := StartCoordinatorGossip(node, addr, key, workerSplit(os.Getenv("FABGRID_GOSSIP_JOIN")), log)
		if err != nil {
			return nil, err
		}
		return g, nil
	}
}

// coordinatorGossip is a coordinator's membership in the pool.
type coordinatorGossip struct{ n *gossip.Node }

func (g coordinatorGossip) Close() error {
	_ = g.n.Leave(time.Second)
	return g.n.Close()
}

// memberSink is what the coordinator offers the gossip layer.
type memberSink interface {
	ID() string
	URL() string
	MemberEvent(name string, alive bool)
}

// StartCoordinatorGossip starts a coordinator's gossip node at addr and
// feeds worker deaths and (re)joins, keyed by worker id, to the node.
func StartCoordinatorGossip(node memberSink, addr string, key []byte, join []string, log *slog.Logger) (io.Closer, error) {
	tr := gossip.NewTracker(func(id string, role gossip.Role, alive bool) {
		if role == gossip.RoleWorker {
			node.MemberEvent(id, alive)
		}
	})
	n, err := gossip.Start(gossip.Config{
		Name: "coordinator-" + node.ID(), BindAddr: addr, Key: key,
		Meta:    gossip.Meta{Role: gossip.RoleCoordinator, ID: node.ID(), HTTPAddr: node.URL()},
		OnEvent: tr.OnEvent, Logger: log.With("component", "gossip"),
	})
	if err != nil {
		return nil, err
	}
	if len(join) > 0 {
		if _, err := n.Join(join); err != nil {
			log.Warn("cannot join the other coordinators' gossip; workers joining us will still connect the pool", "err", err)
		}
	}
	log.Info("gossip listening", "addr", n.Addr())
	return coordinatorGossip{n}, nil
}

var _ memberSink = (*coordinator.Node)(nil)

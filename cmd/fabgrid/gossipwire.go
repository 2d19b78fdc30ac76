//go:build !slicer

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

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
		log.Info("gossip listening", "addr", g.(coordinatorGossip).n.Addr())
		return g, nil
	}
}

var _ gossip.CoordinatorSink = (*coordinator.Node)(nil)

// coordinatorGossip is a coordinator's membership in the pool; n is its
// node (n.Addr() is where workers --join).
type coordinatorGossip struct {
	n *gossip.Node
	c *gossip.Coordinator
}

func (g coordinatorGossip) Close() error { return g.c.Close() }

// StartCoordinatorGossip starts a coordinator's gossip node at addr (port 0
// picks one; the result is a coordinatorGossip) and feeds worker joins,
// suspicions and deaths to node; see gossip.StartCoordinator. Failing to
// join is logged.
func StartCoordinatorGossip(node gossip.CoordinatorSink, addr string, key []byte, join []string, log *slog.Logger) (io.Closer, error) {
	g, err := gossip.StartCoordinator(node, addr, key, join, log.With("component", "gossip"))
	if g == nil {
		return nil, err
	}
	if err != nil {
		log.Warn("cannot join the other coordinators' gossip; workers joining us still connect the pool", "err", err)
	}
	return coordinatorGossip{n: g.Node, c: g}, nil
}

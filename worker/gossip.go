package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/gossip"
)

// gossipLink is the worker's optional membership in the gossip pool. It
// joins in the background (retrying: a worker that cannot join still
// works) and re-advertises the metadata when the state changes.
type gossipLink struct {
	w      *Worker
	node   *gossip.Node
	joined atomic.Bool
	wake   chan struct{}
}

func startGossip(w *Worker) (*gossipLink, error) {
	// A fresh node name per run: a quick restart on a new port must not
	// collide with the previous incarnation, which simply dies.
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	n, err := gossip.Start(gossip.Config{
		Name:      w.id + "." + hex.EncodeToString(suffix),
		BindAddr:  w.cfg.GossipBind,
		Transport: w.cfg.GossipTransport,
		Key:       w.cfg.GossipKey,
		Meta:      w.meta(api.WorkerIdle),
		Logger:    w.log,
	})
	if err != nil {
		return nil, err
	}
	w.log.Info("gossip listening", "addr", n.Addr(), "name", n.Name())
	return &gossipLink{w: w, node: n, wake: make(chan struct{}, 1)}, nil
}

func (w *Worker) meta(state string) gossip.Meta {
	c := w.cfg
	return gossip.Meta{
		Role: gossip.RoleWorker, ID: w.id, Profile: c.Printer.ID, // no HTTPAddr: every exchange is started by the worker
		Material: c.Material.ID, Colour: c.Colour, NozzleMM: c.Printer.NozzleMM,
		BuildMM: [3]float64{c.Printer.BuildVolume.X, c.Printer.BuildVolume.Y, c.Printer.BuildVolume.Z},
		State:   state,
	}
}

func (g *gossipLink) kick() { kick(g.wake) }

func (g *gossipLink) state() string {
	if g.joined.Load() {
		return api.GossipAlive
	}
	return api.GossipNotJoined
}

// run joins (retrying with backoff) and then keeps the metadata current.
// A member cut off long enough drops the other side for good (memberlist
// stops gossiping to the dead after a while), so a joined worker that
// sees no coordinator left in its view joins again.
func (g *gossipLink) run(ctx context.Context) {
	g.join(ctx)
	every := g.w.cfg.GossipRejoinEvery
	if every <= 0 {
		every = 15 * time.Second
	}
	check := time.NewTicker(every)
	defer check.Stop()
	last := ""
	for {
		st, _ := g.w.state.Load().(string)
		if st != last {
			if err := g.node.UpdateMeta(g.w.meta(st)); err != nil {
				g.w.log.Debug("gossip metadata update", "err", err)
			}
			last = st
		}
		select {
		case <-ctx.Done():
			return
		case <-g.wake:
		case <-check.C:
			if !g.seesCoordinator() {
				g.joined.Store(false)
				g.w.log.Info("no coordinator left in the gossip pool; joining again")
				g.join(ctx)
			}
		}
	}
}

// join joins through the configured members, retrying with backoff.
func (g *gossipLink) join(ctx context.Context) {
	for k := 0; ctx.Err() == nil && !g.joined.Load(); k++ {
		if n, err := g.node.Join(g.w.cfg.Join); err == nil {
			g.joined.Store(true)
			g.w.log.Info("joined the gossip pool", "contacted", n)
			return
		} else if k == 0 || k%10 == 0 {
			g.w.log.Warn("cannot join the gossip pool; the worker works without it and keeps trying", "err", err)
		}
		sleepCtx(ctx, min(backoff(k)*4, 30*time.Second))
	}
}

func (g *gossipLink) seesCoordinator() bool {
	for _, m := range g.node.Members() {
		if m.Meta.Role == gossip.RoleCoordinator {
			return true
		}
	}
	return false
}

func (g *gossipLink) close() {
	if g.joined.Load() {
		_ = g.node.Leave(time.Second)
	}
	_ = g.node.Close()
}

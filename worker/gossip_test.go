package worker

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/gossip"
)

// A worker cut off from the pool long enough that both sides drop each
// other for good (memberlist stops gossiping to the dead) joins again by
// itself once the link is back.
func TestGossipRejoinsAfterLongPartition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := gossip.NewMemNetwork()
		coord, err := gossip.Start(gossip.Config{Name: "coordinator-c1", Transport: n.NewTransport(),
			Meta: gossip.Meta{Role: gossip.RoleCoordinator, ID: "c1", HTTPAddr: "127.0.0.1:8740"}})
		if err != nil {
			t.Fatal(err)
		}
		cfg := testConfig(t, t.TempDir())
		cfg.Join, cfg.GossipTransport, cfg.GossipRejoinEvery = []string{coord.Addr()}, n.NewTransport(), 5*time.Second
		w := &Worker{cfg: cfg, id: "w-1", log: slog.New(slog.DiscardHandler)}
		w.state.Store(api.WorkerIdle)
		g, err := startGossip(w)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { g.run(ctx); close(done) }()
		defer func() {
			cancel()
			<-done
			g.node.Close()
			coord.Close()
			time.Sleep(gossip.Timing{}.Linger())
		}()

		sees := func(nd *gossip.Node, want int) func() bool {
			return func() bool { return len(nd.Members()) == want }
		}
		wait(t, 30*time.Second, "the worker to join", func() bool { return g.joined.Load() && sees(coord, 2)() })

		workerAddr := g.node.Addr()
		n.SetLinks(func(from, to string) bool { return (from == workerAddr) == (to == workerAddr) })
		wait(t, 30*time.Second, "each side to drop the other", func() bool { return sees(coord, 1)() && sees(g.node, 1)() })
		// Past memberlist's gossip to the dead (2 × push/pull), nothing
		// would bring them together again.
		time.Sleep(3 * gossip.DefaultTiming().PushPullInterval)
		n.SetLinks(nil)
		// Its join attempts during the partition failed and back off to at
		// most 30 s between tries.
		wait(t, 45*time.Second, "the worker to rejoin by itself", func() bool {
			return sees(coord, 2)() && sees(g.node, 2)() && g.state() == api.GossipAlive
		})
	})
}

// wait polls cond on the bubble's clock.
func wait(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package sim

import (
	"slices"

	"github.com/fabgrid/fabgrid/gossip"
)

// simGossip is the neighbourhood's gossip pool when Options.Gossip is set:
// real gossip nodes (package gossip over memberlist) for every coordinator
// and worker, on a gossip.MemNetwork whose links follow the faultNet, so a
// partition or a crash cuts gossip exactly as it cuts raft and HTTP.
type simGossip struct {
	net *faultNet
	mem *gossip.MemNetwork
}

func newSimGossip(fn *faultNet) *simGossip {
	g := &simGossip{net: fn, mem: gossip.NewMemNetwork()}
	g.mem.SetLinks(func(from, to string) bool {
		fn.mu.Lock()
		defer fn.mu.Unlock()
		return fn.reachableLocked(fn.gossipAt[from], fn.gossipAt[to])
	})
	return g
}

// transport returns a new transport for node id; a node restarted after a
// crash gets a new one, at a new address, as a restarted process gets a
// new port.
func (g *simGossip) transport(id NodeID) *gossip.MemTransport {
	t := g.mem.NewTransport()
	g.net.mu.Lock()
	g.net.gossipAt[t.Addr()] = id
	g.net.mu.Unlock()
	return t
}

// crash makes the transport at addr vanish, as its process would.
func (g *simGossip) crash(addr string) { g.mem.Crash(addr) }

// coordinators returns the gossip addresses of the running coordinators.
func (g *simGossip) coordinators() []string {
	g.net.mu.Lock()
	defer g.net.mu.Unlock()
	var out []string
	for _, a := range g.net.coordGossip {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

func (g *simGossip) setCoordinator(id NodeID, addr string) {
	g.net.mu.Lock()
	if addr == "" {
		delete(g.net.coordGossip, id)
	} else {
		g.net.coordGossip[id] = addr
	}
	g.net.mu.Unlock()
}

// Stats returns what the pool's network carried.
func (g *simGossip) stats() gossip.MemNetStats { return g.mem.Stats() }

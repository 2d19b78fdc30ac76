package coordinator

import "github.com/fabgrid/fabgrid/coordinator/api"

// Member is one member of the gossip pool as a Membership sees it. For a
// worker, Name is its worker ID.
type Member struct {
	Name  string
	Addr  string
	Alive bool
}

// Membership is what the coordinator needs from the gossip layer: who is
// there. The gossip package calls Node.MemberEvent on joins, deaths and
// refuted suspicions, and Node.MemberSuspect when its own probes fail.
type Membership interface {
	Members() []Member
}

// MemberEvent tells the node that gossip sees member name alive or dead.
// A worker that gossip declares dead keeps its leases until it has also
// been silent over HTTP for lost-after: heartbeats, not gossip, are the
// authority (a worker may be unable to gossip and still work).
func (n *Node) MemberEvent(name string, alive bool) {
	view := api.GossipDead
	if alive {
		view = api.GossipAlive
	}
	n.contacts.setGossip(name, view)
	n.log.Debug("gossip event", "member", name, "alive", alive)
	if !alive {
		n.Kick()
	}
}

// MemberSuspect records that gossip suspects member name.
func (n *Node) MemberSuspect(name string) { n.contacts.setGossip(name, api.GossipSuspect) }

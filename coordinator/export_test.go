package coordinator

import (
	"time"

	"github.com/hashicorp/raft"
)

// CheckLeasesNow runs one lease check, as the leader's tick does.
func (n *Node) CheckLeasesNow() { n.checkLeases() }

// LeaseGrace returns when this node's lease grace began (its last
// takeover as leader), zero before it ever led.
func (n *Node) LeaseGrace() time.Time {
	n.leases.mu.Lock()
	defer n.leases.mu.Unlock()
	return n.leases.grace
}

func fsmApplyBytes(f *FSM, index uint64, data []byte) {
	f.Apply(&raft.Log{Index: index, Type: raft.LogCommand, Data: data})
}

func fsmApplyResult(f *FSM, index uint64, data []byte) any {
	return f.Apply(&raft.Log{Index: index, Type: raft.LogCommand, Data: data})
}

package coordinator

import "time"

// CheckLeasesNow runs one lease check, as the leader's tick does.
func (n *Node) CheckLeasesNow() { n.checkLeases() }

// LeaseGrace returns when this node's lease grace began (its last
// takeover as leader), zero before it ever led.
func (n *Node) LeaseGrace() time.Time {
	n.contacts.mu.Lock()
	defer n.contacts.mu.Unlock()
	return n.contacts.grace
}

// UploadsInFlight returns how many upload slots are taken.
func (n *Node) UploadsInFlight() int { return len(n.uploads) }

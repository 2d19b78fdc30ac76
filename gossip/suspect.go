package gossip

import (
	"bytes"
	"math"
	"time"

	"github.com/hashicorp/memberlist"
)

// Suspicion. memberlist keeps each member's alive/suspect/dead state to
// itself: it has no callback for a suspicion or a refutation, and the
// Node.State of the members Memberlist.Members returns is never set (the
// state lives in a field that shadows it; hashicorp/memberlist#266). What
// it does expose:
//
//   - its own failed probes, in its log: "[INFO] memberlist: Suspect NAME
//     has failed, no acks received" is written just before it marks the
//     member suspect (direct, indirect and TCP probes all went unanswered);
//   - its own successful probes, through Config.Ping (NotifyPingComplete);
//   - the suspicion timeout, which bounds how long a member can stay
//     suspect: memberlist declares it dead at most SuspicionMaxTimeoutMult
//     × SuspicionMult × max(1, log10 n) × ProbeInterval after suspecting it,
//     unless it refutes.
//
// So a Node reports EventSuspect when its own probe of a member fails, and
// EventAlive when that member next answers one of its probes (the ping that
// answered carried the suspicion, which the member then refutes) or has
// outlived the longest suspicion, which it can only do by refuting. A
// suspicion another member raises and gossips to this node is not seen:
// this node reports it only once its own probe fails too, which in a pool
// of n members it does for a given member about once every n probe
// intervals.

// The line memberlist logs when its probe of a member failed.
var (
	failedProbePrefix = []byte("[INFO] memberlist: Suspect ")
	failedProbeSuffix = []byte(" has failed, no acks received")
)

// failedProbe returns the member named by memberlist's failed-probe log
// line p. The whole line must match, so that a name quoted in another
// line cannot pass for one.
func failedProbe(p []byte) (string, bool) {
	p = bytes.TrimRight(p, "\n")
	if !bytes.HasPrefix(p, failedProbePrefix) || !bytes.HasSuffix(p, failedProbeSuffix) {
		return "", false
	}
	name := p[len(failedProbePrefix) : len(p)-len(failedProbeSuffix)]
	if len(name) == 0 {
		return "", false
	}
	return string(name), true
}

// suspect takes memberlist's report that this node's probe of name failed.
// It is ignored for a member that is not (or no longer) in the table, so
// a probe that outlived its member's death raises nothing, and for one
// that joined more recently than a probe can last, which the failed probe
// may have been meant for its previous incarnation.
func (n *Node) suspect(name string) {
	now := time.Now()
	n.tableMu.Lock()
	defer n.tableMu.Unlock()
	e, ok := n.table[name]
	if !ok || n.quiet || name == n.name || now.Sub(e.joined) < n.longestProbe() {
		return
	}
	if _, already := n.suspects[name]; already {
		return
	}
	until := now.Add(n.suspicionBound())
	n.suspects[name] = until
	n.enqueue(Event{Kind: EventSuspect, Member: e.m})
	if n.expiryAt.IsZero() || until.Before(n.expiryAt) {
		n.armLocked(until, now)
	}
}

// refuted ends the suspicion of name, if there is one.
func (n *Node) refuted(name string) {
	n.tableMu.Lock()
	defer n.tableMu.Unlock()
	n.refutedLocked(name)
}

func (n *Node) refutedLocked(name string) {
	if _, ok := n.suspects[name]; !ok {
		return
	}
	delete(n.suspects, name)
	if e, ok := n.table[name]; ok {
		n.enqueue(Event{Kind: EventAlive, Member: e.m})
	}
}

// armLocked sets the expiry timer to fire at until. The timer runs only
// while something is suspected: a pool in good health costs nothing.
func (n *Node) armLocked(until, now time.Time) {
	n.expiryAt = until
	if n.expiry == nil {
		n.expiry = time.AfterFunc(until.Sub(now), n.expire)
	} else {
		n.expiry.Reset(until.Sub(now))
	}
}

// expire ends the suspicions that have outlived their bound and arms the
// timer for the next one; the work is proportional to the number of
// suspects, not of members.
func (n *Node) expire() {
	now := time.Now()
	n.tableMu.Lock()
	defer n.tableMu.Unlock()
	n.expiryAt = time.Time{}
	if n.quiet {
		return
	}
	var next time.Time
	for name, until := range n.suspects {
		if !now.Before(until) {
			n.refutedLocked(name)
		} else if next.IsZero() || until.Before(next) {
			next = until
		}
	}
	if !next.IsZero() {
		n.armLocked(next, now)
	}
}

// stopSuspecting stops raising and ending suspicions, for Leave and Close.
func (n *Node) stopSuspecting() {
	n.tableMu.Lock()
	defer n.tableMu.Unlock()
	n.quiet = true
	if n.expiry != nil {
		n.expiry.Stop()
	}
	n.expiryAt = time.Time{}
}

// longestProbe is how long one of memberlist's probes can last: its probe
// interval, stretched by up to awarenessMax while this node is unhealthy.
func (n *Node) longestProbe() time.Duration {
	return awarenessMax * n.timing.ProbeInterval
}

// suspicionBound is how long after this node's failed probe a member
// that has not refuted must have been declared dead: memberlist's longest
// suspicion (see the comment at the top), twice over because memberlist
// counts members it has not yet forgotten, which the table does not
// (twice covers up to n² of them), plus a probe. Called with tableMu held.
func (n *Node) suspicionBound() time.Duration {
	t := n.timing
	scale := math.Max(1, math.Log10(float64(max(1, len(n.table)))))
	longest := time.Duration(float64(t.SuspicionMaxTimeoutMult*t.SuspicionMult) * scale * float64(t.ProbeInterval))
	return 2*longest + n.longestProbe()
}

// pings learns of this node's successful probes.
type pings Node

var _ memberlist.PingDelegate = (*pings)(nil)

func (p *pings) AckPayload() []byte { return nil }

// NotifyPingComplete reads only other.Name: memberlist never changes a
// node's name, but may change the rest while we read.
func (p *pings) NotifyPingComplete(other *memberlist.Node, _ time.Duration, _ []byte) {
	(*Node)(p).refuted(other.Name)
}

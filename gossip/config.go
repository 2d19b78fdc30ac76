package gossip

import (
	"log/slog"
	"time"

	"github.com/hashicorp/memberlist"
)

// Timing holds the failure-detector and dissemination timings. The defaults
// (DefaultTiming) notice a dead member in about 1.5–3 s on a LAN:
//
//	detection ≈ ProbeInterval (until the dead member is probed, ≤ 0.5 s)
//	          + ProbeTimeout and the indirect probes (0.25 s … 0.5 s)
//	          + suspicion timeout = SuspicionMult × max(1, log10 N) × ProbeInterval
//	            (3 × 1 × 0.5 s = 1.5 s for N ≤ 10; up to SuspicionMaxTimeoutMult
//	            times that while confirmations are missing in bigger pools)
//
// memberlist's DefaultLANConfig uses ProbeInterval 1 s, ProbeTimeout 0.5 s,
// SuspicionMult 4, SuspicionMaxTimeoutMult 6, GossipInterval 200 ms and
// PushPullInterval 30 s: 5–30 s to declare a death. The cost of the faster
// figures is a few more small UDP packets per second per member, which is
// nothing for a neighbourhood pool of tens of members. Over a slow overlay
// (WireGuard across town) raise ProbeTimeout first.
type Timing struct {
	ProbeInterval           time.Duration
	ProbeTimeout            time.Duration
	SuspicionMult           int
	SuspicionMaxTimeoutMult int
	GossipInterval          time.Duration
	PushPullInterval        time.Duration
	// TCPTimeout bounds a join's push/pull exchange.
	TCPTimeout time.Duration
	// DeadNodeReclaimTime lets a name that died come back from a new
	// address after this long.
	DeadNodeReclaimTime time.Duration
}

// DefaultTiming returns the tuned timings described on Timing.
func DefaultTiming() Timing {
	return Timing{
		ProbeInterval:           500 * time.Millisecond,
		ProbeTimeout:            250 * time.Millisecond,
		SuspicionMult:           3,
		SuspicionMaxTimeoutMult: 4,
		GossipInterval:          100 * time.Millisecond,
		PushPullInterval:        10 * time.Second,
		TCPTimeout:              3 * time.Second,
		DeadNodeReclaimTime:     2 * time.Second,
	}
}

// Config configures a Node.
type Config struct {
	// Name is the node's unique name in the pool (see the package doc on
	// restarts). Required.
	Name string
	// BindAddr is "host:port" to listen on for UDP and TCP; port 0 picks a
	// free one (read it back with Node.Addr). Default "127.0.0.1:0".
	BindAddr string
	// AdvertiseAddr is "host:port" other members should use, if not BindAddr.
	AdvertiseAddr string
	// Key is the shared AES key (16, 24 or 32 bytes, see ParseKey); nil
	// disables encryption. Members with different keys cannot join.
	Key []byte
	// Meta is the initial metadata.
	Meta Meta
	// Timing overrides DefaultTiming where a field is non-zero.
	Timing Timing
	// OnEvent, if set, receives every event in order on one goroutine owned
	// by the Node (this node's own join included). It must not call
	// Node.Close; a slow callback delays later events but never memberlist.
	OnEvent func(Event)
	// Logger receives memberlist's log lines; nil discards them.
	Logger *slog.Logger
	// Transport, if set, carries the node's packets and streams instead
	// of UDP and TCP sockets (MemNetwork's in-memory transports, for tests
	// and simulations). BindAddr must then be empty: the node's address is
	// the transport's FinalAdvertiseAddr, which is given AdvertiseAddr if
	// set. The node owns the transport from Start on: Close, or a Start that
	// fails, shuts it down. Key
	// encrypts over any transport: memberlist encrypts above it.
	Transport memberlist.NodeAwareTransport
}

// Linger bounds how long a closed node's memberlist goroutines outlive
// Close: a probe in flight waits out its probe interval, a push/pull its
// TCP timeout. A testing/synctest bubble ends only when they have, so a
// test sleeps this long (on the bubble's clock: no real time) after its
// last Close.
func (t Timing) Linger() time.Duration {
	t = t.withDefaults()
	return 2 * max(t.ProbeInterval, t.TCPTimeout)
}

func (t Timing) withDefaults() Timing {
	d := DefaultTiming()
	set := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&t.ProbeInterval, d.ProbeInterval)
	set(&t.ProbeTimeout, d.ProbeTimeout)
	set(&t.GossipInterval, d.GossipInterval)
	set(&t.PushPullInterval, d.PushPullInterval)
	set(&t.TCPTimeout, d.TCPTimeout)
	set(&t.DeadNodeReclaimTime, d.DeadNodeReclaimTime)
	if t.SuspicionMult <= 0 {
		t.SuspicionMult = d.SuspicionMult
	}
	if t.SuspicionMaxTimeoutMult <= 0 {
		t.SuspicionMaxTimeoutMult = d.SuspicionMaxTimeoutMult
	}
	return t
}

func (t Timing) apply(c *memberlist.Config) {
	c.ProbeInterval = t.ProbeInterval
	c.ProbeTimeout = t.ProbeTimeout
	c.SuspicionMult = t.SuspicionMult
	c.SuspicionMaxTimeoutMult = t.SuspicionMaxTimeoutMult
	c.GossipInterval = t.GossipInterval
	c.PushPullInterval = t.PushPullInterval
	c.TCPTimeout = t.TCPTimeout
	c.DeadNodeReclaimTime = t.DeadNodeReclaimTime
	c.GossipToTheDeadTime = 2 * t.PushPullInterval
	c.AwarenessMaxMultiplier = awarenessMax
}

// awarenessMax is how far memberlist may stretch a probe while this node
// is unhealthy (missing acks and nacks).
const awarenessMax = 4

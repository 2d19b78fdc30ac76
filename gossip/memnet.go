package gossip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// ErrMemNet is returned by in-memory transports for a send or dial that
// cannot happen: the transport is down, or nobody has the address.
var ErrMemNet = errors.New("gossip: in-memory network")

// memQueue is how many packets wait for a transport before more are
// dropped: about what Linux's default UDP receive buffer (rmem_default,
// 208 KiB) holds of small datagrams.
const memQueue = 256

// MemNetwork is an in-memory network for gossip nodes in one process. A
// node whose Config.Transport comes from NewTransport sends its packets
// over channels (dropped when the receiver's queue is full, as UDP would
// be) and its streams over net.Pipe, instead of UDP and TCP sockets.
// Crash makes a node vanish without a leave.
//
// Every wait in it is on a channel or a timer, never a socket, so inside a
// testing/synctest bubble memberlist's probes, timeouts and suspicion
// timers all run on the bubble's fake clock.
type MemNetwork struct {
	mu     sync.Mutex
	byAddr map[string]*MemTransport
	next   uint32
	links  func(from, to string) bool // nil: every link is up

	packets, dropped, lost, streams, refused atomic.Int64
}

// MemNetStats counts what a MemNetwork carried.
type MemNetStats struct {
	// Packets were delivered to a receiver's queue; Dropped found it full;
	// Lost went to a crashed or unknown address.
	Packets, Dropped, Lost int64
	// Streams were accepted; Refused dials found nobody (or timed out).
	Streams, Refused int64
}

// NewMemNetwork returns an empty network.
func NewMemNetwork() *MemNetwork {
	return &MemNetwork{byAddr: map[string]*MemTransport{}}
}

// memBase is 198.18.0.0/15, set aside for benchmarking (RFC 2544): no
// address a MemNetwork hands out is anyone's real one.
const (
	memBase  = 198<<24 | 18<<16
	memHosts = 1<<17 - 2
	memPort  = 7946
)

// NewTransport returns a transport with an address of its own,
// 198.18.x.y:7946 (further ports past 131,070 transports). Give it to
// exactly one node's Config.Transport.
func (n *MemNetwork) NewTransport() *MemTransport {
	n.mu.Lock()
	defer n.mu.Unlock()
	i := n.next
	n.next++
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, memBase+1+i%memHosts)
	port := memPort + int(i/memHosts)
	t := &MemTransport{
		net:     n,
		ip:      ip,
		port:    port,
		addr:    memAddr(net.JoinHostPort(ip.String(), strconv.Itoa(port))),
		packets: make(chan *memberlist.Packet, memQueue),
		streams: make(chan net.Conn),
		down:    make(chan struct{}),
		conns:   map[*memConn]struct{}{},
	}
	n.byAddr[string(t.addr)] = t
	return t
}

// Crash makes the transport at addr vanish as a killed process would: its
// queued and future packets are lost, its open streams break, dials to it
// are refused and its own sends fail. The node above it keeps running
// until closed, talking to nobody. Crash reports whether addr was known.
func (n *MemNetwork) Crash(addr string) bool {
	n.mu.Lock()
	t := n.byAddr[addr]
	n.mu.Unlock()
	if t == nil {
		return false
	}
	t.stop()
	return true
}

// SetLinks installs the rule saying whether the transport at address from
// reaches the one at address to, for partitions; nil (the default) lets
// every transport reach every other. Over a cut link packets are lost
// (counted as Lost) and dials are refused; streams already open stay
// open, as a TCP connection would until it next timed out.
func (n *MemNetwork) SetLinks(reach func(from, to string) bool) {
	n.mu.Lock()
	n.links = reach
	n.mu.Unlock()
}

// route returns the transport at to if from reaches it now, else nil.
func (n *MemNetwork) route(from memAddr, to string) *MemTransport {
	n.mu.Lock()
	t, reach := n.byAddr[to], n.links
	n.mu.Unlock()
	if t == nil || t.isDown() || (reach != nil && !reach(string(from), to)) {
		return nil
	}
	return t
}

// Stats returns what the network has carried so far.
func (n *MemNetwork) Stats() MemNetStats {
	return MemNetStats{
		Packets: n.packets.Load(), Dropped: n.dropped.Load(), Lost: n.lost.Load(),
		Streams: n.streams.Load(), Refused: n.refused.Load(),
	}
}

// MemTransport is one node's attachment to a MemNetwork.
type MemTransport struct {
	net  *MemNetwork
	ip   net.IP
	port int
	addr memAddr

	packets chan *memberlist.Packet
	streams chan net.Conn

	downOnce sync.Once
	down     chan struct{} // closed by Crash or Shutdown

	mu    sync.Mutex
	conns map[*memConn]struct{} // this side of every open stream
}

var _ memberlist.NodeAwareTransport = (*MemTransport)(nil)

// Addr is the transport's address, host:port.
func (t *MemTransport) Addr() string { return string(t.addr) }

// FinalAdvertiseAddr returns the transport's own address; an explicit
// advertise address must be that one.
func (t *MemTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	if ip != "" && (ip != t.ip.String() || port != t.port) {
		return nil, 0, fmt.Errorf("%w: transport %s cannot advertise %s", ErrMemNet, t.addr, net.JoinHostPort(ip, strconv.Itoa(port)))
	}
	return t.ip, t.port, nil
}

// WriteTo sends a packet to addr.
func (t *MemTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress sends a packet to a.Addr (the name is not used: the
// network routes by address). Like UDP, a packet to a full queue, a
// crashed node or nobody is gone without an error.
func (t *MemTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	if t.isDown() {
		return time.Time{}, fmt.Errorf("%w: %s is down", ErrMemNet, t.addr)
	}
	now := time.Now()
	dest := t.net.route(t.addr, a.Addr)
	if dest == nil {
		t.net.lost.Add(1)
		return now, nil
	}
	p := &memberlist.Packet{Buf: append([]byte(nil), b...), From: t.addr, Timestamp: now}
	select {
	case dest.packets <- p:
		t.net.packets.Add(1)
	default:
		t.net.dropped.Add(1)
	}
	return now, nil
}

// PacketCh delivers the packets sent to this transport.
func (t *MemTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }

// DialTimeout opens a stream to addr.
func (t *MemTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout opens a stream to a.Addr, waiting up to timeout (no
// limit if not positive) for its node to take it.
func (t *MemTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if t.isDown() {
		return nil, fmt.Errorf("%w: %s is down", ErrMemNet, t.addr)
	}
	dest := t.net.route(t.addr, a.Addr)
	if dest == nil {
		t.net.refused.Add(1)
		return nil, fmt.Errorf("%w: dial %s: connection refused", ErrMemNet, a.Addr)
	}
	p1, p2 := net.Pipe()
	local := t.track(p1, dest.addr)
	remote := dest.track(p2, t.addr)
	var expire <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		expire = timer.C
	}
	select {
	case dest.streams <- remote:
		t.net.streams.Add(1)
		return local, nil
	case <-dest.down:
	case <-t.down:
	case <-expire:
	}
	local.Close()
	remote.Close()
	t.net.refused.Add(1)
	return nil, fmt.Errorf("%w: dial %s: not accepted", ErrMemNet, a.Addr)
}

// StreamCh delivers the streams dialled to this transport.
func (t *MemTransport) StreamCh() <-chan net.Conn { return t.streams }

// Shutdown takes the transport off the network; its streams break.
func (t *MemTransport) Shutdown() error {
	t.stop()
	t.net.mu.Lock()
	if t.net.byAddr[string(t.addr)] == t {
		delete(t.net.byAddr, string(t.addr))
	}
	t.net.mu.Unlock()
	return nil
}

func (t *MemTransport) isDown() bool {
	select {
	case <-t.down:
		return true
	default:
		return false
	}
}

// stop marks the transport down, breaks its streams and loses the
// packets waiting for it.
func (t *MemTransport) stop() {
	t.downOnce.Do(func() { close(t.down) })
	t.mu.Lock()
	conns := t.conns
	t.conns = map[*memConn]struct{}{}
	t.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
	for {
		select {
		case <-t.packets:
			t.net.lost.Add(1)
		default:
			return
		}
	}
}

// track registers this side of a stream, so that stop can break it. A
// transport already down gets a stream that is already broken.
func (t *MemTransport) track(c net.Conn, remote memAddr) *memConn {
	mc := &memConn{Conn: c, owner: t, local: t.addr, remote: remote}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.isDown() {
		c.Close()
		return mc
	}
	t.conns[mc] = struct{}{}
	return mc
}

func (t *MemTransport) untrack(c *memConn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// memConn is one side of a stream, addressed like a TCP connection.
type memConn struct {
	net.Conn
	owner         *MemTransport
	local, remote memAddr
}

func (c *memConn) LocalAddr() net.Addr  { return c.local }
func (c *memConn) RemoteAddr() net.Addr { return c.remote }

func (c *memConn) Close() error {
	c.owner.untrack(c)
	return c.Conn.Close()
}

// memAddr is a MemNetwork address, host:port.
type memAddr string

var _ net.Addr = memAddr("")

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return string(a) }

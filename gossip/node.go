package gossip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// ErrConfig is returned by Start for an unusable Config.
var ErrConfig = errors.New("gossip: bad configuration")

// ErrJoin is returned by Join when no given address could be joined (wrong
// key, unreachable, not a gossip member).
var ErrJoin = errors.New("gossip: join failed")

// EventKind says what happened to a member.
type EventKind int

// Event kinds. A member's events come in this order: EventJoin, then any
// number of EventUpdate and of EventSuspect each followed by EventAlive,
// then EventLeave or EventDead (a member that dies while suspected gets
// no EventAlive); after that, only a new EventJoin.
const (
	EventJoin EventKind = iota + 1
	// EventUpdate: the member advertised new metadata.
	EventUpdate
	EventLeave
	EventDead
	// EventSuspect: this node's own probe of the member got no ack,
	// direct, indirect or over TCP; memberlist now suspects it and
	// declares it dead unless it refutes in time (see Timing).
	EventSuspect
	// EventAlive: a suspected member is alive again: it answered a probe,
	// or outlived the longest suspicion memberlist would have run, which
	// it can only do by refuting.
	EventAlive
)

func (k EventKind) String() string {
	switch k {
	case EventJoin:
		return "join"
	case EventUpdate:
		return "update"
	case EventLeave:
		return "leave"
	case EventDead:
		return "dead"
	case EventSuspect:
		return "suspect"
	case EventAlive:
		return "alive"
	}
	return "unknown"
}

// Member is one member of the pool as this node sees it.
type Member struct {
	// Name is the memberlist node name.
	Name string
	// Addr is the member's gossip address, host:port.
	Addr string
	// Meta is the decoded metadata; MetaErr is set if it did not decode
	// (then Meta is zero).
	Meta    Meta
	MetaErr error
}

// Event is one membership change.
type Event struct {
	Kind   EventKind
	Member Member
}

// entry is a member in the table and when it joined (its latest
// incarnation, as far as this node saw).
type entry struct {
	m      Member
	joined time.Time
}

// Node is this process's membership in the pool.
type Node struct {
	ml  *memberlist.Memberlist
	log *slog.Logger

	metaMu sync.Mutex
	meta   []byte

	// table is our own copy of the alive members, kept from the event
	// callbacks (which memberlist calls under its node lock): the *Node
	// values memberlist.Members returns are mutated concurrently. Every
	// change to it and its event are made under tableMu, so that the
	// events of one member are queued in the order of its changes.
	tableMu sync.Mutex
	table   map[string]entry
	// suspects maps each member this node suspects to when memberlist
	// must have declared it dead had it not refuted (see suspect); expiry
	// fires at the earliest of those times, expiryAt (zero: not armed).
	suspects map[string]time.Time
	expiry   *time.Timer
	expiryAt time.Time
	quiet    bool // Leave or Close was called: no new suspicions

	timing     Timing
	name, addr string

	evMu   sync.Mutex
	queue  []Event
	wake   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup

	closeOnce sync.Once
}

// Start creates the node and starts listening; it is alone until Join.
func Start(cfg Config) (_ *Node, err error) {
	if cfg.Transport != nil {
		defer func() {
			if err != nil {
				_ = cfg.Transport.Shutdown()
			}
		}()
	}
	if cfg.Name == "" {
		return nil, fmt.Errorf("%w: a node name is required", ErrConfig)
	}
	if cfg.Key != nil {
		switch len(cfg.Key) {
		case 16, 24, 32:
		default:
			return nil, fmt.Errorf("%w: key of %d bytes", ErrKey, len(cfg.Key))
		}
	}
	meta, err := cfg.Meta.Encode()
	if err != nil {
		return nil, err
	}
	mc := memberlist.DefaultLANConfig()
	mc.Name = cfg.Name
	bind := cfg.BindAddr
	if cfg.Transport != nil {
		if bind != "" {
			return nil, fmt.Errorf("%w: a bind address (%q) with a transport, which has its own address", ErrConfig, bind)
		}
		bind = "transport"
		mc.Transport = cfg.Transport
		mc.AdvertiseAddr, mc.AdvertisePort = "", 0
	} else {
		if bind == "" {
			bind = "127.0.0.1:0"
		}
		host, port, err := splitHostPort(bind)
		if err != nil {
			return nil, fmt.Errorf("%w: bind address %q: %v", ErrConfig, bind, err)
		}
		mc.BindAddr, mc.BindPort = host, port
		mc.AdvertiseAddr, mc.AdvertisePort = "", port
	}
	if cfg.AdvertiseAddr != "" {
		ah, ap, err := splitHostPort(cfg.AdvertiseAddr)
		if err != nil {
			return nil, fmt.Errorf("%w: advertise address %q: %v", ErrConfig, cfg.AdvertiseAddr, err)
		}
		mc.AdvertiseAddr, mc.AdvertisePort = ah, ap
	}
	timing := cfg.Timing.withDefaults()
	timing.apply(mc)
	if cfg.Key != nil {
		mc.SecretKey = append([]byte(nil), cfg.Key...)
		mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		log: logger, meta: meta, timing: timing, wake: make(chan struct{}, 1), cancel: cancel,
		table: map[string]entry{}, suspects: map[string]time.Time{},
	}
	// memberlist reports its own failed probes only in its log (see
	// suspect), so its log is read even when nobody wants the lines.
	lw := &logWriter{suspect: n.suspect}
	if cfg.Logger != nil {
		lw.log = cfg.Logger
	}
	mc.Logger = log.New(lw, "", 0)
	mc.Delegate = (*delegate)(n)
	mc.Events = (*events)(n)
	mc.Ping = (*pings)(n)

	ml, err := memberlist.Create(mc)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("gossip: start on %s: %w", bind, err)
	}
	n.ml = ml
	n.tableMu.Lock()
	self := ml.LocalNode() // safe here: nobody else knows us yet
	n.name = self.Name
	n.addr = net.JoinHostPort(self.Addr.String(), strconv.Itoa(int(self.Port)))
	n.tableMu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.dispatch(ctx, cfg.OnEvent)
	}()
	return n, nil
}

func splitHostPort(s string) (string, int, error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return h, port, nil
}

// Addr is the address other members reach this node at, host:port.
func (n *Node) Addr() string { return n.addr }

// Name is this node's name.
func (n *Node) Name() string { return n.name }

// Join contacts the given members (host:port) and merges state with them.
// It returns how many were reached; at least one success means joined.
func (n *Node) Join(addrs []string) (int, error) {
	k, err := n.ml.Join(addrs)
	if k == 0 {
		if err == nil {
			err = errors.New("no address given")
		}
		return 0, fmt.Errorf("%w: %v (check --join and that every member uses the same --gossip-key)", ErrJoin, err)
	}
	return k, nil
}

// Members returns the members currently believed alive (or suspected but
// not yet declared dead), this node included, sorted by name.
func (n *Node) Members() []Member {
	n.tableMu.Lock()
	out := make([]Member, 0, len(n.table))
	for _, e := range n.table {
		out = append(out, e.m)
	}
	n.tableMu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// UpdateMeta replaces this node's metadata and re-advertises it, waiting up
// to a second for the broadcast to go out.
func (n *Node) UpdateMeta(m Meta) error {
	b, err := m.Encode()
	if err != nil {
		return err
	}
	n.metaMu.Lock()
	n.meta = b
	n.metaMu.Unlock()
	if err := n.ml.UpdateNode(time.Second); err != nil {
		return fmt.Errorf("gossip: update metadata: %w", err)
	}
	return nil
}

// Leave leaves the pool gracefully: it advertises Leaving, then broadcasts
// the leave, waiting up to timeout for each. Others see EventLeave. This
// node stops suspecting others. Close must still be called.
func (n *Node) Leave(timeout time.Duration) error {
	n.stopSuspecting()
	n.metaMu.Lock()
	m, err := DecodeMeta(n.meta)
	n.metaMu.Unlock()
	if err == nil {
		m.Leaving = true
		if b, err := m.Encode(); err == nil {
			n.metaMu.Lock()
			n.meta = b
			n.metaMu.Unlock()
			_ = n.ml.UpdateNode(timeout)
		}
	}
	if err := n.ml.Leave(timeout); err != nil {
		return fmt.Errorf("gossip: leave: %w", err)
	}
	return nil
}

// Close stops the node at once, without a leave: to the others it looks
// like a crash and they declare it dead. The event callback is not called
// after Close returns.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		n.stopSuspecting()
		err = n.ml.Shutdown()
		n.cancel()
		n.wg.Wait()
	})
	return err
}

func member(nd *memberlist.Node) Member {
	m := Member{Name: nd.Name, Addr: nd.Address()}
	m.Meta, m.MetaErr = DecodeMeta(nd.Meta)
	return m
}

// enqueue never blocks memberlist's goroutines.
func (n *Node) enqueue(e Event) {
	n.evMu.Lock()
	n.queue = append(n.queue, e)
	n.evMu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *Node) dispatch(ctx context.Context, fn func(Event)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.wake:
		}
		n.evMu.Lock()
		q := n.queue
		n.queue = nil
		n.evMu.Unlock()
		for _, e := range q {
			if ctx.Err() != nil {
				return
			}
			if fn != nil {
				fn(e)
			}
		}
	}
}

// delegate supplies our metadata to memberlist.
type delegate Node

var _ memberlist.Delegate = (*delegate)(nil)

func (d *delegate) NodeMeta(limit int) []byte {
	d.metaMu.Lock()
	defer d.metaMu.Unlock()
	if len(d.meta) > limit {
		return nil
	}
	return append([]byte(nil), d.meta...)
}
func (d *delegate) NotifyMsg([]byte)                           {}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}

// events turns memberlist notifications into Events.
type events Node

var _ memberlist.EventDelegate = (*events)(nil)

// memberlist calls these with its node lock held, so reading nd is safe.

func (e *events) NotifyJoin(nd *memberlist.Node)   { e.alive(EventJoin, member(nd)) }
func (e *events) NotifyUpdate(nd *memberlist.Node) { e.alive(EventUpdate, member(nd)) }

func (e *events) alive(kind EventKind, m Member) {
	n := (*Node)(e)
	n.tableMu.Lock()
	defer n.tableMu.Unlock()
	en := n.table[m.Name]
	en.m = m
	if kind == EventJoin {
		en.joined = time.Now()
	}
	n.table[m.Name] = en
	// News from the member itself (a refutation with new metadata) ends
	// a suspicion.
	if _, ok := n.suspects[m.Name]; ok {
		delete(n.suspects, m.Name)
		n.enqueue(Event{Kind: EventAlive, Member: m})
	}
	n.enqueue(Event{Kind: kind, Member: m})
}

func (e *events) NotifyLeave(nd *memberlist.Node) {
	n := (*Node)(e)
	m := member(nd)
	kind := EventDead
	if m.MetaErr == nil && m.Meta.Leaving {
		kind = EventLeave
	}
	n.tableMu.Lock()
	defer n.tableMu.Unlock()
	delete(n.table, m.Name)
	delete(n.suspects, m.Name)
	n.enqueue(Event{Kind: kind, Member: m})
}

// logWriter routes memberlist's "[LEVEL] memberlist: …" lines to slog
// (if log is set) and its failed probes to suspect.
type logWriter struct {
	log     *slog.Logger
	suspect func(name string)
}

var _ io.Writer = (*logWriter)(nil)

// logLevels maps memberlist's level tags to slog levels ([DEBUG] and
// untagged lines are debug).
var logLevels = [...]struct {
	tag   []byte
	level slog.Level
}{{[]byte("[ERR]"), slog.LevelError}, {[]byte("[WARN]"), slog.LevelWarn}, {[]byte("[INFO]"), slog.LevelInfo}}

func (w *logWriter) Write(p []byte) (int, error) {
	if name, ok := failedProbe(p); ok && w.suspect != nil {
		w.suspect(name)
	}
	if w.log == nil {
		return len(p), nil
	}
	line := string(bytes.TrimSpace(p))
	level := slog.LevelDebug
	for _, t := range logLevels {
		if i := bytes.Index(p, t.tag); i >= 0 {
			level = t.level
			line = string(bytes.TrimSpace(p[i+len(t.tag):]))
			break
		}
	}
	w.log.Log(context.Background(), level, line, "component", "gossip")
	return len(p), nil
}

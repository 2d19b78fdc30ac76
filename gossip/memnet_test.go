package gossip

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/memberlist"
)

func TestMemTransportPackets(t *testing.T) {
	n := NewMemNetwork()
	a, b := n.NewTransport(), n.NewTransport()
	defer a.Shutdown()
	defer b.Shutdown()
	if a.Addr() == b.Addr() {
		t.Fatalf("two transports at %s", a.Addr())
	}
	ip, port, err := a.FinalAdvertiseAddr("", 0)
	if err != nil || fmt.Sprintf("%s:%d", ip, port) != a.Addr() {
		t.Fatalf("advertise %s:%d, %v; want %s", ip, port, err, a.Addr())
	}
	if _, _, err := a.FinalAdvertiseAddr("10.0.0.1", 7946); !errors.Is(err, ErrMemNet) {
		t.Fatalf("advertising another address: %v, want ErrMemNet", err)
	}

	buf := []byte("ping")
	if _, err := a.WriteTo(buf, b.Addr()); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'P' // the sender may reuse its buffer, as with UDP
	p := <-b.PacketCh()
	if string(p.Buf) != "ping" || p.From.String() != a.Addr() {
		t.Fatalf("got %q from %s, want \"ping\" from %s", p.Buf, p.From, a.Addr())
	}

	// Like UDP: a full queue drops, nobody there loses, neither is an error.
	for range memQueue + 10 {
		if _, err := a.WriteTo([]byte("x"), b.Addr()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.WriteTo([]byte("x"), "198.18.255.1:1"); err != nil {
		t.Fatal(err)
	}
	if s := n.Stats(); s.Packets != memQueue+1 || s.Dropped != 10 || s.Lost != 1 {
		t.Fatalf("stats %+v, want %d packets, 10 dropped, 1 lost", s, memQueue+1)
	}

	// A crash loses what was queued and everything after.
	if !n.Crash(b.Addr()) {
		t.Fatal("crash of a known address reported unknown")
	}
	select {
	case p := <-b.PacketCh():
		t.Fatalf("packet %q survived the crash", p.Buf)
	default:
	}
	if _, err := a.WriteTo([]byte("x"), b.Addr()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WriteTo([]byte("x"), a.Addr()); !errors.Is(err, ErrMemNet) {
		t.Fatalf("a crashed transport sent: %v", err)
	}
	if s := n.Stats(); s.Lost != 1+memQueue+1 {
		t.Fatalf("lost %d, want %d", s.Lost, 1+memQueue+1)
	}
	if n.Crash("198.18.255.1:1") {
		t.Fatal("crash of an unknown address reported known")
	}
}

func TestMemTransportStreams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewMemNetwork()
		a, b, c := n.NewTransport(), n.NewTransport(), n.NewTransport()
		defer a.Shutdown()
		defer c.Shutdown()

		// Nobody accepts at c: the dial times out on the bubble's clock.
		start := time.Now()
		if _, err := a.DialTimeout(c.Addr(), 3*time.Second); !errors.Is(err, ErrMemNet) {
			t.Fatalf("dial nobody accepts: %v", err)
		}
		if d := time.Since(start); d != 3*time.Second {
			t.Fatalf("dial gave up after %v, want 3s", d)
		}

		go func() {
			conn := <-b.StreamCh()
			io.Copy(conn, conn) // echo until the stream breaks
			conn.Close()
		}()
		conn, err := a.DialAddressTimeout(memberlist.Address{Addr: b.Addr(), Name: "b"}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if conn.RemoteAddr().String() != b.Addr() || conn.LocalAddr().String() != a.Addr() {
			t.Fatalf("stream %s → %s, want %s → %s", conn.LocalAddr(), conn.RemoteAddr(), a.Addr(), b.Addr())
		}
		msg := make([]byte, 5)
		if _, err := conn.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(conn, msg); err != nil || string(msg) != "hello" {
			t.Fatalf("echo %q, %v", msg, err)
		}

		// b crashes: its stream breaks and dials to it are refused.
		n.Crash(b.Addr())
		if _, err := conn.Read(msg); err == nil {
			t.Fatal("read from a crashed peer's stream succeeded")
		}
		conn.Close()
		if _, err := a.DialTimeout(b.Addr(), time.Second); !errors.Is(err, ErrMemNet) {
			t.Fatalf("dial a crashed peer: %v", err)
		}
		if s := n.Stats(); s.Streams != 1 || s.Refused != 2 {
			t.Fatalf("stats %+v, want 1 stream and 2 refused", s)
		}
	})
}

// allSee reports whether every node sees want members.
func allSee(nodes []*Node, want int) func() bool {
	return func() bool {
		for _, nd := range nodes {
			if len(nd.Members()) != want {
				return false
			}
		}
		return true
	}
}

// startMem starts a node on n inside a bubble.
func startMem(t *testing.T, n *MemNetwork, name string, key []byte, rec *recorder) *Node {
	t.Helper()
	m := workerMeta()
	m.ID = name
	cfg := Config{Name: name, Key: key, Meta: m, Transport: n.NewTransport()}
	if rec != nil {
		cfg.OnEvent = rec.on
	}
	nd, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return nd
}

// startPool starts a node on n for each of names, each joining the
// first; recs[i], when given, records node i's events. Close them with
// closeAll.
func startPool(t *testing.T, n *MemNetwork, names []string, recs []*recorder) []*Node {
	t.Helper()
	var nodes []*Node
	for i, name := range names {
		var rec *recorder
		if i < len(recs) {
			rec = recs[i]
		}
		nd := startMem(t, n, name, testKey, rec)
		nodes = append(nodes, nd)
		if i > 0 {
			if _, err := nd.Join([]string{nodes[0].Addr()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return nodes
}

// closeAll closes the nodes and lets their goroutines end (in a bubble).
func closeAll(nodes []*Node) {
	for _, nd := range nodes {
		nd.Close()
	}
	time.Sleep(Timing{}.Linger())
}

// TestMemNetworkPool runs a small encrypted pool on the in-memory network
// in a bubble: members join, one crashes, and the others declare it dead
// within DefaultTiming's bound on the bubble's clock; a wrong key still
// cannot join.
func TestMemNetworkPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewMemNetwork()
		rec := newRecorder()
		nodes := startPool(t, n, []string{"a", "w0", "w1", "w2", "w3"}, []*recorder{rec})
		defer closeAll(nodes)
		for _, nd := range nodes {
			if !strings.HasPrefix(nd.Addr(), "198.18.") {
				t.Fatalf("node %s at %s, not on the in-memory network", nd.Name(), nd.Addr())
			}
		}
		// A member that missed the last retransmission of a join learns
		// it at the next push/pull (DefaultTiming: 10 s).
		waitVirtual(t, 30*time.Second, "every node sees 5 members", allSee(nodes, 5))

		// w3 crashes (no leave).
		crashed := nodes[4]
		start := time.Now()
		n.Crash(crashed.Addr())
		crashed.Close()
		nodes = nodes[:4]
		rec.waitEvent(t, 10*time.Second, "dead w3", func(e Event) bool {
			return e.Kind == EventDead && e.Member.Name == "w3"
		})
		// Detection ≈ probe round + probe timeout + suspicion (see Timing);
		// the bound leaves room for memberlist's random probe order.
		if d := time.Since(start); d < time.Second || d > 6*time.Second {
			t.Fatalf("w3 declared dead %v after the crash, want 1–6 s", d)
		}
		waitVirtual(t, 5*time.Second, "every survivor has dropped w3", allSee(nodes, 4))

		x := startMem(t, n, "x", []byte("fedcba9876543210fedcba9876543210"), nil)
		defer x.Close() // before the nodes' Close and Linger
		if _, err := x.Join([]string{nodes[0].Addr()}); !errors.Is(err, ErrJoin) {
			t.Fatalf("wrong key joined over the in-memory network: %v", err)
		}
	})
}

func TestStartTransportRejectsBindAddr(t *testing.T) {
	n := NewMemNetwork()
	tr := n.NewTransport()
	_, err := Start(Config{Name: "a", BindAddr: "127.0.0.1:0", Transport: tr})
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("bind address with a transport: %v, want ErrConfig", err)
	}
	if _, err := tr.WriteTo([]byte("x"), tr.Addr()); !errors.Is(err, ErrMemNet) {
		t.Fatal("a failed Start left its transport up")
	}
}

// waitVirtual polls cond on the bubble's clock until it holds or d passes.
func waitVirtual(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A partition through SetLinks: each side declares the other dead, and
// after the heal the pool is whole again.
func TestMemNetworkPartition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewMemNetwork()
		nodes := startPool(t, n, []string{"m0", "m1", "m2", "m3"}, nil)
		defer closeAll(nodes)
		waitVirtual(t, 30*time.Second, "every node sees 4 members", allSee(nodes, 4))

		side := map[string]int{nodes[2].Addr(): 1, nodes[3].Addr(): 1}
		n.SetLinks(func(from, to string) bool { return side[from] == side[to] })
		waitVirtual(t, 20*time.Second, "each side sees only its own 2 members", allSee(nodes, 2))
		if _, err := nodes[0].Join([]string{nodes[2].Addr()}); !errors.Is(err, ErrJoin) {
			t.Fatalf("joined across the partition: %v", err)
		}

		n.SetLinks(nil)
		// The sides find each other again by joining, as a restarted
		// member would; memberlist does not re-probe members it dropped.
		if _, err := nodes[2].Join([]string{nodes[0].Addr()}); err != nil {
			t.Fatal(err)
		}
		waitVirtual(t, 30*time.Second, "every node sees 4 members after the heal", allSee(nodes, 4))
	})
}

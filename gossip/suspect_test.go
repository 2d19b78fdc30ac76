package gossip

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/memberlist"
)

func TestFailedProbeLine(t *testing.T) {
	for _, tc := range []struct {
		line, want string
	}{
		{"[INFO] memberlist: Suspect w-1.a1b2c3 has failed, no acks received\n", "w-1.a1b2c3"},
		{"[INFO] memberlist: Suspect coordinator-c1 has failed, no acks received", "coordinator-c1"},
		{"[INFO] memberlist: Suspect  has failed, no acks received\n", ""},
		{"[DEBUG] memberlist: Failed UDP ping: w-1 (timeout reached)\n", ""},
		{"[INFO] memberlist: Marking w-1 as failed, suspect timeout reached (0 peer confirmations)\n", ""},
		// A name quoted in another line cannot pass for a failed probe.
		{"[WARN] memberlist: ignoring alive message for '[INFO] memberlist: Suspect c has failed, no acks received': x\n", ""},
		{"[WARN] memberlist: Refuting a suspect message (from: [INFO] memberlist: Suspect c has failed, no acks received)\n", ""},
	} {
		got, ok := failedProbe([]byte(tc.line))
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("failedProbe(%q) = %q, %v; want %q", tc.line, got, ok, tc.want)
		}
	}
}

func TestTrackerSuspicion(t *testing.T) {
	w := func(name string) Member { return Member{Name: name, Meta: Meta{Role: RoleWorker, ID: "w-1"}} }
	type ev struct {
		kind EventKind
		name string
	}
	for _, tc := range []struct {
		name   string
		events []ev
		want   []string
	}{
		{"suspected then refutes", []ev{{EventJoin, "a"}, {EventSuspect, "a"}, {EventSuspect, "a"}, {EventAlive, "a"}}, []string{"alive", "suspect", "alive"}},
		{"dies while suspected", []ev{{EventJoin, "a"}, {EventSuspect, "a"}, {EventDead, "a"}}, []string{"alive", "suspect", "dead"}},
		{"refutes with new metadata", []ev{{EventJoin, "a"}, {EventSuspect, "a"}, {EventUpdate, "a"}}, []string{"alive", "suspect", "alive"}},
		{"suspicion after death", []ev{{EventJoin, "a"}, {EventDead, "a"}, {EventSuspect, "a"}, {EventAlive, "a"}}, []string{"alive", "dead"}},
		// The old incarnation a is suspected while the new one b is alive:
		// the worker is alive.
		{"old incarnation suspected", []ev{{EventJoin, "a"}, {EventJoin, "b"}, {EventSuspect, "a"}, {EventDead, "a"}}, []string{"alive", "alive"}},
		{"every incarnation suspected", []ev{{EventJoin, "a"}, {EventJoin, "b"}, {EventSuspect, "a"}, {EventSuspect, "b"}, {EventAlive, "a"}}, []string{"alive", "alive", "suspect", "alive"}},
		{"the alive incarnation leaves", []ev{{EventJoin, "a"}, {EventJoin, "b"}, {EventSuspect, "a"}, {EventLeave, "b"}, {EventDead, "a"}}, []string{"alive", "alive", "suspect", "dead"}},
		{"suspect incarnation dies", []ev{{EventJoin, "a"}, {EventSuspect, "a"}, {EventJoin, "b"}, {EventDead, "a"}}, []string{"alive", "suspect", "alive"}},
		// A kind the tracker does not know is not a death.
		{"unknown kind", []ev{{EventJoin, "a"}, {EventKind(99), "a"}}, []string{"alive"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			tr := NewTracker(func(id string, role Role, alive bool) {
				if alive {
					got = append(got, "alive")
				} else {
					got = append(got, "dead")
				}
			})
			tr.Suspect = func(id string, role Role) { got = append(got, "suspect") }
			for _, e := range tc.events {
				tr.OnEvent(Event{Kind: e.kind, Member: w(e.name)})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("views %q, want %q", got, tc.want)
			}
		})
	}
}

// queued returns the kinds of the events n has queued for name.
func queued(n *Node, name string) []EventKind {
	n.evMu.Lock()
	defer n.evMu.Unlock()
	return kindsFor(n.queue, name)
}

// The node's own bookkeeping of suspicions, without memberlist: which
// failed-probe reports raise one, and that a suspicion the member outlives
// ends by itself.
func TestSuspicionBookkeeping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &Node{
			timing: DefaultTiming(), name: "self", wake: make(chan struct{}, 1),
			table: map[string]entry{}, suspects: map[string]time.Time{},
		}
		long := time.Now()
		time.Sleep(time.Minute)
		for _, name := range []string{"self", "w", "x"} {
			n.table[name] = entry{m: Member{Name: name}, joined: long}
		}
		n.table["new"] = entry{m: Member{Name: "new"}, joined: time.Now()}

		n.suspect("gone") // no longer in the table: its probe outlived it
		n.suspect("self")
		n.suspect("new") // the probe may have been meant for its previous incarnation
		n.suspect("w")
		n.suspect("w")
		for _, name := range []string{"gone", "self", "new"} {
			if q := queued(n, name); len(q) != 0 {
				t.Fatalf("%s: events %v, want none", name, q)
			}
		}
		n.evMu.Lock()
		q := n.queue
		n.evMu.Unlock()
		if len(q) != 1 || q[0].Kind != EventSuspect || q[0].Member.Name != "w" {
			t.Fatalf("events %v, want one suspect of w", q)
		}

		// w answers a probe: alive again, once.
		(*pings)(n).NotifyPingComplete(&memberlist.Node{Name: "w"}, 0, nil)
		(*pings)(n).NotifyPingComplete(&memberlist.Node{Name: "w"}, 0, nil)
		if q := queued(n, "w"); !slices.Equal(q, []EventKind{EventSuspect, EventAlive}) {
			t.Fatalf("w: events %v, want suspect, alive", q)
		}

		// x is suspected and never answers us, but is not declared dead
		// either: past the bound it must have refuted.
		n.suspect("x")
		n.tableMu.Lock()
		bound := n.suspicionBound()
		n.tableMu.Unlock()
		time.Sleep(bound - time.Millisecond)
		if q := queued(n, "x"); !slices.Equal(q, []EventKind{EventSuspect}) {
			t.Fatalf("x: events %v before the bound, want suspect", q)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if q := queued(n, "x"); !slices.Equal(q, []EventKind{EventSuspect, EventAlive}) {
			t.Fatalf("x: events %v past the bound, want suspect, alive", q)
		}
		if !n.expiryAt.IsZero() {
			t.Fatal("the expiry timer is armed with nobody suspected")
		}

		// Leave (and Close) stop suspecting, and the timer.
		n.suspect("x")
		n.stopSuspecting()
		if n.expiry.Stop() {
			t.Fatal("the expiry timer was still armed after stopSuspecting")
		}
		n.suspect("w")
		if q := queued(n, "w"); len(q) != 2 {
			t.Fatalf("w suspected after leaving: %v", q)
		}
		// The bound is memberlist's longest suspicion, twice, plus a probe.
		d := DefaultTiming()
		if want := 2*time.Duration(d.SuspicionMaxTimeoutMult*d.SuspicionMult)*d.ProbeInterval + awarenessMax*d.ProbeInterval; bound != want {
			t.Fatalf("bound %v for 4 members, want %v", bound, want)
		}
	})
}

// cutLinks cuts every link to and from the transport at addr.
func cutLinks(n *MemNetwork, addr string) {
	n.SetLinks(func(from, to string) bool { return from != addr && to != addr })
}

// TestNodeSuspicion cuts a member off on the in-memory network: the other
// member suspects it before declaring it dead, or, if the links come back
// before the suspicion times out, reports it alive again and never dead.
// Two members, so that the observer's own probes are the ones that fail.
func TestNodeSuspicion(t *testing.T) {
	for _, tc := range []struct {
		name string
		heal bool
		want []EventKind
	}{
		{"cut for good", false, []EventKind{EventJoin, EventSuspect, EventDead}},
		{"healed in time", true, []EventKind{EventJoin, EventSuspect, EventAlive}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := NewMemNetwork()
				rec := newRecorder()
				a := startMem(t, n, "a", testKey, rec)
				w := startMem(t, n, "w", testKey, nil)
				defer func() {
					a.Close()
					w.Close()
					time.Sleep(Timing{}.Linger())
				}()
				if _, err := w.Join([]string{a.Addr()}); err != nil {
					t.Fatal(err)
				}
				waitVirtual(t, 10*time.Second, "a sees w", func() bool { return len(a.Members()) == 2 })
				time.Sleep(5 * time.Second) // settled: a has probed w a few times

				start := time.Now()
				cutLinks(n, w.Addr())
				rec.waitEvent(t, 5*time.Second, "suspect w", func(e Event) bool { return e.Kind == EventSuspect && e.Member.Name == "w" })
				t.Logf("w suspected %v after the cut", time.Since(start))
				if tc.heal {
					n.SetLinks(nil)
					rec.waitEvent(t, 5*time.Second, "w alive again", func(e Event) bool { return e.Kind == EventAlive && e.Member.Name == "w" })
				} else {
					rec.waitEvent(t, 10*time.Second, "dead w", func(e Event) bool { return e.Kind == EventDead && e.Member.Name == "w" })
				}
				// Long past any suspicion: nothing more happens to w (no
				// death after the heal, no suspicion after the death).
				time.Sleep(30 * time.Second)
				if got := kinds(rec, "w"); !slices.Equal(got, tc.want) {
					t.Fatalf("events of w %v, want %v", got, tc.want)
				}
				if all := recorded(rec); len(kinds(rec, "a"))+len(kinds(rec, "w")) != len(all) {
					t.Fatalf("events of members other than a and w: %v", all)
				}
				if tc.heal && len(a.Members()) != 2 {
					t.Fatalf("a lists %d members after the heal", len(a.Members()))
				}

			})
		})
	}
}

// recorded returns the events rec has recorded.
func recorded(rec *recorder) []Event {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.events)
}

// kinds returns the kinds of the events rec has recorded for name.
func kinds(rec *recorder, name string) []EventKind {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return kindsFor(rec.events, name)
}

// kindsFor returns the kinds of the events about name, in order.
func kindsFor(events []Event, name string) []EventKind {
	var out []EventKind
	for _, e := range events {
		if e.Member.Name == name {
			out = append(out, e.Kind)
		}
	}
	return out
}

// TestCoordinatorSuspicion: the coordinator's sink is told that a worker
// cut off from the pool is suspect before it is dead, and alive again if
// the links come back in time.
func TestCoordinatorSuspicion(t *testing.T) {
	for _, tc := range []struct {
		name string
		heal bool
		want []string
	}{
		{"cut for good", false, []string{"alive", "suspect", "dead"}},
		{"healed in time", true, []string{"alive", "suspect", "alive"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := NewMemNetwork()
				s := newSink()
				c, err := StartCoordinatorConfig(s, Config{Key: testKey, Transport: n.NewTransport()}, nil)
				if err != nil {
					t.Fatal(err)
				}
				w := startWorkerNode(t, "w-1", n.NewTransport())
				defer func() {
					c.Close()
					w.Close()
					time.Sleep(Timing{}.Linger())
				}()
				if _, err := w.Join([]string{c.Node.Addr()}); err != nil {
					t.Fatal(err)
				}
				waitVirtual(t, 10*time.Second, "w-1 alive", func() bool { return s.last("w-1") == "alive" })
				time.Sleep(5 * time.Second)

				cutLinks(n, w.Addr())
				waitVirtual(t, 5*time.Second, "w-1 suspect", func() bool { return s.last("w-1") == "suspect" })
				if tc.heal {
					n.SetLinks(nil)
				}
				waitVirtual(t, 10*time.Second, fmt.Sprintf("w-1 %s", tc.want[2]), func() bool { return s.last("w-1") == tc.want[2] })
				time.Sleep(30 * time.Second)
				if got := s.history("w-1"); !slices.Equal(got, tc.want) {
					t.Fatalf("views of w-1 %q, want %q", got, tc.want)
				}
			})
		})
	}
}

// wellFormed reports whether kinds follow the order documented on
// EventKind: join, then updates and suspect/alive pairs, then leave or
// dead, then only a new join.
func wellFormed(kinds []EventKind) bool {
	const (
		out = iota
		in
		suspected
	)
	st := out
	for _, k := range kinds {
		switch {
		case st == out && k == EventJoin:
			st = in
		case st == in && k == EventUpdate:
		case st == in && k == EventSuspect:
			st = suspected
		case st == suspected && k == EventAlive:
			st = in
		case st != out && (k == EventLeave || k == EventDead):
			st = out
		default:
			return false
		}
	}
	return true
}

func TestWellFormed(t *testing.T) {
	for _, tc := range []struct {
		kinds []EventKind
		want  bool
	}{
		{[]EventKind{EventJoin, EventUpdate, EventSuspect, EventAlive, EventSuspect, EventDead, EventJoin}, true},
		{[]EventKind{EventJoin, EventDead, EventSuspect}, false},
		{[]EventKind{EventJoin, EventSuspect, EventSuspect}, false},
		{[]EventKind{EventJoin, EventSuspect, EventUpdate}, false},
		{[]EventKind{EventJoin, EventAlive}, false},
	} {
		if got := wellFormed(tc.kinds); got != tc.want {
			t.Errorf("wellFormed(%v) = %v", tc.kinds, got)
		}
	}
}

// In a pool of five, which members' own probes of the cut member fail
// before it is declared dead is up to memberlist's probe order; whatever
// it is, every member's events for it stay well formed, and end in its
// death.
func TestSuspicionOrderInAPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewMemNetwork()
		recs := []*recorder{newRecorder(), newRecorder(), newRecorder(), newRecorder(), newRecorder()}
		nodes := startPool(t, n, []string{"m0", "m1", "m2", "m3", "m4"}, recs)
		defer closeAll(nodes)
		waitVirtual(t, 30*time.Second, "every node sees 5 members", allSee(nodes, 5))
		time.Sleep(5 * time.Second)
		cut := nodes[4]
		cutLinks(n, cut.Addr())
		for _, rec := range recs[:4] {
			rec.waitEvent(t, 15*time.Second, "dead m4", func(e Event) bool { return e.Kind == EventDead && e.Member.Name == "m4" })
		}
		time.Sleep(30 * time.Second)
		saw := 0
		for i, rec := range recs[:4] {
			for _, e := range recorded(rec) {
				if !strings.HasPrefix(e.Member.Name, "m") {
					t.Fatalf("m%d: event %v of a member not in the pool", i, e)
				}
			}
			k := kinds(rec, "m4")
			if !wellFormed(k) || k[len(k)-1] != EventDead {
				t.Fatalf("m%d's events of m4: %v", i, k)
			}
			if slices.Contains(k, EventSuspect) {
				saw++
			}
		}
		t.Logf("%d of 4 members suspected m4 before its death", saw)
	})
}

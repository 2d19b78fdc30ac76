package gossip

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// recorder collects events and wakes waiters on each one.
type recorder struct {
	mu     sync.Mutex
	events []Event
	signal chan struct{}
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) on(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// waitEvent waits until an event matching f has been recorded.
func (r *recorder) waitEvent(t *testing.T, d time.Duration, what string, f func(Event) bool) Event {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for _, e := range r.events {
			if f(e) {
				r.mu.Unlock()
				return e
			}
		}
		r.mu.Unlock()
		select {
		case <-r.signal:
		case <-deadline.C:
			t.Fatalf("no %s event within %v", what, d)
		}
	}
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(d)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("not within %v: %s", d, what)
		}
	}
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

func startNode(t *testing.T, name string, key []byte, rec *recorder) *Node {
	t.Helper()
	m := workerMeta()
	m.ID = name
	cfg := Config{Name: name, BindAddr: "127.0.0.1:0", Key: key, Meta: m}
	if rec != nil {
		cfg.OnEvent = rec.on
	}
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func names(ms []Member) map[string]Member {
	out := map[string]Member{}
	for _, m := range ms {
		out[m.Name] = m
	}
	return out
}

func TestJoinMetadataUpdateAndDeath(t *testing.T) {
	rec := newRecorder()
	a := startNode(t, "a", testKey, rec)
	b := startNode(t, "b", testKey, nil)
	c := startNode(t, "c", testKey, nil)
	for _, n := range []*Node{b, c} {
		if k, err := n.Join([]string{a.Addr()}); err != nil || k != 1 {
			t.Fatalf("join: %d, %v", k, err)
		}
	}
	eventually(t, 5*time.Second, "a sees b and c", func() bool { return len(a.Members()) == 3 })
	rec.waitEvent(t, 5*time.Second, "join of c", func(e Event) bool { return e.Kind == EventJoin && e.Member.Name == "c" })

	got := names(a.Members())["b"]
	want := workerMeta()
	want.ID = "b"
	if got.MetaErr != nil || got.Meta != want {
		t.Fatalf("b's metadata as a sees it: %+v, %v", got.Meta, got.MetaErr)
	}

	want.State = "busy"
	if err := b.UpdateMeta(want); err != nil {
		t.Fatal(err)
	}
	rec.waitEvent(t, 5*time.Second, "update of b", func(e Event) bool {
		return e.Kind == EventUpdate && e.Member.Name == "b" && e.Member.Meta.State == "busy"
	})

	// c vanishes without a word: declared dead within a few seconds.
	start := time.Now()
	c.Close()
	e := rec.waitEvent(t, 8*time.Second, "death of c", func(e Event) bool { return e.Member.Name == "c" && gone(e.Kind) })
	if e.Kind != EventDead {
		t.Fatalf("c's departure is %v, want dead", e.Kind)
	}
	t.Logf("c declared dead after %v", time.Since(start).Round(10*time.Millisecond))
	if _, ok := names(a.Members())["c"]; ok {
		t.Fatal("c is still listed after its death")
	}

	// b leaves gracefully: a leave, not a death.
	if err := b.Leave(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	e = rec.waitEvent(t, 5*time.Second, "leave of b", func(e Event) bool { return e.Member.Name == "b" && gone(e.Kind) })
	if e.Kind != EventLeave {
		t.Fatalf("b's departure is %v, want leave", e.Kind)
	}
}

func gone(k EventKind) bool { return k == EventLeave || k == EventDead }

func TestWrongKeyCannotJoin(t *testing.T) {
	a := startNode(t, "a", testKey, nil)
	for _, tc := range []struct {
		name string
		key  []byte
	}{
		{"other key", []byte("fedcba9876543210fedcba9876543210")},
		{"no key", nil},
		{"shorter key", []byte("0123456789abcdef")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := startNode(t, "x-"+tc.name, tc.key, nil)
			if _, err := x.Join([]string{a.Addr()}); !errors.Is(err, ErrJoin) {
				t.Fatalf("join with %s: err = %v, want ErrJoin", tc.name, err)
			}
			for _, m := range a.Members() {
				if m.Name == x.Name() {
					t.Fatalf("a lists %s", m.Name)
				}
			}
			if len(x.Members()) != 1 {
				t.Fatalf("x sees %d members", len(x.Members()))
			}
		})
	}
}

func TestUnencryptedPool(t *testing.T) {
	a := startNode(t, "a", nil, nil)
	b := startNode(t, "b", nil, nil)
	if _, err := b.Join([]string{a.Addr()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "a sees b", func() bool { return len(a.Members()) == 2 })
}

func TestStartRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"no name", Config{BindAddr: "127.0.0.1:0"}, ErrConfig},
		{"bad bind", Config{Name: "a", BindAddr: "127.0.0.1"}, ErrConfig},
		{"bad key", Config{Name: "a", Key: []byte("short")}, ErrKey},
		{"bad meta", Config{Name: "a", Meta: Meta{State: "printing"}}, ErrMeta},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Start(tc.cfg)
			if err == nil {
				n.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDefaultTimingDetectsFast(t *testing.T) {
	// The figures documented on Timing: worst case probe wait + timeout +
	// suspicion stays under 3 s for small pools.
	d := DefaultTiming()
	worst := d.ProbeInterval + 2*d.ProbeTimeout + time.Duration(d.SuspicionMult)*d.ProbeInterval
	if worst > 3*time.Second {
		t.Fatalf("worst-case detection %v", worst)
	}
	if got := (Timing{ProbeInterval: time.Second}).withDefaults(); got.ProbeInterval != time.Second || got.ProbeTimeout != d.ProbeTimeout {
		t.Fatalf("withDefaults: %+v", got)
	}
}

func TestNames(t *testing.T) {
	if got := fmt.Sprint(EventJoin, EventUpdate, EventLeave, EventDead, EventSuspect, EventAlive, EventKind(99), RoleCoordinator, RoleWorker); got != "join update leave dead suspect alive unknown coordinator worker" {
		t.Fatalf("names: %q", got)
	}
}

package gossip

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// sink records the views a coordinator is given of each worker.
type sink struct {
	mu    sync.Mutex
	views map[string][]string // worker → "alive", "suspect" or "dead", in order
}

func newSink() *sink { return &sink{views: map[string][]string{}} }

func (s *sink) ID() string  { return "c1" }
func (s *sink) URL() string { return "http://127.0.0.1:8740" }
func (s *sink) MemberEvent(name string, alive bool) {
	if alive {
		s.add(name, "alive")
	} else {
		s.add(name, "dead")
	}
}
func (s *sink) MemberSuspect(name string) { s.add(name, "suspect") }

func (s *sink) add(name, view string) {
	s.mu.Lock()
	s.views[name] = append(s.views[name], view)
	s.mu.Unlock()
}

// last returns the latest view of name, "" if none.
func (s *sink) last(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.views[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// history returns every view of name so far.
func (s *sink) history(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.views[name]...)
}

var _ CoordinatorSink = (*sink)(nil)

func TestStartCoordinatorFeedsWorkerEvents(t *testing.T) {
	s := newSink()
	c, err := StartCoordinator(s, "127.0.0.1:0", testKey, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := startNode(t, "w-7.a1", testKey, nil)
	m := workerMeta()
	m.ID = "w-7"
	if err := w.UpdateMeta(m); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Join([]string{c.Node.Addr()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "w-7 alive", func() bool { return s.last("w-7") == "alive" })
	w.Close()
	eventually(t, 8*time.Second, "w-7 dead", func() bool { return s.last("w-7") == "dead" })
	if s.last("c1") != "" {
		t.Fatal("the coordinator itself was reported as a worker")
	}
	// A worker with the wrong key never shows up.
	x := startNode(t, "w-8.b2", []byte("fedcba9876543210fedcba9876543210"), nil)
	if _, err := x.Join([]string{c.Node.Addr()}); err == nil {
		t.Fatal("wrong key joined")
	}
}

// A coordinator whose first join failed (the member it names was down)
// joins again once that member is up, without being told.
func TestCoordinatorRejoinsWhenAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewMemNetwork()
		peerT := n.NewTransport() // the peer's address exists, nobody answers yet
		s := newSink()
		c, err := StartCoordinatorConfig(s, Config{Key: testKey, Transport: n.NewTransport()}, []string{peerT.Addr()})
		if err == nil {
			t.Fatal("joined a member that is not running")
		}
		if c == nil {
			t.Fatal("no node after a failed join")
		}
		defer func() {
			c.Kill()
			time.Sleep(Timing{}.Linger())
		}()
		peer := startWorkerNode(t, "w-1", peerT)
		defer peer.Close()
		waitVirtual(t, 2*DefaultTiming().PushPullInterval, "the coordinator to join the peer by itself", func() bool {
			return s.last("w-1") == "alive" && len(c.Node.Members()) == 2
		})
	})
}

// namedSink is a sink for a coordinator of another id.
type namedSink struct {
	*sink
	id string
}

func (s namedSink) ID() string { return s.id }

// After a partition that split the pool — each side kept some members and
// declared the other side dead — the coordinators join the ones they no
// longer see, and the pool is whole again without a restart: through the
// join addresses they were given, and, when none crosses the split
// (coordinators connected only through a worker that joined them all),
// through the coordinators they remember seeing.
func TestCoordinatorsRejoinASplitPool(t *testing.T) {
	for _, tc := range []struct {
		name string
		// viaJoin: coordinator i joins the first i; the worker joins c1.
		// Otherwise the coordinators join nobody and the worker all three.
		viaJoin bool
	}{
		{"through join addresses", true},
		{"through the coordinators they saw", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := NewMemNetwork()
				tr := []*MemTransport{n.NewTransport(), n.NewTransport(), n.NewTransport()}
				addrs := []string{tr[0].Addr(), tr[1].Addr(), tr[2].Addr()}
				var cs []*Coordinator
				var nodes []*Node
				var sinks []*sink
				for i := range 3 {
					s := newSink()
					var join []string
					if tc.viaJoin {
						join = addrs[:i]
					}
					c, err := StartCoordinatorConfig(namedSink{s, fmt.Sprint("c", i+1)}, Config{Key: testKey, Transport: tr[i]}, join)
					if err != nil {
						t.Fatal(err)
					}
					cs, nodes, sinks = append(cs, c), append(nodes, c.Node), append(sinks, s)
				}
				w := startWorkerNode(t, "w-1", n.NewTransport())
				defer func() {
					w.Close()
					for _, c := range cs {
						c.Kill()
					}
					time.Sleep(Timing{}.Linger())
				}()
				workerJoin := addrs
				if tc.viaJoin {
					workerJoin = addrs[:1]
				}
				if _, err := w.Join(workerJoin); err != nil {
					t.Fatal(err)
				}
				waitVirtual(t, 30*time.Second, "every coordinator sees the 4 members", allSee(nodes, 4))

				// {c1, w-1} | {c2, c3}, for longer than memberlist gossips to the dead.
				side := map[string]int{addrs[1]: 1, addrs[2]: 1}
				n.SetLinks(func(from, to string) bool { return side[from] == side[to] })
				waitVirtual(t, 30*time.Second, "each side sees only its own 2 members", allSee(nodes, 2))
				if got := sinks[1].last("w-1"); got != "dead" {
					t.Fatalf("c2's view of w-1 during the split: %q", got)
				}
				time.Sleep(2 * DefaultTiming().PushPullInterval)

				n.SetLinks(nil)
				waitVirtual(t, 3*DefaultTiming().PushPullInterval, "every coordinator to see the 4 members again", allSee(nodes, 4))
				waitVirtual(t, 10*time.Second, "c2 and c3 to see w-1 alive", func() bool {
					return sinks[1].last("w-1") == "alive" && sinks[2].last("w-1") == "alive"
				})
			})
		})
	}
}

// startWorkerNode starts the node of worker id (named "<id>.x") on tr.
func startWorkerNode(t *testing.T, id string, tr *MemTransport) *Node {
	t.Helper()
	m := workerMeta()
	m.ID = id
	nd, err := Start(Config{Name: id + ".x", Key: testKey, Meta: m, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	return nd
}

func TestUnseen(t *testing.T) {
	members := []Member{{Name: "a", Addr: "10.0.0.1:7946"}, {Name: "b", Addr: "10.0.0.2:7946"}}
	got := unseen([]string{"10.0.0.1:7946", "10.0.0.3:7946", "10.0.0.9:7946", "10.0.0.3:7946", "coord.example:7946"}, "10.0.0.9:7946", members)
	if want := []string{"10.0.0.3:7946", "coord.example:7946"}; !slices.Equal(got, want) {
		t.Fatalf("unseen = %v, want %v", got, want)
	}
}

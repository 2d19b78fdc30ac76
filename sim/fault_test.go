package sim

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// One test per fault type (in parallel: they mostly wait for simulated
// prints): a small neighbourhood, an order whose copies
// take a few real seconds each, the fault injected while a copy prints,
// then every order must finish and every invariant hold.

func startSmall(t *testing.T, printers int, manualClear float64) *Sim {
	t.Helper()
	return startSmallWith(t, Options{Printers: printers, ManualClear: manualClear})
}

// startSmallWith starts o with the small neighbourhood's seed, three
// coordinators and 800× printing.
func startSmallWith(t *testing.T, o Options) *Sim {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o.Seed, o.Coordinators, o.SpeedUp = 7, 3, 800
	if testing.Verbose() && os.Getenv("FABGRID_SIM_DEBUG") != "" {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// bracket prints for about 1,600 simulated seconds: 2 s at 800×.
func bracket() Model { return DefaultModels()[1] }

func submit(t *testing.T, s *Sim, seq, qty int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := s.Submit(ctx, bracket(), PlannedOrder{Seq: seq, Community: "makers", Quantity: qty, Material: "PLA"})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// printing waits until some printer prints (past its start) and returns it.
func printing(t *testing.T, s *Sim) (NodeID, string) {
	t.Helper()
	var id NodeID
	var job string
	waitUntil(t, 30*time.Second, "a printer to print", func() bool {
		for _, p := range s.Fleet.IDs() {
			if s.Fleet.Running(p) {
				if j := s.Fleet.Printer(p).Printing(); j != "" {
					id, job = p, j
					return true
				}
			}
		}
		return false
	})
	return id, job
}

func settleAndCheck(t *testing.T, s *Sim) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.RecoverAll(); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitSettled(ctx, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.Cluster.waitFor(ctx, 20*time.Second, "coordinators to catch up", s.Cluster.converged); err != nil {
		t.Fatal(err)
	}
	r := s.report(s.opts.Seed, len(s.Acked()), s.started, time.Now())
	r.finish(s.Check())
	requireOK(t, r)
}

func leaderJob(t *testing.T, s *Sim, id string) fsm.Job {
	t.Helper()
	var j fsm.Job
	waitUntil(t, 10*time.Second, "a leader", func() bool { return s.Cluster.LeaderIndex() >= 0 })
	s.Cluster.Node(s.Cluster.LeaderIndex()).FSM().View(func(st *fsm.State) {
		if p := st.Jobs[id]; p != nil {
			j = *p
		}
	})
	return j
}

func failureReasons(j fsm.Job) string {
	var rs []string
	for _, f := range j.Failures {
		rs = append(rs, f.Reason)
	}
	return strings.Join(rs, "; ")
}

func TestFaultPrinterFailures(t *testing.T) {
	for _, tc := range []struct {
		fault  PrinterFault
		reason string // "" = the print survives
	}{
		{FaultThermalRunaway, "thermal runaway"},
		{FaultDisconnect, "disconnected"},
		{FaultNoisyLine, ""},
	} {
		t.Run(string(tc.fault), func(t *testing.T) {
			t.Parallel()
			s := startSmall(t, 3, 0)
			submit(t, s, 1, 1)
			p, job := printing(t, s)
			running, err := s.InjectPrinterFault(p, tc.fault)
			if err != nil || !running {
				t.Fatalf("inject: running %v, err %v", running, err)
			}
			settleAndCheck(t, s)
			j := leaderJob(t, s, job)
			if j.State != api.JobDone {
				t.Fatalf("job %s is %s, want done", job, j.State)
			}
			if tc.reason == "" {
				if len(j.Failures) != 0 {
					t.Fatalf("a noisy line failed the job: %s", failureReasons(j))
				}
				return
			}
			if !strings.Contains(failureReasons(j), tc.reason) {
				t.Fatalf("job %s failures %q, want one with %q", job, failureReasons(j), tc.reason)
			}
			if s.Fleet.WorkerID(p) == j.WorkerID {
				t.Fatalf("job %s was retried on %s, the printer it failed on", job, p)
			}
		})
	}
}

func TestFaultWorkerCrashRequeues(t *testing.T) {
	t.Parallel()
	s := startSmall(t, 3, 0)
	submit(t, s, 1, 1)
	p, job := printing(t, s)
	if err := s.CrashWorker(p); err != nil {
		t.Fatal(err)
	}
	// It stays dead: lease expiry must requeue the job elsewhere.
	waitUntil(t, 60*time.Second, "the job to be requeued and done", func() bool {
		j := leaderJob(t, s, job)
		return j.State == api.JobDone
	})
	j := leaderJob(t, s, job)
	if len(j.Assignments) < 2 || j.WorkerID == s.Fleet.WorkerID(p) {
		t.Fatalf("job %s: assignments %v, done on %s; want a second printer", job, j.Assignments, j.WorkerID)
	}
	settleAndCheck(t, s)
}

func TestFaultWorkerRestartReportsInterrupted(t *testing.T) {
	t.Parallel()
	s := startSmall(t, 3, 0)
	submit(t, s, 1, 1)
	p, job := printing(t, s)
	if err := s.CrashWorker(p); err != nil {
		t.Fatal(err)
	}
	if err := s.RestartWorker(p); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "the interrupted job to be reported", func() bool {
		return strings.Contains(failureReasons(leaderJob(t, s, job)), "restarted")
	})
	settleAndCheck(t, s)
}

func TestFaultLeaderCrash(t *testing.T) {
	t.Parallel()
	s := startSmall(t, 4, 0)
	submit(t, s, 1, 3)
	printing(t, s)
	li := s.Cluster.LeaderIndex()
	if err := s.CrashCoordinator(li); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "a new leader", func() bool {
		n := s.Cluster.LeaderIndex()
		return n >= 0 && n != li
	})
	submit(t, s, 2, 1) // the new leader takes orders
	if err := s.RestartCoordinator(li); err != nil {
		t.Fatal(err)
	}
	settleAndCheck(t, s)
}

func TestFaultPartitionLeaderWithPrinters(t *testing.T) {
	t.Parallel()
	s := startSmall(t, 4, 0)
	submit(t, s, 1, 4)
	p, _ := printing(t, s)
	li := s.Cluster.LeaderIndex()
	s.Partition(nil, []NodeID{s.Cluster.IDs()[li], p})
	waitUntil(t, 20*time.Second, "a leader in the majority", func() bool {
		n := s.Cluster.LeaderIndex()
		return n >= 0 && n != li
	})
	submit(t, s, 2, 1)
	time.Sleep(500 * time.Millisecond) // the partition lasts a while; nothing to wait for
	s.Heal()
	settleAndCheck(t, s)
}

func TestFaultOwnerPause(t *testing.T) {
	t.Parallel()
	s := startSmall(t, 2, 0)
	submit(t, s, 1, 2)
	p, job := printing(t, s)
	if err := s.OwnerPause(p); err != nil {
		t.Fatal(err)
	}
	if err := s.OwnerResume(p); err != nil {
		t.Fatal(err)
	}
	settleAndCheck(t, s)
	if j := leaderJob(t, s, job); j.State != api.JobDone || len(j.Failures) != 0 {
		t.Fatalf("paused job %s ended %s (failures %q)", job, j.State, failureReasons(j))
	}
}

func TestFaultBedClearGatesTheNextJob(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{Seed: 7, Coordinators: 3, Printers: 1, SpeedUp: 800, ManualClear: 1, HandClearing: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	id := submit(t, s, 1, 2)
	p := s.Fleet.IDs()[0]
	states := func() (done, pending int) {
		var o fsm.Order
		n := s.Cluster.Node(max(0, s.Cluster.LeaderIndex()))
		if n == nil {
			return 0, 0
		}
		n.FSM().View(func(st *fsm.State) {
			if x := st.Orders[id]; x != nil {
				o = *x
				for _, jid := range o.JobIDs {
					switch st.Jobs[jid].State {
					case api.JobDone:
						done++
					case api.JobPending:
						pending++
					}
				}
			}
		})
		return done, pending
	}
	waitUntil(t, 30*time.Second, "the first copy to finish", func() bool { d, _ := states(); return d == 1 })
	// The bed is not clear: the second copy must wait. Give placement a
	// few of its ticks to prove it.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if d, pend := states(); d != 1 || pend != 1 {
			t.Fatalf("with the bed not cleared: %d done, %d pending; want 1 and 1", d, pend)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.ClearBed(p); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the second copy to finish", func() bool { d, _ := states(); return d == 2 })
	if err := s.ClearBed(p); err != nil {
		t.Fatal(err)
	}
	settleAndCheck(t, s)
}

// A follower forwards writes to the leader over the simulated network, so
// a partition cuts forwarding too: through a follower cut off from the
// leader an order is refused (never acknowledged), and after the heal the
// same follower forwards it.
func TestFaultPartitionCutsForwarding(t *testing.T) {
	t.Parallel()
	s := startSmall(t, 1, 0)
	l := s.Cluster.LeaderIndex()
	f := (l + 1) % len(s.Cluster.IDs())
	follower := s.Cluster.IDs()[f]
	cl, err := client.New([]string{s.Cluster.Node(f).URL()}, client.Options{
		Token: s.tokens["makers"], HTTPClient: s.net.client("neighbour"), Timeout: 3 * time.Second, Attempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	m := bracket()
	order := func(id string) (*api.Order, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		o, err := cl.SubmitOrder(ctx, client.BytesModel(m.Name+".stl", m.STL),
			client.OrderRequest{Community: "makers", Quantity: 1, Material: "PLA", RequestID: id})
		if err == nil {
			s.mu.Lock()
			s.acked[o.ID] = AckedOrder{ID: o.ID, Community: "makers", Quantity: 1, At: time.Now()}
			s.mu.Unlock()
		}
		return o, err
	}

	before := s.net.sentBy(follower)
	if _, err := order("through-follower"); err != nil {
		t.Fatalf("order through follower %s: %v", follower, err)
	}
	if s.net.sentBy(follower) == before {
		t.Fatalf("follower %s forwarded the order outside the simulated network", follower)
	}

	var others []NodeID
	for _, id := range s.Cluster.IDs() {
		if id != follower {
			others = append(others, id)
		}
	}
	s.Partition(others, []NodeID{follower, "neighbour"})
	if o, err := order("cut-off"); err == nil {
		t.Fatalf("order %s acknowledged through follower %s cut off from the leader", o.ID, follower)
	}
	s.Heal()
	waitUntil(t, 20*time.Second, "the follower to forward again", func() bool {
		_, err := order("cut-off") // the same request id: at most one order
		return err == nil
	})
	settleAndCheck(t, s)
}

// With gossip on, a partition cuts gossip too: the coordinators' pool
// declares the cut-off printer dead while its heartbeats stop, its job is
// requeued, and after the heal the printer is alive in the pool again and
// every invariant holds.
func TestFaultPartitionGossip(t *testing.T) {
	t.Parallel()
	s := startSmallWith(t, Options{Printers: 2, Gossip: true})
	alive := func(p NodeID, want bool) func() bool {
		return func() bool {
			for i := range s.Cluster.IDs() {
				if s.Cluster.Node(i) != nil && s.Cluster.GossipAlive(i, s.Fleet.WorkerID(p)) != want {
					return false
				}
			}
			return true
		}
	}
	for _, p := range s.Fleet.IDs() {
		waitUntil(t, 20*time.Second, fmt.Sprintf("every coordinator's pool to see %s alive", p), alive(p, true))
	}
	submit(t, s, 1, 2)
	p, _ := printing(t, s)
	s.Partition(nil, []NodeID{p})
	waitUntil(t, 20*time.Second, fmt.Sprintf("every coordinator's pool to declare %s dead", p), alive(p, false))
	s.Heal()
	waitUntil(t, 30*time.Second, fmt.Sprintf("%s alive in every coordinator's pool after the heal", p), alive(p, true))
	settleAndCheck(t, s)
}

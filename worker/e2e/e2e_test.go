package e2e

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/gossip"
	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/slicer/testmesh"
	"github.com/fabgrid/fabgrid/worker"
)

// part is the test model: a 12×12×1.2 mm plate (6 layers).
var part = coordinatortest.CubeSTL(12, 12, 1.2)

func TestSixCopiesEachPrintedOnce(t *testing.T) {
	for _, tc := range []struct {
		name         string
		coordinators int
	}{
		{"one coordinator", 1},
		{"three coordinators", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.coordinators > 1 {
				t.Skip("-short")
			}
			g := newGrid(t, tc.coordinators)
			ws := []*gridWorker{g.addWorker("ender", "ender3", "PLA"), g.addWorker("prusa", "mk3s", "PLA"), g.addWorker("big", "cr10s5", "PLA")}
			for _, w := range ws {
				w.run(nil)
			}
			o := g.submit(part, 6, "PLA")
			o = g.waitOrder(o.ID, 40*time.Second)
			g.printedOnce(o)
			for _, w := range ws {
				w.checkRecord(t)
			}
			// The workers joined the coordinators' gossip pool.
			var workers api.Workers
			if code, _, err := g.hc.Do("GET", g.leaderURL()+"/v1/workers", g.comm, nil, &workers); err != nil || code != 200 {
				t.Fatalf("workers: %d %v", code, err)
			}
			for _, w := range workers.Workers {
				if w.Gossip != api.GossipAlive {
					t.Errorf("worker %s: gossip %s", w.Name, w.Gossip)
				}
			}
		})
	}
}

// waitPrinting waits until w starts printing a job of the order and
// returns the job id.
func waitPrinting(t *testing.T, w *gridWorker) string {
	t.Helper()
	select {
	case j := <-w.start:
		return j
	case <-time.After(30 * time.Second):
		t.Fatalf("%s never started printing", w.name)
		return ""
	}
}

func TestKilledWorkerJobRequeuedAndCompletedElsewhere(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	g := newGrid(t, 1)
	a := g.addWorker("a", "ender3", "PLA")
	b := g.addWorker("b", "ender3", "PLA")
	a.run(nil)
	aID := a.id()
	o := g.submit(part, 1, "PLA")
	job := waitPrinting(t, a)
	killed := time.Now()
	a.kill()
	b.run(nil) // b comes up after a died, so the job can only go to b
	o = g.waitOrder(o.ID, lostAfter+30*time.Second)
	t.Logf("requeued and finished %v after the kill (lost-after %v)", time.Since(killed).Round(time.Millisecond), lostAfter)
	g.printedOnce(o)
	if got := b.successes(); len(got) != 1 || got[0] != job {
		t.Fatalf("b printed %v, want %s", got, job)
	}
	if j := o.Jobs[0]; len(j.Failures) != 1 || j.Failures[0].Printer != aID {
		t.Fatalf("failures %+v, want one on %s", j.Failures, aID)
	}
	b.checkRecord(t)
}

func TestRestartedWorkerReportsFailureAtOnce(t *testing.T) {
	g := newGrid(t, 1)
	a := g.addWorker("a", "ender3", "PLA")
	b := g.addWorker("b", "mk3s", "PLA")
	a.run(nil)
	aID := a.id()
	o := g.submit(part, 1, "PLA")
	job := waitPrinting(t, a)
	a.kill()
	restarted := time.Now()
	a.run(nil) // same state dir: reports the interrupted job at once
	if a.id() != aID {
		t.Fatalf("id changed across restart: %s → %s", aID, a.id())
	}
	var failedAfter time.Duration
	coordinatortest.WaitFor(t, 10*time.Second, "the interrupted job reported failed", func() bool {
		cur, ok := g.order(o.ID)
		if ok && len(cur.Jobs) == 1 && len(cur.Jobs[0].Failures) > 0 {
			failedAfter = time.Since(restarted)
			f := cur.Jobs[0].Failures[0]
			if f.Printer != aID || !strings.Contains(f.Reason, worker.ReasonRestarted) {
				t.Fatalf("failure %+v", f)
			}
			return true
		}
		return false
	})
	if failedAfter >= lostAfter {
		t.Fatalf("failure known only after %v: the lease ran out instead", failedAfter)
	}
	t.Logf("failure reported %v after the restart", failedAfter.Round(time.Millisecond))
	b.run(nil)
	o = g.waitOrder(o.ID, 30*time.Second)
	g.printedOnce(o)
	if got := b.successes(); len(got) != 1 || got[0] != job {
		t.Fatalf("b printed %v, want %s", got, job)
	}
}

func TestLeaderKilledMidPrintOrderCompletes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	g := newGrid(t, 3)
	ws := []*gridWorker{g.addWorker("ender", "ender3", "PLA"), g.addWorker("prusa", "mk3s", "PLA"), g.addWorker("big", "cr10s5", "PLA")}
	for _, w := range ws {
		w.run(nil)
	}
	o := g.submit(part, 6, "PLA")
	waitPrinting(t, ws[0])
	li := g.cl.LeaderIndex(5 * time.Second)
	if !ws[0].printing() {
		t.Fatal("the print ended before the leader could be killed; slow the virtual printers down")
	}
	g.gossip[li].Node.Close()
	g.cl.Kill(li)
	o = g.waitOrder(o.ID, 60*time.Second)
	g.printedOnce(o)
	for _, w := range ws {
		w.checkRecord(t) // no print was cut short by the failover
	}
}

// countingCoord counts what the worker asked and got.
type countingCoord struct {
	worker.Coordinator
	registerErrs atomic.Int64
	lastErr      atomic.Value
	assignments  atomic.Int64
}

func (c *countingCoord) Register(ctx context.Context, r api.RegisterRequest) (*api.RegisterResponse, error) {
	resp, err := c.Coordinator.Register(ctx, r)
	if err != nil {
		c.lastErr.Store(err)
		c.registerErrs.Add(1)
	}
	return resp, err
}

func (c *countingCoord) GetAssignment(ctx context.Context, id string, wait time.Duration) (*api.Assignment, error) {
	a, err := c.Coordinator.GetAssignment(ctx, id, wait)
	if a != nil {
		c.assignments.Add(1)
	}
	return a, err
}

func TestWrongGossipKeyAndWrongTokenRefused(t *testing.T) {
	g := newGrid(t, 1)
	// A member with another key cannot join the coordinators' pool.
	n, err := gossip.Start(gossip.Config{Name: "intruder", BindAddr: "127.0.0.1:0", Key: []byte("another-key-0123456789abcdef0123"),
		Meta: gossip.Meta{Role: gossip.RoleWorker, ID: "w-intruder"}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.Join(g.joins); !errors.Is(err, gossip.ErrJoin) {
		t.Fatalf("join with the wrong key: %v", err)
	}
	for _, m := range g.gossip[0].Node.Members() {
		if m.Name == "intruder" {
			t.Fatal("the coordinator lists the intruder")
		}
	}
	// A worker with a wrong token is refused and never listed.
	w := g.addWorker("bad", "ender3", "PLA")
	w.token = "fgW_not-a-token"
	cc := &countingCoord{}
	w.run(func(c worker.Coordinator) worker.Coordinator { cc.Coordinator = c; return cc })
	coordinatortest.WaitFor(t, 10*time.Second, "a refused registration", func() bool { return cc.registerErrs.Load() > 0 })
	if err, _ := cc.lastErr.Load().(error); client.StatusOf(err) != 401 {
		t.Fatalf("registration error %v, want 401", err)
	}
	var workers api.Workers
	if code, _, err := g.hc.Do("GET", g.leaderURL()+"/v1/workers", g.comm, nil, &workers); err != nil || code != 200 {
		t.Fatalf("workers: %d %v", code, err)
	}
	if len(workers.Workers) != 0 {
		t.Fatalf("workers listed: %+v", workers.Workers)
	}
}

func TestMaterialMismatchNeverAssigned(t *testing.T) {
	g := newGrid(t, 1)
	pla := g.addWorker("pla", "ender3", "PLA")
	petg := g.addWorker("petg", "cr10s5", "PETG")
	cc := &countingCoord{}
	petg.run(func(c worker.Coordinator) worker.Coordinator { cc.Coordinator = c; return cc })
	pla.run(nil)
	o := g.submit(part, 3, "PLA")
	o = g.waitOrder(o.ID, 40*time.Second)
	g.printedOnce(o)
	if n := cc.assignments.Load(); n != 0 {
		t.Fatalf("the PETG printer was given %d PLA jobs", n)
	}
	if got := petg.jobCommands(); len(got) != 0 {
		t.Fatalf("the PETG printer executed %d job commands", len(got))
	}
	pla.checkRecord(t)
}

// TestOrder3MFPrinted: a 3MF order goes through a one-node grid like an
// STL one: accepted, sliced by the worker (which tells the format by the
// package's content) and printed once, with the commands the same part
// as an STL slices to.
func TestOrder3MFPrinted(t *testing.T) {
	g := newGrid(t, 1)
	w := g.addWorker("ender", "ender3", "PLA")
	w.run(nil)
	box := testmesh.Box(0, 0, 0, 12, 12, 1.2)
	o := g.submit(testmesh.Write3MF(box), 1, "PLA")
	o = g.waitOrder(o.ID, 40*time.Second)
	g.printedOnce(o)
	w.checkRecord(t)

	w.mu.Lock()
	got := w.prints[0]
	w.mu.Unlock()
	s, err := worker.LocalSlicer{Workers: 1}.Slice(context.Background(), testmesh.WriteSTL("part", box), w.prof, w.mat, o.LayerHeight, o.Infill)
	if err != nil {
		t.Fatal(err)
	}
	want, err := printerdrv.Prepare(printerdrv.Job{Name: got.job, Lines: s.GCode, Printer: w.prof})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.commands, want.Commands) {
		t.Fatalf("the 3MF job printed %d commands; the part as an STL slices to %d", len(got.commands), len(want.Commands))
	}
}

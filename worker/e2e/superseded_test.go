package e2e

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/worker"
)

// partition is a worker's link to the coordinators that a test can cut:
// while cut, every call fails as an unreachable coordinator would.
type partition struct {
	worker.Coordinator
	cut atomic.Bool
}

var errCut = errors.New("e2e: partitioned from the coordinators")

func (p *partition) Register(ctx context.Context, r api.RegisterRequest) (*api.RegisterResponse, error) {
	if p.cut.Load() {
		return nil, errCut
	}
	return p.Coordinator.Register(ctx, r)
}

func (p *partition) Heartbeat(ctx context.Context, id, state string) error {
	if p.cut.Load() {
		return errCut
	}
	return p.Coordinator.Heartbeat(ctx, id, state)
}

func (p *partition) GetAssignment(ctx context.Context, id string, wait time.Duration) (*api.Assignment, error) {
	if p.cut.Load() {
		return nil, errCut
	}
	return p.Coordinator.GetAssignment(ctx, id, wait)
}

func (p *partition) ReportProgress(ctx context.Context, job string, r api.ProgressRequest) (*api.ProgressResponse, error) {
	if p.cut.Load() {
		return nil, errCut
	}
	return p.Coordinator.ReportProgress(ctx, job, r)
}

func (p *partition) ReportResult(ctx context.Context, job string, r api.ResultRequest) (*api.OK, error) {
	if p.cut.Load() {
		return nil, errCut
	}
	return p.Coordinator.ReportResult(ctx, job, r)
}

func (p *partition) BedClear(ctx context.Context, id string) error {
	if p.cut.Load() {
		return errCut
	}
	return p.Coordinator.BedClear(ctx, id)
}

func (p *partition) DownloadModel(ctx context.Context, sha string, w io.Writer) (int64, error) {
	if p.cut.Load() {
		return 0, errCut
	}
	return p.Coordinator.DownloadModel(ctx, sha, w)
}

// TestPartitionedHolderStopsAfterTheHeal: a worker cut off mid-print
// loses its lease; the copy is printed elsewhere; after the heal its next
// progress report is answered cancel (superseded) and it runs the safe
// cancel at once: its virtual printer's record ends with the cancel
// sequence, short of the job's last command. Before, the old holder got
// a stale epoch and printed on to the end, a second copy.
func TestPartitionedHolderStopsAfterTheHeal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	g := newGrid(t, 1)
	// a prints a larger part ten times slower than b, so the requeue,
	// b's print and the heal all happen while a still prints, past its
	// heat-up (a heating wait ends before any cancel can act).
	a := g.addWorkerAt("a", "ender3", "PLA", 10)
	b := g.addWorker("b", "ender3", "PLA")
	link := &partition{}
	a.run(func(c worker.Coordinator) worker.Coordinator { link.Coordinator = c; return link })
	o := g.submit(coordinatortest.CubeSTL(20, 20, 10), 1, "PLA")
	job := waitPrinting(t, a)
	link.cut.Store(true)
	b.run(nil)
	o = g.waitOrder(o.ID, lostAfter+60*time.Second)
	if got := b.successes(); len(got) != 1 || got[0] != job {
		t.Fatalf("b printed %v, want %s", got, job)
	}
	if !a.printing() {
		t.Fatal("a's print ended during the partition; the test part is too short for the heal to matter")
	}
	healed := time.Now()
	link.cut.Store(false)
	// One report interval is 200 ms; allow the report in flight its
	// retries and the moves already in the firmware's planner, but far
	// less than what is left of a's print.
	coordinatortest.WaitFor(t, 5*time.Second, "a to stop its superseded print", func() bool { return !a.printing() })
	t.Logf("a stopped %v after the heal", time.Since(healed).Round(time.Millisecond))

	a.mu.Lock()
	last := a.prints[len(a.prints)-1]
	a.mu.Unlock()
	if !errors.Is(last.err, printerdrv.ErrCancelled) {
		t.Fatalf("a's print ended with %v, want a cancel", last.err)
	}
	rec := a.jobCommands()
	if len(rec) >= len(last.commands)+len(printerdrv.CancelSequence) {
		t.Fatalf("a's printer ran %d commands: the whole job (%d) and more", len(rec), len(last.commands))
	}
	tail := rec[len(rec)-len(printerdrv.CancelSequence):]
	for i, c := range printerdrv.CancelSequence {
		if !strings.HasPrefix(tail[i], strings.Fields(c)[0]) {
			t.Fatalf("a's printer record ends %q, want the cancel sequence %q", tail, printerdrv.CancelSequence)
		}
	}
	if slices.Contains(a.successes(), job) {
		t.Fatal("a finished the superseded print")
	}
	// a reports the copy superseded, which frees its printer; the copy
	// stays counted once, b's.
	coordinatortest.WaitFor(t, 10*time.Second, "a's printer freed", func() bool {
		var ws api.Workers
		code, _, err := g.hc.Do("GET", g.leaderURL()+"/v1/workers", g.cl.AdminToken, nil, &ws)
		if err != nil || code != 200 {
			return false
		}
		for _, w := range ws.Workers {
			if w.ID == a.id() {
				return w.Job == ""
			}
		}
		return false
	})
	o, _ = g.order(o.ID)
	g.printedOnce(o)
	b.checkRecord(t)
}

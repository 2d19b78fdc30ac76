package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/gossip"
	"github.com/fabgrid/fabgrid/localgrid"
	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/printerdrv/vprinter"
	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/worker"
)

// Timings of the test grid.
const (
	lostAfter = 3 * time.Second
	heartbeat = 300 * time.Millisecond
	// speed is the virtual printers' time acceleration: the test part
	// (about 90 s of printing and heating at 1×) takes about a second.
	speed = 100
)

var gossipKey = []byte("fabgrid-e2e-key-0123456789abcdef")

func logger() *slog.Logger {
	if os.Getenv("E2E_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.DiscardHandler)
}

// grid is a running cluster of coordinators with gossip and workers.
type grid struct {
	t       testing.TB
	cl      *coordinatortest.Cluster
	gossip  []*gossip.Coordinator // the coordinators' gossip nodes
	joins   []string              // and their addresses
	hc      *coordinatortest.Client
	comm    string // community token
	workers []*gridWorker
}

func newGrid(t testing.TB, coordinators int) *grid {
	t.Helper()
	cl := coordinatortest.Start(t, coordinators, coordinatortest.Options{Configure: func(i int, cfg *coordinator.Config) {
		cfg.LostAfter = lostAfter
		cfg.HeartbeatInterval = heartbeat
	}, Gossip: func(int) gossip.Config {
		return gossip.Config{BindAddr: "127.0.0.1:0", Key: gossipKey, Logger: logger()}
	}})
	g := &grid{t: t, cl: cl, hc: coordinatortest.DefaultClient, joins: cl.GossipAddrs()}
	for i := range cl.Nodes {
		g.gossip = append(g.gossip, cl.Gossip(i))
	}
	t.Cleanup(func() {
		for _, w := range g.workers {
			w.stop()
		}
	})
	leader := cl.WaitLeader(10 * time.Second)
	var comm api.CommunityCreated
	code, body, err := g.hc.Do("POST", leader.URL()+"/v1/communities", cl.AdminToken, api.CommunityRequest{Name: "makers"}, &comm)
	if err != nil || code != 201 {
		t.Fatalf("create community: %d %s %v", code, body, err)
	}
	g.comm = comm.Token
	return g
}

// urls lists every coordinator URL, as a worker's --coordinator would.
func (g *grid) urls() []string { return g.cl.URLs() }

// leaderURL is the current leader's URL.
func (g *grid) leaderURL() string { return g.cl.WaitLeader(10 * time.Second).URL() }

// gridWorker is one printer: a virtual printer on a pty and its worker.
type gridWorker struct {
	g        *grid
	name     string
	prof     profile.Printer
	mat      profile.Material
	token    string
	v        *localgrid.PTYPrinter
	stateDir string

	mu     sync.Mutex
	w      *localgrid.Worker
	pr     *worker.MarlinPrinter
	prints []printed // every Print call, in order
	start  chan string
}

// printed is one Print call as the worker made it.
type printed struct {
	job      string
	commands []string // the prepared commands (what the printer must run)
	err      error
	ended    bool
}

func (g *grid) addWorker(name, prof, material string) *gridWorker {
	g.t.Helper()
	return g.addWorkerAt(name, prof, material, speed)
}

// addWorkerAt adds a printer whose virtual printer runs at speed x.
func (g *grid) addWorkerAt(name, prof, material string, x float64) *gridWorker {
	g.t.Helper()
	p, err := profile.LookupPrinter(prof)
	if err != nil {
		g.t.Fatal(err)
	}
	m, err := profile.LookupMaterial(material)
	if err != nil {
		g.t.Fatal(err)
	}
	gw := &gridWorker{g: g, name: name, prof: p, mat: m, token: g.cl.WorkerToken, stateDir: g.t.TempDir(),
		start: make(chan string, 16)}
	if gw.v, err = localgrid.StartPTYPrinter(vprinter.VirtualConfig{Printer: p, Speed: x}); err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { gw.v.Close() })
	g.workers = append(g.workers, gw)
	return gw
}

// run starts (or restarts) the worker process; coord, if not nil, wraps
// the client.
func (gw *gridWorker) run(wrap func(worker.Coordinator) worker.Coordinator) {
	t := gw.g.t
	t.Helper()
	cl, err := client.New(gw.g.urls(), client.Options{Token: gw.token, Attempts: 4, BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Timeout: 3 * time.Second,
		TLS: coordinatortest.ClientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	var coord worker.Coordinator = cl
	if wrap != nil {
		coord = wrap(cl)
	}
	pr := worker.NewMarlinPrinter(gw.v.Path, 0, gw.prof, printerdrv.Options{StartWait: 200 * time.Millisecond}, logger())
	gw.mu.Lock()
	gw.pr = pr
	gw.mu.Unlock()
	w, err := localgrid.StartWorker(context.Background(), worker.Config{
		Name: gw.name, Printer: gw.prof, Material: gw.mat, StateDir: gw.stateDir, AutoClear: true,
		GossipBind: "127.0.0.1:0", GossipKey: gossipKey, Join: gw.g.joins,
		ProgressEvery: 200 * time.Millisecond, PollWait: 2 * time.Second, ShutdownGrace: 5 * time.Second,
		Logger: logger().With("worker", gw.name),
	}, coord, (*recPrinter)(gw), worker.LocalSlicer{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	gw.mu.Lock()
	gw.w = w
	gw.mu.Unlock()
}

// kill crashes the worker: no safe cancel, no report, link closed.
func (gw *gridWorker) kill() {
	gw.mu.Lock()
	w, pr := gw.w, gw.pr
	gw.w = nil
	gw.mu.Unlock()
	if w == nil {
		return
	}
	w.Kill()
	pr.Close()
}

// stop stops the worker cleanly (Ctrl-C).
func (gw *gridWorker) stop() {
	gw.mu.Lock()
	w, pr := gw.w, gw.pr
	gw.w = nil
	gw.mu.Unlock()
	if w == nil {
		return
	}
	w.Cancel()
	select {
	case <-w.Done():
	case <-time.After(20 * time.Second):
		gw.g.t.Errorf("worker %s did not stop", gw.name)
	}
	pr.Close()
}

func (gw *gridWorker) id() string {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	if gw.w == nil {
		return ""
	}
	return gw.w.ID()
}

// recPrinter records every job handed to the printer, then prints it.
type recPrinter gridWorker

var _ worker.Printer = (*recPrinter)(nil)

func (r *recPrinter) Print(ctx context.Context, name string, gcode []string, progress func(worker.PrintProgress)) error {
	gw := (*gridWorker)(r)
	prep, err := printerdrv.Prepare(printerdrv.Job{Name: name, Lines: gcode, Printer: gw.prof})
	if err != nil {
		return err
	}
	gw.mu.Lock()
	i := len(gw.prints)
	gw.prints = append(gw.prints, printed{job: name, commands: prep.Commands})
	pr := gw.pr
	gw.mu.Unlock()
	select {
	case gw.start <- name:
	default:
	}
	err = pr.Print(ctx, name, gcode, progress)
	gw.mu.Lock()
	gw.prints[i].err, gw.prints[i].ended = err, true
	gw.mu.Unlock()
	return err
}

func (r *recPrinter) cur() *worker.MarlinPrinter {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pr
}
func (r *recPrinter) Pause() error  { return r.cur().Pause() }
func (r *recPrinter) Resume() error { return r.cur().Resume() }
func (r *recPrinter) Cancel() error { return r.cur().Cancel() }

// printing reports whether a print is in progress.
func (gw *gridWorker) printing() bool {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	return len(gw.prints) > 0 && !gw.prints[len(gw.prints)-1].ended
}

// successes returns the jobs this printer finished.
func (gw *gridWorker) successes() []string {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	var out []string
	for _, p := range gw.prints {
		if p.ended && p.err == nil {
			out = append(out, p.job)
		}
	}
	return out
}

// jobCommands is what the virtual printer executed, without the commands
// the host adds itself.
func (gw *gridWorker) jobCommands() []string {
	var out []string
	for _, c := range gw.v.Record().Commands {
		switch strings.Fields(c)[0] {
		case "M110", "M115", "M155", "M105":
			continue
		}
		out = append(out, c)
	}
	return out
}

// checkRecord proves, from the virtual printer's record, that this printer
// ran exactly the commands of the jobs it printed successfully, each once,
// in order (only for printers that never had a print cut short).
func (gw *gridWorker) checkRecord(t testing.TB) {
	t.Helper()
	gw.mu.Lock()
	var want []string
	for _, p := range gw.prints {
		if !p.ended || p.err != nil {
			gw.mu.Unlock()
			t.Fatalf("%s: a print of %s did not finish cleanly: %v", gw.name, p.job, p.err)
		}
		want = append(want, p.commands...)
	}
	gw.mu.Unlock()
	if got := gw.jobCommands(); !slices.Equal(got, want) {
		t.Fatalf("%s: the printer executed %d commands, its %d jobs have %d", gw.name, len(got), len(gw.successes()), len(want))
	}
}

// submit submits an order and returns it.
func (g *grid) submit(model []byte, qty int, material string) api.Order {
	g.t.Helper()
	var o api.Order
	code, body, err := g.hc.SubmitOrder(g.leaderURL(), g.comm, model, &o, "quantity", fmt.Sprint(qty), "material", material)
	if err != nil || code != 201 {
		g.t.Fatalf("submit: %d %s %v", code, body, err)
	}
	return o
}

// order reads an order from any live coordinator.
func (g *grid) order(id string) (api.Order, bool) {
	for _, u := range g.urls() {
		var o api.Order
		code, _, err := g.hc.Do("GET", u+"/v1/orders/"+id+"?consistent=leader", g.comm, nil, &o)
		if err == nil && code == 200 {
			return o, true
		}
	}
	return api.Order{}, false
}

func (g *grid) waitOrder(id string, timeout time.Duration) api.Order {
	g.t.Helper()
	var o api.Order
	coordinatortest.WaitFor(g.t, timeout, "order "+id+" done", func() bool {
		var ok bool
		o, ok = g.order(id)
		if ok && (o.State == api.OrderFailed || o.State == api.OrderCancelled) {
			g.t.Fatalf("order %s ended %s: %+v", id, o.State, o.Jobs)
		}
		return ok && o.State == api.OrderDone
	})
	return o
}

// printedOnce checks that every job of the order was printed successfully
// exactly once across the printers, and nothing else was.
func (g *grid) printedOnce(o api.Order) {
	g.t.Helper()
	count := map[string]int{}
	for _, w := range g.workers {
		for _, j := range w.successes() {
			count[j]++
		}
	}
	if len(o.Jobs) != o.Quantity || o.JobsDone != o.Quantity {
		g.t.Fatalf("order has %d jobs, %d done, quantity %d", len(o.Jobs), o.JobsDone, o.Quantity)
	}
	for _, j := range o.Jobs {
		if j.State != api.JobDone || count[j.ID] != 1 {
			g.t.Fatalf("job %s is %s and was printed %d times", j.ID, j.State, count[j.ID])
		}
		delete(count, j.ID)
	}
	if len(count) > 0 {
		g.t.Fatalf("printed jobs outside the order: %v", count)
	}
}

var _ = io.Discard

package sim

import (
	"context"
	"errors"
	"fmt"
	"github.com/fabgrid/fabgrid/hours"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/localgrid"
	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/worker"
)

// ErrFleet is returned for a worker that cannot be started or controlled.
var ErrFleet = errors.New("sim: fleet")

// PrinterSpec is one simulated printer: its profile, loaded material and
// whether its owner has it eject parts (auto-clear) or clears by hand.
type PrinterSpec struct {
	ID        NodeID
	Profile   string
	Material  string
	Colour    string
	AutoClear bool
	// Virtual: a vprinter.Virtual Marlin emulator over an in-memory
	// link, fed G-code from the real slicer, instead of a SimPrinter.
	Virtual bool
	// Zone is the owner's IANA time zone ("" is UTC) and Hours the
	// owner's daily window in it ("08:00-22:00"; "" is any time).
	Zone, Hours string
}

// FleetConfig configures the workers.
type FleetConfig struct {
	// SpeedUp: a simulated print runs this many times faster than its
	// estimate.
	SpeedUp float64
	// Dir holds every worker's state dir.
	Dir string
	// HandClearing: nobody plays the hand-clearing owners; beds wait for
	// Sim.ClearBed.
	HandClearing bool
	// Period is how often workers heartbeat and report progress (default
	// 300 ms).
	Period time.Duration
	// OwnerClearAfter is how long a hand-clearing owner takes to clear the
	// bed (real time, default 200 ms).
	OwnerClearAfter time.Duration
	// Logger for the workers (default: discard).
	Logger *slog.Logger
	// gossip, if set, gives every worker a node in the pool.
	gossip *simGossip
}

// Fleet is the set of simulated printers, each driven by a real
// worker.Worker over the fault network.
type Fleet struct {
	cfg    FleetConfig
	net    *faultNet
	urls   []string
	token  string
	slicer *CachedSlicer
	// realSlicer slices with package slicer, once per model and kind.
	realSlicer *CachedSlicer
	mu         sync.Mutex
	workers    map[NodeID]*simWorker
	order      []NodeID
}

type simWorker struct {
	spec    PrinterSpec
	slicer  worker.Slicer
	conf    worker.Config
	printer fleetPrinter
	w       *localgrid.Worker
	// crashes counts the crashes; crashedDuring lists the jobs printing
	// when one happened.
	crashes       int
	crashedDuring map[string]bool
	running       bool
	// sentAtStart is the worker's request count when it was (re)started:
	// once it has made a request, its Run is under way and its owner
	// controls may be used (see ready).
	sentAtStart int
	// gossipAddr is the running worker's gossip address ("" = none).
	gossipAddr string
}

func newFleet(cfg FleetConfig, fn *faultNet, urls []string, token string) *Fleet {
	if cfg.OwnerClearAfter <= 0 {
		cfg.OwnerClearAfter = 200 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Period <= 0 {
		cfg.Period = 300 * time.Millisecond
	}
	return &Fleet{cfg: cfg, net: fn, urls: urls, token: token, slicer: NewCachedSlicer(nil),
		realSlicer: NewCachedSlicer(worker.LocalSlicer{Workers: 1}), workers: map[NodeID]*simWorker{}}
}

// add creates and starts a worker for spec.
func (f *Fleet) add(spec PrinterSpec) error {
	pp, err := profile.LookupPrinter(spec.Profile)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrFleet, spec.ID, err)
	}
	mat, err := profile.LookupMaterial(spec.Material)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrFleet, spec.ID, err)
	}
	zone, err := hours.LoadZone(spec.Zone)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrFleet, spec.ID, err)
	}
	window, err := hours.Parse(spec.Hours, zone)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrFleet, spec.ID, err)
	}
	var pr fleetPrinter = NewSimPrinter(spec.ID, f.cfg.SpeedUp)
	var sl worker.Slicer = f.slicer
	if spec.Virtual {
		pr, sl = NewVirtualPrinter(spec.ID, pp, f.cfg.SpeedUp), f.realSlicer
	}
	sw := &simWorker{
		spec: spec, printer: pr, slicer: sl, crashedDuring: map[string]bool{},
		conf: worker.Config{
			Name: string(spec.ID), Printer: pp, Material: mat, Colour: spec.Colour,
			StateDir: filepath.Join(f.cfg.Dir, string(spec.ID)), AutoClear: spec.AutoClear,
			ProgressEvery: f.cfg.Period, PollWait: max(time.Second, 3*f.cfg.Period), HeartbeatEvery: f.cfg.Period,
			ShutdownGrace: 300 * time.Millisecond, Location: zone, Hours: window,
			Logger: f.cfg.Logger.With("printer", string(spec.ID)),
		},
	}
	f.mu.Lock()
	f.workers[spec.ID] = sw
	f.order = append(f.order, spec.ID)
	f.mu.Unlock()
	return f.start(sw)
}

func (f *Fleet) start(sw *simWorker) error {
	cl, err := client.New(f.urls, client.Options{
		Token: f.token, HTTPClient: f.net.client(sw.spec.ID), Timeout: 2 * time.Second,
		Attempts: 4, BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
	})
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrFleet, sw.spec.ID, err)
	}
	conf := sw.conf
	gossipAddr := ""
	if g := f.cfg.gossip; g != nil {
		t := g.transport(sw.spec.ID)
		conf.GossipTransport, conf.Join, conf.GossipRejoinEvery = t, g.coordinators(), 3*time.Second
		gossipAddr = t.Addr()
	}
	// Its request count now: once it has made a request, its Run is under
	// way (see ready).
	f.mu.Lock()
	sw.sentAtStart = f.net.sentBy(sw.spec.ID)
	f.mu.Unlock()
	f.net.setDown(sw.spec.ID, false)
	w, err := localgrid.StartWorker(context.Background(), conf, cl, sw.printer, sw.slicer)
	if err != nil {
		f.net.setDown(sw.spec.ID, true)
		return fmt.Errorf("%w: %s: %w", ErrFleet, sw.spec.ID, err)
	}
	f.mu.Lock()
	sw.w, sw.running, sw.gossipAddr = w, true, gossipAddr
	f.mu.Unlock()
	return nil
}

func (f *Fleet) get(id NodeID) (*simWorker, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sw := f.workers[id]
	if sw == nil {
		return nil, fmt.Errorf("%w: no printer %s", ErrFleet, id)
	}
	return sw, nil
}

// crash stops a worker as a crash would: its network goes first (nothing
// it says on the way down reaches anyone), then its print, then the
// process. Its state dir stays.
func (f *Fleet) crash(id NodeID) error {
	sw, err := f.get(id)
	if err != nil {
		return err
	}
	f.mu.Lock()
	if !sw.running {
		f.mu.Unlock()
		return fmt.Errorf("%w: %s is not running", ErrFleet, id)
	}
	sw.running = false
	sw.crashes++
	if j := sw.printer.Printing(); j != "" {
		sw.crashedDuring[j] = true
	}
	// A print that just ended may not have been reported yet either.
	if recs := sw.printer.Records(); len(recs) > 0 {
		sw.crashedDuring[recs[len(recs)-1].Job] = true
	}
	w, gossipAddr := sw.w, sw.gossipAddr
	f.mu.Unlock()
	// Nothing the worker does after this instant survives: its network is
	// gone, and its state file is put back as it was now once the
	// in-process worker has wound down (a real crash writes nothing more).
	stateFile := filepath.Join(sw.conf.StateDir, "worker-state.json")
	saved, readErr := os.ReadFile(stateFile)
	f.net.setDown(id, true)
	if gossipAddr != "" {
		f.cfg.gossip.crash(gossipAddr) // no leave: a crash
	}
	w.Cancel()
	sw.printer.kill()
	<-w.Done()
	switch {
	case readErr == nil:
		if err := os.WriteFile(stateFile, saved, 0o600); err != nil {
			return fmt.Errorf("%w: %s: restore state file: %w", ErrFleet, id, err)
		}
	case errors.Is(readErr, os.ErrNotExist):
		os.Remove(stateFile)
	}
	return nil
}

// restart starts a crashed worker again from its state dir.
func (f *Fleet) restart(id NodeID) error {
	sw, err := f.get(id)
	if err != nil {
		return err
	}
	f.mu.Lock()
	running := sw.running
	f.mu.Unlock()
	if running {
		return fmt.Errorf("%w: %s is running", ErrFleet, id)
	}
	return f.start(sw)
}

// command sends an owner command (pause, resume, clear).
func (f *Fleet) command(ctx context.Context, id NodeID, cmd string) error {
	sw, err := f.get(id)
	if err != nil {
		return err
	}
	f.mu.Lock()
	w, running := sw.w, sw.running
	f.mu.Unlock()
	if !running {
		return fmt.Errorf("%w: %s is not running", ErrFleet, id)
	}
	for !f.ready(sw) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := w.Command(cctx, cmd); err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrFleet, id, cmd, err)
	}
	return nil
}

// ready reports whether the worker's Run has started: worker.Worker's
// Status and Command must not be called before (they read state Run sets
// up). A request through the fault network, made by a goroutine Run
// starts, is the happens-before edge.
func (f *Fleet) ready(sw *simWorker) bool {
	f.mu.Lock()
	at := sw.sentAtStart
	f.mu.Unlock()
	return f.net.sentBy(sw.spec.ID) > at
}

// ownerLoop plays the owners of hand-clearing printers: a finished part
// is taken off the bed OwnerClearAfter after the printer asks.
func (f *Fleet) ownerLoop(ctx context.Context) {
	waiting := map[NodeID]time.Time{}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, id := range f.IDs() {
			sw, _ := f.get(id)
			f.mu.Lock()
			w, running, auto := sw.w, sw.running, sw.spec.AutoClear
			f.mu.Unlock()
			if !running || auto || !f.ready(sw) {
				continue
			}
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			st, err := w.Status(sctx)
			cancel()
			if err != nil || !st.AwaitingBedClear || st.Phase != worker.PhaseAwaitingBedClear {
				delete(waiting, id)
				continue
			}
			since, ok := waiting[id]
			if !ok {
				waiting[id] = time.Now()
				continue
			}
			if time.Since(since) >= f.cfg.OwnerClearAfter {
				_ = f.command(ctx, id, worker.CmdClear)
				delete(waiting, id)
			}
		}
	}
}

// IDs returns the printers in the order they were added.
func (f *Fleet) IDs() []NodeID {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]NodeID(nil), f.order...)
}

// Running reports whether the printer's worker runs.
func (f *Fleet) Running(id NodeID) bool {
	sw, err := f.get(id)
	if err != nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return sw.running
}

// Printer returns the printer of id.
func (f *Fleet) Printer(id NodeID) fleetPrinter {
	sw, err := f.get(id)
	if err != nil {
		return nil
	}
	return sw.printer
}

// WorkerID returns the coordinator-side id of printer id's worker.
func (f *Fleet) WorkerID(id NodeID) string {
	sw, err := f.get(id)
	if err != nil {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if sw.w == nil {
		return ""
	}
	return sw.w.ID()
}

// stop stops every running worker (gracefully: they have ShutdownGrace).
func (f *Fleet) stop() {
	var wg sync.WaitGroup
	for _, id := range f.IDs() {
		sw, _ := f.get(id)
		f.mu.Lock()
		running, w := sw.running, sw.w
		sw.running = false
		f.mu.Unlock()
		if running {
			wg.Add(1)
			go func() { defer wg.Done(); w.Stop() }()
		}
	}
	wg.Wait()
}

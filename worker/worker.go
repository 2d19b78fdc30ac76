package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
)

// Worker is the daemon: the driver of a Machine. Create it with New and
// call Run once.
type Worker struct {
	cfg     Config
	coord   Coordinator
	printer Printer
	slicer  Slicer
	store   *Store
	log     *slog.Logger
	id      string

	// Owned by the loop goroutine.
	m       *Machine
	jobs    map[string]*jobRes
	restore Persisted

	events chan func()
	// Published by the loop for the other goroutines.
	state     atomic.Value // string: the coordinator-visible state
	wantWork  atomic.Bool
	stateKick chan struct{} // state changed: heartbeat now
	workKick  chan struct{} // the machine wants work
	gossip    *gossipLink
	out       *outbox
	sess      *session

	ctlAddr atomic.Value // string: where the owner controls listen

	runCtx   context.Context // lives until Run returns; I/O of jobs uses it
	started  chan struct{}   // closed once Run has set runCtx, out and sess
	killed   chan struct{}
	killOnce sync.Once
	wg       sync.WaitGroup
}

// New checks the configuration, loads (or creates) the state directory and
// returns a worker ready to Run.
func New(cfg Config, coord Coordinator, pr Printer, sl Slicer) (*Worker, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if coord == nil || pr == nil || sl == nil {
		return nil, fmt.Errorf("%w: coordinator, printer and slicer are required", ErrConfig)
	}
	st, err := OpenStore(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	p, err := st.Load()
	if err != nil {
		return nil, err
	}
	w := &Worker{
		cfg: cfg, coord: coord, printer: pr, slicer: sl, store: st, log: cfg.Logger.With("worker", p.WorkerID), id: p.WorkerID,
		jobs:   map[string]*jobRes{},
		events: make(chan func(), 64), started: make(chan struct{}), stateKick: make(chan struct{}, 1), workKick: make(chan struct{}, 1),
		killed: make(chan struct{}),
	}
	w.m = NewMachine(MachineConfig{
		WorkerID:      p.WorkerID,
		AutoClear:     cfg.AutoClear,
		ProgressEvery: cfg.ProgressEvery, StallAfter: cfg.StallAfter,
		Policy: Policy{
			Material: cfg.Material.ID, Colour: cfg.Colour, Hours: cfg.Hours, MaxJobHours: cfg.MaxJobHours,
			BuildMM: [3]float64{cfg.Printer.BuildVolume.X, cfg.Printer.BuildVolume.Y, cfg.Printer.BuildVolume.Z},
		},
	})
	w.restore = p
	return w, nil
}

// Kill makes Run return at once, as if the process died: no safe cancel,
// no result, no gossip leave, the state file left as it is. Tests and
// simulations use it to crash a worker; a daemon stops with its context.
func (w *Worker) Kill() { w.killOnce.Do(func() { close(w.killed) }) }

// ControlAddr is where the owner controls listen, once Run started them.
func (w *Worker) ControlAddr() string {
	a, _ := w.ctlAddr.Load().(string)
	return a
}

// ID is the worker's persistent id.
func (w *Worker) ID() string { return w.id }

// Run runs the daemon until ctx ends. Then it stops cleanly: a print in
// progress gets the safe cancel sequence and is reported failed ("owner
// abort: worker stopped"); results not delivered within ShutdownGrace stay
// in the state file and are delivered at the next start.
func (w *Worker) Run(ctx context.Context) error {
	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()
	ctx, cancelCtx := context.WithCancel(ctx) // also ended by Kill
	defer cancelCtx()
	w.runCtx = runCtx
	w.out = newOutbox(w)
	w.sess = newSession(w)
	close(w.started)

	if len(w.cfg.Join) > 0 {
		g, err := startGossip(w)
		if err != nil {
			return err
		}
		w.gossip = g
	}

	// The first step: report a job the previous run left in flight.
	w.apply(w.m.Restore(w.restore))
	w.publish()

	w.goRun(func() { w.out.run(runCtx) })
	w.goRun(func() { w.sess.heartbeats(ctx) })
	w.goRun(func() { w.sess.poll(ctx) })
	if g := w.gossip; g != nil {
		w.goRun(func() { g.run(ctx) })
	}
	var ctl *controlServer
	if w.cfg.Control != "" {
		var err error
		if ctl, err = startControl(w, w.cfg.Control); err != nil {
			cancelRun()
			w.wg.Wait()
			return err
		}
		w.ctlAddr.Store(ctl.Addr())
		w.log.Info("owner controls listening", "addr", ctl.Addr())
	}
	w.log.Info("worker started", "name", w.cfg.Name, "profile", w.cfg.Printer.ID, "material", w.cfg.Material.ID, "state", w.m.State())

	tick := time.NewTicker(w.tickEvery())
	defer tick.Stop()
	if !w.loop(ctx, tick.C) {
		// Killed: stop as a crash would, reporting nothing.
		w.log.Warn("worker killed")
		cancelCtx()
		if ctl != nil {
			ctl.close()
		}
		cancelRun()
		w.wg.Wait()
		if w.gossip != nil {
			_ = w.gossip.node.Close()
		}
		return nil
	}

	// Shutting down: stop the job safely, then let results drain.
	w.log.Info("worker stopping", "phase", w.m.Phase())
	w.apply(w.m.Shutdown(w.now()))
	w.publish()
	grace := time.NewTimer(w.cfg.ShutdownGrace)
	defer grace.Stop()
	for w.m.Busy() || w.m.Undelivered() || !w.out.empty() {
		select {
		case f := <-w.events:
			f()
			w.publish()
		case <-tick.C:
			w.apply(w.m.Tick(w.now()))
		case <-w.killed:
			goto done
		case <-grace.C:
			w.log.Warn("stopping before the job ended or its result was delivered; it will be reported at the next start",
				"phase", w.m.Phase())
			goto done
		}
	}
done:
	if ctl != nil {
		ctl.close()
	}
	cancelRun()
	w.wg.Wait()
	if w.gossip != nil {
		w.gossip.close()
	}
	w.log.Info("worker stopped")
	return nil
}

func (w *Worker) tickEvery() time.Duration {
	d := w.cfg.ProgressEvery / 4
	return max(min(d, time.Second), 20*time.Millisecond)
}

func (w *Worker) now() time.Time { return w.cfg.Now() }

func (w *Worker) goRun(f func()) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		f()
	}()
}

// loop runs the machine until ctx ends (true) or Kill (false).
func (w *Worker) loop(ctx context.Context, tick <-chan time.Time) bool {
	for {
		select {
		case <-ctx.Done():
			select {
			case <-w.killed: // Kill wins over a stop at the same time
				return false
			default:
				return true
			}
		case <-w.killed:
			return false
		case f := <-w.events:
			f()
		case <-tick:
			w.apply(w.m.Tick(w.now()))
		}
		w.publish()
	}
}

// post runs f on the loop goroutine; it gives up when the worker stops.
func (w *Worker) post(f func()) bool {
	select {
	case w.events <- f:
		return true
	case <-w.runCtx.Done():
		return false
	}
}

// call runs f on the loop and waits for it; before Run has started it
// waits for that too.
func (w *Worker) call(ctx context.Context, f func()) error {
	select {
	case <-w.started:
	case <-ctx.Done():
		return ctx.Err()
	}
	done := make(chan struct{})
	if !w.post(func() { f(); close(done) }) {
		return errors.New("worker: stopped")
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-w.runCtx.Done():
		return errors.New("worker: stopped")
	}
}

// publish shares the machine's state with the other goroutines.
func (w *Worker) publish() {
	st := w.m.State()
	if old, _ := w.state.Load().(string); old != st {
		w.state.Store(st)
		kick(w.stateKick)
		if w.gossip != nil {
			w.gossip.kick()
		}
	}
	want := w.m.WantsWork()
	w.wantWork.Store(want)
	if want {
		kick(w.workKick)
	}
}

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// apply carries out the machine's actions. It runs on the loop goroutine;
// everything slow is started on a goroutine that posts its completion back.
func (w *Worker) apply(acts []Action) {
	for _, a := range acts {
		switch a := a.(type) {
		case ActPersist:
			if err := w.store.Save(a.State); err != nil {
				w.log.Error("cannot persist state", "err", err)
			}
		case ActFetch:
			w.startFetch(a.A)
		case ActSlice:
			w.startSlice(a.A)
		case ActPrint:
			w.startPrint(a.A)
		case ActCancelWork:
			if r := w.jobs[a.JobID]; r != nil {
				r.cancel()
			}
		case ActCancelPrint:
			w.log.Warn("cancelling print", "job", a.JobID, "reason", a.Reason)
			w.goRun(func() {
				if err := w.printer.Cancel(); err != nil {
					w.log.Error("printer cancel failed", "err", err)
				}
			})
		case ActPausePrint:
			w.goRun(func() {
				if err := w.printer.Pause(); err != nil {
					w.log.Error("printer pause failed", "err", err)
				}
			})
		case ActResumePrint:
			w.goRun(func() {
				if err := w.printer.Resume(); err != nil {
					w.log.Error("printer resume failed", "err", err)
				}
			})
		case ActReportProgress:
			w.startReport(a)
		case ActReportResult:
			w.log.Info("job ended", "job", a.JobID, "outcome", a.Req.Outcome, "reason", a.Req.Reason)
			w.out.push(delivery{jobID: a.JobID, result: &a.Req})
		case ActBedClear:
			w.out.push(delivery{bedClear: true})
		default:
			panic(fmt.Sprintf("worker: unknown action %T", a))
		}
	}
}

// jobRes is what the driver holds for the job in progress.
type jobRes struct {
	ctx    context.Context // cancelled by ActCancelWork and when the job ends
	cancel context.CancelFunc
	model  []byte
	gcode  []string
}

func (w *Worker) res(jobID string) *jobRes {
	r := w.jobs[jobID]
	if r == nil {
		ctx, cancel := context.WithCancel(w.runCtx)
		r = &jobRes{ctx: ctx, cancel: cancel}
		w.jobs[jobID] = r
	}
	return r
}

// finishStep applies acts and drops the job's resources once it ended.
func (w *Worker) finishStep(jobID string, acts []Action) {
	w.apply(acts)
	if w.m.JobID() != jobID {
		if r := w.jobs[jobID]; r != nil {
			r.cancel()
			delete(w.jobs, jobID)
		}
	}
}

// maxPrealloc bounds the download buffer made ahead from an assignment's
// model size (the coordinators refuse bigger models long before).
const maxPrealloc = 1 << 30

func (w *Worker) startFetch(a api.Assignment) {
	ctx := w.res(a.JobID).ctx
	w.log.Info("job assigned", "job", a.JobID, "epoch", a.Epoch, "model", short(a.ModelSHA256), "material", a.Material)
	w.goRun(func() {
		var buf bytes.Buffer
		if a.ModelSize > 0 && a.ModelSize <= maxPrealloc {
			// One buffer of the model's size: held while the model is
			// sliced, and no doubling copies while it downloads.
			buf.Grow(int(a.ModelSize))
		}
		_, err := w.coord.DownloadModel(ctx, a.ModelSHA256, &buf)
		if err == nil && a.ModelSize > 0 && int64(buf.Len()) != a.ModelSize {
			err = fmt.Errorf("got %d bytes, the assignment says %d", buf.Len(), a.ModelSize)
		}
		w.post(func() {
			if err == nil {
				w.res(a.JobID).model = buf.Bytes()
			}
			w.finishStep(a.JobID, w.m.Fetched(a.JobID, err, w.now()))
		})
	})
}

func (w *Worker) startSlice(a api.Assignment) {
	r := w.res(a.JobID)
	ctx, model := r.ctx, r.model
	// The slicer gets the only reference to the model, so the STL can be
	// collected once it is parsed rather than held while the layers are
	// sliced (the job fails, not retries, if slicing fails).
	r.model = nil
	big := len(model) >= bigModel
	take := func() []byte { m := model; model = nil; return m } // nothing else keeps it
	w.goRun(func() {
		start := time.Now()
		s, err := w.slicer.Slice(ctx, take(), w.cfg.Printer, w.cfg.Material, a.LayerHeight, a.Infill)
		if err == nil && len(s.GCode) == 0 {
			err = errors.New("slicer produced no G-code")
		}
		if big {
			// The model and the slicer's garbage are unreachable now:
			// give the memory back (see bigModel).
			go debug.FreeOSMemory()
		}
		w.post(func() {
			if err == nil {
				r.gcode = s.GCode
				w.log.Info("sliced", "job", a.JobID, "lines", len(s.GCode), "est", seconds(s.Info.EstSeconds).Round(time.Second),
					"layers", s.Info.Layers, "took", time.Since(start).Round(time.Millisecond))
			}
			w.finishStep(a.JobID, w.m.Sliced(a.JobID, s.Info, err, w.now()))
		})
	})
}

func (w *Worker) startPrint(a api.Assignment) {
	r := w.res(a.JobID)
	lines, ctx := r.gcode, r.ctx
	w.log.Info("printing", "job", a.JobID, "lines", len(lines))
	var (
		mu      sync.Mutex
		latest  PrintProgress
		pending bool
	)
	progress := func(p PrintProgress) {
		mu.Lock()
		latest = p
		post := !pending
		pending = true
		mu.Unlock()
		if post {
			w.post(func() {
				mu.Lock()
				p := latest
				pending = false
				mu.Unlock()
				w.apply(w.m.Progress(a.JobID, p, w.now()))
			})
		}
	}
	w.goRun(func() {
		err := w.printer.Print(ctx, a.JobID, lines, progress)
		w.post(func() { w.finishStep(a.JobID, w.m.PrintDone(a.JobID, err, w.now())) })
	})
}

func (w *Worker) startReport(a ActReportProgress) {
	w.goRun(func() {
		within := a.Within
		if within <= 0 {
			within = 30 * time.Second
		}
		ctx, cancel := context.WithTimeout(w.runCtx, within)
		defer cancel()
		resp, err := w.coord.ReportProgress(ctx, a.JobID, a.Req)
		stale := err != nil && (client.IsCode(err, api.CodeStaleEpoch) || client.IsCode(err, api.CodeNotFound))
		var answer api.ProgressResponse
		if resp != nil {
			answer = *resp
		}
		if err != nil && !stale {
			w.log.Warn("progress report failed; the print goes on", "job", a.JobID, "err", err)
		}
		if stale {
			w.log.Warn("lease lost", "job", a.JobID, "err", err)
		}
		if answer.Superseded {
			w.log.Warn("copy superseded; stopping", "job", a.JobID, "reason", answer.Reason)
		}
		w.post(func() { w.apply(w.m.ProgressAnswered(a.JobID, answer, stale, err, w.now())) })
	})
}

// Status returns the owner's view, with the connection details added.
func (w *Worker) Status(ctx context.Context) (Status, error) {
	var s Status
	if err := w.call(ctx, func() { s = w.m.Status() }); err != nil {
		// The loop may still run the closure later: s is not ours to read.
		return Status{}, err
	}
	s.Extra = map[string]any{
		"name": w.cfg.Name, "profile": w.cfg.Printer.ID, "material": w.cfg.Material.ID, "colour": w.cfg.Colour,
		"registered": w.sess.registered.Load(), "gossip": w.gossipState(),
	}
	if e := w.sess.registerError(); e != "" {
		s.Extra["register_error"] = e
	}
	return s, nil
}

// Command applies an owner command (CmdPause, CmdResume, CmdClear, CmdAbort).
func (w *Worker) Command(ctx context.Context, cmd string) (Status, error) {
	var cerr error
	if err := w.call(ctx, func() {
		var acts []Action
		acts, cerr = w.m.Owner(cmd, w.now())
		w.apply(acts)
		if cerr == nil {
			w.log.Info("owner command", "cmd", cmd, "phase", w.m.Phase())
		}
	}); err != nil {
		return Status{}, err
	}
	if cerr != nil {
		return Status{}, cerr
	}
	return w.Status(ctx)
}

func (w *Worker) gossipState() string {
	if w.gossip == nil {
		return api.GossipNotJoined
	}
	return w.gossip.state()
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// Faults is a scenario's fault load. Periods and durations are real time.
type Faults struct {
	// LeaderCrashEvery: the leader is killed this often (0 = never) and
	// restarted CoordinatorDowntime later (default 1 s).
	LeaderCrashEvery    time.Duration
	CoordinatorDowntime time.Duration
	// PartitionEvery: this often one coordinator (the leader every other
	// time) and a tenth of the printers are cut off from the rest for
	// PartitionFor (default 1.5 s).
	PartitionEvery time.Duration
	PartitionFor   time.Duration
	// WorkerChurn: this fraction of the printers' workers crash once and
	// come back 0.3–2.5 × lost-after later (some jobs are requeued, some
	// restarts report the interrupted job).
	WorkerChurn float64
	// PrinterFaults: this fraction of printers get a thermal runaway, a
	// disconnect or a noisy line.
	PrinterFaults float64
	// OwnerPauses: this fraction of printers are paused for 0.5–2 s.
	OwnerPauses float64
}

// Scenario is a whole simulated run.
type Scenario struct {
	Options
	Workload WorkloadConfig
	Faults   Faults
	// FaultWindow: faults start within this long of the first order
	// (default: the workload's window plus 2 s).
	FaultWindow time.Duration
	// SettleTimeout bounds the wait for every order to finish after the
	// faults stopped (default 3 min).
	SettleTimeout time.Duration
	// Progress, if set, receives a status line every ProgressEvery
	// (default 2 s).
	Progress      func(string)
	ProgressEvery time.Duration
}

// action is one scheduled step of a scenario.
type action struct {
	at    time.Duration
	order bool // orders share a pool of submitters; faults run freely
	do    func(ctx context.Context)
}

// Run runs the scenario: start, workload, faults, recovery, settle,
// invariants, report. The error is for a harness failure (a cluster that
// would not start); broken invariants are in the report (Report.OK).
func Run(ctx context.Context, sc Scenario) (Report, error) {
	if sc.SpeedUp <= 0 {
		sc.SpeedUp = 300
	}
	if len(sc.Communities) == 0 {
		sc.Communities = DefaultCommunities()
	}
	sc.Workload.Communities = sc.Communities
	if sc.Workload.Window <= 0 {
		sc.Workload.Window = 2*time.Second + time.Duration(sc.Workload.Orders)*10*time.Millisecond
	}
	if sc.FaultWindow <= 0 {
		sc.FaultWindow = sc.Workload.Window + 2*time.Second
	}
	if sc.SettleTimeout <= 0 {
		sc.SettleTimeout = 3 * time.Minute
	}
	if sc.ProgressEvery <= 0 {
		sc.ProgressEvery = 2 * time.Second
	}
	if sc.Faults.CoordinatorDowntime <= 0 {
		sc.Faults.CoordinatorDowntime = time.Second
	}
	if sc.Faults.PartitionFor <= 0 {
		sc.Faults.PartitionFor = 1500 * time.Millisecond
	}
	progress := sc.Progress
	if progress == nil {
		progress = func(string) {}
	}
	models := sc.Workload.Models
	if len(models) == 0 {
		models = DefaultModels()
		sc.Workload.Models = models
	}
	// Separate streams, so changing the fault load leaves the orders alone.
	orders := PlanWorkload(rand.New(rand.NewPCG(sc.Seed, 1)), sc.Workload)
	faultRNG := rand.New(rand.NewPCG(sc.Seed, 2))

	progress(fmt.Sprintf("starting %d coordinators and %d printers (seed %d)", sc.Coordinators, sc.Printers, sc.Seed))
	s, err := Start(ctx, sc.Options)
	if err != nil {
		return Report{Seed: sc.Seed}, err
	}
	defer s.Close()

	var (
		mu        sync.Mutex
		submitErr int
		cancels   int
	)
	plan := s.faultPlan(faultRNG, sc)
	for _, po := range orders {
		po := po
		plan = append(plan, action{at: po.At, order: true, do: func(ctx context.Context) {
			id, err := s.Submit(ctx, models[po.Model%len(models)], po)
			if err != nil {
				mu.Lock()
				submitErr++
				mu.Unlock()
				return
			}
			if po.CancelAfter > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(po.CancelAfter):
				}
				if s.Cancel(ctx, po.Community, id) == nil {
					mu.Lock()
					cancels++
					mu.Unlock()
				}
			}
		}})
	}
	sort.SliceStable(plan, func(i, j int) bool { return plan[i].at < plan[j].at })

	first := time.Now()
	s.mu.Lock()
	s.started = first
	s.mu.Unlock()
	stopProgress := s.progressLoop(ctx, sc.ProgressEvery, len(orders), progress)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, a := range plan {
		if d := time.Until(first.Add(a.at)); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		if a.order {
			sem <- struct{}{}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a.order {
				defer func() { <-sem }()
			}
			a.do(ctx)
		}()
	}
	wg.Wait()
	progress("faults over: healing, restarting what is down, waiting for every order to finish")
	if err := s.RecoverAll(); err != nil {
		progress("recovery: " + err.Error())
	}
	settleErr := s.WaitSettled(ctx, sc.SettleTimeout)
	last := time.Now()
	if settleErr != nil {
		progress(settleErr.Error())
	}
	// Let every coordinator catch up before comparing them.
	_ = s.Cluster.waitFor(ctx, 20*time.Second, "every coordinator to catch up", s.Cluster.converged)
	stopProgress()
	rep := s.report(sc.Seed, len(orders), first, last)
	rep.SubmitErrors, rep.Cancelled = submitErr, cancels
	rep.finish(s.Check())
	return rep, nil
}

// faultPlan draws the scenario's faults.
func (s *Sim) faultPlan(rng *rand.Rand, sc Scenario) []action {
	var plan []action
	f := sc.Faults
	window := sc.FaultWindow
	jitter := func(d time.Duration) time.Duration { return time.Duration(float64(d) * (0.8 + 0.4*rng.Float64())) }
	if f.LeaderCrashEvery > 0 {
		for t := jitter(f.LeaderCrashEvery); t < window; t += jitter(f.LeaderCrashEvery) {
			down := f.CoordinatorDowntime
			plan = append(plan, action{at: t, do: func(ctx context.Context) {
				if len(s.Cluster.live()) < len(s.Cluster.ids) {
					return // one coordinator is down already: keep a majority
				}
				li := s.Cluster.LeaderIndex()
				if li < 0 || s.CrashCoordinator(li) != nil {
					return
				}
				sleepCtx(ctx, down)
				_ = s.RestartCoordinator(li)
			}})
		}
	}
	if f.PartitionEvery > 0 {
		k := 0
		for t := jitter(f.PartitionEvery); t < window; t += jitter(f.PartitionEvery) {
			k++
			leader := k%2 == 1
			coord := rng.IntN(len(s.Cluster.ids))
			var printers []NodeID
			for _, id := range s.Fleet.IDs() {
				if rng.Float64() < 0.1 {
					printers = append(printers, id)
				}
			}
			dur := f.PartitionFor
			plan = append(plan, action{at: t, do: func(ctx context.Context) {
				c := coord
				if li := s.Cluster.LeaderIndex(); leader && li >= 0 {
					c = li
				}
				minority := append([]NodeID{s.Cluster.ids[c]}, printers...)
				s.Partition(nil, minority)
				sleepCtx(ctx, dur)
				s.Heal()
			}})
		}
	}
	ids := s.Fleet.IDs()
	pickN := func(frac float64) []NodeID {
		n := int(frac*float64(len(ids)) + 0.5)
		perm := rng.Perm(len(ids))
		out := make([]NodeID, 0, n)
		for _, i := range perm[:min(n, len(ids))] {
			out = append(out, ids[i])
		}
		return out
	}
	lost := s.opts.LostAfter
	if lost <= 0 {
		lost = 3 * time.Second
	}
	for _, id := range pickN(f.WorkerChurn) {
		at := time.Duration(rng.Float64() * float64(window))
		down := time.Duration((0.3 + 2.2*rng.Float64()) * float64(lost))
		plan = append(plan, action{at: at, do: func(ctx context.Context) {
			if s.CrashWorker(id) != nil {
				return
			}
			sleepCtx(ctx, down)
			_ = s.RestartWorker(id)
		}})
	}
	kinds := []PrinterFault{FaultThermalRunaway, FaultDisconnect, FaultNoisyLine}
	for _, id := range pickN(f.PrinterFaults) {
		at := time.Duration(rng.Float64() * float64(window))
		kind := kinds[rng.IntN(len(kinds))]
		plan = append(plan, action{at: at, do: func(context.Context) { _, _ = s.InjectPrinterFault(id, kind) }})
	}
	for _, id := range pickN(f.OwnerPauses) {
		at := time.Duration(rng.Float64() * float64(window))
		d := time.Duration((0.5 + 1.5*rng.Float64()) * float64(time.Second))
		plan = append(plan, action{at: at, do: func(ctx context.Context) {
			if s.OwnerPause(id) != nil {
				return
			}
			sleepCtx(ctx, d)
			_ = s.OwnerResume(id)
		}})
	}
	return plan
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// progressLoop reports the run's state every period until stopped.
func (s *Sim) progressLoop(ctx context.Context, every time.Duration, orders int, progress func(string)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			jobs, finished := 0, 0
			leader := "none"
			if li := s.Cluster.LeaderIndex(); li >= 0 {
				leader = string(s.Cluster.ids[li])
				if n := s.Cluster.Node(li); n != nil {
					n.FSM().View(func(st *fsm.State) {
						for _, j := range st.Jobs {
							jobs++
							if j.State == api.JobDone || j.Terminal() {
								finished++
							}
						}
					})
				}
			}
			progress(fmt.Sprintf("t=%5.1fs acknowledged %d/%d orders, jobs finished %d/%d, leader %s",
				time.Since(s.started).Seconds(), len(s.Acked()), orders, finished, jobs, leader))
		}
	}()
	return func() { cancel(); <-done }
}

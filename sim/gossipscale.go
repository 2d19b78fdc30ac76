package sim

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fabgrid/fabgrid/gossip"
)

// GossipScaleConfig describes a membership scale run: Members real
// memberlist members (package gossip) in this process, on loopback or on
// Network, of which KillFraction die at once (no leave) after the pool
// formed.
type GossipScaleConfig struct {
	Members      int
	KillFraction float64
	// Network, if set, carries the members' packets and streams instead
	// of UDP and TCP on loopback, and the kill is Network.Crash. Run
	// inside a testing/synctest bubble, every duration in the report is
	// then on the bubble's clock, and the test sleeps Timing.Linger after
	// RunGossipScale returns so that the bubble can end.
	Network *gossip.MemNetwork
	// FormFraction of the members must have seen the pool before the
	// steady window: on loopback a starved process makes live members
	// flap, so 1 % may never latch (default 0.99); on a Network every
	// member must (default 1), which only a bubble guarantees.
	FormFraction float64
	// Timing is passed to every member (zero: gossip.DefaultTiming).
	Timing gossip.Timing
	// Seeds is how many of the first members the others join through
	// (default 3).
	Seeds int
	// Timeout bounds each phase (default 5 min).
	Timeout time.Duration
	// SteadyWindow is how long the formed pool runs before the kill, to
	// measure its steady CPU use (default 10 s).
	SteadyWindow time.Duration
	// Progress, if set, receives a line now and then.
	Progress func(string)
}

// ScaleTiming is the timing for a pool of about a thousand members on a
// small machine: the package defaults (tuned for tens of members) with a
// 1 s probe, 200 ms gossip and a longer TCP timeout for joins.
func ScaleTiming() gossip.Timing {
	t := gossip.DefaultTiming()
	t.ProbeInterval = time.Second
	t.ProbeTimeout = 500 * time.Millisecond
	t.GossipInterval = 200 * time.Millisecond
	t.PushPullInterval = 30 * time.Second
	t.TCPTimeout = 10 * time.Second
	return t
}

// SparseTiming spends about a fifth of ScaleTiming's packets (probe every
// 2 s, gossip every second): what a thousand members in one process on
// two cores can afford; a death takes tens of seconds to be agreed.
func SparseTiming() gossip.Timing {
	t := ScaleTiming()
	t.ProbeInterval = 2 * time.Second
	t.ProbeTimeout = time.Second
	t.GossipInterval = time.Second
	t.SuspicionMult = 4
	t.PushPullInterval = 60 * time.Second
	return t
}

// LANScaleTiming is close to memberlist's LAN defaults (probe 1 s with a
// 1 s timeout, suspicion ×4, gossip 200 ms): slower to notice a death,
// steadier when hundreds of members share two cores.
func LANScaleTiming() gossip.Timing {
	t := ScaleTiming()
	t.ProbeTimeout = time.Second
	t.SuspicionMult = 4
	return t
}

// GossipScaleReport is what a scale run measured. CPU is the process's
// user+system time over the phase (everything in the process counts).
// Seconds are on the run's clock (fake in a testing/synctest bubble), Wall
// seconds on the machine's; CPU cores are CPU time per second of the run's
// clock, so in a bubble they are the cores the pool would need to keep up
// in real time.
type GossipScaleReport struct {
	Members int `json:"members"`
	Killed  int `json:"killed"`
	// FormSeconds: from the first join until every member has seen all
	// the members that will be killed and at least 98 % of all at once.
	FormSeconds float64 `json:"form_seconds"`
	// ConvergeSeconds: from the kill until every survivor has dropped every
	// dead member; FirstNoticeSeconds until the first survivor had,
	// MedianSurvivorSeconds until half of them had. (Live members a
	// loaded machine makes look dead for a while do not count: they
	// refute and come back.)
	ConvergeSeconds       float64 `json:"converge_seconds"`
	FirstNoticeSeconds    float64 `json:"first_notice_seconds"`
	MedianSurvivorSeconds float64 `json:"median_survivor_seconds"`
	// CPU cores used on average while forming, while steady (SteadyWindow
	// after forming) and while converging.
	FormCPUCores     float64 `json:"form_cpu_cores"`
	SteadyCPUCores   float64 `json:"steady_cpu_cores"`
	ConvergeCPUCores float64 `json:"converge_cpu_cores"`
	// HeapMiB (in use, garbage included) and SysMiB after forming
	// (runtime.MemStats), LiveHeapMiB after a GC then; Goroutines then.
	// NotFormed: survivors that never saw the whole pool (at most 1 %;
	// left out of the convergence figures).
	NotFormed   int     `json:"not_formed"`
	HeapMiB     float64 `json:"heap_mib"`
	LiveHeapMiB float64 `json:"live_heap_mib"`
	SysMiB      float64 `json:"sys_mib"`
	Goroutines  int     `json:"goroutines"`
	// FalseDeaths counts dead events, at any member, for members that
	// were never killed (they refuted and came back, or not).
	FalseDeaths int64 `json:"false_deaths"`
	// Wall seconds of forming (from the first join), of the steady
	// window and of converging; CPUSeconds over all three.
	WallFormSeconds     float64 `json:"wall_form_seconds"`
	WallSteadySeconds   float64 `json:"wall_steady_seconds"`
	WallConvergeSeconds float64 `json:"wall_converge_seconds"`
	CPUSeconds          float64 `json:"cpu_seconds"`
	// SteadyPacketsPerSecond is the packets a Network carried per second
	// (of the run's clock) in the steady window.
	SteadyPacketsPerSecond float64 `json:"steady_packets_per_second,omitempty"`
	// Net is what Network carried, if there was one.
	Net *gossip.MemNetStats `json:"net,omitempty"`
}

// ErrGossipScale is returned when the pool does not form or converge.
var ErrGossipScale = errors.New("sim: gossip scale")

type scaleMember struct {
	node  *gossip.Node
	alive atomic.Int64
	// doomed counts the members this one sees alive among those that
	// will be killed.
	doomed atomic.Int64
	// formed latches once the member has seen the whole pool: on a
	// loaded machine live members flap (falsely suspected, then refuting),
	// so "everyone sees everyone at the same instant" may never come.
	formed atomic.Bool
	exact  atomic.Int64 // unix nanos when the view first became exact, 0 = not yet
}

// RunGossipScale runs the scale measurement and stops every member
// before it returns.
func RunGossipScale(ctx context.Context, cfg GossipScaleConfig) (rep GossipScaleReport, err error) {
	if cfg.Members < 2 {
		return GossipScaleReport{}, fmt.Errorf("%w: need at least 2 members", ErrGossipScale)
	}
	if cfg.Seeds <= 0 {
		cfg.Seeds = 3
	}
	cfg.Seeds = min(cfg.Seeds, cfg.Members)
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	if cfg.SteadyWindow <= 0 {
		cfg.SteadyWindow = 10 * time.Second
	}
	progress := cfg.Progress
	if progress == nil {
		progress = func(string) {}
	}
	rep = GossipScaleReport{Members: cfg.Members}
	kill := int(float64(cfg.Members) * cfg.KillFraction)
	kill = max(1, min(kill, cfg.Members-cfg.Seeds))
	survivors := cfg.Members - kill
	doomedName := func(name string) bool {
		var k int
		_, err := fmt.Sscanf(name, "m%d", &k)
		return err == nil && k >= survivors
	}
	ms := make([]*scaleMember, cfg.Members)
	var falseDeaths atomic.Int64
	var target atomic.Int64
	target.Store(int64(cfg.Members))
	var stopOnce sync.Once
	stopAll := func() {
		stopOnce.Do(func() {
			var wg sync.WaitGroup
			for _, m := range ms {
				if m != nil && m.node != nil {
					wg.Add(1)
					go func() { defer wg.Done(); m.node.Close() }()
				}
			}
			wg.Wait()
		})
	}
	defer stopAll()

	for i := range ms {
		m := &scaleMember{}
		ms[i] = m
		gc := gossip.Config{
			Name: fmt.Sprintf("m%04d", i), Timing: cfg.Timing,
			Meta: gossip.Meta{Role: gossip.RoleWorker},
			OnEvent: func(e gossip.Event) {
				d := int64(0)
				switch e.Kind {
				case gossip.EventJoin:
					d = 1
				case gossip.EventDead, gossip.EventLeave:
					d = -1
				default:
					return
				}
				m.alive.Add(d)
				if doomedName(e.Member.Name) {
					if m.doomed.Add(d) == 0 && target.Load() < int64(cfg.Members) {
						m.exact.CompareAndSwap(0, time.Now().UnixNano())
					}
				} else if e.Kind == gossip.EventDead {
					falseDeaths.Add(1)
				}
			},
		}
		if cfg.Network != nil {
			gc.Transport = cfg.Network.NewTransport()
		}
		n, err := gossip.Start(gc)
		if err != nil {
			return rep, fmt.Errorf("%w: start member %d: %w", ErrGossipScale, i, err)
		}
		m.node = n
	}
	seeds := make([]string, cfg.Seeds)
	for i := range seeds {
		seeds[i] = ms[i].node.Addr()
	}
	cpuStart, wallStart := processCPU(), wallClock()
	defer func() {
		rep.CPUSeconds = (processCPU() - cpuStart).Seconds()
		rep.FalseDeaths = falseDeaths.Load()
		if cfg.Network != nil {
			st := cfg.Network.Stats()
			rep.Net = &st
		}
	}()
	start := time.Now()
	// Joins run 8 at a time, each retried: a loaded machine makes the
	// seeds' push/pull slow.
	var (
		joined  atomic.Int64
		joinErr error
		errMu   sync.Mutex
		jwg     sync.WaitGroup
		next    = make(chan int)
	)
	for range 8 {
		jwg.Add(1)
		go func() {
			defer jwg.Done()
			for i := range next {
				// Each joins through the first seed, one other seed and
				// one member that joined before it.
				var err error
				for try := 0; try < 3; try++ {
					// seeds[0] is in every join, so the pool is one
					// component from the start (no islands around a seed
					// that had not joined yet).
					via := []string{seeds[0], seeds[(i+try)%len(seeds)]}
					if k := int(joined.Load()); k > len(seeds) {
						via = append(via, ms[1+(i*7919+try)%k].node.Addr())
					}
					if _, err = ms[i].node.Join(via); err == nil {
						break
					}
				}
				if err != nil {
					errMu.Lock()
					joinErr = errors.Join(joinErr, fmt.Errorf("member %d: %w", i, err))
					errMu.Unlock()
				}
				if k := joined.Add(1); k%100 == 0 {
					progress(fmt.Sprintf("gossip scale: %d/%d joined", k, cfg.Members-1))
				}
			}
		}()
	}
	for i := 1; i < len(ms); i++ {
		next <- i
	}
	close(next)
	jwg.Wait()
	if joinErr != nil {
		return rep, fmt.Errorf("%w: join: %w", ErrGossipScale, joinErr)
	}
	formNeed := cfg.FormFraction
	if formNeed <= 0 {
		formNeed = 0.99
		if cfg.Network != nil {
			formNeed = 1
		}
	}
	if err := waitAll(ctx, ms, func(m *scaleMember) bool {
		if m.doomed.Load() == int64(kill) && m.alive.Load() >= int64(cfg.Members)*98/100 {
			m.formed.Store(true)
		}
		return m.formed.Load()
	}, "have seen the pool (at least 98 % at once, all that will die)", formNeed, cfg.Timeout, progress); err != nil {
		return rep, err
	}
	rep.FormSeconds = time.Since(start).Seconds()
	rep.WallFormSeconds = (wallClock() - wallStart).Seconds()
	rep.FormCPUCores = (processCPU() - cpuStart).Seconds() / rep.FormSeconds

	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	rep.HeapMiB = float64(mem.HeapInuse) / (1 << 20)
	rep.SysMiB = float64(mem.Sys) / (1 << 20)
	runtime.GC()
	runtime.ReadMemStats(&mem)
	rep.LiveHeapMiB = float64(mem.HeapAlloc) / (1 << 20)
	rep.Goroutines = runtime.NumGoroutine()
	cpu0, clock0, wall0 := processCPU(), time.Now(), wallClock()
	packets0 := memPackets(cfg.Network)
	select {
	case <-ctx.Done():
		return rep, ctx.Err()
	case <-time.After(cfg.SteadyWindow):
	}
	rep.SteadyCPUCores = (processCPU() - cpu0).Seconds() / time.Since(clock0).Seconds()
	rep.WallSteadySeconds = (wallClock() - wall0).Seconds()
	rep.SteadyPacketsPerSecond = float64(memPackets(cfg.Network)-packets0) / time.Since(clock0).Seconds()

	rep.Killed = kill
	for _, m := range ms {
		m.exact.Store(0)
	}
	target.Store(int64(survivors))
	// The last members die (the seeds survive, as coordinators would).
	dead := ms[survivors:]
	live := ms[:survivors]
	cpu0, wall0 = processCPU(), wallClock()
	killAt := time.Now()
	var wg sync.WaitGroup
	for _, m := range dead {
		if cfg.Network != nil {
			cfg.Network.Crash(m.node.Addr())
		}
		wg.Add(1)
		go func() { defer wg.Done(); m.node.Close() }()
	}
	wg.Wait()
	// Convergence is measured over the survivors that had seen the pool.
	var formed []*scaleMember
	for _, m := range live {
		if m.formed.Load() {
			formed = append(formed, m)
		}
	}
	rep.NotFormed = len(live) - len(formed)
	live = formed
	if err := waitAll(ctx, live, func(m *scaleMember) bool { return m.doomed.Load() == 0 },
		"have dropped every dead member", 1, cfg.Timeout, progress); err != nil {
		return rep, err
	}
	rep.ConvergeSeconds = time.Since(killAt).Seconds()
	rep.ConvergeCPUCores = (processCPU() - cpu0).Seconds() / time.Since(killAt).Seconds()
	rep.WallConvergeSeconds = (wallClock() - wall0).Seconds()
	times := make([]float64, 0, len(live))
	for _, m := range live {
		t := m.exact.Load()
		if t == 0 {
			t = time.Now().UnixNano()
		}
		times = append(times, time.Duration(t-killAt.UnixNano()).Seconds())
	}
	sort.Float64s(times)
	rep.FirstNoticeSeconds = firstNotice(live, killAt)
	rep.MedianSurvivorSeconds = times[len(times)/2]
	return rep, nil
}

// firstNotice is a lower bound read after the fact: the earliest exact
// view among survivors is when at least one had dropped every dead member.
func firstNotice(live []*scaleMember, killAt time.Time) float64 {
	best := time.Duration(1 << 62)
	for _, m := range live {
		if t := m.exact.Load(); t != 0 {
			best = min(best, time.Duration(t-killAt.UnixNano()))
		}
	}
	return best.Seconds()
}

// waitAll waits until done holds for at least the fraction need of ms.
func waitAll(ctx context.Context, ms []*scaleMember, done func(*scaleMember) bool, what string, need float64, timeout time.Duration, progress func(string)) error {
	deadline := time.Now().Add(timeout)
	lastReport := time.Now()
	for {
		ok := 0
		lo, hi := int64(1<<62), int64(-1)
		for _, m := range ms {
			if done(m) {
				ok++
			}
			v := m.alive.Load()
			lo, hi = min(lo, v), max(hi, v)
		}
		if float64(ok) >= need*float64(len(ms)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: after %v only %d of %d members %s (views %d…%d)", ErrGossipScale, timeout, ok, len(ms), what, lo, hi)
		}
		if time.Since(lastReport) > 5*time.Second {
			progress(fmt.Sprintf("gossip scale: %d/%d members %s (views %d…%d)", ok, len(ms), what, lo, hi))
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// memPackets counts the packets n has delivered (0 without a network).
func memPackets(n *gossip.MemNetwork) int64 {
	if n == nil {
		return 0
	}
	return n.Stats().Packets
}

// wallClock reads the machine's clock, which time.Now does not inside a
// testing/synctest bubble.
func wallClock() time.Duration {
	var tv syscall.Timeval
	if err := syscall.Gettimeofday(&tv); err != nil {
		return 0
	}
	return time.Duration(tv.Nano())
}

// processCPU is this process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

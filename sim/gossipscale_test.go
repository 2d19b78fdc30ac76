package sim

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fabgrid/fabgrid/gossip"
)

// Scale runs (see docs/benchmarks.md, "Gossip membership at scale"):
//
//	FABGRID_GOSSIP_SCALE=N              N members over UDP/TCP loopback, real time
//	FABGRID_GOSSIP_SCALE=N FABGRID_GOSSIP_NET=mem
//	                                    N members on gossip.MemNetwork in a
//	                                    testing/synctest bubble, fake time
//	FABGRID_GOSSIP_SCALE=N FABGRID_GOSSIP_NET=mem-realtime
//	                                    the same without the bubble: real
//	                                    time, no kernel network
//	FABGRID_GOSSIP_TIMING=default|scale|lan|sparse
//	                                    the timing (default: scale over UDP,
//	                                    default in the bubble)

// scaleEnv reads the scale variables: n > 0 if a scale run of this kind
// (in memory or not) was asked for; ok is false if one of the other kind
// was, and the caller skips.
func scaleEnv(t *testing.T, mem bool) (n int, timing gossip.Timing, ok bool) {
	t.Helper()
	v := os.Getenv("FABGRID_GOSSIP_SCALE")
	if v == "" || strings.HasPrefix(os.Getenv("FABGRID_GOSSIP_NET"), "mem") != mem {
		return 0, gossip.Timing{}, v == ""
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 2 {
		t.Fatalf("FABGRID_GOSSIP_SCALE=%q: want a number of members ≥ 2", v)
	}
	timing = ScaleTiming()
	if mem {
		timing = gossip.DefaultTiming()
	}
	switch tv := os.Getenv("FABGRID_GOSSIP_TIMING"); tv {
	case "":
	case "default":
		timing = gossip.DefaultTiming()
	case "scale":
		timing = ScaleTiming()
	case "lan":
		timing = LANScaleTiming()
	case "sparse":
		timing = SparseTiming()
	default:
		t.Fatalf("FABGRID_GOSSIP_TIMING=%q: want default, scale, lan or sparse", tv)
	}
	return n, timing, true
}

func logScaleReport(t *testing.T, rep GossipScaleReport) {
	t.Helper()
	t.Logf("members=%d killed=%d form=%.1fs converge=%.1fs (median survivor %.1fs, first %.1fs) cpu forming=%.2f steady=%.2f converging=%.2f cores heap=%.0fMiB sys=%.0fMiB goroutines=%d",
		rep.Members, rep.Killed, rep.FormSeconds, rep.ConvergeSeconds, rep.MedianSurvivorSeconds, rep.FirstNoticeSeconds,
		rep.FormCPUCores, rep.SteadyCPUCores, rep.ConvergeCPUCores, rep.HeapMiB, rep.SysMiB, rep.Goroutines)
	t.Logf("wall: form %.1fs steady %.1fs converge %.1fs; cpu %.1fs; false deaths %d; survivors that never saw the whole pool: %d",
		rep.WallFormSeconds, rep.WallSteadySeconds, rep.WallConvergeSeconds, rep.CPUSeconds, rep.FalseDeaths, rep.NotFormed)
	t.Logf("live heap after forming %.0fMiB", rep.LiveHeapMiB)
	if rep.Net != nil {
		t.Logf("net: %+v; %.0f packets/s while steady", *rep.Net, rep.SteadyPacketsPerSecond)
	}
}

// TestGossipScaleSmall runs the scale measurement over loopback on a small
// pool so the code path stays tested; FABGRID_GOSSIP_SCALE=N runs it with
// N members.
func TestGossipScaleSmall(t *testing.T) {
	n, steady, timing, timeout := 12, time.Second, ScaleTiming(), time.Minute
	if sn, st, ok := scaleEnv(t, false); sn > 0 {
		n, timing, steady, timeout = sn, st, 10*time.Second, 20*time.Minute
	} else if !ok {
		t.Skip("FABGRID_GOSSIP_NET=mem: TestGossipScaleMem runs the scale run")
	} else if testing.Short() {
		t.Skip("forming and converging takes ~5 s; skipped under -short")
	}
	rep, err := RunGossipScale(context.Background(), GossipScaleConfig{
		Members: n, KillFraction: 0.1, Timeout: timeout, SteadyWindow: steady, Timing: timing,
		Progress: func(s string) { t.Log(s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Killed < 1 || rep.ConvergeSeconds <= 0 {
		t.Fatalf("report %+v: nothing was killed or measured", rep)
	}
	logScaleReport(t, rep)
}

// TestGossipScaleMem runs the scale measurement on gossip.MemNetwork in a
// testing/synctest bubble: memberlist's timers run on the bubble's clock,
// which stands still while the CPU works, so a busy machine cannot make a
// live member miss its probes. 50 members with gossip.DefaultTiming by
// default; FABGRID_GOSSIP_SCALE=N FABGRID_GOSSIP_NET=mem runs N.
func TestGossipScaleMem(t *testing.T) {
	n, timing, steady := 50, gossip.DefaultTiming(), 2*time.Second
	if sn, st, ok := scaleEnv(t, true); sn > 0 {
		n, timing, steady = sn, st, 10*time.Second
	} else if !ok {
		t.Skip("FABGRID_GOSSIP_NET is not mem: TestGossipScaleSmall runs the scale run")
	}
	if os.Getenv("FABGRID_GOSSIP_NET") == "mem-realtime" {
		// For comparison only: starved like over loopback, so 1 % may
		// never latch and live members may be declared dead.
		rep, err := RunGossipScale(context.Background(), GossipScaleConfig{
			Members: n, KillFraction: 0.1, Timing: timing, Network: gossip.NewMemNetwork(),
			FormFraction: 0.99, Timeout: 20 * time.Minute, SteadyWindow: steady,
			Progress: func(s string) { t.Log(s) },
		})
		if err != nil {
			t.Fatal(err)
		}
		logScaleReport(t, rep)
		return
	}
	synctest.Test(t, func(t *testing.T) {
		defer time.Sleep(timing.Linger()) // let closed members' goroutines finish
		mnet := gossip.NewMemNetwork()
		// Deadlines on the bubble's clock: generous costs no real time.
		rep, err := RunGossipScale(context.Background(), GossipScaleConfig{
			Members: n, KillFraction: 0.1, Timing: timing, Network: mnet,
			Timeout: 10 * time.Minute, SteadyWindow: steady,
			Progress: func(s string) { t.Log(s) },
		})
		if err != nil {
			t.Fatal(err)
		}
		logScaleReport(t, rep)
		if rep.Killed != n/10 || rep.NotFormed != 0 {
			t.Fatalf("killed %d (want %d), %d survivors never saw the whole pool (want 0)", rep.Killed, n/10, rep.NotFormed)
		}
		// Convergence is bounded by detection (a probe round, the probe
		// timeout, the suspicion timeout) and spreading the news; a
		// minute on the bubble's clock is far beyond both.
		if rep.ConvergeSeconds <= 0 || rep.ConvergeSeconds > 60 {
			t.Fatalf("converged after %.1f s on the bubble's clock, want within a minute", rep.ConvergeSeconds)
		}
		// No live member is declared dead: its probes are answered before
		// the bubble's clock moves on, however busy the machine.
		if rep.FalseDeaths != 0 {
			t.Fatalf("%d dead events for members that were never killed", rep.FalseDeaths)
		}
		if rep.Net == nil || rep.Net.Packets == 0 || rep.Net.Streams < int64(n-1) {
			t.Fatalf("network stats %+v: the members did not talk over the in-memory network", rep.Net)
		}
	})
}

package sim

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/gossip"
)

// TestGossipScaleSmall runs the scale measurement on a small pool so the
// code path stays tested; FABGRID_GOSSIP_SCALE=N runs it with N members
// (see docs/benchmarks.md, ## sim).
func TestGossipScaleSmall(t *testing.T) {
	n, steady, timing, timeout := 12, time.Second, ScaleTiming(), time.Minute
	if v := os.Getenv("FABGRID_GOSSIP_SCALE"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("FABGRID_GOSSIP_SCALE=%q: %v", v, err)
		}
		steady, timeout = 10*time.Second, 20*time.Minute
		switch os.Getenv("FABGRID_GOSSIP_TIMING") {
		case "default":
			timing = gossip.DefaultTiming()
		case "lan":
			timing = LANScaleTiming()
		case "sparse":
			timing = SparseTiming()
		}
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
	t.Logf("members=%d killed=%d form=%.1fs converge=%.1fs (median survivor %.1fs, first %.1fs) cpu steady=%.2f cores converging=%.2f cores heap=%.0fMiB sys=%.0fMiB goroutines=%d",
		rep.Members, rep.Killed, rep.FormSeconds, rep.ConvergeSeconds, rep.MedianSurvivorSeconds, rep.FirstNoticeSeconds,
		rep.SteadyCPUCores, rep.ConvergeCPUCores, rep.HeapMiB, rep.SysMiB, rep.Goroutines)
	t.Logf("survivors that never saw the whole pool: %d", rep.NotFormed)
}

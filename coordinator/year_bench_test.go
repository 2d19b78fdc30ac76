package coordinator_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/fabgrid/fabgrid/scheduler"
	"github.com/hashicorp/raft"
)

// BenchmarkYearOfANeighbourhood drives a year of a busy neighbourhood
// through one coordinator's raft log, state machine and stores on disk
// (the acceptance figure of issue 15): 20 communities, 300 printers,
// 200 orders a day of 1–3 copies, 5,000 distinct models over the year
// of 1–20 MB times SIZE_SCALE, uploaded in 512 KiB chunk entries; every
// copy is placed, reports progress three times, finishes (one in 20
// fails once and is placed again) and its bed is cleared. Nothing is
// ever deleted: retention (issue 15 item 2) is not there yet. At the
// end it reports the process's RSS and Go heap, the data dir against
// the live data it holds, a backup's save and restore times, and the
// time from a restart to applying everything.
//
//	FABGRID_YEAR_BENCH=1 [DAYS=365] [SIZE_SCALE=0.02] \
//	  go test ./coordinator -run '^$' -bench YearOfANeighbourhood -benchtime 1x -timeout 2h
func BenchmarkYearOfANeighbourhood(b *testing.B) {
	if os.Getenv("FABGRID_YEAR_BENCH") == "" {
		b.Skip("set FABGRID_YEAR_BENCH=1 (writes gigabytes, runs for minutes)")
	}
	days := envInt("DAYS", 365)
	scale := 0.02
	if v, err := strconv.ParseFloat(os.Getenv("SIZE_SCALE"), 64); err == nil {
		scale = v
	}
	for range b.N {
		yearOnce(b, days, scale)
	}
}

func yearOnce(b *testing.B, days int, scale float64) {
	dir := b.TempDir()
	cfg := coordinator.Config{NodeID: "c1", DataDir: filepath.Join(dir, "data"), HTTPAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0",
		Bootstrap: true, AdminToken: "fgA_yearbench0000000000000000000000"}
	coordinatortest.FastTimings(&cfg)
	cfg.ApplyTimeout = time.Minute
	// The benchmark places every copy itself, in the log's order, and
	// its workers never send a heartbeat: no lease may expire.
	cfg.Placer = noPlacer{}
	cfg.LostAfter = 10000 * time.Hour
	n, err := coordinator.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { n.Close() }()
	coordinatortest.WaitFor(b, 10*time.Second, "leader", n.IsLeader)

	wtok := sha256Hex("fgW_yearbench")
	start := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC).UnixNano()
	now := start
	var (
		pending  []raft.ApplyFuture
		entries  int
		refused  int
		lastErr  error
		modelSum int64
	)
	apply := func(c *fsm.Command) {
		c.V, c.Time = fsm.CommandVersion, now
		data, err := fsm.EncodeCommand(c)
		if err != nil {
			b.Fatal(err)
		}
		pending = append(pending, n.Raft().Apply(data, time.Minute))
		entries++
		if len(pending) >= 512 {
			drain(b, &pending, &refused, &lastErr)
		}
	}
	for i := range 20 {
		apply(&fsm.Command{Type: fsm.CmdCreateCommunity, Community: &fsm.CommunityCmd{Name: fmt.Sprintf("c%02d", i), Weight: 1, TokenHash: sha256Hex(fmt.Sprint("fgC_", i))}})
	}
	const printers = 300
	for i := range printers {
		apply(&fsm.Command{Type: fsm.CmdRegisterWorker, Worker: &fsm.WorkerCmd{TokenHash: wtok, Worker: fsm.Worker{
			ID: fmt.Sprintf("w-%03d", i), Name: fmt.Sprintf("printer %d", i), Profile: "ender3", BuildMM: [3]float64{220, 220, 250},
			NozzleMM: 0.4, Material: "PLA", State: api.WorkerIdle}}})
	}
	rng := rand.New(rand.NewPCG(7, 11))
	var models []fsm.Model
	epoch := uint64(0)
	worker := 0
	orderN := 0
	t0 := time.Now()
	newModels := 0
	for d := range days {
		now = start + int64(d)*int64(24*time.Hour)
		// The models first ordered today (5,000 over the year).
		for want := (d + 1) * 5000 / 365; newModels < want; newModels++ {
			size := int64(float64(1<<20+rng.IntN(19<<20)) * scale)
			body := make([]byte, size)
			for k := 0; k+8 <= len(body); k += 8 {
				v := rng.Uint64()
				for j := range 8 {
					body[k+j] = byte(v >> (8 * j))
				}
			}
			sum := sha256.Sum256(body)
			m := fsm.Model{SHA256: hex.EncodeToString(sum[:]), Size: size, Name: fmt.Sprintf("m%04d.stl", newModels), SizeMM: [3]float64{20, 20, 20}, VolumeMM3: 8000}
			for off := int64(0); off < size; off += 512 << 10 {
				end := min(off+512<<10, size)
				apply(&fsm.Command{Type: fsm.CmdModelChunk, Chunk: &fsm.ChunkCmd{Model: m, Offset: off}, ModelBytes: body[off:end]})
			}
			models = append(models, m)
			modelSum += size
		}
		for range 200 {
			m := models[rng.IntN(len(models))]
			orderN++
			id := fmt.Sprintf("o-%06d", orderN)
			qty := 1 + rng.IntN(3)
			apply(&fsm.Command{Type: fsm.CmdSubmitOrder, Order: &fsm.OrderCmd{
				Order: fsm.Order{ID: id, Community: fmt.Sprintf("c%02d", rng.IntN(20)), ModelSHA256: m.SHA256, ModelName: m.Name,
					Quantity: qty, Material: "PLA", LayerHeight: 0.2, Infill: 20},
				Model: m}})
			for cp := 1; cp <= qty; cp++ {
				job := fmt.Sprintf("%s-%d", id, cp)
				for try := 0; ; try++ {
					w := fmt.Sprintf("w-%03d", worker%printers)
					worker++
					epoch++
					apply(&fsm.Command{Type: fsm.CmdPlace, Place: &fsm.PlaceCmd{Placements: []fsm.PlaceItem{{JobID: job, WorkerID: w, EstSeconds: 3600}}}})
					for p := 1; p <= 3; p++ {
						apply(&fsm.Command{Type: fsm.CmdProgress, Progress: &fsm.ProgressCmd{JobID: job, TokenHash: wtok, Report: api.ProgressRequest{
							Epoch: epoch, WorkerID: w, State: api.JobPrinting, Percent: float64(30 * p), Layer: 40 * p, Layers: 120, HotendC: 205, BedC: 60}}})
					}
					outcome, reason := api.OutcomeDone, ""
					if try == 0 && rng.IntN(20) == 0 {
						outcome, reason = api.OutcomeFailed, "thermal runaway"
					}
					apply(&fsm.Command{Type: fsm.CmdResult, Result: &fsm.ResultCmd{JobID: job, MaxAttempts: 3, TokenHash: wtok,
						Result: api.ResultRequest{Epoch: epoch, WorkerID: w, Outcome: outcome, Reason: reason}}})
					// Done or failed, the owner clears the bed.
					apply(&fsm.Command{Type: fsm.CmdBedClear, BedClear: &fsm.BedClearCmd{WorkerID: w, TokenHash: wtok}})
					if outcome == api.OutcomeDone {
						break
					}
				}
			}
		}
	}
	drain(b, &pending, &refused, &lastErr)
	drive := time.Since(t0)
	if refused > 0 {
		b.Logf("%d of %d commands refused; last: %v", refused, entries, lastErr)
	}
	var live int64
	n.FSM().View(func(s *fsm.State) {
		js, err := json.Marshal(s)
		if err != nil {
			b.Fatal(err)
		}
		live = int64(len(js))
	})
	stateJSON := live
	live += modelSum

	// Backup: save and restore into a fresh one-node coordinator.
	backup := filepath.Join(dir, "year.snap")
	f, err := os.Create(backup)
	if err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := n.SaveSnapshot(bw); err != nil {
		b.Fatal(err)
	}
	bw.Flush()
	f.Close()
	save := time.Since(t1)
	rcfg := coordinator.Config{NodeID: "r1", DataDir: filepath.Join(dir, "restored"), HTTPAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0", Bootstrap: true}
	coordinatortest.FastTimings(&rcfg)
	r, err := coordinator.New(rcfg)
	if err != nil {
		b.Fatal(err)
	}
	coordinatortest.WaitFor(b, 10*time.Second, "restore target leader", r.IsLeader)
	rf, _ := os.Open(backup)
	t2 := time.Now()
	if _, err := r.RestoreSnapshot(bufio.NewReaderSize(rf, 1<<20)); err != nil {
		b.Fatal(err)
	}
	restore := time.Since(t2)
	rf.Close()
	r.Close()
	os.RemoveAll(rcfg.DataDir)
	st, _ := os.Stat(backup)
	backupSize := st.Size()
	os.Remove(backup)

	// Restart: from stop to every committed entry applied.
	last := n.Raft().LastIndex()
	if err := n.Close(); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	rss0 := rssKB()
	t3 := time.Now()
	cfg.Bootstrap = false
	if n, err = coordinator.New(cfg); err != nil {
		b.Fatal(err)
	}
	coordinatortest.WaitFor(b, 5*time.Minute, "the restarted node to apply its log", func() bool {
		return n.IsLeader() && n.Raft().AppliedIndex() >= last
	})
	ready := time.Since(t3)
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := rssKB()

	parts := map[string]int64{}
	for _, p := range []string{"raft.db", "wal", "snapshots", "models"} {
		parts[p] = dirSize(filepath.Join(cfg.DataDir, p))
	}
	total := dirSize(cfg.DataDir)
	var orders int
	n.FSM().View(func(s *fsm.State) { orders = len(s.Orders) })
	b.Logf("%d days: %d orders, %d models (%.0f MB), %d log entries in %v (%d refused)", days, orders, len(models), float64(modelSum)/1e6, entries, drive.Round(time.Second), refused)
	b.Logf("state JSON %.1f MB; data dir %.1f MB (raft.db %.1f, wal %.1f, snapshots %.1f, models %.1f) for %.1f MB live: %.2fx",
		mb(stateJSON), mb(total), mb(parts["raft.db"]), mb(parts["wal"]), mb(parts["snapshots"]), mb(parts["models"]), mb(live), float64(total)/float64(live))
	b.Logf("backup %.1f MB: save %v, restore %v; restart to ready %v; RSS %d MB after restart (%d MB before it, of the test process), Go heap in use %.0f MB",
		mb(backupSize), save.Round(time.Millisecond), restore.Round(time.Millisecond), ready.Round(time.Millisecond), rss/1024, rss0/1024, mb(int64(ms.HeapInuse)))
	b.ReportMetric(float64(rss)/1024, "rss-MB")
	b.ReportMetric(float64(total)/float64(live), "disk/live")
	b.ReportMetric(save.Seconds(), "save-s")
	b.ReportMetric(restore.Seconds(), "restore-s")
	b.ReportMetric(ready.Seconds(), "ready-s")
}

// noPlacer plans nothing.
type noPlacer struct{}

func (noPlacer) Place(*scheduler.Snapshot) scheduler.Plan { return scheduler.Plan{} }

func drain(b *testing.B, pending *[]raft.ApplyFuture, refused *int, last *error) {
	for _, f := range *pending {
		if err := f.Error(); err != nil {
			b.Fatal(err)
		}
		if r, ok := f.Response().(fsm.ApplyResult); ok && r.Err != nil {
			if *refused == 0 {
				b.Logf("first refusal: %v", r.Err)
			}
			*refused++
			*last = r.Err
		}
	}
	*pending = (*pending)[:0]
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func mb(n int64) float64 { return float64(n) / 1e6 }

func rssKB() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			v, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return v
		}
	}
	return 0
}

package coordinator_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	raftwal "github.com/hashicorp/raft-wal"
	"go.etcd.io/bbolt"
)

// BenchmarkLogStoreWorkload writes the raft log of a busy
// neighbourhood (a scale model of issue 15: per day 14 new models of
// 1–20 MB in 512 KiB chunk entries, and 5,000 small entries — orders,
// placements, progress, results — of 300 bytes, in batches of up to 32
// as raft's leader writes them) into raft-boltdb and into raft-wal,
// compacting the log as raft does after each snapshot (every
// SnapshotThreshold entries, keeping TrailingLogs), and reports the
// store's size on disk: its peak, at the end, and for bolt after an
// offline compaction (bbolt.Compact, what a restart could do).
//
//	FABGRID_LOGSTORE_BENCH=1 [DAYS=30] [TRAILING=10240] [THRESHOLD=8192] \
//	  go test ./coordinator -run '^$' -bench LogStoreWorkload -benchtime 1x
func BenchmarkLogStoreWorkload(b *testing.B) {
	if os.Getenv("FABGRID_LOGSTORE_BENCH") == "" {
		b.Skip("set FABGRID_LOGSTORE_BENCH=1 (writes gigabytes)")
	}
	days := envInt("DAYS", 30)
	trailing := uint64(envInt("TRAILING", 10240))
	threshold := uint64(envInt("THRESHOLD", 8192))
	for _, kind := range []string{"bolt", "wal"} {
		b.Run(kind, func(b *testing.B) {
			for range b.N {
				dir := b.TempDir()
				var (
					store raft.LogStore
					close func() error
				)
				switch kind {
				case "bolt":
					s, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
					if err != nil {
						b.Fatal(err)
					}
					store, close = s, s.Close
				case "wal":
					os.MkdirAll(filepath.Join(dir, "wal"), 0o700)
					w, err := raftwal.Open(filepath.Join(dir, "wal"))
					if err != nil {
						b.Fatal(err)
					}
					store, close = w, w.Close
				}
				rng := rand.New(rand.NewPCG(1, 2))
				var (
					index, lastSnap uint64
					peak            int64
					writing         time.Duration
					written         int64
				)
				chunk := make([]byte, 512<<10)
				small := make([]byte, 300)
				put := func(batch []*raft.Log) {
					t0 := time.Now()
					if err := store.StoreLogs(batch); err != nil {
						b.Fatal(err)
					}
					writing += time.Since(t0)
					if index-lastSnap >= threshold && index > trailing {
						// A snapshot, then raft's compaction.
						first, _ := store.FirstIndex()
						if err := store.DeleteRange(first, index-trailing); err != nil {
							b.Fatal(err)
						}
						lastSnap = index
					}
				}
				entry := func(data []byte) *raft.Log {
					index++
					written += int64(len(data))
					return &raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: data}
				}
				for range days {
					// A day: the models' chunks among the small entries.
					models := 14
					for s := 0; s < 5000; s += 32 {
						var batch []*raft.Log
						for range 32 {
							batch = append(batch, entry(small))
						}
						put(batch)
						if models > 0 && rng.IntN(5000/32/14+1) == 0 {
							models--
							for range 2 + rng.IntN(39) { // 1–20 MB
								for k := range 64 {
									chunk[k] = byte(rng.Uint32())
								}
								put([]*raft.Log{entry(chunk)})
							}
						}
					}
					if sz := dirSize(dir); sz > peak {
						peak = sz
					}
				}
				final := dirSize(dir)
				if err := close(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(written)/(1<<20), "written-MB")
				b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
				b.ReportMetric(float64(final)/(1<<20), "final-MB")
				b.ReportMetric(float64(written)/(1<<20)/writing.Seconds(), "write-MB/s")
				if kind == "bolt" {
					t0 := time.Now()
					compacted := compactBolt(b, filepath.Join(dir, "raft.db"))
					b.ReportMetric(float64(compacted)/(1<<20), "compacted-MB")
					b.ReportMetric(time.Since(t0).Seconds(), "compact-s")
				}
			}
		})
	}
}

func compactBolt(b *testing.B, path string) int64 {
	src, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst, err := bbolt.Open(path+".compact", 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := bbolt.Compact(dst, src, 64<<20); err != nil {
		b.Fatal(err)
	}
	dst.Close()
	st, _ := os.Stat(path + ".compact")
	return st.Size()
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

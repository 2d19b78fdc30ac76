package e2e_test

import (
	"context"
	"fmt"
	"net/http/httptrace"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// benchClients is the number of concurrent clients of the intake goal.
const benchClients = 64

// lanTimings puts a node back on the production LAN raft timings
// (coordinatortest speeds them up for tests).
// For experiments, FABGRID_BENCH_MAX_APPEND sets Config.MaxAppendEntries
// (raft's batch size) and FABGRID_BENCH_LEASE Config.LeaderLeaseTimeout.
func lanTimings(_ int, cfg *coordinator.Config) {
	cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 0, 0, 0
	cfg.CommitTimeout, cfg.ApplyTimeout, cfg.TickInterval = 0, 0, 0
	if n, err := strconv.Atoi(os.Getenv("FABGRID_BENCH_MAX_APPEND")); err == nil {
		cfg.MaxAppendEntries = n
	}
	if d, err := time.ParseDuration(os.Getenv("FABGRID_BENCH_LEASE")); err == nil {
		cfg.LeaderLeaseTimeout = d
	}
}

// intakeCluster starts a three-node loopback TCP cluster on LAN timings
// with a community whose model is already stored.
// With inmem, raft runs over its in-memory transport and stores (no TCP,
// no fsync): the ceiling of the software itself on this machine. The
// cluster runs without TLS, as the figures of docs/benchmarks.md before
// TLS did; intakeClusterTLS runs the same with it.
func intakeCluster(b *testing.B, inmem bool) (cl *coordinatortest.Cluster, token string, model client.Model) {
	b.Helper()
	return intakeClusterOpts(b, coordinatortest.Options{Configure: lanTimings, Inmem: inmem, Plaintext: true})
}

// intakeClusterTLS is intakeCluster over TCP with TLS on raft, forwarding
// and the API.
func intakeClusterTLS(b *testing.B) (cl *coordinatortest.Cluster, token string, model client.Model) {
	b.Helper()
	return intakeClusterOpts(b, coordinatortest.Options{Configure: lanTimings})
}

func intakeClusterOpts(b *testing.B, opts coordinatortest.Options) (cl *coordinatortest.Cluster, token string, model client.Model) {
	b.Helper()
	cl = coordinatortest.Start(b, 3, opts)
	ctx := context.Background()
	cc, err := newClient(b, cl, cl.AdminToken).CreateCommunity(ctx, "bench", 1)
	if err != nil {
		b.Fatal(err)
	}
	model = client.BytesModel("cube.stl", coordinatortest.CubeSTL(20, 20, 10))
	if _, err := newClient(b, cl, cc.Token).SubmitOrder(ctx, model, client.OrderRequest{Quantity: 1, Material: "PLA"}); err != nil {
		b.Fatal(err)
	}
	return cl, cc.Token, model
}

// runConcurrent runs n operations over benchClients goroutines and
// reports the throughput of the successful ones, their latency
// percentiles, and how many failed (on a loaded machine the leader can
// lose its lease under load; such calls answer 503 no_leader).
func runConcurrent(b *testing.B, n int, unit string, op func(i int) error) {
	b.Helper()
	lat := make([]time.Duration, n)
	ok := make([]bool, n)
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				err := op(i)
				lat[i], ok[i] = time.Since(t0), err == nil
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	b.StopTimer()
	var good []time.Duration
	for i, d := range lat {
		if ok[i] {
			good = append(good, d)
		}
	}
	failed := n - len(good)
	if len(good) == 0 {
		b.Fatalf("all %d operations failed, first: %v", n, firstErr.Load())
	}
	if failed > 0 {
		b.Logf("%d of %d operations failed, first: %v", failed, n, firstErr.Load())
	}
	slices.Sort(good)
	b.ReportMetric(float64(len(good))/elapsed.Seconds(), unit+"/s")
	b.ReportMetric(float64(good[len(good)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(good[len(good)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(failed), "failed")
	// CPU (user + system) of the whole process — three nodes and the
	// clients — per operation, and in cores while the run lasted.
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/op")
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "cores")
}

// warmUp runs op a few times from each of the benchClients goroutines.
func warmUp(op func()) {
	var wg sync.WaitGroup
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				op()
			}
		}()
	}
	wg.Wait()
}

// processCPU is the user plus system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkOrderIntake submits small orders (a 684-byte STL already
// stored, quantity 1) through the HTTP API from 64 concurrent clients to a
// three-node loopback cluster (raft over TCP, boltdb stores with fsync).
// "leader" sends to the leader; "follower" to a follower, which forwards
// each order to the leader; "inmem-leader" is "leader" with raft's
// in-memory transport and stores; "tls-leader" and "tls-follower" are
// "leader" and "follower" with TLS on the API, the forwarding and raft
// (mutual). orders/entry is how many orders the group commit packed into
// each raft entry, on average.
//
//	go test ./coordinator/e2e -run '^$' -bench 'OrderIntake|RaftApply' -benchtime 5000x
func BenchmarkOrderIntake(b *testing.B) {
	for _, via := range []string{"leader", "follower", "inmem-leader", "tls-leader", "tls-follower"} {
		b.Run(via, func(b *testing.B) {
			var (
				cl    *coordinatortest.Cluster
				token string
				model client.Model
			)
			if strings.HasPrefix(via, "tls-") {
				cl, token, model = intakeClusterTLS(b)
			} else {
				cl, token, model = intakeCluster(b, via == "inmem-leader")
			}
			l := cl.LeaderIndex(5 * time.Second)
			target := cl.Nodes[l]
			if strings.HasSuffix(via, "follower") {
				target = cl.Nodes[(l+1)%3]
			}
			c, err := client.New([]string{target.URL()}, client.Options{Token: token, TLS: coordinatortest.ClientTLS()})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			req := client.OrderRequest{Quantity: 1, Material: "PLA"}
			// Untimed, the clients open their connections (and, with
			// TLS, do their handshakes) as any long-running client does
			// once: the figure is the steady intake.
			warmUp(func() { _, _ = c.SubmitOrder(ctx, model, req) })
			// new-conns counts the connections the clients open while
			// timed: 0 when every order reuses one (no handshake per order).
			var newConns atomic.Int64
			tctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
				if !i.Reused {
					newConns.Add(1)
				}
			}})
			first := cl.Nodes[l].Raft().LastIndex()
			runConcurrent(b, b.N, "orders", func(int) error {
				_, err := c.SubmitOrder(tctx, model, req)
				return err
			})
			b.ReportMetric(float64(newConns.Load()), "new-conns")
			// Orders per raft entry: how much the group commit packed.
			if entries := cl.Nodes[l].Raft().LastIndex() - first; entries > 0 {
				b.ReportMetric(float64(b.N)/float64(entries), "orders/entry")
			}
		})
	}
}

// BenchmarkRaftApply is the bare-raft reference for BenchmarkOrderIntake:
// the leader's raft.Apply of the very command an order submission commits
// (encoded the same way, same size), from 64 concurrent goroutines, on the
// same cluster shape. It includes the FSM applying the order, not HTTP.
// Sub-benchmarks "tcp" and "inmem" match OrderIntake's "leader" and
// "inmem-leader".
func BenchmarkRaftApply(b *testing.B) {
	for _, tr := range []string{"tcp", "inmem"} {
		b.Run(tr, func(b *testing.B) { benchRaftApply(b, tr == "inmem") })
	}
}

func benchRaftApply(b *testing.B, inmem bool) {
	cl, _, _ := intakeCluster(b, inmem)
	leader := cl.WaitLeader(5 * time.Second)
	var tmpl fsm.OrderCmd
	leader.FSM().View(func(s *fsm.State) {
		for _, o := range s.Orders {
			tmpl.Order = *o
			tmpl.Model = *s.Models[o.ModelSHA256]
		}
	})
	tmpl.Order.State, tmpl.Order.JobIDs = "", nil
	cmds := make([][]byte, b.N)
	for i := range cmds {
		oc := tmpl
		oc.Order.ID = fmt.Sprintf("o-bench%010d", i)
		data, err := fsm.EncodeCommand(&fsm.Command{V: fsm.CommandVersion, Type: fsm.CmdSubmitOrder,
			Time: time.Now().UnixNano(), Order: &oc})
		if err != nil {
			b.Fatal(err)
		}
		cmds[i] = data
	}
	r := leader.Raft()
	runConcurrent(b, b.N, "applies", func(i int) error {
		f := r.Apply(cmds[i], 5*time.Second)
		if err := f.Error(); err != nil {
			return err
		}
		if res, ok := f.Response().(fsm.ApplyResult); ok && res.Err != nil {
			return res.Err
		}
		return nil
	})
	b.ReportMetric(float64(len(cmds[0])), "cmd-bytes") // after runConcurrent's ResetTimer, which drops metrics
}

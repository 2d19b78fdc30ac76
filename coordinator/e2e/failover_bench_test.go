package e2e_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/client"
)

// failoverKills is how many leader kills BenchmarkFailover takes the
// median of.
const failoverKills = 10

// BenchmarkFailover kills the leader of a three-node loopback cluster (LAN
// raft timings) and times until the first order acknowledged afterwards,
// submitted by a client that knows all three coordinators and tries again
// as soon as a call fails. The killed node is restarted from its data dir
// and caught up before the next kill. It always does failoverKills kills,
// whatever b.N is:
//
//	go test ./coordinator/e2e -run '^$' -bench Failover -benchtime 1x
func BenchmarkFailover(b *testing.B) {
	cl, token, model := intakeCluster(b, false)
	var urls []string
	for _, n := range cl.Nodes {
		urls = append(urls, n.URL())
	}
	c, err := client.New(urls, client.Options{Token: token, Timeout: 2 * time.Second, Attempts: 3,
		BackoffBase: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	req := client.OrderRequest{Quantity: 1, Material: "PLA"}
	var times []time.Duration
	b.ResetTimer()
	for range failoverKills {
		b.StopTimer()
		cl.WaitConverged(20 * time.Second)
		if _, err := c.SubmitOrder(ctx, model, req); err != nil {
			b.Fatalf("cluster not writable before the kill: %v", err)
		}
		l := cl.LeaderIndex(5 * time.Second)
		b.StartTimer()
		t0 := time.Now()
		cl.Kill(l)
		for {
			if _, err := c.SubmitOrder(ctx, model, req); err == nil {
				break
			}
			if time.Since(t0) > 30*time.Second {
				b.Fatal("no order acknowledged within 30 s of the leader's death")
			}
			time.Sleep(5 * time.Millisecond) // a client's pause between tries
		}
		times = append(times, time.Since(t0))
		b.StopTimer()
		cl.Restart(l)
	}
	slices.Sort(times)
	b.ReportMetric(float64((times[len(times)/2-1]+times[len(times)/2]).Microseconds())/2000, "median-ms")
	b.ReportMetric(float64(times[0].Microseconds())/1000, "min-ms")
	b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "max-ms")
	b.Logf("failover times: %v", times)
}

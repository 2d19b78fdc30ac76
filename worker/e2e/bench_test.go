package e2e

import (
	"slices"
	"testing"
	"time"
)

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkOrderAckToFirstPrint measures, on an idle printer long-polling
// a one-node coordinator, the time from an order's 201 to the worker
// receiving the assignment, and to the G-code starting to stream (after
// model download and slicing). Goal: under 1 s.
//
//	go test -run XXX -bench OrderAckToFirstPrint -benchtime 10x ./worker/e2e
func BenchmarkOrderAckToFirstPrint(b *testing.B) {
	g := newGrid(b, 1)
	w := g.addWorker("ender", "ender3", "PLA")
	w.run(nil)
	var toPrint []time.Duration
	b.ResetTimer()
	for range b.N {
		o := g.submit(part, 1, "PLA")
		acked := time.Now() // the 201 has arrived
		select {
		case <-w.start:
			toPrint = append(toPrint, time.Since(acked))
		case <-time.After(30 * time.Second):
			b.Fatal("the job never started")
		}
		b.StopTimer()
		g.waitOrder(o.ID, 30*time.Second)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(median(toPrint).Microseconds())/1000, "ms-ack-to-print-median")
	b.ReportMetric(float64(slices.Max(toPrint).Microseconds())/1000, "ms-ack-to-print-max")
}

// BenchmarkWorkerDeathToRequeue measures the time from a worker's crash
// mid-print to its job being requeued by the leader (the failure recorded
// on the job). Goal: under lost-after (3 s here) + 2 s.
//
//	go test -run XXX -bench WorkerDeathToRequeue -benchtime 3x ./worker/e2e
func BenchmarkWorkerDeathToRequeue(b *testing.B) {
	g := newGrid(b, 1)
	var lat []time.Duration
	for i := range b.N {
		w := g.addWorker("w", "ender3", "PLA")
		w.run(nil)
		o := g.submit(part, 1, "PLA")
		select {
		case <-w.start:
		case <-time.After(30 * time.Second):
			b.Fatal("the job never started")
		}
		killed := time.Now()
		w.kill()
		deadline := time.Now().Add(lostAfter + 10*time.Second)
		for {
			cur, ok := g.order(o.ID)
			if ok && len(cur.Jobs) == 1 && len(cur.Jobs[0].Failures) > 0 {
				lat = append(lat, time.Since(killed))
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("round %d: not requeued within %v", i, lostAfter+10*time.Second)
			}
			time.Sleep(10 * time.Millisecond) // polling the API with a deadline
		}
		// Cancel the rest of the order so the next round starts clean.
		g.hc.Do("DELETE", g.leaderURL()+"/v1/orders/"+o.ID, g.comm, nil, nil)
	}
	b.ReportMetric(float64(median(lat).Microseconds())/1000, "ms-death-to-requeue-median")
	b.ReportMetric(float64(slices.Max(lat).Microseconds())/1000, "ms-death-to-requeue-max")
	b.ReportMetric(float64(lostAfter.Milliseconds()), "ms-lost-after")
}

package gossip

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkDeathDetection measures, in a pool of three on loopback with
// DefaultTiming, the time from a member vanishing (Close, no leave) to the
// others' EventDead.
//
//	go test -run XXX -bench DeathDetection -benchtime 5x ./gossip
func BenchmarkDeathDetection(b *testing.B) {
	var lat []time.Duration
	for i := range b.N {
		rec := newRecorder()
		a, err := Start(Config{Name: fmt.Sprint("a", i), Key: testKey, OnEvent: rec.on})
		if err != nil {
			b.Fatal(err)
		}
		bb, _ := Start(Config{Name: fmt.Sprint("b", i), Key: testKey})
		c, _ := Start(Config{Name: fmt.Sprint("c", i), Key: testKey})
		bb.Join([]string{a.Addr()})
		c.Join([]string{a.Addr()})
		for len(a.Members()) != 3 {
			time.Sleep(10 * time.Millisecond)
		}
		start := time.Now()
		c.Close()
		name := c.Name()
		deadline := time.After(20 * time.Second)
	wait:
		for {
			rec.mu.Lock()
			for _, e := range rec.events {
				if e.Kind == EventDead && e.Member.Name == name {
					rec.mu.Unlock()
					break wait
				}
			}
			rec.mu.Unlock()
			select {
			case <-rec.signal:
			case <-deadline:
				b.Fatal("no death")
			}
		}
		lat = append(lat, time.Since(start))
		bb.Close()
		a.Close()
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "ms-to-dead-median")
	b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "ms-to-dead-max")
}

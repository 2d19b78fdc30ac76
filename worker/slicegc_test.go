package worker

import (
	"runtime/debug"
	"sync"
	"testing"
)

// The GC percent is lowered while slices run, however they overlap, and
// restored when the last one ends.
func TestSlicingGCRestoresThePercent(t *testing.T) {
	before := debug.SetGCPercent(137)
	defer debug.SetGCPercent(before)
	var wg sync.WaitGroup
	ends := make(chan func(), 8)
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); ends <- slicingGC() }()
	}
	wg.Wait()
	close(ends)
	if got := debug.SetGCPercent(slicingGCPercent); got != slicingGCPercent {
		t.Fatalf("GC percent while slicing: %d", got)
	}
	for end := range ends {
		end()
	}
	if got := debug.SetGCPercent(137); got != 137 {
		t.Fatalf("GC percent after the slices: %d, want 137 back", got)
	}
}

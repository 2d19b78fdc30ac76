package slicepolicy

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
		go func() { defer wg.Done(); ends <- Begin() }()
	}
	wg.Wait()
	close(ends)
	if got := debug.SetGCPercent(GCPercent); got != GCPercent {
		t.Fatalf("GC percent while slicing: %d", got)
	}
	for end := range ends {
		end()
	}
	if got := debug.SetGCPercent(137); got != 137 {
		t.Fatalf("GC percent after the slices: %d, want 137 back", got)
	}
}

func TestSliceProcs(t *testing.T) {
	for _, tc := range []struct {
		name              string
		tris, layers, max int
		want              int
	}{
		{"cube", 12, 100, 8, 1},
		{"torus", 2304, 50, 8, 1},
		{"tall box", 12, 1250, 8, 7},
		{"benchy", 225_154, 240, 8, 8},
		{"benchy on two cores", 225_154, 240, 2, 2},
		{"one core", 1_000_000, 200, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Procs(tc.tris, tc.layers, tc.max); got != tc.want {
				t.Fatalf("sliceProcs(%d, %d, %d) = %d, want %d", tc.tris, tc.layers, tc.max, got, tc.want)
			}
		})
	}
}

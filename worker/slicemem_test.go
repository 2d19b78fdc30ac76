package worker

import (
	"context"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
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

// FABGRID_SLICE_MEM=FILE.stl: slice FILE as the worker does and report the
// process's peak RSS (a measurement, not run by default).
func TestSliceMemory(t *testing.T) {
	path := os.Getenv("FABGRID_SLICE_MEM")
	if path == "" {
		t.Skip("set FABGRID_SLICE_MEM=FILE.stl")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := profile.LookupPrinter("ender3")
	m, _ := profile.LookupMaterial("PLA")
	out, err := LocalSlicer{}.Slice(context.Background(), b, p, m, 0.2, 20)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.ReadFile("/proc/self/status")
	t.Logf("%d lines; %s", len(out.GCode), grepStatus(string(st), "VmHWM", "VmRSS"))
}

func grepStatus(status string, keys ...string) string {
	var out []string
	for _, l := range strings.Split(status, "\n") {
		for _, k := range keys {
			if strings.HasPrefix(l, k+":") {
				out = append(out, strings.Join(strings.Fields(l), " "))
			}
		}
	}
	return strings.Join(out, ", ")
}

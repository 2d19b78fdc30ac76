// Package slicepolicy is how a process spends its memory and cores while
// it slices: the collector's target and the processor count. Package
// slicer stays pure and never touches the runtime's settings; `fabgrid
// slice` and the worker both slice under this policy.
package slicepolicy

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// GCPercent is the collector's target while a slice runs. Slicing
// allocates many times the model's size in short-lived geometry; a
// tighter target keeps the peak memory low (workers run on small
// machines) for a little more CPU.
const GCPercent = 50

var state struct {
	mu      sync.Mutex
	running int // slices in progress
	prev    int // the GC percent before the first of them
}

// Begin lowers the GC percent to GCPercent for a slice and returns what
// ends it; the last of overlapping slices (several workers in one
// process) to end restores the percent the process had.
func Begin() (end func()) {
	st := &state
	st.mu.Lock()
	if st.running == 0 {
		st.prev = debug.SetGCPercent(GCPercent)
	}
	st.running++
	st.mu.Unlock()
	return func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.running--; st.running == 0 {
			debug.SetGCPercent(st.prev)
		}
	}
}

// Procs is how many Ps (GOMAXPROCS, at most max) a job of tris
// triangles and about layers layers is worth: one per 100 ms of estimated
// single-core work, at 10 µs a triangle and 0.5 ms a layer (measured on the
// test models and Benchy: 20 mm cube 5 ms, sphere and torus 50–120 ms,
// Benchy 1.4 s).
func Procs(tris, layers, max int) int {
	est := time.Duration(tris)*10*time.Microsecond + time.Duration(layers)*500*time.Microsecond
	return min(max, 1+int(est/(100*time.Millisecond)))
}

// LimitProcs runs a process that does nothing but this one slice on
// fewer Ps when the job is small, and returns what restores GOMAXPROCS.
// Each P costs memory (its allocation cache holds a span of every size
// class in use, and the collector runs a mark worker per P) while a job of
// a few tens of milliseconds gains nothing from more cores. GOMAXPROCS is
// the process's: a worker, which may share its process with others, does
// not use this.
func LimitProcs(tris, layers int) (restore func()) {
	if procs := Procs(tris, layers, runtime.GOMAXPROCS(0)); procs < runtime.GOMAXPROCS(0) {
		prev := runtime.GOMAXPROCS(procs)
		return func() { runtime.GOMAXPROCS(prev) }
	}
	return func() {}
}

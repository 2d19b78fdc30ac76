//go:build unix

package scheduler

import "syscall"

// cpuNanos is the CPU time (user + system, all threads) the process has
// used, so benchmarks can report CPU per round on a shared machine where
// wall time depends on the neighbours.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

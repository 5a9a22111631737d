// Package cpuclock measures what a benchmark costs in CPU time: the
// process's user and system time, which the other processes on a busy
// machine do not inflate as they do wall time. The benchmarks report it as
// cpu-ns/op beside Go's ns/op, and it counts the work of every goroutine
// the benchmark starts (writers, the collector), not only the loop's.
package cpuclock

import (
	"syscall"
	"testing"
	"time"
)

// Process is the CPU time (user and system) the process has used so far.
func Process() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Clock is a benchmark's CPU time since Start.
type Clock struct {
	b     *testing.B
	start time.Duration
}

// Start starts measuring b's CPU time.
func Start(b *testing.B) Clock { return Clock{b, Process()} }

// Report reports the CPU time since Start per op, as cpu-ns/op.
func (c Clock) Report() {
	c.b.ReportMetric(float64(Process()-c.start)/float64(c.b.N), "cpu-ns/op")
}

// Package heapfloor keeps the garbage collector's heap goal at or above a
// floor while the live heap is small.
//
// Go's collector runs when the heap has grown by GOGC percent of what the
// last cycle found live. A cardgate server keeps a few megabytes live from
// the moment it starts (its libraries' tables: phone-number metadata, JSON
// Schema meta-schemas), and every cycle marks them all again; with the
// default GOGC=100 a proxy under load collects several times a second for
// a heap of a few megabytes. Letting the heap reach the floor first makes
// those cycles rarer, for memory a server has to spare; once twice the live
// heap is above the floor (caches full), GOGC rules as usual, so the floor
// adds nothing to the memory that caches cost.
package heapfloor

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Default is the floor cardgate's servers use: 16 MiB of heap before the
// first collection, and between collections while less than 8 MiB is live.
const Default = 16 << 20

// metric names: the heap the last cycle found live, and the roots the
// pacer counts with it (GOGC percent of all three is the growth allowed).
var names = []string{"/gc/heap/live:bytes", "/gc/scan/stack:bytes", "/gc/scan/globals:bytes", "/gc/gogc:percent"}

type floor struct {
	bytes   uint64
	base    int // the GOGC the process started with: never go below it
	mu      sync.Mutex
	set     int // the percentage in force
	stopped bool
	samples []metrics.Sample
}

// Start keeps the heap goal at least bytes until stop is called, which
// puts back the GOGC the process had. It does nothing when the collector is
// off (GOGC=off). It raises GOGC, never lowers it below the process's own.
func Start(bytes uint64) (stop func()) {
	f := &floor{bytes: bytes, samples: make([]metrics.Sample, len(names))}
	for i, n := range names {
		f.samples[i].Name = n
	}
	metrics.Read(f.samples)
	for _, s := range f.samples {
		if s.Value.Kind() != metrics.KindUint64 {
			return func() {} // a runtime without these metrics
		}
	}
	// GOGC=off reads as -1 (the runtime's int32, as a uint64).
	if f.base = int(int32(f.samples[3].Value.Uint64())); f.base <= 0 || bytes == 0 {
		return func() {}
	}
	f.set = f.base
	f.adjust()
	f.arm()
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.stopped {
			f.stopped = true
			debug.SetGCPercent(f.base)
		}
	}
}

// sentinel is garbage from the moment it is made; its cleanup runs after
// the next cycle and makes the next sentinel. It holds a pointer so that it
// is never one of the tiny allocations a cleanup may not run for.
type sentinel struct{ _ *byte }

func (f *floor) arm() {
	runtime.AddCleanup(&sentinel{}, func(f *floor) {
		if f.adjust() {
			f.arm()
		}
	}, f)
}

// adjust sets GOGC from the last cycle's live heap and reports whether the
// floor is still in force.
func (f *floor) adjust() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return false
	}
	metrics.Read(f.samples)
	live := f.samples[0].Value.Uint64()
	roots := live + f.samples[1].Value.Uint64() + f.samples[2].Value.Uint64()
	if p := percent(f.bytes, live, roots, f.base); p != f.set {
		debug.SetGCPercent(p)
		f.set = p
	}
	return true
}

// percent is the GOGC whose goal, live + roots*GOGC/100, reaches floor, or
// base if base reaches it already.
func percent(floor, live, roots uint64, base int) int {
	if live >= floor || roots == 0 {
		return base
	}
	p := math.Ceil(float64(floor-live) * 100 / float64(roots))
	if p <= float64(base) {
		return base
	}
	return int(min(p, math.MaxInt32))
}

package heapfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// The tests change the process's collector settings, so none runs in
// parallel.

func read(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func gogc() int { return int(int32(read("/gc/gogc:percent"))) }

// collectUntil runs collections until ok holds (the floor adjusts after a
// cycle, on the runtime's cleanup goroutine) or gives up after a while.
func collectUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10 s of collections (GOGC %d, heap goal %d, live %d)",
				what, gogc(), read("/gc/heap/goal:bytes"), read("/gc/heap/live:bytes"))
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

func TestGoalStaysAboveFloorWhileHeapIsSmall(t *testing.T) {
	const floor = 64 << 20
	if live := read("/gc/heap/live:bytes"); live > floor/4 {
		t.Fatalf("the test's own heap is %d bytes live; it needs a small one", live)
	}
	stop := Start(floor)
	defer stop()
	collectUntil(t, "heap goal at the floor", func() bool { return read("/gc/heap/goal:bytes") >= floor })
	if p := gogc(); p <= 100 {
		t.Fatalf("GOGC is %d; the floor should have raised it above 100", p)
	}

	// A live heap whose double is above the floor gets GOGC's own goal.
	keep := make([][]byte, 48)
	for i := range keep {
		keep[i] = make([]byte, 1<<20)
	}
	collectUntil(t, "GOGC back to 100 with 48 MiB live", func() bool { return gogc() == 100 })
	if goal := read("/gc/heap/goal:bytes"); goal < 96<<20 || goal > 112<<20 {
		t.Errorf("heap goal %d with 48 MiB live and GOGC=100: want about twice the live heap", goal)
	}
	runtime.KeepAlive(keep)

	// And when it shrinks again, the floor is back: GOGC raised again
	// (the goal of the 48 MiB is above the floor too).
	keep = nil
	collectUntil(t, "the floor back after the heap shrank", func() bool { return gogc() > 100 && read("/gc/heap/goal:bytes") >= floor })
}

func TestStopPutsBackGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	stop := Start(64 << 20)
	collectUntil(t, "GOGC raised", func() bool { return gogc() > 150 })
	stop()
	stop() // twice is harmless
	if p := gogc(); p != 150 {
		t.Fatalf("GOGC %d after stop; want the 150 the process had", p)
	}
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // room for a cleanup that should not come
	}
	if p := gogc(); p != 150 {
		t.Fatalf("GOGC %d some collections after stop; the floor should be gone", p)
	}
}

func TestCollectorOffIsLeftOff(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	stop := Start(64 << 20)
	defer stop()
	runtime.GC()
	runtime.GC()
	if p := gogc(); p != -1 {
		t.Fatalf("GOGC %d; GOGC=off must stay off", p)
	}
}

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		floor, live, roots uint64
		base, want         int
	}{
		{16 * mib, 4 * mib, 4 * mib, 100, 300},         // 4 + 4*300% = 16
		{16 * mib, 4 * mib, 5 * mib, 100, 240},         // roots count in the growth
		{16 * mib, 10 * mib, 10 * mib, 100, 100},       // 60% would do: never below base
		{16 * mib, 20 * mib, 20 * mib, 100, 100},       // above the floor already
		{16 * mib, 4 * mib, 4 * mib, 400, 400},         // the operator's GOGC reaches it
		{16 * mib, 1, 1, 100, int(16*mib-1) * 100 / 1}, // a near-empty heap
		{16 * mib, 0, 0, 100, 100},                     // no cycle yet: nothing to scale
	} {
		if got := percent(c.floor, c.live, c.roots, c.base); got != c.want {
			t.Errorf("percent(floor %d, live %d, roots %d, base %d) = %d, want %d", c.floor, c.live, c.roots, c.base, got, c.want)
		}
	}
}

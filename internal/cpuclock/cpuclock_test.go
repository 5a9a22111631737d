package cpuclock_test

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/cardgate/cardgate/internal/cpuclock"
)

// spin hashes for about d of wall time, keeping a core busy.
func spin(d time.Duration) {
	var sum [32]byte
	for end := time.Now().Add(d); time.Now().Before(end); {
		sum = sha256.Sum256(sum[:])
	}
}

// TestProcessCountsWork: a goroutine's work shows in Process, and a sleep
// does not.
func TestProcessCountsWork(t *testing.T) {
	t0 := cpuclock.Process()
	time.Sleep(50 * time.Millisecond)
	slept := cpuclock.Process() - t0
	// On a busy machine a spin of 100 ms of wall time may get less CPU;
	// spin until 20 ms of CPU is counted, or give up after 10 s.
	t1 := cpuclock.Process()
	deadline := time.Now().Add(10 * time.Second)
	for cpuclock.Process()-t1 < 20*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("10 s of spinning counted %v of CPU", cpuclock.Process()-t1)
		}
		go spin(10 * time.Millisecond) // another goroutine's work counts too
		spin(10 * time.Millisecond)
	}
	if slept >= 20*time.Millisecond {
		t.Errorf("a 50 ms sleep counted %v of CPU", slept)
	}
}

// TestReport: a benchmark's cpu-ns/op is its work per op, in the range of
// its ns/op for a loop that only computes.
func TestReport(t *testing.T) {
	r := testing.Benchmark(func(b *testing.B) {
		c := cpuclock.Start(b)
		for b.Loop() {
			spin(100 * time.Microsecond)
		}
		c.Report()
	})
	cpu, ok := r.Extra["cpu-ns/op"]
	if !ok {
		t.Fatalf("no cpu-ns/op in %v", r.Extra)
	}
	// The spin takes 100 µs of wall time; it gets at most that much CPU,
	// and some of it, however busy the machine.
	if cpu <= 0 || cpu > 5*float64(r.NsPerOp()) {
		t.Errorf("cpu-ns/op = %.0f for %d ns/op of spinning", cpu, r.NsPerOp())
	}
}

package sqlite_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

// BenchmarkAppendAudit measures one audit row, written in batches of 1,024
// as the adapter's AuditLog writes them.
func BenchmarkAppendAudit(b *testing.B) {
	db := sqlitetest.Open(b)
	batch := make([]*cardgate.AuditRecord, 1024)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i += len(batch) {
		for j := range batch {
			batch[j] = &cardgate.AuditRecord{Time: time.Now(), UserID: "11111111-1111-4111-8111-111111111111",
				PackageID: "com.example.a", Route: "products", Method: "GET", Status: 200, UpstreamStatus: 200,
				Latency: 150 * time.Microsecond, BytesOut: 38}
		}
		if err := db.AppendAudit(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's CPU time (user and system), which other
// processes on the machine do not inflate as they do wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

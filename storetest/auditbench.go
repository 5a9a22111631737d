package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/internal/cpuclock"
)

// BenchAuditUsers measures an audit row appended to s in 1,024-row
// batches, as the adapter's AuditLog writes them when busy, to a table that
// already holds 100,000 rows, of one user and of 1,000 users in random
// order: what an index keyed by user costs shows as the difference. open
// returns a new, empty store. Besides ns/op (wall) it reports this
// process's CPU per row (a server's, such as PostgreSQL's, is not in it).
func BenchAuditUsers(b *testing.B, open func(testing.TB) cardgate.Store) {
	for _, users := range []int{1, 1000} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			s := open(b)
			user := AuditUser(users)
			ctx := context.Background()
			for i := 0; i < 100_000; i += 1000 {
				if err := s.AppendAudit(ctx, AuditBatch(1000, i, user)); err != nil {
					b.Fatal(err)
				}
			}
			BenchAppendAudit(b, s, 1024, user)
		})
	}
}

// AuditUser returns the user of the i-th record among n users: one, or n
// in an order that puts a different user on each row. The IDs are made
// once, so that making them is not measured.
func AuditUser(n int) func(int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-1111-4111-8111-111111111111", i)
	}
	return func(i int) string { return ids[(i*7919)%n] }
}

// BenchAppendAudit appends batches of size records to s, the i-th from
// user(i), and reports the process's CPU per record.
func BenchAppendAudit(b *testing.B, s cardgate.Store, size int, user func(int) string) {
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuclock.Start(b)
	for i := 0; i < b.N; i += size {
		if err := s.AppendAudit(context.Background(), AuditBatch(size, i, user)); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report()
}

// AuditBatch returns n records as the adapter writes them; the k-th is
// from user(first+k).
func AuditBatch(n, first int, user func(int) string) []*cardgate.AuditRecord {
	batch := make([]*cardgate.AuditRecord, n)
	for k := range batch {
		batch[k] = &cardgate.AuditRecord{Time: time.Now(), UserID: user(first + k),
			PackageID: "com.example.a", Route: "products", Method: "GET", Status: 200, UpstreamStatus: 200,
			Latency: 150 * time.Microsecond, BytesOut: 38}
	}
	return batch
}

package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/sqlite"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

// BenchmarkAppendAudit measures one audit row, written in batches as the
// adapter's AuditLog writes them: 1,024 when requests come faster than
// 4,000 a second, whatever arrived in 250 ms otherwise (600 at 2,400 a
// second, 40 at 160).
func BenchmarkAppendAudit(b *testing.B) {
	for _, size := range []int{1024, 600, 40} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			db := sqlitetest.Open(b)
			batch := make([]*cardgate.AuditRecord, size)
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
		})
	}
}

// cpuTime is the process's CPU time (user and system), which other
// processes on the machine do not inflate as they do wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestAuditGrowth measures what an audit row costs on disk, as the
// adapter writes them, for the figure in docs/adapter.md: about 200 bytes
// (checked here to stay between 100 and 300).
func TestAuditGrowth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardgate.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx := context.Background()
	size := func() int64 { // the database's pages, the WAL's included
		var pages, pageSize int64
		if err := raw.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
			t.Fatal(err)
		}
		if err := raw.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
			t.Fatal(err)
		}
		return pages * pageSize
	}
	before := size()
	const rows = 20_000
	batch := make([]*cardgate.AuditRecord, 1000)
	for i := 0; i < rows; i += len(batch) {
		for j := range batch {
			batch[j] = &cardgate.AuditRecord{Time: time.Now(), UserID: "11111111-1111-4111-8111-111111111111",
				PackageID: "com.example.orders", Route: "orders", Method: "GET", Status: 200, UpstreamStatus: 200,
				Latency: 1500 * time.Microsecond, BytesOut: 4096}
		}
		if err := db.AppendAudit(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	per := float64(size()-before) / rows
	t.Logf("%.0f bytes per audit row", per)
	if per < 100 || per > 300 {
		t.Errorf("%.0f bytes per audit row; docs/adapter.md says about 200", per)
	}
}

// TestCloseReleasesTheFile checks that Close lets go of the database file
// after audit batches, whose INSERTs stay prepared between batches: SQLite
// keeps a connection with unfinished statements open, file and all, and an
// adapter that reopens its store (or a test that removes it) would leak
// one each time.
func TestCloseReleasesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardgate.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 7, 64, 100} { // every prepared size
		batch := make([]*cardgate.AuditRecord, n)
		for i := range batch {
			batch[i] = &cardgate.AuditRecord{Time: time.Now(), UserID: "u", PackageID: "p", Route: "r", Method: "GET", Status: 200}
		}
		if err := db.AppendAudit(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	if open := openFiles(t, path); len(open) == 0 {
		t.Fatal("the open database is not among the process's files: the check below would prove nothing")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if open := openFiles(t, path); len(open) > 0 {
		t.Errorf("after Close the process still has %s open", strings.Join(open, ", "))
	}
	if err := db.Close(); err != nil {
		t.Errorf("a second Close: %v, want nil as sql.DB's", err)
	}
}

// openFiles lists the files of this process whose name starts with path
// (the database, its -wal and -shm).
func openFiles(t *testing.T, path string) []string {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd to list open files (%v): this test runs on Linux", err)
	}
	var open []string
	for _, fd := range fds {
		if name, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(name, path) {
			open = append(open, name)
		}
	}
	return open
}

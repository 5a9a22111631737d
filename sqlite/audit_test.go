package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/sqlite"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
	"github.com/cardgate/cardgate/storetest"
)

// BenchmarkAppendAudit measures one audit row, written in batches as the
// adapter's AuditLog writes them: 1,024 when requests come faster than
// 4,000 a second, whatever arrived in 250 ms otherwise (600 at 2,400 a
// second, 40 at 160), one user's rows to an empty table. The users=…
// cases are storetest.BenchAuditUsers: many users' rows on a full table.
func BenchmarkAppendAudit(b *testing.B) {
	for _, size := range []int{1024, 600, 40} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			storetest.BenchAppendAudit(b, sqlitetest.Open(b), size, storetest.AuditUser(1))
		})
	}
	storetest.BenchAuditUsers(b, func(tb testing.TB) cardgate.Store { return sqlitetest.Open(tb) })
}

// TestAuditGrowth measures what an audit row costs on disk, as the
// adapter writes them, for the figures in docs/adapter.md: about 150 bytes
// since the index by user went (migration 11; 205 with it), checked here
// to stay between 120 and 190; about 190 when the token named a
// conversation (its 36-character id), checked between 160 and 230.
func TestAuditGrowth(t *testing.T) {
	for _, c := range []struct {
		conv   string
		lo, hi float64
		about  string
	}{
		{"", 120, 190, "about 150"},
		{"22222222-2222-4222-8222-222222222222", 160, 230, "about 190 with a conversation"},
	} {
		per := auditGrowth(t, c.conv)
		t.Logf("conversation %q: %.0f bytes per audit row", c.conv, per)
		if per < c.lo || per > c.hi {
			t.Errorf("conversation %q: %.0f bytes per audit row; docs/adapter.md says %s", c.conv, per, c.about)
		}
	}
}

// auditGrowth is the growth of a new store's file, the WAL's included,
// per row of 20,000 written in batches of 1,000 with conversation conv.
func auditGrowth(t *testing.T, conv string) float64 {
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
				PackageID: "com.example.orders", ConversationID: conv, Route: "orders", Method: "GET", Status: 200,
				UpstreamStatus: 200, Latency: 1500 * time.Microsecond, BytesOut: 4096}
		}
		if err := db.AppendAudit(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	return float64(size()-before) / rows
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

// BenchmarkAuditByUser is what a query by user costs now that no index is
// keyed by user: the newest 100 records of a user among 1,000 (read from
// the newest until 100 are found), a user with no records, for whom the
// whole log is read, 200,000 rows here (per-row figure in the metric), and
// the same with --since the last 1,000 records, where the index on time
// bounds the read.
func BenchmarkAuditByUser(b *testing.B) {
	db := sqlitetest.Open(b)
	const rows = 200_000
	user := storetest.AuditUser(1000)
	var since time.Time // the last 1,000 records' time
	for i := 0; i < rows; i += 1000 {
		since = time.Now()
		if err := db.AppendAudit(context.Background(), storetest.AuditBatch(1000, i, user)); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name, user string
		want       int
		since      time.Time
	}{
		{"newest100", user(42), 100, time.Time{}},
		{"absent", "22222222-2222-4222-8222-222222222222", 0, time.Time{}},
		{"absent-since", "22222222-2222-4222-8222-222222222222", 0, since},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				recs, err := db.Audit(context.Background(), cardgate.AuditQuery{UserID: c.user, Newest: true, Limit: 100, Since: c.since})
				if err != nil || len(recs) != c.want {
					b.Fatalf("%d records, %v; want %d", len(recs), err, c.want)
				}
			}
			if c.want == 0 && c.since.IsZero() {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
			}
		})
	}
}

// TestUpgradeDropsAuditUserIndex: a store at schema 10 keeps every audit
// record through migration 11, which drops the index of records by user,
// and a query by user still finds that user's records, newest first.
func TestUpgradeDropsAuditUserIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardgate.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	user := func(i int) string { return fmt.Sprintf("%08x-1111-4111-8111-111111111111", i%3) }
	if err := db.AppendAudit(t.Context(), storetest.AuditBatch(30, 0, user)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	index := func() int {
		var n int
		if err := raw.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'audit_user'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if index() != 0 {
		t.Fatal("a new store has the index by user")
	}
	for _, q := range []string{"DELETE FROM schema_migrations WHERE version >= 11",
		"ALTER TABLE audit DROP COLUMN conversation_id", // undo 12
		"CREATE INDEX audit_user ON audit (user_id, id)"} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if index() != 0 {
		t.Error("the upgrade left the index by user")
	}
	all, err := db.Audit(t.Context(), cardgate.AuditQuery{})
	if err != nil || len(all) != 30 {
		t.Fatalf("after the upgrade: %d records, %v; want 30", len(all), err)
	}
	recs, err := db.Audit(t.Context(), cardgate.AuditQuery{UserID: user(1), Newest: true, Limit: 4})
	if err != nil || len(recs) != 4 {
		t.Fatalf("by user: %d records, %v; want 4", len(recs), err)
	}
	for i, r := range recs {
		if r.UserID != user(1) || r.ID != all[28-3*(3-i)].ID {
			t.Errorf("record %d by user: %s id %d, want %s id %d", i, r.UserID, r.ID, user(1), all[28-3*(3-i)].ID)
		}
	}
}

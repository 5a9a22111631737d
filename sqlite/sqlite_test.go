package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/sqlite"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
	"github.com/cardgate/cardgate/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() cardgate.Store {
		path := filepath.Join(t.TempDir(), "cardgate.db")
		return func() cardgate.Store {
			db, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
	})
}

func TestSQLiteTestOpen(t *testing.T) {
	db := sqlitetest.Open(t)
	if err := db.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestOpenRefusesBadFiles checks that a file Open cannot trust is an error
// that names the file and says what to do, and that Open leaves it as it was.
func TestOpenRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	db, err := sqlite.Open(t.Context(), good)
	if err != nil {
		t.Fatal(err)
	}
	// Enough rows that the file has many pages, so that truncation cuts
	// through data rather than an empty tail.
	for i := range 300 {
		err := db.Revoke(t.Context(), &cardgate.Revocation{Kind: cardgate.RevokeToken,
			Subject: fmt.Sprintf("%s-%d", strings.Repeat("x", 200), i), At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}

	foreign := filepath.Join(dir, "foreign.db")
	raw, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("CREATE TABLE recipes (name TEXT)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	tests := []struct {
		name string
		data []byte // nil: the file is already there
		want string
	}{
		{"garbage", []byte(strings.Repeat("this is not a database ", 300)), "file is not a database"},
		{"truncated", data[:len(data)/2], "restore it from a backup"},
		{"header only", data[:100], "restore it from a backup"},
		{"another program's database", nil, "not a cardgate database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := foreign
			if tt.data != nil {
				path = filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".db")
				if err := os.WriteFile(path, tt.data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadFile(path)
			db, err := sqlite.Open(t.Context(), path)
			if err == nil {
				db.Close()
				t.Fatal("Open accepted the file")
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.HasPrefix(msg, "sqlite: open "+path+": ") || !strings.Contains(msg, tt.want) {
				t.Errorf("error %q: want it to start %q and say %q", msg, "sqlite: open "+path+": ", tt.want)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Error("Open changed the file")
			}
		})
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardgate.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err = sqlite.Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "schema version 999 is newer") || !strings.Contains(err.Error(), "upgrade cardgate") {
		t.Fatalf("err = %v, want a newer-schema error", err)
	}
}

func TestOpenNeedsAFile(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if db, err := sqlite.Open(t.Context(), path); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
	missingDir := filepath.Join(t.TempDir(), "no", "such", "dir", "cardgate.db")
	if _, err := sqlite.Open(t.Context(), missingDir); err == nil || !strings.Contains(err.Error(), missingDir) {
		t.Errorf("Open in a missing directory: err = %v, want one naming the path", err)
	}
}

// TestOpenOddPath checks that a path is a file name, not a URI: characters
// special in SQLite's URIs name a file like any others.
func TestOpenOddPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "odd ?name#with%20 chars.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %q: %v", path, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files in the directory: %q; want only the database", names)
	}
}

// TestOpenConcurrently opens a new file from several goroutines at once, as
// several processes starting together would: migrations must take turns.
func TestOpenConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardgate.db")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			db, err := sqlite.Open(t.Context(), path)
			if err == nil {
				err = db.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestKilledWriterLosesNothing runs a child process that writes users and
// reports each write once it has returned, kills it with SIGKILL mid-stream,
// and checks that every reported write is in the file.
func TestKilledWriterLosesNothing(t *testing.T) {
	if path := os.Getenv("CARDGATE_SQLITE_WRITER"); path != "" {
		writeUntilKilled(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "cardgate.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterLosesNothing$")
	cmd.Env = append(os.Environ(), "CARDGATE_SQLITE_WRITER="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last := -1
	lines := bufio.NewScanner(out)
	for lines.Scan() && last < 40 {
		if n, err := strconv.Atoi(lines.Text()); err == nil {
			last = n
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if last < 0 {
		t.Fatal("the writer reported no writes")
	}

	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := 0; i <= last; i++ {
		if _, err := db.User(t.Context(), killTestUser(i)); err != nil {
			t.Fatalf("write %d of %d reported done, lost after the kill: %v", i, last, err)
		}
	}
}

func killTestUser(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// writeUntilKilled is the child process of TestKilledWriterLosesNothing.
func writeUntilKilled(path string) {
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	now := time.Now()
	for i := 0; ; i++ {
		u := &cardgate.User{ID: killTestUser(i), Name: "U", PhoneNumber: fmt.Sprintf("+1%010d", i), CreatedAt: now, UpdatedAt: now}
		if err := db.CreateUser(context.Background(), u); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(i)
	}
}

func BenchmarkTokenState(b *testing.B) {
	ctx := b.Context()
	db := sqlitetest.Open(b)
	const userID, packageID = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", "com.contoso.orders"
	now := time.Now()
	if err := db.CreateUser(ctx, &cardgate.User{ID: userID, Name: "A", PhoneNumber: "+14155550101", CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	if err := db.CreatePackage(ctx, &cardgate.ActionPackage{ID: packageID, DisplayName: "O", CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	// A feed of some size, so that the jti lookup has an index to use.
	for i := range 1000 {
		if err := db.Revoke(ctx, &cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: fmt.Sprintf("jti-%d", i), At: now}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.TokenState(ctx, userID, packageID, "jti-500"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUpgradeKeepsSigningKeys: a store made before signing keys had an
// activation time (schema 4) keeps its keys, each signing from its
// creation, once migration 5 has run.
func TestUpgradeKeepsSigningKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardgate.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	created := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	execRaw(t, path,
		"DELETE FROM schema_migrations WHERE version >= 5",
		"ALTER TABLE audit DROP COLUMN conversation_id",                                                                // undo 12
		"DROP TABLE form_responses", "DROP TABLE forms", "DROP TABLE conversation_members", "DROP TABLE conversations", // undo 9
		"DROP TABLE settings",                  // undo 8
		"DROP INDEX users_phone_number_unique", // undo 7
		"ALTER TABLE users DROP COLUMN phone_shared",
		"ALTER TABLE signing_keys DROP COLUMN activates_at",
		fmt.Sprintf("INSERT INTO signing_keys (id, public_key, sealed_private_key, created_at) VALUES ('k1', x'00', x'00', %d)", created.UnixMicro()),
	)
	db, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys, err := db.SigningKeys(t.Context())
	if err != nil || len(keys) != 1 || !keys[0].ActivatesAt.Equal(created) || !keys[0].SigningAt(created) {
		t.Fatalf("keys after the upgrade: %+v, %v", keys, err)
	}
}

// TestUpgradeKeepsSharedPhoneNumbers: users who shared a phone number
// before migration 7 made numbers unique keep it (the upgrade neither fails
// nor drops them); their number still signs no one in, and no new user can
// take it nor any other number in use.
func TestUpgradeKeepsSharedPhoneNumbers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardgate.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	execRaw(t, path,
		"DELETE FROM schema_migrations WHERE version >= 7",
		"ALTER TABLE audit DROP COLUMN conversation_id",
		"DROP TABLE form_responses", "DROP TABLE forms", "DROP TABLE conversation_members", "DROP TABLE conversations",
		"DROP TABLE settings",
		"DROP INDEX users_phone_number_unique",
		"ALTER TABLE users DROP COLUMN phone_shared",
		"INSERT INTO users (id, name, phone_number, created_at, updated_at) VALUES "+
			"('6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10', 'A', '+14155550101', 1, 1), "+
			"('0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40', 'B', '+14155550101', 1, 1), "+
			"('c0ffee00-1234-4abc-8def-0123456789ab', 'C', '+14155550103', 1, 1)",
	)
	db, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("the upgrade failed over a shared number: %v", err)
	}
	defer db.Close()
	storetest.CheckSharedPhoneNumbers(t, db, "+14155550101", "+14155550103")
}

// TestUpgradeAddsConversations: a store at schema 8 with users gets the
// conversation tables from migration 9, and its users can join
// conversations and respond to forms.
func TestUpgradeAddsConversations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardgate.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(t.Context(), storetest.UpgradeUser()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	execRaw(t, path,
		"DELETE FROM schema_migrations WHERE version >= 9",
		"ALTER TABLE audit DROP COLUMN conversation_id",
		"DROP TABLE form_responses", "DROP TABLE forms", "DROP TABLE conversation_members", "DROP TABLE conversations",
	)
	db, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckConversationsAfterUpgrade(t, db)
}

// TestUpgradeAddsAuditConversation: the audit records of a store at
// schema 11 survive migration 12, without a conversation, and records
// written after it keep theirs.
func TestUpgradeAddsAuditConversation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardgate.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendAudit(t.Context(), storetest.UpgradeAudit()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	execRaw(t, path,
		"DELETE FROM schema_migrations WHERE version >= 12",
		"ALTER TABLE audit DROP COLUMN conversation_id",
	)
	db, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckAuditAfterUpgrade(t, db)
}

// execRaw runs stmts on the database file at path, around the store:
// the upgrade tests take a store back to an older schema with them.
func execRaw(t *testing.T, path string, stmts ...string) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range stmts {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

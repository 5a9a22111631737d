package postgres_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/postgres"
	"github.com/cardgate/cardgate/postgres/pgtest"
	"github.com/cardgate/cardgate/storetest"
	"github.com/jackc/pgx/v5"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func() cardgate.Store {
		testURL := pgtest.URL(t)
		return func() cardgate.Store {
			db, err := postgres.Open(t.Context(), testURL)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
	})
}

func TestOpenErrorsHideTheURL(t *testing.T) {
	tests := []struct {
		name, url string
	}{
		{"closed port", "postgres://admin:s3cret-pw@127.0.0.1:1/db?connect_timeout=1"},
		{"bad URL", "postgres://admin:s3cret-pw@127.0.0.1:5432/db?connect_timeout=x"},
		{"bad escape", "postgres://admin:s3cret-pw@%zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := postgres.Open(t.Context(), tt.url)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			t.Log(err)
			if strings.Contains(err.Error(), "s3cret-pw") || !strings.HasPrefix(err.Error(), "postgres: ") {
				t.Errorf("error %q: want it to start with the package name and hide the password", err)
			}
		})
	}
}

// TestOpenPlainURL opens a URL with no search_path: the tables go in the
// role's default schema. The test role's search_path is set to a fresh
// schema, which stands for a real user's public.
func TestOpenPlainURL(t *testing.T) {
	testURL := pgtest.URL(t)
	schema := searchPath(t, testURL)
	// A role setting would do as well, but would outlive the test.
	plain := setParam(t, testURL, "search_path", "")
	plain = setParam(t, plain, "options", "-csearch_path="+schema)
	db, err := postgres.Open(t.Context(), plain)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := pgx.Connect(t.Context(), testURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var n int
	err = conn.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = $1 AND table_name IN ('users', 'action_packages', 'clients', 'signing_keys', 'revocations', 'schema_migrations')`, schema).Scan(&n)
	if err != nil || n != 6 {
		t.Fatalf("%d of 6 tables in %s, %v", n, schema, err)
	}
}

// searchPath returns the search_path parameter of a pgtest URL.
func searchPath(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("search_path")
}

// setParam sets a URL parameter, or removes it when value is "".
func setParam(t *testing.T, raw, key, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func TestOpenMissingSchema(t *testing.T) {
	testURL := pgtest.URL(t)
	_, err := postgres.Open(t.Context(), setParam(t, testURL, "search_path", searchPath(t, testURL)+"_missing"))
	if err == nil || !strings.Contains(err.Error(), "search_path") {
		t.Fatalf("err = %v, want one about the search_path", err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	testURL := pgtest.URL(t)
	db, err := postgres.Open(t.Context(), testURL)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	conn, err := pgx.Connect(t.Context(), testURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), "INSERT INTO schema_migrations (version, applied_at) VALUES (999, now())"); err != nil {
		t.Fatal(err)
	}
	conn.Close(t.Context())
	_, err = postgres.Open(t.Context(), testURL)
	if err == nil || !strings.Contains(err.Error(), "version 999, newer") || !strings.Contains(err.Error(), "upgrade cardgate") {
		t.Fatalf("err = %v, want a newer-schema error", err)
	}
}

// TestOpenConcurrently starts several nodes on one new schema at once:
// migrations must take turns and all nodes must open.
func TestOpenConcurrently(t *testing.T) {
	testURL := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			db, err := postgres.Open(t.Context(), testURL)
			if err == nil {
				db.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
}

func BenchmarkTokenState(b *testing.B) {
	ctx := b.Context()
	db := pgtest.Open(b)
	const userID, packageID = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", "com.contoso.orders"
	now := time.Now()
	if err := db.CreateUser(ctx, &cardgate.User{ID: userID, Name: "A", PhoneNumber: "+14155550101", CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	if err := db.CreatePackage(ctx, &cardgate.ActionPackage{ID: packageID, DisplayName: "O", CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
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
	testURL := pgtest.URL(t)
	db, err := postgres.Open(t.Context(), testURL)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	created := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	execRaw(t, testURL,
		"DELETE FROM schema_migrations WHERE version >= 5",
		"ALTER TABLE audit DROP COLUMN conversation_id",                                                                // undo 12
		"DROP TABLE form_responses", "DROP TABLE forms", "DROP TABLE conversation_members", "DROP TABLE conversations", // undo 9
		"DROP TABLE settings",                  // undo 8
		"DROP INDEX users_phone_number_unique", // undo 7
		"ALTER TABLE users DROP COLUMN phone_shared",
		"ALTER TABLE signing_keys DROP COLUMN activates_at",
		"INSERT INTO signing_keys (id, public_key, sealed_private_key, created_at) VALUES ('k1', '\\x00', '\\x00', '"+created.Format(time.RFC3339)+"')",
	)
	db, err = postgres.Open(t.Context(), testURL)
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
	testURL := pgtest.URL(t)
	db, err := postgres.Open(t.Context(), testURL)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	execRaw(t, testURL,
		"DELETE FROM schema_migrations WHERE version >= 7",
		"ALTER TABLE audit DROP COLUMN conversation_id",
		"DROP TABLE form_responses", "DROP TABLE forms", "DROP TABLE conversation_members", "DROP TABLE conversations",
		"DROP TABLE settings",
		"DROP INDEX users_phone_number_unique",
		"ALTER TABLE users DROP COLUMN phone_shared",
		"INSERT INTO users (id, name, phone_number, created_at, updated_at) VALUES "+
			"('6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10', 'A', '+14155550101', now(), now()), "+
			"('0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40', 'B', '+14155550101', now(), now()), "+
			"('c0ffee00-1234-4abc-8def-0123456789ab', 'C', '+14155550103', now(), now())",
	)
	db, err = postgres.Open(t.Context(), testURL)
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
	testURL := pgtest.URL(t)
	db, err := postgres.Open(t.Context(), testURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(t.Context(), storetest.UpgradeUser()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	execRaw(t, testURL,
		"DELETE FROM schema_migrations WHERE version >= 9",
		"ALTER TABLE audit DROP COLUMN conversation_id",
		"DROP TABLE form_responses", "DROP TABLE forms", "DROP TABLE conversation_members", "DROP TABLE conversations",
	)
	db, err = postgres.Open(t.Context(), testURL)
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
	testURL := pgtest.URL(t)
	db, err := postgres.Open(t.Context(), testURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendAudit(t.Context(), storetest.UpgradeAudit()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	execRaw(t, testURL,
		"DELETE FROM schema_migrations WHERE version >= 12",
		"ALTER TABLE audit DROP COLUMN conversation_id",
	)
	db, err = postgres.Open(t.Context(), testURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckAuditAfterUpgrade(t, db)
}

// execRaw runs stmts on the database at url, around the store: the
// upgrade tests take a store back to an older schema with them.
func execRaw(t *testing.T, url string, stmts ...string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	for _, q := range stmts {
		if _, err := conn.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// BenchmarkAppendAudit: many users' audit rows on a full table against
// one user's (storetest.BenchAuditUsers). PostgreSQL keeps its index by
// user; ns/op, not cpu-ns/op, holds the server's work.
func BenchmarkAppendAudit(b *testing.B) {
	storetest.BenchAuditUsers(b, func(tb testing.TB) cardgate.Store { return pgtest.Open(tb) })
}

// Package pgtest gives tests a PostgreSQL store in a schema of their own, on
// the server named by CARDGATE_TEST_POSTGRES (default: the local server,
// user postgres, database test). Without a server the test is skipped, with
// a message that says how to start one, except under CI, where it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate/postgres"
	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server the tests use when CARDGATE_TEST_POSTGRES is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL returns a connection URL for a fresh, empty schema that is dropped
// when the test ends; pass it to postgres.Open or to cardgate --store.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("CARDGATE_TEST_POSTGRES")
	if base == "" {
		base = DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		msg := "PostgreSQL is not reachable (" + err.Error() + "): start it with " +
			"'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' or set CARDGATE_TEST_POSTGRES"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	schema := "cg_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// Open returns a store in a fresh schema, closed when the test ends.
func Open(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

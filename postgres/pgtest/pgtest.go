// Package pgtest gives tests a PostgreSQL store in a schema of their own, on
// the server named by the environment variable CARDGATE_TEST_POSTGRES
// (default DefaultURL), so that any number of test packages can share one
// server at once.
//
// Without a reachable server a test is skipped, with a message that says
// how to start one; when CI=true it fails instead, so that a CI run never
// passes by skipping.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cardgate/cardgate/postgres"
	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server tests use when CARDGATE_TEST_POSTGRES is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// EnvURL is the environment variable that names the test server.
const EnvURL = "CARDGATE_TEST_POSTGRES"

// URL creates a fresh, empty schema named cg_test_<random>, drops it (and
// everything in it) when the test ends, and returns a connection URL whose
// search_path is that schema: pass it to postgres.Open, or to a cardgate
// command's store flag.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		base = DefaultURL
	}
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatalf("pgtest: %s is not a valid PostgreSQL URL", EnvURL)
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s (%v): start it with "+
			"`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set %s", where, err, EnvURL)
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal("pgtest: " + msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(ctx)

	var b [8]byte
	rand.Read(b[:])
	schema := "cg_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema at %s: %v", where, err)
	}
	t.Cleanup(func() { drop(t, cfg, schema) })
	return withSearchPath(base, schema)
}

// drop removes the test's schema, on a connection of its own: the test's
// context is already cancelled when cleanups run.
func drop(t testing.TB, cfg *pgx.ConnConfig, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Errorf("pgtest: drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		t.Errorf("pgtest: drop schema %s: %v", schema, err)
	}
}

// withSearchPath adds search_path=schema to a connection string in either
// of libpq's forms, replacing any search_path it had.
func withSearchPath(base, schema string) string {
	if u, err := url.Parse(base); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return base + " search_path=" + schema // keyword=value form; later keys win
}

// Open returns a store in a fresh schema, closed when the test ends.
func Open(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

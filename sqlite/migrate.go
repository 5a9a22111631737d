package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cardgate/cardgate/migration"
)

// migrationFiles holds the schema, one file per version: NNNN_what.sql,
// numbered from 1 without gaps. A released file never changes; a change to
// the schema is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate brings the schema to the newest version this binary knows.
//
// It first looks without writing: a file made by a newer cardgate or by
// another program is refused before anything in it changes, WAL mode
// included. Then it switches the file to WAL (a setting stored in the file,
// which cannot change inside a transaction) and applies the pending
// migrations in one transaction, so a failure leaves the schema as it was.
// BEGIN IMMEDIATE (the writer's _txlock) makes two processes opening a new
// file at once take turns; the second finds the work done.
func (s *DB) migrate(ctx context.Context) error {
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	latest := len(ms)
	current, err := s.schemaVersion(ctx, s.write)
	if err != nil {
		return err
	}
	if current > latest {
		return s.tooNew(current, latest)
	}
	mode, err := s.setWAL(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: open %s: set WAL mode: %w", s.path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: open %s: journal mode is %q, not WAL (WAL needs a local file system)", s.path, mode)
	}
	if current == latest {
		return nil
	}

	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: open %s: migrate: %w", s.path, err)
	}
	defer tx.Rollback()
	if current, err = s.schemaVersion(ctx, tx); err != nil {
		return err
	}
	if current > latest {
		return s.tooNew(current, latest)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("sqlite: open %s: migrate: %w", s.path, err)
	}
	now := time.Now().UnixMicro()
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("sqlite: open %s: migration %s: %w", s.path, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.Version, now); err != nil {
			return fmt.Errorf("sqlite: open %s: migration %s: %w", s.path, m.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: open %s: migrate: %w", s.path, err)
	}
	return nil
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *DB) tooNew(current, latest int) error {
	return fmt.Errorf("sqlite: open %s: schema version %d is newer than this cardgate knows (%d): upgrade cardgate",
		s.path, current, latest)
}

// schemaVersion returns the version recorded in schema_migrations, 0 for a
// new, empty file. A file with tables but no schema_migrations belongs to
// some other program: migrating it would mix cardgate's tables into it.
func (s *DB) schemaVersion(ctx context.Context, q querier) (int, error) {
	var hasVersions, tables int
	err := q.QueryRowContext(ctx, `SELECT
		COUNT(*) FILTER (WHERE name = 'schema_migrations'),
		COUNT(*)
		FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).Scan(&hasVersions, &tables)
	if err != nil {
		return 0, fmt.Errorf("sqlite: open %s: read schema: %w", s.path, err)
	}
	if hasVersions == 0 {
		if tables > 0 {
			return 0, fmt.Errorf("sqlite: open %s: not a cardgate database (it has tables but no schema_migrations): use another file", s.path)
		}
		return 0, nil
	}
	var v int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: open %s: read schema version: %w", s.path, err)
	}
	return v, nil
}

// setWAL switches the file to WAL mode and returns the mode it is in. Two
// processes switching a new file at once can get SQLITE_BUSY without
// SQLite's busy handler ever waiting (it refuses to wait where waiting
// could deadlock), so a busy answer is tried again, within the busy timeout.
func (s *DB) setWAL(ctx context.Context) (string, error) {
	deadline := time.Now().Add(busyTimeoutMillis * time.Millisecond)
	for {
		var mode string
		err := s.write.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if err == nil || errorCode(err)&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return mode, err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

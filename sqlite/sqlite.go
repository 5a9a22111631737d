// Package sqlite is the embedded cardgate.Store: one SQLite file, opened with
// the pure-Go modernc.org/sqlite driver (no cgo), in WAL mode with full
// fsync, with versioned migrations embedded in the binary.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cardgate/cardgate"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a cardgate.Store in one SQLite file. It is safe for concurrent use.
type DB struct {
	db         *sql.DB
	path       string
	tokenState *sql.Stmt
}

var _ cardgate.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path, checks that it is a
// sound SQLite database, and applies pending migrations. A file that is not
// a database, is corrupt, or was made by a newer cardgate is an error that
// says so: Open never resets a file.
func Open(ctx context.Context, path string) (*DB, error) {
	// synchronous(FULL) in WAL mode fsyncs the WAL on every commit, so a
	// write that returned survives a crash or power loss; NORMAL would
	// only guarantee consistency. _txlock=immediate takes the write lock at
	// BEGIN, so concurrent writers queue on busy_timeout instead of failing
	// with SQLITE_BUSY when a read transaction tries to upgrade.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxLifetime(0)
	s := &DB{db: db, path: path}
	if err := s.check(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if s.tokenState, err = db.PrepareContext(ctx, tokenStateQuery); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	return s, nil
}

// check refuses a file that is not a sound SQLite database.
func (s *DB) check(ctx context.Context) error {
	var res string
	if err := s.db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return fmt.Errorf("sqlite: open %s: not a usable cardgate database (%v); restore it from a backup or move it away", s.path, errText(err))
	}
	if res != "ok" {
		return fmt.Errorf("sqlite: open %s: database is corrupt (%s); restore it from a backup", s.path, res)
	}
	return nil
}

// errText shortens driver errors, which repeat the SQL.
func errText(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "sqlite: ") {
		return msg[i+2:]
	}
	return msg
}

// migrate applies the embedded migrations not yet applied, each in its own
// transaction.
func (s *DB) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	var current int
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	latest := 0
	for _, f := range files {
		v, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(f, "migrations/"), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: name must start with a number", f)
		}
		latest = v
		if v <= current {
			continue
		}
		body, _ := migrations.ReadFile(f)
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migrate to %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migrate to %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", v, time.Now().UnixMicro()); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migrate to %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migrate to %d: %w", v, err)
		}
	}
	if current > latest {
		return fmt.Errorf("sqlite: %s has schema version %d, newer than this cardgate knows (%d): upgrade cardgate", s.path, current, latest)
	}
	return nil
}

// Close closes the database.
func (s *DB) Close() error {
	s.tokenState.Close()
	return s.db.Close()
}

// Ping reports whether the database answers.
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Path returns the database file's path.
func (s *DB) Path() string { return s.path }

// micros and fromMicros convert times; the zero time is NULL.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

func isConstraint(err error) bool {
	var e interface{ Code() int }
	if errors.As(err, &e) {
		switch e.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return true
		}
	}
	return false
}

func notFound(what, id string) error {
	return cardgate.Errorf(cardgate.ENOTFOUND, "%s %s not found", what, id)
}

// withTx runs fn in a write transaction.
func (s *DB) withTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		if cardgate.ErrorCode(err) != cardgate.EINTERNAL {
			return err
		}
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

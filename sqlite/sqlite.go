// Package sqlite is the embedded cardgate.Store: one SQLite file, opened
// with the pure-Go modernc.org/sqlite driver (no cgo), with versioned
// migrations embedded in the binary.
//
// Durability: the database runs in WAL mode with synchronous=FULL, so every
// commit fsyncs the write-ahead log before it returns. A write that returned
// survives the process being killed and, on a disk that honours fsync, the
// machine losing power.
//
// Concurrency: all writes go through one connection, so writers in this
// process queue in Go instead of racing for SQLite's write lock; reads use a
// pool of read-only connections, which WAL lets run beside the writer. A
// busy timeout covers the other processes that may open the same file (the
// cardgate CLI beside a running server).
//
// Times are stored as Unix microseconds in UTC; finer digits are truncated.
// The zero time is stored as NULL.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/cardgate/cardgate"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is a cardgate.Store in one SQLite file. It is safe for concurrent use.
type DB struct {
	path  string
	write *sql.DB // one connection; every write goes through it
	read  *sql.DB // read-only connections for lookups
	// tokenState is the hot path's statement, prepared once: a token check
	// runs it on every request.
	tokenState *sql.Stmt
	// audit holds AppendAudit's prepared INSERTs; only code holding the
	// write connection touches it.
	audit  auditStmts
	closed atomic.Bool // Close, like sql.DB's, may be called again
}

var _ cardgate.Store = (*DB)(nil)

// busyTimeoutMillis is how long a connection waits for a lock held by
// another process before it gives up with SQLITE_BUSY.
const busyTimeoutMillis = 10_000

// Open opens the database file at path, creating it if it does not exist,
// checks that it is a sound SQLite database, and applies pending migrations
// in one transaction. path is a file name, not a DSN.
//
// Open never resets or overwrites a file: one that is not a SQLite database,
// is corrupt, holds another program's tables, or was migrated by a newer
// cardgate is an error that names the file and says what to do.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open %q: need the path of a database file", path)
	}
	// synchronous=FULL rather than NORMAL: in WAL mode NORMAL already loses
	// nothing when only the process dies, but a power cut or kernel panic
	// can roll back the last commits, and the Store promises that every
	// write is durable when it returns. The cost is one fsync per commit.
	//
	// _txlock=immediate makes BEGIN take the write lock at once, so a
	// transaction that reads before it writes never fails half-way with
	// SQLITE_BUSY against another process; it waits busy_timeout instead.
	//
	// temp_store=MEMORY keeps statement journals (a multi-row INSERT into
	// the audit log has one) in memory rather than in a temporary file:
	// about a fifth of an audit row's CPU was those files' writes.
	//
	// WAL mode is not set here but by migrate, once the file is known to be
	// cardgate's: the setting is written into the file.
	write, err := sql.Open("sqlite", dsn(path,
		"_pragma=synchronous(FULL)", "_pragma=foreign_keys(1)", "_pragma=temp_store(MEMORY)", "_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	s := &DB{path: path, write: write}
	if err := s.check(ctx); err != nil {
		write.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		write.Close()
		return nil, err
	}

	// Readers open only now, once the writer has put the file in WAL mode
	// and the schema is in place. query_only makes a write on a reader an
	// error rather than a second writer.
	s.read, err = sql.Open("sqlite", dsn(path, "_pragma=query_only(1)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.read.SetMaxOpenConns(n)
	s.read.SetMaxIdleConns(n)
	s.read.SetConnMaxLifetime(0)
	s.read.SetConnMaxIdleTime(0)
	if s.tokenState, err = s.read.PrepareContext(ctx, tokenStateQuery); err != nil {
		s.read.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: prepare token state: %w", path, err)
	}
	return s, nil
}

// dsn makes the driver's connection string for path. The path is escaped
// for SQLite's URI syntax, in which '?' starts the parameters and '#' ends
// them; without that, a file named "a?b.db" would open "a".
func dsn(path string, params ...string) string {
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + escaped + "?" + strings.Join(append([]string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMillis),
	}, params...), "&")
}

// check refuses a file that is not a sound SQLite database. quick_check
// reads every page, which for a cardgate database (kilobytes to a few
// megabytes) takes milliseconds, and it is what catches a truncated file:
// reading the header alone does not.
func (s *DB) check(ctx context.Context) error {
	rows, err := s.write.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return s.damaged(err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return s.damaged(err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return s.damaged(err)
	}
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], "...")
		}
		return fmt.Errorf("sqlite: open %s: database is corrupt (%s): restore it from a backup",
			s.path, strings.Join(problems, "; "))
	}
	return nil
}

// damaged reports a file SQLite could not read at all.
func (s *DB) damaged(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sqlite: open %s: %w", s.path, err)
	}
	return &openError{path: s.path, err: err}
}

// openError is a file that SQLite refused to read. Its message leads with
// the driver's reason, shortened, and ends with what to do.
type openError struct {
	path string
	err  error
}

func (e *openError) Error() string {
	return fmt.Sprintf("sqlite: open %s: %s: restore it from a backup or move it away to start afresh",
		e.path, errText(e.err))
}

func (e *openError) Unwrap() error { return e.err }

// errText trims the driver's error text to SQLite's own message: the driver
// prefixes the statement it ran, which says nothing to whoever reads it.
func errText(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// Close closes the database. The last connection to close checkpoints the
// write-ahead log into the main file.
func (s *DB) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.closeAuditStmts()
	err = errors.Join(err, s.tokenState.Close())
	err = errors.Join(err, s.read.Close())
	return errors.Join(err, s.write.Close())
}

// Ping reports whether the database answers, through the connections that
// readiness depends on: the writer and a reader.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Path returns the database file's path.
func (s *DB) Path() string { return s.path }

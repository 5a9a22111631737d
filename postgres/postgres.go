// Package postgres is the scale-out cardgate.Store: state shared by any
// number of issuer and adapter nodes in one PostgreSQL database, through a
// pgx connection pool, with versioned migrations embedded in the binary.
//
// Durability: a write returns once PostgreSQL has committed it, which with
// the server's default synchronous_commit=on means flushed to its WAL. A
// server run with synchronous_commit=off weakens that promise.
//
// Concurrency: PostgreSQL serializes conflicting writes itself; every
// multi-statement write runs in one transaction.
//
// Times are stored as timestamptz, which keeps microseconds; finer digits
// are truncated. The zero time is stored as NULL.
//
// Statements run through pgx's per-connection statement cache, so each is
// prepared once per connection, the hot-path TokenState query included. (A
// connection pooler in transaction mode, such as PgBouncer, needs
// default_query_exec_mode=exec in the URL instead.)
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is a cardgate.Store in PostgreSQL. It is safe for concurrent use.
type DB struct {
	pool *pgxpool.Pool
}

var _ cardgate.Store = (*DB)(nil)

// Open connects to the database at url and applies pending migrations, in
// one transaction.
//
// url is a libpq connection string, postgres://user:password@host:5432/db?sslmode=verify-full
// or "host=... dbname=...". The tables go in the first schema of the
// connection's search_path: the user's default (usually public) unless the
// URL names one, as in ?search_path=cardgate, a schema that must exist.
// Other URL parameters that pgx does not know are likewise sent to the
// server as run-time settings.
//
// A database whose schema was migrated by a newer cardgate is refused. The
// error never repeats the URL, which may hold a password.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message can quote the connection string, password and all.
		return nil, errors.New("postgres: open: not a valid PostgreSQL connection URL")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", addr(cfg), err)
	}
	// The pool connects lazily; connect now so that a wrong host, password
	// or database is an error from Open, not from the first request.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", addr(cfg), err)
	}
	db := &DB{pool: pool}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", addr(cfg), err)
	}
	return db, nil
}

// addr names the server and database for errors, without credentials.
func addr(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s:%d/%s", c.Host, c.Port, c.Database)
}

// Close closes every connection in the pool.
func (db *DB) Close() error { db.pool.Close(); return nil }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// ts converts a time for storage; the zero time, "never", is NULL.
func ts(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// fromTS is ts in reverse, always in UTC.
func fromTS(v pgtype.Timestamptz) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return v.Time.UTC()
}

// isUniqueViolation reports whether err is a primary-key or unique
// violation: the record already exists.
func isUniqueViolation(err error) bool { return sqlState(err) == "23505" }

// isForeignKeyViolation reports whether err is a foreign-key violation: the
// record refers to one that does not exist.
func isForeignKeyViolation(err error) bool { return sqlState(err) == "23503" }

// sqlState is PostgreSQL's SQLSTATE code of err, or "".
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func notFound(what, id string) error {
	return cardgate.Errorf(cardgate.ENOTFOUND, "%s %s not found", what, id)
}

// withTx runs fn in a transaction. An *cardgate.Error from fn (a conflict, a
// missing record) goes back as it is; any other error is wrapped with op.
func (db *DB) withTx(ctx context.Context, op string, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, db.pool, fn)
	if err != nil && cardgate.ErrorCode(err) == cardgate.EINTERNAL {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	return err
}

package postgres

import (
	"context"
	"embed"
	"fmt"
	"github.com/cardgate/cardgate/migration"

	"github.com/jackc/pgx/v5"
)

// migrationFiles holds the schema, one file per version: NNNN_what.sql,
// numbered from 1 without gaps, version for version the same schema as
// package sqlite's. A released file never changes; a change is a new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the first half of the advisory lock that serializes
// migrations; the second half is a hash of the schema, so that nodes sharing
// a schema take turns while different schemas (parallel tests) do not wait
// for each other.
const migrationLock = 0x63617264 // "card"

// migrate brings the schema to the newest version this binary knows, in one
// transaction: DDL is transactional in PostgreSQL, so a failure leaves the
// schema as it was, and nodes starting at once take turns on the advisory
// lock, the later ones finding the work done.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	latest := len(ms)
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	var schema string
	if err := tx.QueryRow(ctx, "SELECT COALESCE(current_schema(), '')").Scan(&schema); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if schema == "" {
		return fmt.Errorf("migrate: no schema in the search_path exists: create it, or fix search_path")
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", migrationLock, schema); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if current > latest {
		return fmt.Errorf("schema %s has version %d, newer than this cardgate knows (%d): upgrade cardgate", schema, current, latest)
	}
	if current == latest {
		return nil
	}
	for _, m := range ms[current:] {
		if _, err := tx.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())", m.Version); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

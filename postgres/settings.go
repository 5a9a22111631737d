package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/jackc/pgx/v5"
)

// Setting implements cardgate.Store.
func (db *DB) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := db.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", cardgate.Errorf(cardgate.ENOTFOUND, "setting %s is not set", name)
	} else if err != nil {
		return "", fmt.Errorf("postgres: read setting: %w", err)
	}
	return v, nil
}

// InitSetting implements cardgate.Store. The no-op update makes the
// conflicting row lock and come back, so that every caller reads the value
// that won.
func (db *DB) InitSetting(ctx context.Context, name, value string, at time.Time) (string, error) {
	var v string
	err := db.pool.QueryRow(ctx, `INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET name = settings.name RETURNING value`, name, value, ts(at)).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("postgres: init setting: %w", err)
	}
	return v, nil
}

// PutSetting implements cardgate.Store.
func (db *DB) PutSetting(ctx context.Context, name, value string, at time.Time) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, name, value, ts(at))
	if err != nil {
		return fmt.Errorf("postgres: put setting: %w", err)
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cardgate/cardgate"
)

// Setting implements cardgate.Store.
func (s *DB) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", cardgate.Errorf(cardgate.ENOTFOUND, "setting %s is not set", name)
	} else if err != nil {
		return "", fmt.Errorf("sqlite: read setting: %w", err)
	}
	return v, nil
}

// InitSetting implements cardgate.Store. The insert and the read are one
// statement on the one writer.
func (s *DB) InitSetting(ctx context.Context, name, value string, at time.Time) (string, error) {
	var v string
	err := s.write.QueryRowContext(ctx, `INSERT INTO settings (name, value, updated_at) VALUES (?1, ?2, ?3)
		ON CONFLICT (name) DO UPDATE SET name = name RETURNING value`, name, value, at.UnixMicro()).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("sqlite: init setting: %w", err)
	}
	return v, nil
}

// PutSetting implements cardgate.Store.
func (s *DB) PutSetting(ctx context.Context, name, value string, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, name, value, at.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlite: put setting: %w", err)
	}
	return nil
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/jackc/pgx/v5"
)

// PutPackageContent implements cardgate.Store.
func (db *DB) PutPackageContent(ctx context.Context, id string, manifest []byte, files map[string][]byte, at time.Time) error {
	return db.withTx(ctx, "put package content", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE action_packages SET manifest = $1, updated_at = $2 WHERE id = $3`, manifest, at, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("action package", id)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM package_files WHERE package_id = $1`, id); err != nil {
			return err
		}
		for path, b := range files {
			if _, err := tx.Exec(ctx, `INSERT INTO package_files (package_id, path, content) VALUES ($1, $2, $3)`, id, path, b); err != nil {
				return err
			}
		}
		return nil
	})
}

// PackageManifest implements cardgate.Store.
func (db *DB) PackageManifest(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := db.pool.QueryRow(ctx, `SELECT manifest FROM action_packages WHERE id = $1 AND manifest IS NOT NULL`, id).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "action package %s has no imported manifest", id)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: read manifest: %w", err)
	}
	return b, nil
}

// PackageFileCount implements cardgate.Store.
func (db *DB) PackageFileCount(ctx context.Context, id string) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM package_files WHERE package_id = $1`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: count package files: %w", err)
	}
	return n, nil
}

// PackageFile implements cardgate.Store.
func (db *DB) PackageFile(ctx context.Context, id, path string) ([]byte, error) {
	var b []byte
	err := db.pool.QueryRow(ctx, `SELECT content FROM package_files WHERE package_id = $1 AND path = $2`, id, path).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "action package %s has no file %s", id, path)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: read package file: %w", err)
	}
	return b, nil
}

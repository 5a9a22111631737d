package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cardgate/cardgate"
)

// PutPackageContent implements cardgate.Store.
func (s *DB) PutPackageContent(ctx context.Context, id string, manifest []byte, files map[string][]byte, at time.Time) error {
	return s.withTx(ctx, "put package content", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE action_packages SET manifest = ?, updated_at = ? WHERE id = ?`, manifest, at.UnixMicro(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("action package", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM package_files WHERE package_id = ?`, id); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO package_files (package_id, path, content) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for path, b := range files {
			if _, err := st.ExecContext(ctx, id, path, b); err != nil {
				return err
			}
		}
		return nil
	})
}

// PackageManifest implements cardgate.Store.
func (s *DB) PackageManifest(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := s.read.QueryRowContext(ctx, `SELECT manifest FROM action_packages WHERE id = ? AND manifest IS NOT NULL`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "action package %s has no imported manifest", id)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: read manifest: %w", err)
	}
	return b, nil
}

// PackageFileCount implements cardgate.Store.
func (s *DB) PackageFileCount(ctx context.Context, id string) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM package_files WHERE package_id = ?`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count package files: %w", err)
	}
	return n, nil
}

// PackageFile implements cardgate.Store.
func (s *DB) PackageFile(ctx context.Context, id, path string) ([]byte, error) {
	var b []byte
	err := s.read.QueryRowContext(ctx, `SELECT content FROM package_files WHERE package_id = ? AND path = ?`, id, path).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "action package %s has no file %s", id, path)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: read package file: %w", err)
	}
	return b, nil
}

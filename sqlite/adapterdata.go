package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cardgate/cardgate"
)

// PutSealedSecret implements cardgate.Store.
func (s *DB) PutSealedSecret(ctx context.Context, name string, sealed []byte, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO secrets (name, sealed, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
		name, sealed, at.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlite: put secret: %w", err)
	}
	return nil
}

// SealedSecret implements cardgate.Store.
func (s *DB) SealedSecret(ctx context.Context, name string) ([]byte, error) {
	var b []byte
	err := s.read.QueryRowContext(ctx, `SELECT sealed FROM secrets WHERE name = ?`, name).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("secret", name)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: read secret: %w", err)
	}
	return b, nil
}

// SecretNames implements cardgate.Store.
func (s *DB) SecretNames(ctx context.Context) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT name FROM secrets ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list secrets: %w", err)
	}
	names, err := collect(rows, func(row scanner) (*string, error) {
		var n string
		return &n, row.Scan(&n)
	}, "list secrets")
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = *n
	}
	return out, err
}

// AppendAudit implements cardgate.Store, in one transaction, with up to
// auditRows rows per INSERT: a statement per row cost about twice as much
// CPU per row (BenchmarkAppendAudit).
func (s *DB) AppendAudit(ctx context.Context, recs []*cardgate.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	ids := make([]int64, len(recs))
	args := make([]any, 0, auditRows*auditCols)
	err := s.withTx(ctx, "append audit", func(tx *sql.Tx) error {
		// Parsing the statement costs as much as running it: the full
		// one is prepared once for the whole batch.
		var full *sql.Stmt
		if len(recs) >= 2*auditRows {
			st, err := tx.PrepareContext(ctx, auditInserts[auditRows])
			if err != nil {
				return err
			}
			defer st.Close()
			full = st
		}
		for start := 0; start < len(recs); start += auditRows {
			chunk := recs[start:min(start+auditRows, len(recs))]
			args = args[:0]
			for _, r := range chunk {
				args = append(args, r.Time.UnixMicro(), r.UserID, r.PackageID, r.Route, r.Method, r.Status,
					r.UpstreamStatus, r.ErrorCode, int64(r.Latency), r.BytesIn, r.BytesOut, r.ForwardAuth)
			}
			var (
				res sql.Result
				err error
			)
			if full != nil && len(chunk) == auditRows {
				res, err = full.ExecContext(ctx, args...)
			} else {
				res, err = tx.ExecContext(ctx, auditInserts[len(chunk)], args...)
			}
			if err != nil {
				return err
			}
			last, err := res.LastInsertId()
			if err != nil {
				return err
			}
			// One INSERT holds the write lock and id is AUTOINCREMENT:
			// its rows get consecutive ids, the last one last.
			for i := range chunk {
				ids[start+i] = last - int64(len(chunk)-1-i)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, r := range recs { // only once the rows are committed
		r.ID = ids[i]
	}
	return nil
}

const (
	auditRows = 64 // rows per INSERT: 768 parameters, well under SQLite's limit
	auditCols = 12
)

// auditInserts holds the INSERT for 1 to auditRows rows, built once.
var auditInserts = func() (q [auditRows + 1]string) {
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	for n := 1; n <= auditRows; n++ {
		q[n] = `INSERT INTO audit (at, user_id, package_id, route, method, status, upstream_status, error_code,
			latency_ns, bytes_in, bytes_out, forward_auth) VALUES ` + strings.Repeat(row+", ", n-1) + row
	}
	return q
}()

// PruneAudit implements cardgate.Store: by age through the index on at,
// by count through the primary key, each a bounded DELETE.
func (s *DB) PruneAudit(ctx context.Context, before time.Time, keep int64, limit int) (int, error) {
	var n int64
	err := s.withTx(ctx, "prune audit", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM audit WHERE id IN
			(SELECT id FROM audit WHERE at < ? ORDER BY at LIMIT ?)`, before.UnixMicro(), limit)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || keep <= 0 || n >= int64(limit) {
			return err
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM audit WHERE id IN (SELECT id FROM audit
			WHERE id <= (SELECT COALESCE(MAX(id), 0) FROM audit) - ? ORDER BY id LIMIT ?)`, keep, int64(limit)-n)
		if err != nil {
			return err
		}
		m, err := res.RowsAffected()
		n += m
		return err
	})
	return int(n), err
}

// Audit implements cardgate.Store.
func (s *DB) Audit(ctx context.Context, q cardgate.AuditQuery) ([]*cardgate.AuditRecord, error) {
	where, args := []string{"id > ?"}, []any{q.AfterID}
	if q.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, q.UserID)
	}
	if q.PackageID != "" {
		where, args = append(where, "package_id = ?"), append(args, q.PackageID)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, q.Since.UnixMicro())
	}
	order := "id"
	if q.Newest {
		order = "id DESC"
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, at, user_id, package_id, route, method, status, upstream_status,
		error_code, latency_ns, bytes_in, bytes_out, forward_auth FROM audit
		WHERE `+strings.Join(where, " AND ")+` ORDER BY `+order+` LIMIT ?`, append(args, auditLimit(q.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read audit: %w", err)
	}
	recs, err := collect(rows, func(row scanner) (*cardgate.AuditRecord, error) {
		var (
			r       cardgate.AuditRecord
			at, lat int64
		)
		err := row.Scan(&r.ID, &at, &r.UserID, &r.PackageID, &r.Route, &r.Method, &r.Status, &r.UpstreamStatus,
			&r.ErrorCode, &lat, &r.BytesIn, &r.BytesOut, &r.ForwardAuth)
		r.Time, r.Latency = time.UnixMicro(at).UTC(), time.Duration(lat)
		return &r, err
	}, "read audit")
	if q.Newest {
		slices.Reverse(recs)
	}
	return recs, err
}

// auditLimit applies AuditQuery's default and a ceiling.
func auditLimit(n int) int {
	if n <= 0 {
		return 100
	}
	return min(n, 10_000)
}

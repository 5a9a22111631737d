package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/bits"
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
// CPU per row (BenchmarkAppendAudit). It talks to the driver's connection
// directly: database/sql would convert the 768 parameters of each INSERT
// into a new slice (30 KB, half a kilobyte per row, on the adapter's heap);
// here one slice serves the whole batch.
func (s *DB) AppendAudit(ctx context.Context, recs []*cardgate.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	defer conn.Close()
	ids := make([]int64, len(recs))
	err = conn.Raw(func(dc any) error {
		return s.audit.append(ctx, dc.(driverConn), recs, ids)
	})
	if err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	for i, r := range recs { // only once the rows are committed
		r.ID = ids[i]
	}
	return nil
}

// driverConn is what AppendAudit needs of the driver's connection.
type driverConn interface {
	driver.ConnBeginTx
	driver.ConnPrepareContext
}

// auditStmts keeps the audit INSERTs prepared on the write connection from
// one batch to the next: compiling a 64-row INSERT cost as much as a fifth
// of its rows' CPU when the adapter wrote a few hundred rows every 250 ms.
// Only the sizes 1, 2, 4, ... auditRows are prepared, so that at most
// seven statements are kept, and a batch is cut into those sizes.
type auditStmts struct {
	conn  driverConn // the connection stmts belong to
	stmts [auditSizes]driver.Stmt
}

const auditSizes = 7 // 1 << 6 == auditRows

// append writes recs on dc in one transaction (BEGIN IMMEDIATE, as every
// write here) and sets ids to their rows' IDs. The caller holds dc.
func (a *auditStmts) append(ctx context.Context, dc driverConn, recs []*cardgate.AuditRecord, ids []int64) (err error) {
	if a.conn != dc {
		// database/sql replaced a broken connection, whose statements
		// went with it (closing them now would touch freed memory).
		*a = auditStmts{conn: dc}
	}
	tx, err := dc.BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var last [6]driver.Value // the text columns' values of the row before, boxed
	args := make([]driver.NamedValue, auditRows*auditCols)
	for i := range args {
		args[i].Ordinal = i + 1
	}
	for start := 0; start < len(recs); {
		k := min(bits.Len(uint(len(recs)-start)), auditSizes) - 1 // the largest size that fits
		n := 1 << k
		if a.stmts[k] == nil {
			if a.stmts[k], err = dc.PrepareContext(ctx, auditInsert(n)); err != nil {
				return err
			}
		}
		chunk := recs[start : start+n]
		for i, r := range chunk {
			v := args[i*auditCols : (i+1)*auditCols]
			v[0].Value, v[1].Value, v[2].Value = r.Time.UnixMicro(), boxed(&last[0], r.UserID), boxed(&last[1], r.PackageID)
			v[3].Value, v[4].Value, v[5].Value = boxed(&last[2], r.Route), boxed(&last[3], r.Method), int64(r.Status)
			v[6].Value, v[7].Value, v[8].Value = int64(r.UpstreamStatus), boxed(&last[4], r.ErrorCode), int64(r.Latency)
			v[9].Value, v[10].Value, v[11].Value = r.BytesIn, r.BytesOut, r.ForwardAuth
			v[12].Value = boxed(&last[5], r.ConversationID)
		}
		res, err := a.stmts[k].(driver.StmtExecContext).ExecContext(ctx, args[:n*auditCols])
		if err != nil {
			return err
		}
		lastID, err := res.LastInsertId()
		if err != nil {
			return err
		}
		// One INSERT holds the write lock and id is AUTOINCREMENT: its
		// rows get consecutive ids, the last one last.
		for i := range chunk {
			ids[start+i] = lastID - int64(n-1-i)
		}
		start += n
	}
	return tx.Commit()
}

// close closes the statements; the caller holds their connection.
func (a *auditStmts) close() error {
	var err error
	for i, st := range a.stmts {
		if st != nil {
			err = errors.Join(err, st.Close())
			a.stmts[i] = nil
		}
	}
	return err
}

// closeAuditStmts closes AppendAudit's statements before the connection
// closes: SQLite keeps a connection with statements open as a zombie,
// file and all.
func (s *DB) closeAuditStmts() error {
	conn, err := s.write.Conn(context.Background())
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		if s.audit.conn != dc {
			return nil
		}
		return s.audit.close()
	})
}

// boxed returns s as a driver.Value, the one in *last if that holds the
// same text: a batch's rows mostly repeat their user, package, route and
// method, and every new box is an allocation.
func boxed(last *driver.Value, s string) driver.Value {
	if l, ok := (*last).(string); !ok || l != s {
		*last = s
	}
	return *last
}

const (
	auditRows = 64 // rows per INSERT at most: 832 parameters, well under SQLite's limit
	auditCols = 13
)

// auditInsert is the INSERT of n rows.
func auditInsert(n int) string {
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	return `INSERT INTO audit (at, user_id, package_id, route, method, status, upstream_status, error_code,
		latency_ns, bytes_in, bytes_out, forward_auth, conversation_id) VALUES ` + strings.Repeat(row+", ", n-1) + row
}

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
	after := "?"
	args := []any{q.AfterID}
	if !q.Since.IsZero() {
		// Rows are read in id order and, with no index by user, a query
		// by user reads until it has its page. Every row at or after
		// Since has an id no less than the least of theirs, which the
		// index on time finds: the read starts there, not at the first
		// row. (One bound: SQLite would use only one of two.)
		after = "MAX(?, COALESCE((SELECT MIN(id) FROM audit INDEXED BY audit_at WHERE at >= ?), 1 << 62) - 1)"
		args = append(args, q.Since.UnixMicro())
	}
	where := []string{"id > " + after}
	if q.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, q.UserID)
	}
	if q.PackageID != "" {
		where, args = append(where, "package_id = ?"), append(args, q.PackageID)
	}
	if q.ConversationID != "" {
		where, args = append(where, "conversation_id = ?"), append(args, q.ConversationID)
	}
	if !q.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, q.Since.UnixMicro())
	}
	order := "id"
	if q.Newest {
		order = "id DESC"
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, at, user_id, package_id, route, method, status, upstream_status,
		error_code, latency_ns, bytes_in, bytes_out, forward_auth, conversation_id FROM audit
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
			&r.ErrorCode, &lat, &r.BytesIn, &r.BytesOut, &r.ForwardAuth, &r.ConversationID)
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

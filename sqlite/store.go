package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cardgate/cardgate"
	sqlite3 "modernc.org/sqlite/lib"
)

const userCols = `id, name, phone_number, picture_url, disabled, revoked_before, created_at, updated_at`
const packageCols = `id, display_name, disabled, revoked_before, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(row scanner) (*cardgate.User, error) {
	var (
		u            cardgate.User
		rb, cat, uat sql.NullInt64
	)
	if err := row.Scan(&u.ID, &u.Name, &u.PhoneNumber, &u.PictureURL, &u.Disabled, &rb, &cat, &uat); err != nil {
		return nil, err
	}
	u.RevokedBefore, u.CreatedAt, u.UpdatedAt = fromMicros(rb), fromMicros(cat), fromMicros(uat)
	return &u, nil
}

func scanPackage(row scanner) (*cardgate.ActionPackage, error) {
	var (
		p            cardgate.ActionPackage
		rb, cat, uat sql.NullInt64
	)
	if err := row.Scan(&p.ID, &p.DisplayName, &p.Disabled, &rb, &cat, &uat); err != nil {
		return nil, err
	}
	p.RevokedBefore, p.CreatedAt, p.UpdatedAt = fromMicros(rb), fromMicros(cat), fromMicros(uat)
	return &p, nil
}

// CreateUser stores a new user; an existing ID is ECONFLICT, and so is a
// phone number another user has (see migration 0007). The check and the
// insert are one statement on the one writer, so two users cannot both
// take a number.
func (s *DB) CreateUser(ctx context.Context, u *cardgate.User) error {
	res, err := s.write.ExecContext(ctx, `INSERT INTO users (`+userCols+`) SELECT ?, ?, ?, ?, ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM users WHERE phone_number = ?3)`,
		u.ID, u.Name, u.PhoneNumber, u.PictureURL, u.Disabled, micros(u.RevokedBefore), micros(u.CreatedAt), micros(u.UpdatedAt))
	if isConstraint(err) {
		return s.userConflict(ctx, u)
	} else if err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	} else if n == 0 {
		return s.userConflict(ctx, u)
	}
	return nil
}

// userConflict says why u could not be added: its ID or its phone number
// is taken.
func (s *DB) userConflict(ctx context.Context, u *cardgate.User) error {
	var owner string
	err := s.write.QueryRowContext(ctx, `SELECT id FROM users WHERE phone_number = ? ORDER BY id = ? DESC LIMIT 1`, u.PhoneNumber, u.ID).Scan(&owner)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	return cardgate.UserConflict(u, owner)
}

// User returns the user with the given ID.
func (s *DB) User(ctx context.Context, id string) (*cardgate.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", id)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: read user: %w", err)
	}
	return u, nil
}

// Users returns every user, ordered by creation time.
func (s *DB) Users(ctx context.Context) ([]*cardgate.User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return collect(rows, scanUser, "list users")
}

// SetUserDisabled implements cardgate.Store.
func (s *DB) SetUserDisabled(ctx context.Context, id string, disabled bool, at time.Time) error {
	return s.setDisabled(ctx, "users", "user", cardgate.RevokeUser, id, disabled, at)
}

// CreatePackage stores a new action package; an existing ID is ECONFLICT.
func (s *DB) CreatePackage(ctx context.Context, p *cardgate.ActionPackage) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO action_packages (`+packageCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		p.ID, p.DisplayName, p.Disabled, micros(p.RevokedBefore), micros(p.CreatedAt), micros(p.UpdatedAt))
	if isConstraint(err) {
		return cardgate.Errorf(cardgate.ECONFLICT, "action package %s already exists", p.ID)
	} else if err != nil {
		return fmt.Errorf("sqlite: create package: %w", err)
	}
	return nil
}

// Package returns the action package with the given ID.
func (s *DB) Package(ctx context.Context, id string) (*cardgate.ActionPackage, error) {
	p, err := scanPackage(s.read.QueryRowContext(ctx, `SELECT `+packageCols+` FROM action_packages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("action package", id)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: read package: %w", err)
	}
	return p, nil
}

// Packages returns every action package, ordered by creation time.
func (s *DB) Packages(ctx context.Context) ([]*cardgate.ActionPackage, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+packageCols+` FROM action_packages ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list packages: %w", err)
	}
	return collect(rows, scanPackage, "list packages")
}

// SetPackageDisabled implements cardgate.Store.
func (s *DB) SetPackageDisabled(ctx context.Context, id string, disabled bool, at time.Time) error {
	return s.setDisabled(ctx, "action_packages", "action package", cardgate.RevokePackage, id, disabled, at)
}

// setDisabled flips the disabled flag of a user or package; disabling also
// revokes its tokens up to cardgate.DisableCutoff(at) and appends to the
// feed, in one transaction.
func (s *DB) setDisabled(ctx context.Context, table, what string, kind cardgate.RevocationKind, id string, disabled bool, at time.Time) error {
	cut := cardgate.DisableCutoff(at).UnixMicro()
	return s.withTx(ctx, "set "+what+" disabled", func(tx *sql.Tx) error {
		var res sql.Result
		var err error
		if disabled {
			res, err = tx.ExecContext(ctx, `UPDATE `+table+` SET disabled = 1, updated_at = ?2,
				revoked_before = MAX(COALESCE(revoked_before, ?3), ?3) WHERE id = ?1`, id, at.UnixMicro(), cut)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE `+table+` SET disabled = 0, updated_at = ? WHERE id = ?`, at.UnixMicro(), id)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound(what, id)
		}
		if disabled {
			_, err = tx.ExecContext(ctx, `INSERT INTO revocations (kind, subject, at) VALUES (?, ?, ?)`, kind, id, cut)
		}
		return err
	})
}

// CreateClient stores a new client; a duplicate ID or key hash is ECONFLICT.
func (s *DB) CreateClient(ctx context.Context, c *cardgate.Client) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO clients (id, name, role, key_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		c.ID, c.Name, c.Role, c.KeyHash, micros(c.CreatedAt))
	if isConstraint(err) {
		return cardgate.Errorf(cardgate.ECONFLICT, "client %s already exists", c.ID)
	} else if err != nil {
		return fmt.Errorf("sqlite: create client: %w", err)
	}
	return nil
}

func scanClient(row scanner) (*cardgate.Client, error) {
	var (
		c   cardgate.Client
		cat sql.NullInt64
	)
	if err := row.Scan(&c.ID, &c.Name, &c.Role, &c.KeyHash, &cat); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMicros(cat)
	return &c, nil
}

// ClientByKeyHash implements cardgate.Store.
func (s *DB) ClientByKeyHash(ctx context.Context, hash []byte) (*cardgate.Client, error) {
	c, err := scanClient(s.read.QueryRowContext(ctx, `SELECT id, name, role, key_hash, created_at FROM clients WHERE key_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "no client has this key")
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find client: %w", err)
	}
	return c, nil
}

// Clients implements cardgate.Store.
func (s *DB) Clients(ctx context.Context, role cardgate.Role) ([]*cardgate.Client, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, role, key_hash, created_at FROM clients
		WHERE ? = '' OR role = ? ORDER BY created_at, id`, role, role)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list clients: %w", err)
	}
	return collect(rows, scanClient, "list clients")
}

// DeleteClient implements cardgate.Store.
func (s *DB) DeleteClient(ctx context.Context, id string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM clients WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete client: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("client", id)
	}
	return nil
}

// AddSigningKey implements cardgate.Store.
func (s *DB) AddSigningKey(ctx context.Context, k *cardgate.SigningKey) error {
	at := k.Activation().UnixMicro()
	return s.withTx(ctx, "add signing key", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ?1 WHERE retired_at IS NULL OR retired_at > ?1`, at); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (id, public_key, sealed_private_key, created_at, activates_at, retired_at) VALUES (?, ?, ?, ?, ?, NULL)`,
			k.ID, []byte(k.PublicKey), k.SealedPrivateKey, k.CreatedAt.UnixMicro(), at)
		if isConstraint(err) {
			return cardgate.Errorf(cardgate.ECONFLICT, "signing key %s already exists", k.ID)
		}
		return err
	})
}

// SigningKeys implements cardgate.Store.
func (s *DB) SigningKeys(ctx context.Context) ([]*cardgate.SigningKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, public_key, sealed_private_key, created_at, COALESCE(activates_at, created_at), retired_at
		FROM signing_keys ORDER BY created_at DESC, retired_at IS NULL DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list signing keys: %w", err)
	}
	return collect(rows, func(row scanner) (*cardgate.SigningKey, error) {
		var (
			k             cardgate.SigningKey
			pub           []byte
			cat, aat, rat sql.NullInt64
		)
		if err := row.Scan(&k.ID, &pub, &k.SealedPrivateKey, &cat, &aat, &rat); err != nil {
			return nil, err
		}
		k.PublicKey, k.CreatedAt, k.ActivatesAt, k.RetiredAt = pub, fromMicros(cat), fromMicros(aat), fromMicros(rat)
		return &k, nil
	}, "list signing keys")
}

// Revoke implements cardgate.Store. A kind other than token, user or
// package is EINVALID: feed followers could not act on it.
func (s *DB) Revoke(ctx context.Context, r *cardgate.Revocation) error {
	if !r.Kind.Valid() {
		return cardgate.Errorf(cardgate.EINVALID, "kind: must be token, user or package")
	}
	var seq int64
	err := s.withTx(ctx, "revoke", func(tx *sql.Tx) error {
		table, what := "", ""
		switch r.Kind {
		case cardgate.RevokeUser:
			table, what = "users", "user"
		case cardgate.RevokePackage:
			table, what = "action_packages", "action package"
		}
		if table != "" {
			// MAX: RevokedBefore moves forward, never back.
			res, err := tx.ExecContext(ctx, `UPDATE `+table+` SET revoked_before = MAX(COALESCE(revoked_before, ?2), ?2) WHERE id = ?1`,
				r.Subject, r.At.UnixMicro())
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return notFound(what, r.Subject)
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO revocations (kind, subject, at, expires) VALUES (?, ?, ?, ?)`,
			r.Kind, r.Subject, r.At.UnixMicro(), micros(r.Expires))
		if err != nil {
			return err
		}
		seq, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return err
	}
	r.Seq = seq // only once committed: a caller never sees a Seq that is not in the feed
	return nil
}

// RevocationsSince implements cardgate.Store.
func (s *DB) RevocationsSince(ctx context.Context, since int64, limit int) ([]*cardgate.Revocation, error) {
	if limit <= 0 {
		return nil, nil // SQLite would read a negative LIMIT as "no limit"
	}
	rows, err := s.read.QueryContext(ctx, `SELECT seq, kind, subject, at, expires FROM revocations
		WHERE seq > ? ORDER BY seq LIMIT ?`, since, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read revocations: %w", err)
	}
	return collect(rows, func(row scanner) (*cardgate.Revocation, error) {
		var (
			r       cardgate.Revocation
			at, exp sql.NullInt64
		)
		if err := row.Scan(&r.Seq, &r.Kind, &r.Subject, &at, &exp); err != nil {
			return nil, err
		}
		r.At, r.Expires = fromMicros(at), fromMicros(exp)
		return &r, nil
	}, "read revocations")
}

// tokenStateQuery reads everything a token check needs in one statement,
// prepared once at Open: the check runs it on every request.
const tokenStateQuery = `SELECT u.id, u.name, u.phone_number, u.picture_url, u.disabled, u.revoked_before, u.created_at, u.updated_at,
		p.id, p.display_name, p.disabled, p.revoked_before, p.created_at, p.updated_at,
		EXISTS (SELECT 1 FROM revocations WHERE kind = 'token' AND subject = ?3)
	FROM users u, action_packages p WHERE u.id = ?1 AND p.id = ?2`

// TokenState implements cardgate.Store in one query.
func (s *DB) TokenState(ctx context.Context, userID, packageID, jti string) (*cardgate.TokenState, error) {
	var (
		st              cardgate.TokenState
		u               cardgate.User
		p               cardgate.ActionPackage
		urb, ucat, uuat sql.NullInt64
		prb, pcat, puat sql.NullInt64
	)
	err := s.tokenState.QueryRowContext(ctx, userID, packageID, jti).Scan(
		&u.ID, &u.Name, &u.PhoneNumber, &u.PictureURL, &u.Disabled, &urb, &ucat, &uuat,
		&p.ID, &p.DisplayName, &p.Disabled, &prb, &pcat, &puat, &st.Revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.whichMissing(ctx, userID, packageID)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: read token state: %w", err)
	}
	u.RevokedBefore, u.CreatedAt, u.UpdatedAt = fromMicros(urb), fromMicros(ucat), fromMicros(uuat)
	p.RevokedBefore, p.CreatedAt, p.UpdatedAt = fromMicros(prb), fromMicros(pcat), fromMicros(puat)
	st.User, st.Package = &u, &p
	return &st, nil
}

// whichMissing names what TokenState did not find. It costs a second query,
// but only on a path that (users and packages are never deleted) a genuine
// token does not take.
func (s *DB) whichMissing(ctx context.Context, userID, packageID string) error {
	if _, err := s.User(ctx, userID); err != nil {
		return err
	}
	if _, err := s.Package(ctx, packageID); err != nil {
		return err
	}
	return cardgate.Errorf(cardgate.ENOTFOUND, "user %s or action package %s not found", userID, packageID)
}

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, scan func(scanner) (*T, error), op string) ([]*T, error) {
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return out, nil
}

// micros converts a time for storage as Unix microseconds; the zero time,
// "never", is NULL.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros is micros in reverse, always in UTC.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// isConstraint reports whether err is a primary-key or unique violation:
// the record already exists.
func isConstraint(err error) bool {
	c := errorCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || c == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// isForeignKey reports whether err is a foreign-key violation: the record
// refers to one that does not exist.
func isForeignKey(err error) bool { return errorCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY }

// errorCode is SQLite's extended result code of err, or 0.
func errorCode(err error) int {
	var e interface{ Code() int }
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

func notFound(what, id string) error {
	return cardgate.Errorf(cardgate.ENOTFOUND, "%s %s not found", what, id)
}

// withTx runs fn in a write transaction. An *cardgate.Error from fn (a
// conflict, a missing record) goes back as it is; any other error is
// wrapped with op.
func (s *DB) withTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
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

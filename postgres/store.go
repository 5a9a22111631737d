package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

const userCols = `id, name, phone_number, picture_url, disabled, revoked_before, created_at, updated_at`
const packageCols = `id, display_name, disabled, revoked_before, created_at, updated_at`

func scanUser(row pgx.Row) (*cardgate.User, error) {
	var (
		u            cardgate.User
		rb, cat, uat pgtype.Timestamptz
	)
	if err := row.Scan(&u.ID, &u.Name, &u.PhoneNumber, &u.PictureURL, &u.Disabled, &rb, &cat, &uat); err != nil {
		return nil, err
	}
	u.RevokedBefore, u.CreatedAt, u.UpdatedAt = fromTS(rb), fromTS(cat), fromTS(uat)
	return &u, nil
}

func scanPackage(row pgx.Row) (*cardgate.ActionPackage, error) {
	var (
		p            cardgate.ActionPackage
		rb, cat, uat pgtype.Timestamptz
	)
	if err := row.Scan(&p.ID, &p.DisplayName, &p.Disabled, &rb, &cat, &uat); err != nil {
		return nil, err
	}
	p.RevokedBefore, p.CreatedAt, p.UpdatedAt = fromTS(rb), fromTS(cat), fromTS(uat)
	return &p, nil
}

// CreateUser stores a new user; an existing ID is ECONFLICT, and so is a
// phone number another user has (see migration 0007). Two users adding the
// same number at once meet at the unique index users_phone_number_unique.
func (db *DB) CreateUser(ctx context.Context, u *cardgate.User) error {
	tag, err := db.pool.Exec(ctx, `INSERT INTO users (`+userCols+`) SELECT $1, $2, $3, $4, $5, $6, $7, $8
		WHERE NOT EXISTS (SELECT 1 FROM users WHERE phone_number = $3)`,
		u.ID, u.Name, u.PhoneNumber, u.PictureURL, u.Disabled, ts(u.RevokedBefore), ts(u.CreatedAt), ts(u.UpdatedAt))
	if isUniqueViolation(err) || err == nil && tag.RowsAffected() == 0 {
		var owner string
		qerr := db.pool.QueryRow(ctx, `SELECT id FROM users WHERE phone_number = $1 ORDER BY id = $2 DESC LIMIT 1`, u.PhoneNumber, u.ID).Scan(&owner)
		if qerr != nil && !errors.Is(qerr, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: create user: %w", qerr)
		}
		return cardgate.UserConflict(u, owner)
	} else if err != nil {
		return fmt.Errorf("postgres: create user: %w", err)
	}
	return nil
}

// User returns the user with the given ID.
func (db *DB) User(ctx context.Context, id string) (*cardgate.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("user", id)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: read user: %w", err)
	}
	return u, nil
}

// Users returns every user, ordered by creation time.
func (db *DB) Users(ctx context.Context) ([]*cardgate.User, error) {
	return collect(ctx, db, "list users", scanUser, `SELECT `+userCols+` FROM users ORDER BY created_at, id`)
}

// SetUserDisabled implements cardgate.Store.
func (db *DB) SetUserDisabled(ctx context.Context, id string, disabled bool, at time.Time) error {
	return db.setDisabled(ctx, "users", "user", cardgate.RevokeUser, id, disabled, at)
}

// CreatePackage stores a new action package; an existing ID is ECONFLICT.
func (db *DB) CreatePackage(ctx context.Context, p *cardgate.ActionPackage) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO action_packages (`+packageCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		p.ID, p.DisplayName, p.Disabled, ts(p.RevokedBefore), ts(p.CreatedAt), ts(p.UpdatedAt))
	if isUniqueViolation(err) {
		return cardgate.Errorf(cardgate.ECONFLICT, "action package %s already exists", p.ID)
	} else if err != nil {
		return fmt.Errorf("postgres: create package: %w", err)
	}
	return nil
}

// Package returns the action package with the given ID.
func (db *DB) Package(ctx context.Context, id string) (*cardgate.ActionPackage, error) {
	p, err := scanPackage(db.pool.QueryRow(ctx, `SELECT `+packageCols+` FROM action_packages WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("action package", id)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: read package: %w", err)
	}
	return p, nil
}

// Packages returns every action package, ordered by creation time.
func (db *DB) Packages(ctx context.Context) ([]*cardgate.ActionPackage, error) {
	return collect(ctx, db, "list packages", scanPackage, `SELECT `+packageCols+` FROM action_packages ORDER BY created_at, id`)
}

// SetPackageDisabled implements cardgate.Store.
func (db *DB) SetPackageDisabled(ctx context.Context, id string, disabled bool, at time.Time) error {
	return db.setDisabled(ctx, "action_packages", "action package", cardgate.RevokePackage, id, disabled, at)
}

// setDisabled flips the disabled flag of a user or package; disabling also
// revokes its tokens up to cardgate.DisableCutoff(at) and appends to the
// feed, in one transaction.
func (db *DB) setDisabled(ctx context.Context, table, what string, kind cardgate.RevocationKind, id string, disabled bool, at time.Time) error {
	cut := cardgate.DisableCutoff(at)
	return db.withTx(ctx, "set "+what+" disabled", func(tx pgx.Tx) error {
		q, args := `UPDATE `+table+` SET disabled = FALSE, updated_at = $2 WHERE id = $1`, []any{id, at}
		if disabled {
			q = `UPDATE ` + table + ` SET disabled = TRUE, updated_at = $2,
				revoked_before = GREATEST(revoked_before, $3) WHERE id = $1`
			args = append(args, cut)
		}
		tag, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound(what, id)
		}
		if disabled {
			_, err = tx.Exec(ctx, `INSERT INTO revocations (kind, subject, at) VALUES ($1, $2, $3)`, string(kind), id, cut)
		}
		return err
	})
}

// CreateClient stores a new client; a duplicate ID or key hash is ECONFLICT.
func (db *DB) CreateClient(ctx context.Context, c *cardgate.Client) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO clients (id, name, role, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		c.ID, c.Name, string(c.Role), c.KeyHash, ts(c.CreatedAt))
	if isUniqueViolation(err) {
		return cardgate.Errorf(cardgate.ECONFLICT, "client %s already exists", c.ID)
	} else if err != nil {
		return fmt.Errorf("postgres: create client: %w", err)
	}
	return nil
}

func scanClient(row pgx.Row) (*cardgate.Client, error) {
	var (
		c    cardgate.Client
		role string
		cat  pgtype.Timestamptz
	)
	if err := row.Scan(&c.ID, &c.Name, &role, &c.KeyHash, &cat); err != nil {
		return nil, err
	}
	c.Role, c.CreatedAt = cardgate.Role(role), fromTS(cat)
	return &c, nil
}

// ClientByKeyHash implements cardgate.Store.
func (db *DB) ClientByKeyHash(ctx context.Context, hash []byte) (*cardgate.Client, error) {
	c, err := scanClient(db.pool.QueryRow(ctx, `SELECT id, name, role, key_hash, created_at FROM clients WHERE key_hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "no client has this key")
	} else if err != nil {
		return nil, fmt.Errorf("postgres: find client: %w", err)
	}
	return c, nil
}

// Clients implements cardgate.Store.
func (db *DB) Clients(ctx context.Context, role cardgate.Role) ([]*cardgate.Client, error) {
	return collect(ctx, db, "list clients", scanClient, `SELECT id, name, role, key_hash, created_at FROM clients
		WHERE $1 = '' OR role = $1 ORDER BY created_at, id`, string(role))
}

// DeleteClient implements cardgate.Store.
func (db *DB) DeleteClient(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM clients WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres: delete client: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("client", id)
	}
	return nil
}

// AddSigningKey implements cardgate.Store.
func (db *DB) AddSigningKey(ctx context.Context, k *cardgate.SigningKey) error {
	at := k.Activation()
	return db.withTx(ctx, "add signing key", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL OR retired_at > $1`, at); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO signing_keys (id, public_key, sealed_private_key, created_at, activates_at) VALUES ($1, $2, $3, $4, $5)`,
			k.ID, []byte(k.PublicKey), k.SealedPrivateKey, k.CreatedAt, at)
		if isUniqueViolation(err) {
			return cardgate.Errorf(cardgate.ECONFLICT, "signing key %s already exists", k.ID)
		}
		return err
	})
}

// SigningKeys implements cardgate.Store.
func (db *DB) SigningKeys(ctx context.Context) ([]*cardgate.SigningKey, error) {
	return collect(ctx, db, "list signing keys", func(row pgx.Row) (*cardgate.SigningKey, error) {
		var (
			k             cardgate.SigningKey
			pub           []byte
			cat, aat, rat pgtype.Timestamptz
		)
		if err := row.Scan(&k.ID, &pub, &k.SealedPrivateKey, &cat, &aat, &rat); err != nil {
			return nil, err
		}
		k.PublicKey, k.CreatedAt, k.ActivatesAt, k.RetiredAt = pub, fromTS(cat), fromTS(aat), fromTS(rat)
		return &k, nil
	}, `SELECT id, public_key, sealed_private_key, created_at, activates_at, retired_at FROM signing_keys ORDER BY created_at DESC, retired_at IS NULL DESC, id DESC`)
}

// Revoke implements cardgate.Store. A kind other than token, user or
// package is EINVALID: feed followers could not act on it.
func (db *DB) Revoke(ctx context.Context, r *cardgate.Revocation) error {
	if !r.Kind.Valid() {
		return cardgate.Errorf(cardgate.EINVALID, "kind: must be token, user or package")
	}
	var seq int64
	err := db.withTx(ctx, "revoke", func(tx pgx.Tx) error {
		table, what := "", ""
		switch r.Kind {
		case cardgate.RevokeUser:
			table, what = "users", "user"
		case cardgate.RevokePackage:
			table, what = "action_packages", "action package"
		}
		if table != "" {
			// GREATEST, which skips NULLs: RevokedBefore moves forward, never back.
			tag, err := tx.Exec(ctx, `UPDATE `+table+` SET revoked_before = GREATEST(revoked_before, $2) WHERE id = $1`, r.Subject, r.At)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return notFound(what, r.Subject)
			}
		}
		return tx.QueryRow(ctx, `INSERT INTO revocations (kind, subject, at, expires) VALUES ($1, $2, $3, $4) RETURNING seq`,
			string(r.Kind), r.Subject, r.At, ts(r.Expires)).Scan(&seq)
	})
	if err != nil {
		return err
	}
	r.Seq = seq // only once committed: a caller never sees a Seq that is not in the feed
	return nil
}

// RevocationsSince implements cardgate.Store.
func (db *DB) RevocationsSince(ctx context.Context, since int64, limit int) ([]*cardgate.Revocation, error) {
	if limit <= 0 {
		return nil, nil // PostgreSQL refuses a negative LIMIT
	}
	return collect(ctx, db, "read revocations", func(row pgx.Row) (*cardgate.Revocation, error) {
		var (
			r       cardgate.Revocation
			kind    string
			at, exp pgtype.Timestamptz
		)
		if err := row.Scan(&r.Seq, &kind, &r.Subject, &at, &exp); err != nil {
			return nil, err
		}
		r.Kind, r.At, r.Expires = cardgate.RevocationKind(kind), fromTS(at), fromTS(exp)
		return &r, nil
	}, `SELECT seq, kind, subject, at, expires FROM revocations WHERE seq > $1 ORDER BY seq LIMIT $2`, since, limit)
}

// tokenStateQuery reads everything a token check needs in one round trip:
// two primary-key lookups and an index probe on revocations (kind, subject).
// pgx prepares it once per connection and reuses it from its cache.
const tokenStateQuery = `SELECT u.id, u.name, u.phone_number, u.picture_url, u.disabled, u.revoked_before, u.created_at, u.updated_at,
		p.id, p.display_name, p.disabled, p.revoked_before, p.created_at, p.updated_at,
		EXISTS (SELECT 1 FROM revocations WHERE kind = 'token' AND subject = $3)
	FROM users u CROSS JOIN action_packages p WHERE u.id = $1 AND p.id = $2`

// TokenState implements cardgate.Store in one query.
func (db *DB) TokenState(ctx context.Context, userID, packageID, jti string) (*cardgate.TokenState, error) {
	var (
		st              cardgate.TokenState
		u               cardgate.User
		p               cardgate.ActionPackage
		urb, ucat, uuat pgtype.Timestamptz
		prb, pcat, puat pgtype.Timestamptz
	)
	err := db.pool.QueryRow(ctx, tokenStateQuery, userID, packageID, jti).Scan(
		&u.ID, &u.Name, &u.PhoneNumber, &u.PictureURL, &u.Disabled, &urb, &ucat, &uuat,
		&p.ID, &p.DisplayName, &p.Disabled, &prb, &pcat, &puat, &st.Revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, db.whichMissing(ctx, userID, packageID)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: read token state: %w", err)
	}
	u.RevokedBefore, u.CreatedAt, u.UpdatedAt = fromTS(urb), fromTS(ucat), fromTS(uuat)
	p.RevokedBefore, p.CreatedAt, p.UpdatedAt = fromTS(prb), fromTS(pcat), fromTS(puat)
	st.User, st.Package = &u, &p
	return &st, nil
}

// whichMissing names what TokenState did not find. It costs more queries,
// but only on a path that (users and packages are never deleted) a genuine
// token does not take.
func (db *DB) whichMissing(ctx context.Context, userID, packageID string) error {
	if _, err := db.User(ctx, userID); err != nil {
		return err
	}
	if _, err := db.Package(ctx, packageID); err != nil {
		return err
	}
	return cardgate.Errorf(cardgate.ENOTFOUND, "user %s or action package %s not found", userID, packageID)
}

// collect runs a query and scans every row with scan.
func collect[T any](ctx context.Context, db *DB, op string, scan func(pgx.Row) (*T, error), q string, args ...any) ([]*T, error) {
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", op, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: %s: %w", op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", op, err)
	}
	return out, nil
}

package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/cardgate/cardgate"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// UserByPhone implements cardgate.Store.
func (db *DB) UserByPhone(ctx context.Context, phone string) (*cardgate.User, error) {
	users, err := collect(ctx, db, "user by phone", scanUser,
		`SELECT `+userCols+` FROM users WHERE phone_number = $1 LIMIT 2`, phone)
	if err != nil {
		return nil, err
	}
	return cardgate.OneUserByPhone(users, phone)
}

// PutLoginCode implements cardgate.Store.
func (db *DB) PutLoginCode(ctx context.Context, c *cardgate.LoginCode) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO login_codes (phone_number, code_hash, user_id, expires_at, attempts, created_at)
		VALUES ($1, $2, $3, $4, 0, $5)
		ON CONFLICT (phone_number) DO UPDATE SET code_hash = excluded.code_hash, user_id = excluded.user_id,
			expires_at = excluded.expires_at, attempts = 0, created_at = excluded.created_at`,
		c.PhoneNumber, c.Hash, pgtype.Text{String: c.UserID, Valid: c.UserID != ""}, ts(c.ExpiresAt), ts(c.CreatedAt))
	if err != nil {
		return fmt.Errorf("postgres: put login code: %w", err)
	}
	return nil
}

// AttemptLoginCode implements cardgate.Store. The single UPDATE takes the
// row lock, so concurrent attempts are counted one after another.
func (db *DB) AttemptLoginCode(ctx context.Context, phone string) (*cardgate.LoginCode, error) {
	c := cardgate.LoginCode{PhoneNumber: phone}
	var exp, cat pgtype.Timestamptz
	var user pgtype.Text // NULL for a number without an account
	err := db.pool.QueryRow(ctx, `UPDATE login_codes SET attempts = attempts + 1 WHERE phone_number = $1
		RETURNING code_hash, user_id, expires_at, attempts, created_at`, phone).
		Scan(&c.Hash, &user, &exp, &c.Attempts, &cat)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "no sign-in code is pending for this number")
	} else if err != nil {
		return nil, fmt.Errorf("postgres: attempt login code: %w", err)
	}
	c.UserID, c.ExpiresAt, c.CreatedAt = user.String, fromTS(exp), fromTS(cat)
	return &c, nil
}

// DeleteLoginCode implements cardgate.Store.
func (db *DB) DeleteLoginCode(ctx context.Context, phone string, hash []byte) (bool, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM login_codes WHERE phone_number = $1 AND code_hash = $2`, phone, hash)
	if err != nil {
		return false, fmt.Errorf("postgres: delete login code: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// CreateSession implements cardgate.Store.
func (db *DB) CreateSession(ctx context.Context, s *cardgate.Session) error {
	return db.withTx(ctx, "create session", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < $1`, ts(s.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			s.IDHash, s.UserID, ts(s.CreatedAt), ts(s.ExpiresAt))
		if isUniqueViolation(err) || isForeignKeyViolation(err) {
			return cardgate.Errorf(cardgate.ECONFLICT, "session exists, or user %s does not", s.UserID)
		}
		return err
	})
}

// Session implements cardgate.Store.
func (db *DB) Session(ctx context.Context, idHash []byte) (*cardgate.Session, error) {
	s := cardgate.Session{IDHash: idHash}
	var cat, exp pgtype.Timestamptz
	err := db.pool.QueryRow(ctx, `SELECT user_id, created_at, expires_at FROM sessions WHERE id_hash = $1`, idHash).
		Scan(&s.UserID, &cat, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "no such session")
	} else if err != nil {
		return nil, fmt.Errorf("postgres: read session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = fromTS(cat), fromTS(exp)
	return &s, nil
}

// DeleteSession implements cardgate.Store.
func (db *DB) DeleteSession(ctx context.Context, idHash []byte) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("postgres: delete session: %w", err)
	}
	return nil
}

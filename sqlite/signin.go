package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cardgate/cardgate"
)

// UserByPhone implements cardgate.Store.
func (s *DB) UserByPhone(ctx context.Context, phone string) (*cardgate.User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE phone_number = ? LIMIT 2`, phone)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user by phone: %w", err)
	}
	users, err := collect(rows, scanUser, "user by phone")
	if err != nil {
		return nil, err
	}
	return cardgate.OneUserByPhone(users, phone)
}

// PutLoginCode implements cardgate.Store.
func (s *DB) PutLoginCode(ctx context.Context, c *cardgate.LoginCode) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO login_codes (phone_number, code_hash, user_id, expires_at, attempts, created_at)
		VALUES (?, ?, ?, ?, 0, ?)
		ON CONFLICT (phone_number) DO UPDATE SET code_hash = excluded.code_hash, user_id = excluded.user_id,
			expires_at = excluded.expires_at, attempts = 0, created_at = excluded.created_at`,
		c.PhoneNumber, c.Hash, sql.NullString{String: c.UserID, Valid: c.UserID != ""}, c.ExpiresAt.UnixMicro(), c.CreatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlite: put login code: %w", err)
	}
	return nil
}

// AttemptLoginCode implements cardgate.Store.
func (s *DB) AttemptLoginCode(ctx context.Context, phone string) (*cardgate.LoginCode, error) {
	c := cardgate.LoginCode{PhoneNumber: phone}
	var exp, cat sql.NullInt64
	var user sql.NullString // NULL for a number without an account
	err := s.write.QueryRowContext(ctx, `UPDATE login_codes SET attempts = attempts + 1 WHERE phone_number = ?
		RETURNING code_hash, user_id, expires_at, attempts, created_at`, phone).
		Scan(&c.Hash, &user, &exp, &c.Attempts, &cat)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "no sign-in code is pending for this number")
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: attempt login code: %w", err)
	}
	c.UserID, c.ExpiresAt, c.CreatedAt = user.String, fromMicros(exp), fromMicros(cat)
	return &c, nil
}

// DeleteLoginCode implements cardgate.Store.
func (s *DB) DeleteLoginCode(ctx context.Context, phone string, hash []byte) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM login_codes WHERE phone_number = ? AND code_hash = ?`, phone, hash)
	if err != nil {
		return false, fmt.Errorf("sqlite: delete login code: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// CreateSession implements cardgate.Store.
func (s *DB) CreateSession(ctx context.Context, sess *cardgate.Session) error {
	return s.withTx(ctx, "create session", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, sess.CreatedAt.UnixMicro()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			sess.IDHash, sess.UserID, sess.CreatedAt.UnixMicro(), sess.ExpiresAt.UnixMicro())
		if isConstraint(err) || isForeignKey(err) {
			return cardgate.Errorf(cardgate.ECONFLICT, "session exists, or user %s does not", sess.UserID)
		}
		return err
	})
}

// Session implements cardgate.Store.
func (s *DB) Session(ctx context.Context, idHash []byte) (*cardgate.Session, error) {
	sess := cardgate.Session{IDHash: idHash}
	var cat, exp sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT user_id, created_at, expires_at FROM sessions WHERE id_hash = ?`, idHash).
		Scan(&sess.UserID, &cat, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "no such session")
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: read session: %w", err)
	}
	sess.CreatedAt, sess.ExpiresAt = fromMicros(cat), fromMicros(exp)
	return &sess, nil
}

// DeleteSession implements cardgate.Store.
func (s *DB) DeleteSession(ctx context.Context, idHash []byte) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash); err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return nil
}

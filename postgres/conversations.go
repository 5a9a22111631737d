package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// Every rule of ConversationStore is checked inside the transaction that
// stores the row. A response's transaction reads the responder's
// membership FOR SHARE, so that a removal running at the same moment
// waits for the response to commit (or, committed first, makes it fail):
// no response is stored from someone who was no longer a member. One
// response per user is kept by the unique index form_responses_one_per_user.

// CreateConversation implements cardgate.ConversationStore.
func (db *DB) CreateConversation(ctx context.Context, c *cardgate.Conversation) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO conversations (id, title, created_at) VALUES ($1, $2, $3)`,
		c.ID, c.Title, ts(c.CreatedAt))
	if isUniqueViolation(err) {
		return cardgate.Errorf(cardgate.ECONFLICT, "conversation %s already exists", c.ID)
	} else if err != nil {
		return fmt.Errorf("postgres: create conversation: %w", err)
	}
	return nil
}

func scanConversation(row pgx.Row) (*cardgate.Conversation, error) {
	var (
		c   cardgate.Conversation
		cat pgtype.Timestamptz
	)
	if err := row.Scan(&c.ID, &c.Title, &cat); err != nil {
		return nil, err
	}
	c.CreatedAt = fromTS(cat)
	return &c, nil
}

// Conversation implements cardgate.ConversationStore.
func (db *DB) Conversation(ctx context.Context, id string) (*cardgate.Conversation, error) {
	c, err := scanConversation(db.pool.QueryRow(ctx, `SELECT id, title, created_at FROM conversations WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("conversation", id)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: read conversation: %w", err)
	}
	return c, nil
}

// Conversations implements cardgate.ConversationStore.
func (db *DB) Conversations(ctx context.Context) ([]*cardgate.ConversationSummary, error) {
	return collect(ctx, db, "list conversations", func(row pgx.Row) (*cardgate.ConversationSummary, error) {
		var (
			cs  cardgate.ConversationSummary
			cat pgtype.Timestamptz
		)
		if err := row.Scan(&cs.ID, &cs.Title, &cat, &cs.Members); err != nil {
			return nil, err
		}
		cs.CreatedAt = fromTS(cat)
		return &cs, nil
	}, `SELECT c.id, c.title, c.created_at,
	(SELECT COUNT(*) FROM conversation_members n WHERE n.conversation_id = c.id)
	FROM conversations c ORDER BY c.created_at, c.id`)
}

// UserConversations implements cardgate.ConversationStore.
func (db *DB) UserConversations(ctx context.Context, userID string) ([]*cardgate.UserConversation, error) {
	return collect(ctx, db, "list a user's conversations", func(row pgx.Row) (*cardgate.UserConversation, error) {
		var (
			uc  cardgate.UserConversation
			cat pgtype.Timestamptz
		)
		if err := row.Scan(&uc.ID, &uc.Title, &cat, &uc.Role, &uc.Members); err != nil {
			return nil, err
		}
		uc.CreatedAt = fromTS(cat)
		return &uc, nil
	}, `SELECT c.id, c.title, c.created_at, m.role,
	(SELECT COUNT(*) FROM conversation_members n WHERE n.conversation_id = c.id)
	FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
	WHERE m.user_id = $1 ORDER BY c.created_at, c.id`, userID)
}

// mustExist returns ENOTFOUND unless table has a row with the given id.
func mustExist(ctx context.Context, q pgx.Tx, table, what, id string) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM `+table+` WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(what, id)
	}
	return err
}

// PutMember implements cardgate.ConversationStore.
func (db *DB) PutMember(ctx context.Context, m *cardgate.Member) error {
	return db.withTx(ctx, "put member", func(tx pgx.Tx) error {
		if err := mustExist(ctx, tx, "conversations", "conversation", m.ConversationID); err != nil {
			return err
		}
		if err := mustExist(ctx, tx, "users", "user", m.UserID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO conversation_members (conversation_id, user_id, role, added_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (conversation_id, user_id) DO UPDATE SET role = excluded.role,
			added_at = CASE WHEN conversation_members.role = excluded.role THEN conversation_members.added_at ELSE excluded.added_at END`,
			m.ConversationID, m.UserID, m.Role, ts(m.AddedAt))
		return err
	})
}

// RemoveMember implements cardgate.ConversationStore.
func (db *DB) RemoveMember(ctx context.Context, conversationID, userID string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = $2`, conversationID, userID)
	if err != nil {
		return fmt.Errorf("postgres: remove member: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return notMember(conversationID, userID)
	}
	return nil
}

func notMember(conversationID, userID string) error {
	return cardgate.Errorf(cardgate.ENOTFOUND, "user %s is not a member of conversation %s", userID, conversationID)
}

const memberCols = `conversation_id, user_id, role, added_at`

func scanMember(row pgx.Row) (*cardgate.Member, error) {
	var (
		m   cardgate.Member
		aat pgtype.Timestamptz
	)
	if err := row.Scan(&m.ConversationID, &m.UserID, &m.Role, &aat); err != nil {
		return nil, err
	}
	m.AddedAt = fromTS(aat)
	return &m, nil
}

// Member implements cardgate.ConversationStore.
func (db *DB) Member(ctx context.Context, conversationID, userID string) (*cardgate.Member, error) {
	m, err := scanMember(db.pool.QueryRow(ctx, `SELECT `+memberCols+` FROM conversation_members
		WHERE conversation_id = $1 AND user_id = $2`, conversationID, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notMember(conversationID, userID)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: read member: %w", err)
	}
	return m, nil
}

// listIn lists the rows of q after checking, in the same snapshot, that
// the parent row exists.
func listIn[T any](ctx context.Context, db *DB, op, table, what, id string, scan func(pgx.Row) (*T, error), q string) ([]*T, error) {
	var out []*T
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := mustExist(ctx, tx, table, what, id); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, q, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return rows.Err()
	})
	if err != nil && cardgate.ErrorCode(err) == cardgate.EINTERNAL {
		return nil, fmt.Errorf("postgres: %s: %w", op, err)
	}
	return out, err
}

// Members implements cardgate.ConversationStore.
func (db *DB) Members(ctx context.Context, conversationID string) ([]*cardgate.Member, error) {
	return listIn(ctx, db, "list members", "conversations", "conversation", conversationID, scanMember,
		`SELECT `+memberCols+` FROM conversation_members WHERE conversation_id = $1 ORDER BY added_at, user_id`)
}

// isMember reports whether the user is a member, holding a share lock on
// the membership until the transaction ends.
func isMember(ctx context.Context, tx pgx.Tx, conversationID, userID string) (bool, error) {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM conversation_members WHERE conversation_id = $1 AND user_id = $2 FOR SHARE`,
		conversationID, userID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

const formCols = `id, conversation_id, package_id, creator_id, title, app_model, questions, properties, expiry,
	visibility, anonymous, several_per_user, responses_editable, location_requested, created_at`

// CreateForm implements cardgate.ConversationStore.
func (db *DB) CreateForm(ctx context.Context, f *cardgate.Form) error {
	qs, ps, err := f.StoredJSON()
	if err != nil {
		return fmt.Errorf("postgres: create form: %w", err)
	}
	return db.withTx(ctx, "create form", func(tx pgx.Tx) error {
		if err := mustExist(ctx, tx, "conversations", "conversation", f.ConversationID); err != nil {
			return err
		}
		if err := mustExist(ctx, tx, "action_packages", "action package", f.PackageID); err != nil {
			return err
		}
		if err := mustExist(ctx, tx, "users", "user", f.CreatorID); err != nil {
			return err
		}
		if ok, err := isMember(ctx, tx, f.ConversationID, f.CreatorID); err != nil {
			return err
		} else if !ok {
			return cardgate.Errorf(cardgate.EFORBIDDEN, "creatorId: user %s is not a member of conversation %s", f.CreatorID, f.ConversationID)
		}
		var am []byte
		if len(f.AppModel) > 0 {
			am = f.AppModel
		}
		_, err := tx.Exec(ctx, `INSERT INTO forms (`+formCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			f.ID, f.ConversationID, f.PackageID, f.CreatorID, f.Title, am, string(qs), string(ps), ts(f.Expiry),
			f.Visibility, f.Anonymous, f.SeveralPerUser, f.ResponsesEditable, f.LocationRequested, ts(f.CreatedAt))
		if isUniqueViolation(err) {
			return cardgate.Errorf(cardgate.ECONFLICT, "form %s already exists", f.ID)
		}
		return err
	})
}

func scanForm(row pgx.Row) (*cardgate.Form, error) {
	var (
		f        cardgate.Form
		am       []byte
		qs, ps   string
		exp, cat pgtype.Timestamptz
	)
	if err := row.Scan(&f.ID, &f.ConversationID, &f.PackageID, &f.CreatorID, &f.Title, &am, &qs, &ps, &exp,
		&f.Visibility, &f.Anonymous, &f.SeveralPerUser, &f.ResponsesEditable, &f.LocationRequested, &cat); err != nil {
		return nil, err
	}
	if len(am) > 0 {
		f.AppModel = am
	}
	if err := f.SetStoredJSON([]byte(qs), []byte(ps)); err != nil {
		return nil, err
	}
	f.Expiry, f.CreatedAt = fromTS(exp), fromTS(cat)
	return &f, nil
}

// Form implements cardgate.ConversationStore.
func (db *DB) Form(ctx context.Context, id string) (*cardgate.Form, error) {
	f, err := scanForm(db.pool.QueryRow(ctx, `SELECT `+formCols+` FROM forms WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("form", id)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: read form: %w", err)
	}
	return f, nil
}

// Forms implements cardgate.ConversationStore.
func (db *DB) Forms(ctx context.Context, conversationID string) ([]*cardgate.Form, error) {
	return listIn(ctx, db, "list forms", "conversations", "conversation", conversationID, scanForm,
		`SELECT `+formCols+` FROM forms WHERE conversation_id = $1 ORDER BY created_at, id`)
}

// CloseForm implements cardgate.ConversationStore: one UPDATE, which
// keeps an expiry at or before at (LEAST ignores a NULL expiry, "never").
func (db *DB) CloseForm(ctx context.Context, id string, at time.Time) (*cardgate.Form, error) {
	if at.IsZero() {
		return nil, cardgate.Errorf(cardgate.EINVALID, "at: a form closes at a time")
	}
	f, err := scanForm(db.pool.QueryRow(ctx, `UPDATE forms SET expiry = LEAST(expiry, $1) WHERE id = $2 RETURNING `+formCols, ts(at), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("form", id)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: close form: %w", err)
	}
	return f, nil
}

// formRules is what the response rules need of a form.
type formRules struct {
	conversationID           string
	expiry                   pgtype.Timestamptz
	severalPerUser, editable bool
}

func readFormRules(ctx context.Context, tx pgx.Tx, formID string) (*formRules, error) {
	var fr formRules
	err := tx.QueryRow(ctx, `SELECT conversation_id, expiry, several_per_user, responses_editable FROM forms WHERE id = $1`, formID).
		Scan(&fr.conversationID, &fr.expiry, &fr.severalPerUser, &fr.editable)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("form", formID)
	}
	return &fr, err
}

// check applies the rules every response meets: the user is a member now
// (and stays one until the transaction commits) and the form has not
// expired at the response's time.
func (fr *formRules) check(ctx context.Context, tx pgx.Tx, userID string, at time.Time) error {
	if ok, err := isMember(ctx, tx, fr.conversationID, userID); err != nil {
		return err
	} else if !ok {
		return cardgate.Errorf(cardgate.EFORBIDDEN, "only the conversation's members may respond to this form")
	}
	if exp := fromTS(fr.expiry); !exp.IsZero() && !at.Before(exp) {
		return cardgate.Errorf(cardgate.EFORBIDDEN, "the form expired at %s and takes no more responses", exp.Format(time.RFC3339))
	}
	return nil
}

func alreadyResponded(r *cardgate.FormResponse) error {
	return cardgate.Errorf(cardgate.ECONFLICT, "user %s has responded to form %s already, and it takes one response per user: edit that response", r.UserID, r.FormID)
}

// AddResponse implements cardgate.ConversationStore.
func (db *DB) AddResponse(ctx context.Context, r *cardgate.FormResponse) error {
	answers, err := json.Marshal(r.Answers)
	if err != nil {
		return fmt.Errorf("postgres: add response: %w", err)
	}
	return db.withTx(ctx, "add response", func(tx pgx.Tx) error {
		fr, err := readFormRules(ctx, tx, r.FormID)
		if err != nil {
			return err
		}
		if err := fr.check(ctx, tx, r.UserID, r.CreatedAt); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO form_responses (id, form_id, user_id, answers, anonymous, only_one, edits, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7)`,
			r.ID, r.FormID, r.UserID, string(answers), r.Anonymous, !fr.severalPerUser, ts(r.CreatedAt))
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			if pe.ConstraintName == "form_responses_one_per_user" {
				return alreadyResponded(r)
			}
			return cardgate.Errorf(cardgate.ECONFLICT, "response %s already exists", r.ID)
		}
		if err == nil {
			r.Edits, r.UpdatedAt = 0, r.CreatedAt
		}
		return err
	})
}

// EditResponse implements cardgate.ConversationStore.
func (db *DB) EditResponse(ctx context.Context, r *cardgate.FormResponse) error {
	answers, err := json.Marshal(r.Answers)
	if err != nil {
		return fmt.Errorf("postgres: edit response: %w", err)
	}
	return db.withTx(ctx, "edit response", func(tx pgx.Tx) error {
		fr, err := readFormRules(ctx, tx, r.FormID)
		if err != nil {
			return err
		}
		var cat pgtype.Timestamptz
		err = tx.QueryRow(ctx, `SELECT created_at FROM form_responses WHERE id = $1 AND form_id = $2 AND user_id = $3 FOR UPDATE`,
			r.ID, r.FormID, r.UserID).Scan(&cat)
		if errors.Is(err, pgx.ErrNoRows) {
			return cardgate.Errorf(cardgate.ENOTFOUND, "user %s has no response %s to form %s", r.UserID, r.ID, r.FormID)
		} else if err != nil {
			return err
		}
		if !fr.editable {
			return cardgate.Errorf(cardgate.EFORBIDDEN, "responses to this form cannot be edited")
		}
		if err := fr.check(ctx, tx, r.UserID, r.UpdatedAt); err != nil {
			return err
		}
		var edits int
		err = tx.QueryRow(ctx, `UPDATE form_responses SET answers = $1, anonymous = $2, edits = edits + 1, updated_at = $3
			WHERE id = $4 RETURNING edits`, string(answers), r.Anonymous, ts(r.UpdatedAt), r.ID).Scan(&edits)
		if err == nil {
			r.Edits, r.CreatedAt = edits, fromTS(cat)
		}
		return err
	})
}

const responseCols = `id, form_id, user_id, answers, anonymous, edits, created_at, updated_at`

func scanResponse(row pgx.Row) (*cardgate.FormResponse, error) {
	var (
		r        cardgate.FormResponse
		answers  string
		cat, uat pgtype.Timestamptz
	)
	if err := row.Scan(&r.ID, &r.FormID, &r.UserID, &answers, &r.Anonymous, &r.Edits, &cat, &uat); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(answers), &r.Answers); err != nil {
		return nil, fmt.Errorf("response %s: answers: %w", r.ID, err)
	}
	r.CreatedAt, r.UpdatedAt = fromTS(cat), fromTS(uat)
	return &r, nil
}

// Responses implements cardgate.ConversationStore.
func (db *DB) Responses(ctx context.Context, formID string) ([]*cardgate.FormResponse, error) {
	return listIn(ctx, db, "list responses", "forms", "form", formID, scanResponse,
		`SELECT `+responseCols+` FROM form_responses WHERE form_id = $1 ORDER BY created_at, id`)
}

// UserResponses implements cardgate.ConversationStore.
func (db *DB) UserResponses(ctx context.Context, formID, userID string) ([]*cardgate.FormResponse, error) {
	return collect(ctx, db, "list user responses", scanResponse, `SELECT `+responseCols+` FROM form_responses
		WHERE form_id = $1 AND user_id = $2 ORDER BY created_at, id`, formID, userID)
}

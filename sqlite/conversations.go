package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cardgate/cardgate"
)

// Every rule of ConversationStore is checked inside the write transaction
// that stores the row. All writes go through the one writer connection,
// so a check and the write it guards are never split by another writer.

// CreateConversation implements cardgate.ConversationStore.
func (s *DB) CreateConversation(ctx context.Context, c *cardgate.Conversation) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO conversations (id, title, created_at) VALUES (?, ?, ?)`,
		c.ID, c.Title, micros(c.CreatedAt))
	if isConstraint(err) {
		return cardgate.Errorf(cardgate.ECONFLICT, "conversation %s already exists", c.ID)
	} else if err != nil {
		return fmt.Errorf("sqlite: create conversation: %w", err)
	}
	return nil
}

func scanConversation(row scanner) (*cardgate.Conversation, error) {
	var (
		c   cardgate.Conversation
		cat sql.NullInt64
	)
	if err := row.Scan(&c.ID, &c.Title, &cat); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMicros(cat)
	return &c, nil
}

// Conversation implements cardgate.ConversationStore.
func (s *DB) Conversation(ctx context.Context, id string) (*cardgate.Conversation, error) {
	c, err := scanConversation(s.read.QueryRowContext(ctx, `SELECT id, title, created_at FROM conversations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("conversation", id)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: read conversation: %w", err)
	}
	return c, nil
}

// Conversations implements cardgate.ConversationStore.
func (s *DB) Conversations(ctx context.Context) ([]*cardgate.ConversationSummary, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT c.id, c.title, c.created_at,
	(SELECT COUNT(*) FROM conversation_members n WHERE n.conversation_id = c.id)
	FROM conversations c ORDER BY c.created_at, c.id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list conversations: %w", err)
	}
	return collect(rows, func(row scanner) (*cardgate.ConversationSummary, error) {
		var (
			cs  cardgate.ConversationSummary
			cat sql.NullInt64
		)
		if err := row.Scan(&cs.ID, &cs.Title, &cat, &cs.Members); err != nil {
			return nil, err
		}
		cs.CreatedAt = fromMicros(cat)
		return &cs, nil
	}, "list conversations")
}

// UserConversations implements cardgate.ConversationStore.
func (s *DB) UserConversations(ctx context.Context, userID string) ([]*cardgate.UserConversation, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT c.id, c.title, c.created_at, m.role,
	(SELECT COUNT(*) FROM conversation_members n WHERE n.conversation_id = c.id)
	FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
	WHERE m.user_id = ? ORDER BY c.created_at, c.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list a user's conversations: %w", err)
	}
	return collect(rows, func(row scanner) (*cardgate.UserConversation, error) {
		var (
			uc  cardgate.UserConversation
			cat sql.NullInt64
		)
		if err := row.Scan(&uc.ID, &uc.Title, &cat, &uc.Role, &uc.Members); err != nil {
			return nil, err
		}
		uc.CreatedAt = fromMicros(cat)
		return &uc, nil
	}, "list a user's conversations")
}

// exists reports whether table has a row with the given id.
func exists(ctx context.Context, q querier, table, id string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// PutMember implements cardgate.ConversationStore.
func (s *DB) PutMember(ctx context.Context, m *cardgate.Member) error {
	return s.withTx(ctx, "put member", func(tx *sql.Tx) error {
		if err := mustExist(ctx, tx, "conversations", "conversation", m.ConversationID); err != nil {
			return err
		}
		if err := mustExist(ctx, tx, "users", "user", m.UserID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO conversation_members (conversation_id, user_id, role, added_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (conversation_id, user_id) DO UPDATE SET role = excluded.role,
			added_at = CASE WHEN conversation_members.role = excluded.role THEN conversation_members.added_at ELSE excluded.added_at END`,
			m.ConversationID, m.UserID, m.Role, micros(m.AddedAt))
		return err
	})
}

func mustExist(ctx context.Context, q querier, table, what, id string) error {
	ok, err := exists(ctx, q, table, id)
	if err != nil {
		return err
	} else if !ok {
		return notFound(what, id)
	}
	return nil
}

// RemoveMember implements cardgate.ConversationStore.
func (s *DB) RemoveMember(ctx context.Context, conversationID, userID string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM conversation_members WHERE conversation_id = ? AND user_id = ?`, conversationID, userID)
	if err != nil {
		return fmt.Errorf("sqlite: remove member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notMember(conversationID, userID)
	}
	return nil
}

func notMember(conversationID, userID string) error {
	return cardgate.Errorf(cardgate.ENOTFOUND, "user %s is not a member of conversation %s", userID, conversationID)
}

const memberCols = `conversation_id, user_id, role, added_at`

func scanMember(row scanner) (*cardgate.Member, error) {
	var (
		m   cardgate.Member
		aat sql.NullInt64
	)
	if err := row.Scan(&m.ConversationID, &m.UserID, &m.Role, &aat); err != nil {
		return nil, err
	}
	m.AddedAt = fromMicros(aat)
	return &m, nil
}

// Member implements cardgate.ConversationStore.
func (s *DB) Member(ctx context.Context, conversationID, userID string) (*cardgate.Member, error) {
	m, err := scanMember(s.read.QueryRowContext(ctx, `SELECT `+memberCols+` FROM conversation_members
		WHERE conversation_id = ? AND user_id = ?`, conversationID, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notMember(conversationID, userID)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: read member: %w", err)
	}
	return m, nil
}

// Members implements cardgate.ConversationStore. The existence check and
// the listing read one snapshot.
func (s *DB) Members(ctx context.Context, conversationID string) ([]*cardgate.Member, error) {
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list members: %w", err)
	}
	defer tx.Rollback()
	if err := mustExist(ctx, tx, "conversations", "conversation", conversationID); err != nil {
		return nil, wrapRead("list members", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+memberCols+` FROM conversation_members
		WHERE conversation_id = ? ORDER BY added_at, user_id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list members: %w", err)
	}
	return collect(rows, scanMember, "list members")
}

// wrapRead passes a *cardgate.Error on and wraps anything else.
func wrapRead(op string, err error) error {
	if cardgate.ErrorCode(err) != cardgate.EINTERNAL {
		return err
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

const formCols = `id, conversation_id, package_id, creator_id, title, app_model, questions, properties, expiry,
	visibility, anonymous, several_per_user, responses_editable, location_requested, created_at`

// CreateForm implements cardgate.ConversationStore.
func (s *DB) CreateForm(ctx context.Context, f *cardgate.Form) error {
	qs, ps, err := f.StoredJSON()
	if err != nil {
		return fmt.Errorf("sqlite: create form: %w", err)
	}
	return s.withTx(ctx, "create form", func(tx *sql.Tx) error {
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
		_, err := tx.ExecContext(ctx, `INSERT INTO forms (`+formCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			f.ID, f.ConversationID, f.PackageID, f.CreatorID, f.Title, []byte(f.AppModel), string(qs), string(ps), micros(f.Expiry),
			f.Visibility, f.Anonymous, f.SeveralPerUser, f.ResponsesEditable, f.LocationRequested, micros(f.CreatedAt))
		if isConstraint(err) {
			return cardgate.Errorf(cardgate.ECONFLICT, "form %s already exists", f.ID)
		}
		return err
	})
}

func isMember(ctx context.Context, q querier, conversationID, userID string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM conversation_members WHERE conversation_id = ? AND user_id = ?`,
		conversationID, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func scanForm(row scanner) (*cardgate.Form, error) {
	var (
		f        cardgate.Form
		am       []byte
		qs, ps   string
		exp, cat sql.NullInt64
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
	f.Expiry, f.CreatedAt = fromMicros(exp), fromMicros(cat)
	return &f, nil
}

// Form implements cardgate.ConversationStore.
func (s *DB) Form(ctx context.Context, id string) (*cardgate.Form, error) {
	f, err := scanForm(s.read.QueryRowContext(ctx, `SELECT `+formCols+` FROM forms WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("form", id)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: read form: %w", err)
	}
	return f, nil
}

// Forms implements cardgate.ConversationStore.
func (s *DB) Forms(ctx context.Context, conversationID string) ([]*cardgate.Form, error) {
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list forms: %w", err)
	}
	defer tx.Rollback()
	if err := mustExist(ctx, tx, "conversations", "conversation", conversationID); err != nil {
		return nil, wrapRead("list forms", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+formCols+` FROM forms WHERE conversation_id = ? ORDER BY created_at, id`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list forms: %w", err)
	}
	return collect(rows, scanForm, "list forms")
}

// CloseForm implements cardgate.ConversationStore: one UPDATE, which
// keeps an expiry at or before at.
func (s *DB) CloseForm(ctx context.Context, id string, at time.Time) (*cardgate.Form, error) {
	if at.IsZero() {
		return nil, cardgate.Errorf(cardgate.EINVALID, "at: a form closes at a time")
	}
	f, err := scanForm(s.write.QueryRowContext(ctx, `UPDATE forms
		SET expiry = CASE WHEN expiry IS NOT NULL AND expiry <= ?1 THEN expiry ELSE ?1 END
		WHERE id = ?2 RETURNING `+formCols, at.UnixMicro(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("form", id)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: close form: %w", err)
	}
	return f, nil
}

// formRules is what the response rules need of a form.
type formRules struct {
	conversationID           string
	expiry                   sql.NullInt64
	severalPerUser, editable bool
}

func readFormRules(ctx context.Context, tx *sql.Tx, formID string) (*formRules, error) {
	var fr formRules
	err := tx.QueryRowContext(ctx, `SELECT conversation_id, expiry, several_per_user, responses_editable FROM forms WHERE id = ?`, formID).
		Scan(&fr.conversationID, &fr.expiry, &fr.severalPerUser, &fr.editable)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("form", formID)
	}
	return &fr, err
}

// check applies the rules every response meets: the user is a member now
// and the form has not expired at the response's time.
func (fr *formRules) check(ctx context.Context, tx *sql.Tx, userID string, at int64) error {
	if ok, err := isMember(ctx, tx, fr.conversationID, userID); err != nil {
		return err
	} else if !ok {
		return cardgate.Errorf(cardgate.EFORBIDDEN, "only the conversation's members may respond to this form")
	}
	if fr.expiry.Valid && at >= fr.expiry.Int64 {
		return cardgate.Errorf(cardgate.EFORBIDDEN, "the form expired at %s and takes no more responses",
			fromMicros(fr.expiry).Format("2006-01-02T15:04:05Z07:00"))
	}
	return nil
}

// AddResponse implements cardgate.ConversationStore.
func (s *DB) AddResponse(ctx context.Context, r *cardgate.FormResponse) error {
	answers, err := json.Marshal(r.Answers)
	if err != nil {
		return fmt.Errorf("sqlite: add response: %w", err)
	}
	return s.withTx(ctx, "add response", func(tx *sql.Tx) error {
		fr, err := readFormRules(ctx, tx, r.FormID)
		if err != nil {
			return err
		}
		if err := fr.check(ctx, tx, r.UserID, r.CreatedAt.UnixMicro()); err != nil {
			return err
		}
		if !fr.severalPerUser {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM form_responses WHERE form_id = ? AND user_id = ?`, r.FormID, r.UserID).Scan(&one)
			if err == nil {
				return cardgate.Errorf(cardgate.ECONFLICT, "user %s has responded to form %s already, and it takes one response per user: edit that response", r.UserID, r.FormID)
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO form_responses (id, form_id, user_id, answers, anonymous, only_one, edits, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`,
			r.ID, r.FormID, r.UserID, string(answers), r.Anonymous, !fr.severalPerUser, micros(r.CreatedAt), micros(r.CreatedAt))
		if isConstraint(err) {
			return cardgate.Errorf(cardgate.ECONFLICT, "response %s already exists", r.ID)
		}
		if err == nil {
			r.Edits, r.UpdatedAt = 0, r.CreatedAt
		}
		return err
	})
}

// EditResponse implements cardgate.ConversationStore.
func (s *DB) EditResponse(ctx context.Context, r *cardgate.FormResponse) error {
	answers, err := json.Marshal(r.Answers)
	if err != nil {
		return fmt.Errorf("sqlite: edit response: %w", err)
	}
	return s.withTx(ctx, "edit response", func(tx *sql.Tx) error {
		fr, err := readFormRules(ctx, tx, r.FormID)
		if err != nil {
			return err
		}
		var cat sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT created_at FROM form_responses WHERE id = ? AND form_id = ? AND user_id = ?`,
			r.ID, r.FormID, r.UserID).Scan(&cat)
		if errors.Is(err, sql.ErrNoRows) {
			return cardgate.Errorf(cardgate.ENOTFOUND, "user %s has no response %s to form %s", r.UserID, r.ID, r.FormID)
		} else if err != nil {
			return err
		}
		if !fr.editable {
			return cardgate.Errorf(cardgate.EFORBIDDEN, "responses to this form cannot be edited")
		}
		if err := fr.check(ctx, tx, r.UserID, r.UpdatedAt.UnixMicro()); err != nil {
			return err
		}
		var edits int
		err = tx.QueryRowContext(ctx, `UPDATE form_responses SET answers = ?, anonymous = ?, edits = edits + 1, updated_at = ?
			WHERE id = ? RETURNING edits`, string(answers), r.Anonymous, micros(r.UpdatedAt), r.ID).Scan(&edits)
		if err == nil {
			r.Edits, r.CreatedAt = edits, fromMicros(cat)
		}
		return err
	})
}

const responseCols = `id, form_id, user_id, answers, anonymous, edits, created_at, updated_at`

func scanResponse(row scanner) (*cardgate.FormResponse, error) {
	var (
		r        cardgate.FormResponse
		answers  string
		cat, uat sql.NullInt64
	)
	if err := row.Scan(&r.ID, &r.FormID, &r.UserID, &answers, &r.Anonymous, &r.Edits, &cat, &uat); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(answers), &r.Answers); err != nil {
		return nil, fmt.Errorf("response %s: answers: %w", r.ID, err)
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(cat), fromMicros(uat)
	return &r, nil
}

// Responses implements cardgate.ConversationStore.
func (s *DB) Responses(ctx context.Context, formID string) ([]*cardgate.FormResponse, error) {
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list responses: %w", err)
	}
	defer tx.Rollback()
	if err := mustExist(ctx, tx, "forms", "form", formID); err != nil {
		return nil, wrapRead("list responses", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+responseCols+` FROM form_responses WHERE form_id = ? ORDER BY created_at, id`, formID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list responses: %w", err)
	}
	return collect(rows, scanResponse, "list responses")
}

// UserResponses implements cardgate.ConversationStore.
func (s *DB) UserResponses(ctx context.Context, formID, userID string) ([]*cardgate.FormResponse, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+responseCols+` FROM form_responses WHERE form_id = ? AND user_id = ?
		ORDER BY created_at, id`, formID, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list user responses: %w", err)
	}
	return collect(rows, scanResponse, "list user responses")
}

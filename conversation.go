package cardgate

import (
	"context"
	"strings"
	"time"
)

// Conversation is a group of users in which cards are sent: Kaizala's
// group. A card sent to a conversation is a Form; only the conversation's
// members respond to it and see its results.
type Conversation struct {
	// ID is a GUID in canonical lower-case form.
	ID string `json:"id"`
	// Title is the conversation's name, as its members see it.
	Title     string    `json:"title"`
	CreatedAt time.Time `json:"createdAt"`
}

// ConversationSummary is a conversation as an administrator lists it.
type ConversationSummary struct {
	Conversation
	Members int `json:"members"`
}

// UserConversation is a conversation as one of its members lists it.
type UserConversation struct {
	Conversation
	Role    MemberRole `json:"role"`
	Members int        `json:"members"`
}

// MemberRole is what a member may do in a conversation.
type MemberRole string

// The roles a member can have.
const (
	// MemberAdmin is a conversation's administrator: besides what a member
	// may do, they see the results of forms whose results are visible to
	// admins (ResultsAdmin).
	MemberAdmin MemberRole = "admin"
	// MemberMember responds to forms and sees the results the forms let
	// everyone see.
	MemberMember MemberRole = "member"
)

// Valid reports whether r is one of the known roles.
func (r MemberRole) Valid() bool { return r == MemberAdmin || r == MemberMember }

// Member is a user's membership of a conversation.
type Member struct {
	ConversationID string     `json:"conversationId"`
	UserID         string     `json:"userId"`
	Role           MemberRole `json:"role"`
	// AddedAt is when the user joined, or their role last changed.
	AddedAt time.Time `json:"addedAt"`
}

// maxTitleLen bounds a conversation's title, like a user's name.
const maxTitleLen = maxNameLen

// Normalize puts the conversation's ID in canonical form and trims the
// title.
func (c *Conversation) Normalize() {
	c.ID = strings.ToLower(strings.Trim(strings.TrimSpace(c.ID), "{}"))
	c.Title = strings.TrimSpace(c.Title)
}

// Validate reports the first field that is wrong, as an EINVALID *Error
// that names the field.
func (c *Conversation) Validate() error {
	if err := ValidateUserID("id", c.ID); err != nil {
		return err
	}
	if c.Title == "" {
		return Errorf(EINVALID, "title: must not be empty")
	}
	if len(c.Title) > maxTitleLen {
		return Errorf(EINVALID, "title: must be at most %d bytes", maxTitleLen)
	}
	return nil
}

// Validate reports the first field of the membership that is wrong.
func (m *Member) Validate() error {
	if err := ValidateUserID("conversationId", m.ConversationID); err != nil {
		return err
	}
	if err := ValidateUserID("userId", m.UserID); err != nil {
		return err
	}
	if !m.Role.Valid() {
		return Errorf(EINVALID, "role: must be admin or member")
	}
	return nil
}

// NewID returns a fresh random GUID, for conversations, forms and
// responses as for users.
func NewID() string { return NewUserID() }

// ConversationStore keeps conversations, their members, the forms sent to
// them and the responses to those forms. It is part of Store.
//
// The rules that must hold however many requests run at once are the
// store's, each kept in the transaction that writes: who may respond (a
// member, at the moment the response is stored), one response per user
// when the form allows only one, and no response after the form expired.
type ConversationStore interface {
	// CreateConversation stores a new conversation; an existing ID is
	// ECONFLICT.
	CreateConversation(ctx context.Context, c *Conversation) error
	Conversation(ctx context.Context, id string) (*Conversation, error)
	// Conversations lists every conversation, oldest first, each with its
	// number of members, in one query.
	Conversations(ctx context.Context) ([]*ConversationSummary, error)
	// UserConversations lists the conversations userID is a member of,
	// each with the user's role and the number of members, in one query
	// (a user who is in none, or unknown, gets none).
	UserConversations(ctx context.Context, userID string) ([]*UserConversation, error)
	// PutMember adds m.UserID to m.ConversationID with m.Role, or changes
	// the role of a user who is a member already (AddedAt then moves to
	// m.AddedAt). An unknown conversation or user is ENOTFOUND.
	PutMember(ctx context.Context, m *Member) error
	// RemoveMember takes a user out of a conversation; one who is not a
	// member is ENOTFOUND. Their responses stay, but from then on they may
	// neither respond nor see results. A response being stored at the same
	// moment is either stored before the removal or refused.
	RemoveMember(ctx context.Context, conversationID, userID string) error
	// Member returns a user's membership; ENOTFOUND if they are not a
	// member (or the conversation does not exist).
	Member(ctx context.Context, conversationID, userID string) (*Member, error)
	// Members lists a conversation's members; an unknown conversation is
	// ENOTFOUND.
	Members(ctx context.Context, conversationID string) ([]*Member, error)

	// CreateForm stores a form sent to a conversation. An unknown
	// conversation, action package or creator is ENOTFOUND; a creator who
	// is not a member of the conversation is EFORBIDDEN; an existing ID is
	// ECONFLICT.
	CreateForm(ctx context.Context, f *Form) error
	// Form returns a form by ID.
	Form(ctx context.Context, id string) (*Form, error)
	// Forms lists the forms sent to a conversation, oldest first; an
	// unknown conversation is ENOTFOUND.
	Forms(ctx context.Context, conversationID string) ([]*Form, error)
	// CloseForm ends a form for responses from at on (Kaizala's
	// closeForm): in one statement it sets the form's expiry to at, unless
	// the form expires at or before at already, and returns the form as
	// stored. A closed form is an expired one. Closing twice is harmless:
	// the earlier expiry stays. An unknown form is ENOTFOUND; a zero at is
	// EINVALID. Who may close a form is the caller's to check.
	CloseForm(ctx context.Context, id string, at time.Time) (*Form, error)

	// AddResponse stores a new response, r.ID given by the caller. In one
	// transaction it checks that the form exists (ENOTFOUND), that r.UserID
	// is a member of the form's conversation (EFORBIDDEN), that the form
	// has not expired at r.CreatedAt (EFORBIDDEN), and, when the form takes
	// one response per user, that the user has none yet (ECONFLICT: edit
	// that one instead).
	AddResponse(ctx context.Context, r *FormResponse) error
	// EditResponse replaces the answers of the response r.ID, which must be
	// r.UserID's response to r.FormID (ENOTFOUND otherwise), at
	// r.UpdatedAt: the response keeps its ID and CreatedAt, and its Edits
	// count goes up by one. The form must let responses be edited, the
	// user must still be a member and the form not expired (EFORBIDDEN
	// otherwise). On success r holds the stored response.
	EditResponse(ctx context.Context, r *FormResponse) error
	// Responses returns every response to a form, oldest first; an unknown
	// form is ENOTFOUND.
	Responses(ctx context.Context, formID string) ([]*FormResponse, error)
	// UserResponses returns one user's responses to a form, oldest first.
	UserResponses(ctx context.Context, formID, userID string) ([]*FormResponse, error)
}

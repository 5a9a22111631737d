package issuer

import (
	"context"
	"net/http"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
)

// CreateConversation validates c, gives it an ID if it has none, and
// stores it.
func (s *Service) CreateConversation(ctx context.Context, c *cardgate.Conversation) error {
	if c.ID == "" {
		c.ID = cardgate.NewID()
	}
	c.Normalize()
	if err := c.Validate(); err != nil {
		return err
	}
	c.CreatedAt = s.now().UTC()
	return storeError("create conversation", s.store.CreateConversation(ctx, c))
}

// PutMember adds a user to a conversation with a role (member when role
// is ""), or changes the role of one who is a member already. An unknown
// conversation is ENOTFOUND naming conversationId, an unknown user one
// naming userId.
func (s *Service) PutMember(ctx context.Context, conversationID, userID string, role cardgate.MemberRole) (*cardgate.Member, error) {
	if role == "" {
		role = cardgate.MemberMember
	}
	m := &cardgate.Member{ConversationID: conversationID, UserID: userID, Role: role, AddedAt: s.now().UTC()}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.store.Conversation(ctx, conversationID); err != nil {
		return nil, lookupError("conversationId", "conversation", err)
	}
	if _, err := s.store.User(ctx, userID); err != nil {
		return nil, lookupError("userId", "user", err)
	}
	if err := s.store.PutMember(ctx, m); err != nil {
		return nil, storeError("put member", err)
	}
	return m, nil
}

// RemoveMember takes a user out of a conversation: from then on they may
// neither respond to its forms nor see their results. Their responses
// stay.
func (s *Service) RemoveMember(ctx context.Context, conversationID, userID string) error {
	if err := cardgate.ValidateUserID("conversationId", conversationID); err != nil {
		return err
	}
	if err := cardgate.ValidateUserID("userId", userID); err != nil {
		return err
	}
	if _, err := s.store.Conversation(ctx, conversationID); err != nil {
		return lookupError("conversationId", "conversation", err)
	}
	if err := s.store.RemoveMember(ctx, conversationID, userID); err != nil {
		if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
			return cardgate.Errorf(cardgate.ENOTFOUND, "userId: user %s is not a member of conversation %s", userID, conversationID)
		}
		return storeError("remove member", err)
	}
	return nil
}

// The admin API for conversations, their members and forms.

type createConversationRequest struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

func (h *handler) createConversation() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req createConversationRequest
		if err := httpjson.Decode(w, r, &req, 0); err != nil {
			h.error(w, r, err)
			return
		}
		c := &cardgate.Conversation{ID: req.ID, Title: req.Title}
		if err := h.svc.CreateConversation(r.Context(), c); err != nil {
			h.error(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusCreated, c)
	})
}

func (h *handler) listConversations() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs, err := h.svc.store.Conversations(r.Context())
		if err != nil {
			h.error(w, r, storeError("list conversations", err))
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"conversations": nonNil(cs)})
	})
}

func (h *handler) getConversation() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := h.svc.store.Conversation(r.Context(), r.PathValue("id"))
		if err != nil {
			h.error(w, r, lookupError("id", "conversation", err))
			return
		}
		httpjson.Write(w, http.StatusOK, c)
	})
}

func (h *handler) listMembers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms, err := h.svc.store.Members(r.Context(), r.PathValue("id"))
		if err != nil {
			h.error(w, r, lookupError("id", "conversation", err))
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"members": nonNil(ms)})
	})
}

type putMemberRequest struct {
	UserID string              `json:"userId"`
	Role   cardgate.MemberRole `json:"role"`
}

func (h *handler) putMember() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req putMemberRequest
		if err := httpjson.Decode(w, r, &req, 0); err != nil {
			h.error(w, r, err)
			return
		}
		m, err := h.svc.PutMember(r.Context(), r.PathValue("id"), req.UserID, req.Role)
		if err != nil {
			h.error(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusOK, m)
	})
}

func (h *handler) removeMember() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.svc.RemoveMember(r.Context(), r.PathValue("id"), r.PathValue("userId")); err != nil {
			h.error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (h *handler) listForms() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs, err := h.svc.store.Forms(r.Context(), r.PathValue("id"))
		if err != nil {
			h.error(w, r, lookupError("id", "conversation", err))
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"forms": nonNil(fs)})
	})
}

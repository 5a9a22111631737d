package host

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/actionpkg"
	"github.com/cardgate/cardgate/httpjson"
)

// The host's conversations: what the signed-in user sees of the
// conversations they belong to. Every answer is decided by the session's
// user and the store, never by what the page says: a conversation that is
// not theirs is refused (403) whether or not it exists.

// conversationItem is a conversation as the host's list shows it.
type conversationItem struct {
	ID      string              `json:"id"`
	Title   string              `json:"title"`
	Role    cardgate.MemberRole `json:"role"`
	Members int                 `json:"members"`
}

// errNotMember answers a conversation the user is not a member of, or one
// that does not exist: the same answer for both.
func errNotMember(id string) error {
	return cardgate.Errorf(cardgate.EFORBIDDEN, "conversation %s: only its members may open it", id)
}

// membership returns the user's membership of conversation id, or
// errNotMember.
func (h *handler) membership(ctx context.Context, id, userID string) (*cardgate.Member, error) {
	if err := cardgate.ValidateUserID("conversationId", id); err != nil {
		return nil, err
	}
	m, err := h.cfg.Store.Member(ctx, id, userID)
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return nil, errNotMember(id)
	}
	return m, err
}

// conversations lists the conversations the user is a member of, by title.
func (h *handler) conversations() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		me := userFrom(ctx)
		mine, err := h.cfg.Store.UserConversations(ctx, me.ID)
		if err != nil {
			h.error(w, r, err)
			return
		}
		out := make([]conversationItem, 0, len(mine))
		for _, c := range mine {
			out = append(out, conversationItem{ID: c.ID, Title: c.Title, Role: c.Role, Members: c.Members})
		}
		slices.SortFunc(out, func(a, b conversationItem) int {
			return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title))
		})
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusOK, map[string]any{"conversations": out})
	})
}

// memberItem is a member as the conversation's page shows them.
type memberItem struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	PhoneNumber string              `json:"phoneNumber"`
	Role        cardgate.MemberRole `json:"role"`
}

// cardView is a package's ChatCanvasCardView settings, as the host draws
// the native card of a form.
type cardView struct {
	LabelRespondToForm   string `json:"labelRespondToForm,omitempty"`
	LabelResponded       string `json:"labelResponded,omitempty"`
	LabelUpdateResponse  string `json:"labelUpdateResponse,omitempty"`
	LabelAnotherResponse string `json:"labelAnotherResponse,omitempty"`
	LabelExpiryMsg       string `json:"labelExpiryMsg,omitempty"`
	ShowExpiry           bool   `json:"showExpiry"`
	ShowResponseCount    bool   `json:"showResponseCount"`
	ShowHeader           bool   `json:"showHeader"`
	ShowFooter           bool   `json:"showFooter"`
	ShowReceipts         bool   `json:"showReceipts"`
	ShowLikes            bool   `json:"showLikes"`
	ShowComments         bool   `json:"showComments"`
	IsResponseEditable   bool   `json:"isResponseEditable"`
}

func toCardView(v actionpkg.CardView) cardView {
	return cardView{LabelRespondToForm: v.LabelRespondToForm, LabelResponded: v.LabelResponded,
		LabelUpdateResponse: v.LabelUpdateResponse, LabelAnotherResponse: v.LabelAnotherResponse,
		LabelExpiryMsg: v.LabelExpiryMsg, ShowExpiry: v.ShowExpiry, ShowResponseCount: v.ShowResponseCount,
		ShowHeader: v.ShowHeader, ShowFooter: v.ShowFooter, ShowReceipts: v.ShowReceipts, ShowLikes: v.ShowLikes,
		ShowComments: v.ShowComments, IsResponseEditable: v.IsResponseEditable}
}

// formItem is a form as the conversation shows it: its card.
type formItem struct {
	ID          string    `json:"id"`
	PackageID   string    `json:"packageId"`
	Title       string    `json:"title"`
	CreatorID   string    `json:"creatorId"`
	CreatorName string    `json:"creatorName"`
	CreatedAt   time.Time `json:"createdAt"`
	Expiry      time.Time `json:"expiry,omitzero"`
	Expired     bool      `json:"expired"`
	// ResponseCount is every response to the form; nil when the viewer
	// may not see the form's results.
	ResponseCount *int `json:"responseCount"`
	// MyResponses counts the viewer's own responses.
	MyResponses   int  `json:"myResponses"`
	CanRespond    bool `json:"canRespond"`
	CanSeeResults bool `json:"canSeeResults"`
	// Card is the package's card (name, icon, origin); nil when the
	// package is disabled or no longer installed: the form is listed, but
	// nothing opens.
	Card     *card    `json:"card"`
	CardView cardView `json:"cardView"`
	// Views are the frame pages the form opens in: "response" (the
	// ResponseView, or the CreationView of a package that has none, where
	// Kaizala's response-only cards respond) and "results" (the
	// ResponseResultsView). Absent when the viewer may not use them.
	Views map[string]string `json:"views"`
	// Responses are the form's responses shown as cards of their own:
	// for a package without a ResponseView each response is a message in
	// the conversation, as Kaizala showed a response-only card's. Only
	// those the viewer may see: all of them with the results, else theirs.
	Responses []responseItem `json:"responses,omitempty"`
}

// responseItem is a response shown as a message in the conversation.
//
// A response to an anonymous form, or one sent anonymously, names nobody:
// its userName is "Someone" and it has no userId, for every viewer, the
// responder included (the responder knows it by mine). Nothing else in
// the item comes from the responder's ID.
type responseItem struct {
	ID string `json:"id"`
	// UserID is the responder's, on a named response only.
	UserID   string `json:"userId,omitempty"`
	UserName string `json:"userName"`
	// Mine: the viewer sent it (decided here, so that the page needs no
	// user ID to know its own responses).
	Mine bool `json:"mine"`
	// Anonymous: sent on an anonymous form, or anonymously.
	Anonymous bool      `json:"anonymous"`
	SentAt    time.Time `json:"sentAt"`
}

// conversation answers GET /host/api/conversations/{id}: the
// conversation, its members, the cards that can be sent to it, and its
// forms, oldest first, each as the user may see it.
func (h *handler) conversation() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		me := userFrom(ctx)
		m, err := h.membership(ctx, r.PathValue("id"), me.ID)
		if err != nil {
			h.error(w, r, err)
			return
		}
		c, err := h.cfg.Store.Conversation(ctx, m.ConversationID)
		if err != nil {
			h.error(w, r, err)
			return
		}
		ms, err := h.cfg.Store.Members(ctx, c.ID)
		if err != nil {
			h.error(w, r, err)
			return
		}
		names := h.names(ctx)
		members := make([]memberItem, 0, len(ms))
		for _, x := range ms {
			u := names(x.UserID)
			members = append(members, memberItem{ID: x.UserID, Name: u.Name, PhoneNumber: u.PhoneNumber, Role: x.Role})
		}
		cards, err := h.cards(ctx)
		if err != nil {
			h.error(w, r, err)
			return
		}
		fs, err := h.cfg.Store.Forms(ctx, c.ID)
		if err != nil {
			h.error(w, r, err)
			return
		}
		now := time.Now()
		forms := make([]formItem, 0, len(fs))
		for _, f := range fs {
			fi, err := h.formItem(ctx, f, m, names, now)
			if err != nil {
				h.error(w, r, err)
				return
			}
			forms = append(forms, *fi)
		}
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusOK, map[string]any{
			"conversation": conversationItem{ID: c.ID, Title: c.Title, Role: m.Role, Members: len(ms)},
			"members":      members, "cards": cards, "forms": forms})
	})
}

// names returns a lookup of users by ID for one request: a user the store
// no longer has is named by their ID.
func (h *handler) names(ctx context.Context) func(id string) *cardgate.User {
	seen := map[string]*cardgate.User{}
	return func(id string) *cardgate.User {
		if u, ok := seen[id]; ok {
			return u
		}
		u, err := h.cfg.Store.User(ctx, id)
		if err != nil {
			u = &cardgate.User{ID: id, Name: id}
		}
		seen[id] = u
		return u
	}
}

// formItem is f's card for the member m at now.
func (h *handler) formItem(ctx context.Context, f *cardgate.Form, m *cardgate.Member, names func(string) *cardgate.User, now time.Time) (*formItem, error) {
	fi := &formItem{ID: f.ID, PackageID: f.PackageID, Title: f.Title, CreatorID: f.CreatorID, CreatorName: names(f.CreatorID).Name,
		CreatedAt: f.CreatedAt, Expiry: f.Expiry, Expired: f.Expired(now),
		CanRespond: f.CanRespond(m, now) == nil, CanSeeResults: f.CanSeeResults(m) == nil, Views: map[string]string{}}
	mine, err := h.cfg.Store.UserResponses(ctx, f.ID, m.UserID)
	if err != nil {
		return nil, err
	}
	fi.MyResponses = len(mine)
	shown := mine
	if fi.CanSeeResults {
		all, err := h.cfg.Store.Responses(ctx, f.ID)
		if err != nil {
			return nil, err
		}
		n := len(all)
		fi.ResponseCount = &n
		shown = all
	}
	manifest, err := h.openable(ctx, f.PackageID)
	if err != nil || manifest == nil {
		return fi, err
	}
	c := h.cardOf(f.PackageID, manifest)
	fi.Card = &c
	fi.CardView = toCardView(manifest.CardView())
	respond, ownResponseView := responsePage(manifest)
	if respond != "" && fi.CanRespond {
		fi.Views["response"] = h.frameURL(f.PackageID, respond)
	}
	if v := manifest.Views[actionpkg.ResponseResultsView].SourceLocation; v != "" {
		fi.Views["results"] = h.frameURL(f.PackageID, v)
	}
	if !ownResponseView {
		for _, r := range shown {
			fi.Responses = append(fi.Responses, toResponseItem(f, r, m.UserID, names))
		}
	}
	return fi, nil
}

// toResponseItem is r as the conversation shows it to viewer: by the
// responder's ID and name, or, on an anonymous form or for an anonymous
// response, as "Someone" with no ID.
func toResponseItem(f *cardgate.Form, r *cardgate.FormResponse, viewer string, names func(string) *cardgate.User) responseItem {
	it := responseItem{ID: r.ID, Mine: r.UserID == viewer, SentAt: r.UpdatedAt}
	if f.Anonymous || r.Anonymous {
		it.UserName, it.Anonymous = "Someone", true
		return it
	}
	it.UserID, it.UserName = r.UserID, names(r.UserID).Name
	return it
}

// responsePage is the page a member responds to a form in: the package's
// ResponseView, or, for a package without one (Kaizala's response-only
// cards, whose CreationView page responds), its CreationView.
func responsePage(m *actionpkg.Manifest) (page string, own bool) {
	if v := m.Views[actionpkg.ResponseView].SourceLocation; v != "" {
		return v, true
	}
	return m.Views[actionpkg.CreationView].SourceLocation, false
}

// openable returns the manifest of an installed, enabled card, or nil for
// a package that is disabled or has no card.
func (h *handler) openable(ctx context.Context, id string) (*actionpkg.Manifest, error) {
	p, err := h.cfg.Store.Package(ctx, id)
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if p.Disabled {
		return nil, nil
	}
	m, err := h.manifest(ctx, id)
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return nil, nil
	}
	return m, err
}

// cardOf is the card of package id, as the card list shows it.
func (h *handler) cardOf(id string, m *actionpkg.Manifest) card {
	c := card{ID: id, DisplayName: m.DisplayName, Description: m.Description, ProviderName: m.ProviderName,
		Version: m.Version, URL: h.frameURL(id, entryPage(m)), Origin: h.cfg.Cards.For(id)}
	if m.Icon != "" {
		c.IconURL = h.fileURL(id, m.Icon)
	}
	return c
}

package host

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/actionpkg"
	"github.com/cardgate/cardgate/forms"
	"github.com/cardgate/cardgate/httpjson"
)

// The forms of a conversation, for the bridge's KASClient.Form commands.
// The host page calls these for the context it attached a card's frame
// with (conversation, package, form); the server checks each call against
// the session's user: membership, the form's conversation and package, and
// the form's rules (forms.CanSee, CanRespond, CanSeeResults).

// maxFormBody bounds a form or a response sent by a card: an app model's
// worth and its answers.
const maxFormBody = cardgate.MaxAppModelLen + cardgate.MaxResponseLen + 16<<10

// appModel reads and checks the package's AppModel.json, the form a creator
// starts from.
func (h *handler) appModel(ctx context.Context, pkg string, m *actionpkg.Manifest) (*forms.AppModel, error) {
	name := m.AppModel
	if name == "" {
		name = forms.AppModelFile
	}
	raw, err := h.cfg.Store.PackageFile(ctx, pkg, name)
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "card %s has no %s: it makes no forms", pkg, name)
	} else if err != nil {
		return nil, err
	}
	return forms.ParseAppModel(raw)
}

// creation is what a CreationView is opened for: a member, a conversation
// and an installed card.
type creation struct {
	member   *cardgate.Member
	pkg      string
	manifest *actionpkg.Manifest
	am       *forms.AppModel
}

func (h *handler) creation(ctx context.Context, conversationID, pkg string) (*creation, error) {
	m, err := h.membership(ctx, conversationID, userFrom(ctx).ID)
	if err != nil {
		return nil, err
	}
	if err := cardgate.ValidatePackageID("packageId", pkg); err != nil {
		return nil, err
	}
	manifest, err := h.openable(ctx, pkg)
	if err != nil {
		return nil, err
	}
	if manifest == nil {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "packageId: no card %s is installed", pkg)
	}
	am, err := h.appModel(ctx, pkg, manifest)
	if err != nil {
		return nil, err
	}
	return &creation{member: m, pkg: pkg, manifest: manifest, am: am}, nil
}

// form is the new form the app model describes, sent by the member now.
func (c *creation) form(id string, now time.Time) *cardgate.Form {
	return c.am.Form(forms.Origin{ID: id, ConversationID: c.member.ConversationID, PackageID: c.pkg,
		CreatorID: c.member.UserID, ResponsesEditable: c.manifest.CardView().IsResponseEditable, CreatedAt: now})
}

// draft answers getSurveyJson in a CreationView: the package's app model
// as a KASForm for the creator to fill in. It has no ID until it is sent.
func (h *handler) draft() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		c, err := h.creation(ctx, r.PathValue("id"), r.PathValue("pkg"))
		if err != nil {
			h.error(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusOK, map[string]any{"form": forms.ToForm(c.form("", time.Now()))})
	})
}

// answersRequest is a response as the bridge sends it: KASClient's
// sendResponse arguments.
type answersRequest struct {
	Answers     json.RawMessage `json:"answers"`
	ResponseID  string          `json:"responseId"`
	IsEdit      bool            `json:"isEdit"`
	IsAnonymous bool            `json:"isAnonymous"`
}

type createFormRequest struct {
	PackageID string `json:"packageId"`
	// Form is the KASForm the creator's card submitted (createRequest's
	// first argument, JSON text); empty sends the app model as it is.
	Form string `json:"form"`
	// Response, when set, is the creator's own response, sent with the
	// form: a response-only card (Kaizala's Response sample) responds from
	// its CreationView, and the form it answers is created then.
	Response *answersRequest `json:"response"`
}

// createForm answers createRequest (and a response-only card's first
// updateResponse): the form, in the conversation, from the member.
func (h *handler) createForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req createFormRequest
		if err := httpjson.Decode(w, r, &req, maxFormBody); err != nil {
			h.error(w, r, err)
			return
		}
		ctx := r.Context()
		c, err := h.creation(ctx, r.PathValue("id"), req.PackageID)
		if err != nil {
			h.error(w, r, err)
			return
		}
		now := time.Now()
		f := c.form(cardgate.NewID(), now)
		if req.Form != "" && req.Form != "null" {
			if err := forms.ApplyKASForm(f, []byte(req.Form)); err != nil {
				h.error(w, r, err)
				return
			}
		}
		var sub *forms.Submission
		if req.Response != nil {
			if sub, err = submission(c.member.UserID, req.Response); err != nil {
				h.error(w, r, err)
				return
			}
			if err := f.ValidateResponse(&cardgate.FormResponse{ID: cardgate.NewID(), FormID: f.ID, UserID: sub.UserID, Answers: sub.Answers}); err != nil {
				h.error(w, r, err)
				return
			}
		}
		if err := h.cfg.Store.CreateForm(ctx, f); err != nil {
			h.error(w, r, err)
			return
		}
		out := map[string]any{"form": forms.ToForm(f)}
		if sub != nil {
			resp, err := forms.Respond(ctx, h.cfg.Store, f, *sub, cardgate.NewID(), now)
			if err != nil {
				h.error(w, r, err)
				return
			}
			out["response"] = forms.ToResponse(resp)
		}
		h.hub.publish(ctx, f.ConversationID, event{Type: "form", ConversationID: f.ConversationID, FormID: f.ID})
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusCreated, out)
	})
}

func submission(userID string, req *answersRequest) (*forms.Submission, error) {
	raw := req.Answers
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	answers, err := forms.ParseAnswers(raw)
	if err != nil {
		return nil, err
	}
	if req.ResponseID != "" {
		if err := cardgate.ValidateUserID("responseId", req.ResponseID); err != nil {
			return nil, err
		}
	}
	return &forms.Submission{UserID: userID, Answers: answers, ResponseID: req.ResponseID, IsEdit: req.IsEdit, Anonymous: req.IsAnonymous}, nil
}

// formFor returns the form in the path for the card in the query
// (?package=): the form must be that card's, and the user a member of its
// conversation. Both refusals are 403, so that a form ID tells a
// non-member nothing.
func (h *handler) formFor(r *http.Request) (*cardgate.Form, *cardgate.Member, error) {
	ctx := r.Context()
	id, pkg := r.PathValue("id"), r.URL.Query().Get("package")
	if err := cardgate.ValidateUserID("formId", id); err != nil {
		return nil, nil, err
	}
	if err := cardgate.ValidatePackageID("package", pkg); err != nil {
		return nil, nil, err
	}
	f, err := h.cfg.Store.Form(ctx, id)
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return nil, nil, cardgate.Errorf(cardgate.EFORBIDDEN, "only the conversation's members may see this form")
	} else if err != nil {
		return nil, nil, err
	}
	m, err := h.cfg.Store.Member(ctx, f.ConversationID, userFrom(ctx).ID)
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		m = nil
	} else if err != nil {
		return nil, nil, err
	}
	if err := f.CanSee(m); err != nil {
		return nil, nil, err
	}
	if f.PackageID != pkg {
		return nil, nil, cardgate.Errorf(cardgate.EFORBIDDEN, "form %s is not a form of card %s", f.ID, pkg)
	}
	return f, m, nil
}

// formState answers getSurveyJson (the form), getPollStatus (active),
// canRespondToSurvey and shouldSeeSurveySummary for a form.
func (h *handler) formState() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, m, err := h.formFor(r)
		if err != nil {
			h.error(w, r, err)
			return
		}
		writeFormState(w, f, m, time.Now())
	})
}

// writeFormState writes f's state for member m at now, as GET
// /host/api/forms/{id} answers it.
func writeFormState(w http.ResponseWriter, f *cardgate.Form, m *cardgate.Member, now time.Time) {
	w.Header().Set("Cache-Control", "no-store")
	httpjson.Write(w, http.StatusOK, map[string]any{"form": forms.ToForm(f), "active": !f.Expired(now),
		"canRespond": f.CanRespond(m, now) == nil, "canSeeResults": f.CanSeeResults(m) == nil})
}

// closeForm answers closeCard on a sent form (KASClient.Form.closeForm):
// the form's creator, still a member, ends it for responses now. A closed
// form is an expired one (Store.CloseForm), so every rule and view that
// knows the expiry knows it is closed; closing again keeps the first
// close. The answer is the form's state, as formState gives it.
func (h *handler) closeForm() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		f, m, err := h.formFor(r)
		if err != nil {
			h.error(w, r, err)
			return
		}
		if m.UserID != f.CreatorID {
			h.error(w, r, cardgate.Errorf(cardgate.EFORBIDDEN, "only the form's creator may close it"))
			return
		}
		now := time.Now()
		closed, err := h.cfg.Store.CloseForm(ctx, f.ID, now)
		if err != nil {
			h.error(w, r, err)
			return
		}
		h.hub.publish(ctx, f.ConversationID, event{Type: "form", ConversationID: f.ConversationID, FormID: f.ID})
		writeFormState(w, closed, m, now)
	})
}

// responses answers getResponses: the user's own responses to the form,
// oldest first; with ?response=, the one response a response card shows,
// which is the user's own or, where the form lets them see its results,
// anyone's.
func (h *handler) responses() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		f, m, err := h.formFor(r)
		if err != nil {
			h.error(w, r, err)
			return
		}
		var rs []*cardgate.FormResponse
		if one := r.URL.Query().Get("response"); one != "" {
			if err := cardgate.ValidateUserID("response", one); err != nil {
				h.error(w, r, err)
				return
			}
			all, err := h.cfg.Store.Responses(ctx, f.ID)
			if err != nil {
				h.error(w, r, err)
				return
			}
			for _, x := range all {
				if x.ID == one {
					if x.UserID != m.UserID {
						if err := f.CanSeeResults(m); err != nil {
							h.error(w, r, err)
							return
						}
					}
					rs = append(rs, x)
				}
			}
			if len(rs) == 0 {
				h.error(w, r, cardgate.Errorf(cardgate.ENOTFOUND, "response: form %s has no response %s", f.ID, one))
				return
			}
		} else if rs, err = h.cfg.Store.UserResponses(ctx, f.ID, m.UserID); err != nil {
			h.error(w, r, err)
			return
		}
		out := make([]*forms.Response, 0, len(rs))
		for _, x := range rs {
			out = append(out, forms.ToResponse(x))
		}
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusOK, map[string]any{"responses": out})
	})
}

// respond answers updateResponse: a new response, or an edit (forms.Respond).
func (h *handler) respond() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req answersRequest
		if err := httpjson.Decode(w, r, &req, maxFormBody); err != nil {
			h.error(w, r, err)
			return
		}
		ctx := r.Context()
		f, m, err := h.formFor(r)
		if err != nil {
			h.error(w, r, err)
			return
		}
		sub, err := submission(m.UserID, &req)
		if err != nil {
			h.error(w, r, err)
			return
		}
		resp, err := forms.Respond(ctx, h.cfg.Store, f, *sub, cardgate.NewID(), time.Now())
		if err != nil {
			h.error(w, r, err)
			return
		}
		h.hub.publish(ctx, f.ConversationID, event{Type: "response", ConversationID: f.ConversationID, FormID: f.ID})
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusCreated, map[string]any{"response": forms.ToResponse(resp)})
	})
}

// summary answers getSurveySummaryJson, getSurveyResultJson,
// getSurveyAggregatedSummaryJson and getSurveySummaryWithNotify: the three
// summaries, for a member the form lets see its results.
func (h *handler) summary() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		f, _, err := h.formFor(r)
		if err != nil {
			h.error(w, r, err)
			return
		}
		s, err := forms.Results(ctx, h.cfg.Store, userFrom(ctx).ID, f, time.Now())
		if err != nil {
			h.error(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusOK, map[string]any{"flat": s.Flat, "processed": s.Processed, "aggregated": s.Aggregated})
	})
}

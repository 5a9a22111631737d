package forms

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/cardgate/cardgate"
)

// Members is the part of cardgate.Store the rule checks read.
type Members interface {
	Member(ctx context.Context, conversationID, userID string) (*cardgate.Member, error)
}

// member returns userID's membership of f's conversation, nil if none.
func member(ctx context.Context, s Members, userID string, f *cardgate.Form) (*cardgate.Member, error) {
	m, err := s.Member(ctx, f.ConversationID, userID)
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return nil, nil
	}
	return m, err
}

// CanRespond says whether userID may respond to f at now (KASClient's
// canRespondToFormAsync): nil, or an EFORBIDDEN error saying why. It
// applies cardgate.Form.CanRespond to the user's membership as stored now;
// the store checks the same again when the response comes.
func CanRespond(ctx context.Context, s Members, userID string, f *cardgate.Form, now time.Time) error {
	m, err := member(ctx, s, userID, f)
	if err != nil {
		return err
	}
	return f.CanRespond(m, now)
}

// CanSee says whether userID may see f and their own responses to it
// (getFormAsync, getMyFormResponsesAsync): members only.
func CanSee(ctx context.Context, s Members, userID string, f *cardgate.Form) error {
	m, err := member(ctx, s, userID, f)
	if err != nil {
		return err
	}
	return f.CanSee(m)
}

// CanSeeResults says whether userID may see f's summaries and everyone's
// responses (shouldSeeFormSummaryAsync): nil, or an EFORBIDDEN error.
func CanSeeResults(ctx context.Context, s Members, userID string, f *cardgate.Form) error {
	m, err := member(ctx, s, userID, f)
	if err != nil {
		return err
	}
	return f.CanSeeResults(m)
}

// ResultStore is what Results reads.
type ResultStore interface {
	Members
	Members(ctx context.Context, conversationID string) ([]*cardgate.Member, error)
	Responses(ctx context.Context, formID string) ([]*cardgate.FormResponse, error)
}

// Results checks that userID may see f's results and computes its
// summaries at now.
func Results(ctx context.Context, s ResultStore, userID string, f *cardgate.Form, now time.Time) (*Summaries, error) {
	if err := CanSeeResults(ctx, s, userID, f); err != nil {
		return nil, err
	}
	ms, err := s.Members(ctx, f.ConversationID)
	if err != nil {
		return nil, err
	}
	rs, err := s.Responses(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	return Summarize(f, ms, rs, now), nil
}

// ParseAnswers reads a card's questionToAnswerMap: an object whose keys
// are question IDs. Kaizala's cards send most answers as strings, and some
// as they are (a DateTime as a number): a number or true/false becomes its
// JSON text, null becomes "" (no answer), a list or object its compact
// JSON text. Errors name the key (questionToAnswerMap.x).
func ParseAnswers(raw []byte) (map[int]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, cardgate.Errorf(cardgate.EINVALID, "questionToAnswerMap: must be an object of answers by question ID: %s", jsonError(err))
	}
	out := make(map[int]string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		qid, err := strconv.Atoi(k)
		if err != nil || qid < 0 || strconv.Itoa(qid) != k {
			return nil, cardgate.Errorf(cardgate.EINVALID, "questionToAnswerMap.%.40q: keys must be question IDs, 0, 1, 2...", k)
		}
		v := bytes.TrimSpace(m[k])
		switch {
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, cardgate.Errorf(cardgate.EINVALID, "questionToAnswerMap.%d: %s", qid, jsonError(err))
			}
			out[qid] = s
		case string(v) == "null":
			out[qid] = ""
		default:
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return nil, cardgate.Errorf(cardgate.EINVALID, "questionToAnswerMap.%d: %s", qid, jsonError(err))
			}
			out[qid] = buf.String()
		}
	}
	return out, nil
}

// Submission is a response as KASClient.Form.sumbitFormResponse sends it.
type Submission struct {
	UserID  string
	Answers map[int]string
	// ResponseID and IsEdit name the response an edit changes.
	ResponseID string
	IsEdit     bool
	// Anonymous: the responder asked not to be named.
	Anonymous bool
}

// ResponseStore is what Respond reads and writes.
type ResponseStore interface {
	Members
	UserResponses(ctx context.Context, formID, userID string) ([]*cardgate.FormResponse, error)
	AddResponse(ctx context.Context, r *cardgate.FormResponse) error
	EditResponse(ctx context.Context, r *cardgate.FormResponse) error
}

// Respond stores a submission to f at now and returns the stored response.
// It follows Kaizala: an edit (IsEdit, or a second submission to a form
// that takes one response per user and lets it be edited) changes the
// user's response under its ID; otherwise a new response with ID newID is
// added. An edit may not change the answer to a question that is not
// editable (EFORBIDDEN). The membership, expiry and one-per-user rules are
// the store's, checked as it writes.
func Respond(ctx context.Context, s ResponseStore, f *cardgate.Form, sub Submission, newID string, now time.Time) (*cardgate.FormResponse, error) {
	r := &cardgate.FormResponse{ID: newID, FormID: f.ID, UserID: sub.UserID, Answers: sub.Answers,
		Anonymous: sub.Anonymous, CreatedAt: now, UpdatedAt: now}
	if r.Answers == nil {
		r.Answers = map[int]string{}
	}
	editID := ""
	if sub.IsEdit {
		if sub.ResponseID == "" {
			return nil, cardgate.Errorf(cardgate.EINVALID, "responseId: an edit must name the response it changes")
		}
		editID = sub.ResponseID
	} else if !f.SeveralPerUser && f.ResponsesEditable {
		mine, err := s.UserResponses(ctx, f.ID, sub.UserID)
		if err != nil {
			return nil, err
		}
		if len(mine) > 0 {
			editID = mine[0].ID
		}
	}
	if editID == "" {
		if err := f.ValidateResponse(r); err != nil {
			return nil, err
		}
		if err := s.AddResponse(ctx, r); err != nil {
			if cardgate.ErrorCode(err) == cardgate.ECONFLICT && !f.SeveralPerUser && !f.ResponsesEditable {
				return nil, cardgate.Errorf(cardgate.ECONFLICT, "you have responded to this form already, and its responses cannot be changed")
			}
			return nil, err
		}
		return r, nil
	}

	r.ID = editID
	if err := f.ValidateResponse(r); err != nil {
		return nil, err
	}
	mine, err := s.UserResponses(ctx, f.ID, sub.UserID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(mine, func(x *cardgate.FormResponse) bool { return x.ID == editID })
	if i < 0 {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "responseId: you have no response %s to this form", editID)
	}
	for _, q := range f.Questions {
		if q.Editable {
			continue
		}
		old, had := mine[i].Answers[q.ID]
		if a, ok := r.Answers[q.ID]; ok && a != old {
			return nil, cardgate.Errorf(cardgate.EFORBIDDEN, "questionToAnswerMap.%d: question %q cannot be changed once answered", q.ID, q.Title)
		} else if !ok && had {
			r.Answers[q.ID] = old
		}
	}
	if err := s.EditResponse(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

package cardgate

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Form is an instance of an action package sent to a conversation: Kaizala's
// KASForm. Its questions, properties and settings start as the package's
// AppModel.json and are what the creator made of them.
type Form struct {
	// ID is a GUID in canonical lower-case form.
	ID             string `json:"id"`
	ConversationID string `json:"conversationId"`
	PackageID      string `json:"packageId"`
	CreatorID      string `json:"creatorId"`
	Title          string `json:"title"`
	// AppModel is the package's AppModel.json the form was made from, as
	// it came (valid against Kaizala's appModel_schema.json).
	AppModel   json.RawMessage `json:"appModel,omitempty"`
	Questions  []Question      `json:"questions"`
	Properties []FormProperty  `json:"properties"`
	// Expiry is when the form stops taking responses; zero is never.
	Expiry     time.Time        `json:"expiry,omitzero"`
	Visibility ResultVisibility `json:"visibility"`
	// Anonymous forms never tell who gave which answer.
	Anonymous bool `json:"isAnonymous"`
	// SeveralPerUser lets a user add any number of responses (Kaizala's
	// isResponseAppended); otherwise each user has at most one.
	SeveralPerUser bool `json:"isResponseAppended"`
	// ResponsesEditable lets a user change a response they sent (the
	// package's ChatCanvasCardView isResponseEditable).
	ResponsesEditable bool `json:"isResponseEditable"`
	// LocationRequested asks responders to attach their location.
	LocationRequested bool      `json:"isLocationRequested"`
	CreatedAt         time.Time `json:"createdAt"`
}

// ResultVisibility says who sees a form's results (KASFormResultVisibility).
type ResultVisibility string

// The visibilities, by Kaizala's names.
const (
	// ResultsAll: every member of the conversation.
	ResultsAll ResultVisibility = "All"
	// ResultsSender: only the form's creator.
	ResultsSender ResultVisibility = "Sender"
	// ResultsAdmin: the conversation's admins, and the creator.
	ResultsAdmin ResultVisibility = "Admin"
)

// Code is the visibility's number in KASFormResultVisibility.
func (v ResultVisibility) Code() int {
	switch v {
	case ResultsSender:
		return 1
	case ResultsAdmin:
		return 2
	}
	return 0
}

// ResultVisibilityOf returns the visibility with Kaizala's number code.
func ResultVisibilityOf(code int) (ResultVisibility, bool) {
	switch code {
	case 0:
		return ResultsAll, true
	case 1:
		return ResultsSender, true
	case 2:
		return ResultsAdmin, true
	}
	return "", false
}

// Valid reports whether v is one of the known visibilities.
func (v ResultVisibility) Valid() bool {
	return v == ResultsAll || v == ResultsSender || v == ResultsAdmin
}

// QuestionType is a question's kind, numbered as KASQuestionType; in JSON
// it is written by name ("SingleSelect"), as AppModel.json writes it.
type QuestionType int

// The question types.
const (
	SingleSelect QuestionType = iota
	MultiSelect
	Text
	Numeric
	Location
	DateTime
	Image
	SingleSelectExternal
)

var questionTypeNames = []string{"SingleSelect", "MultiSelect", "Text", "Numeric", "Location", "DateTime", "Image", "SingleSelectExternal"}

func (t QuestionType) String() string {
	if t >= 0 && int(t) < len(questionTypeNames) {
		return questionTypeNames[t]
	}
	return strconv.Itoa(int(t))
}

// Valid reports whether t is a known type.
func (t QuestionType) Valid() bool { return t >= 0 && int(t) < len(questionTypeNames) }

// HasOptions reports whether the question's answers are options.
func (t QuestionType) HasOptions() bool {
	return t == SingleSelect || t == MultiSelect || t == SingleSelectExternal
}

// ParseQuestionType returns the type with the given name.
func ParseQuestionType(name string) (QuestionType, bool) {
	i := slices.Index(questionTypeNames, name)
	return QuestionType(i), i >= 0
}

// MarshalText writes the type's name.
func (t QuestionType) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("cardgate: question type %d is unknown", int(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText reads a type's name.
func (t *QuestionType) UnmarshalText(b []byte) error {
	v, ok := ParseQuestionType(string(b))
	if !ok {
		return Errorf(EINVALID, "question type %q is unknown; use one of %s", b, strings.Join(questionTypeNames, ", "))
	}
	*t = v
	return nil
}

// Question is one question of a form (KASQuestion). IDs number the
// questions from 0 in order.
type Question struct {
	ID    int          `json:"id"`
	Title string       `json:"title"`
	Type  QuestionType `json:"type"`
	// Invisible questions are not shown to responders.
	Invisible bool `json:"isInvisible,omitempty"`
	// Editable: the responder may change the answer when they edit.
	Editable bool             `json:"isEditable"`
	Options  []QuestionOption `json:"options,omitempty"`
}

// QuestionOption is one choice of a select question (KASQuestionOption),
// numbered from 0.
type QuestionOption struct {
	ID         int    `json:"id"`
	Text       string `json:"text"`
	PictureURL string `json:"pictureUrl,omitempty"`
}

// PropertyType is a form property's kind, numbered as KASFormPropertyType;
// JSON writes it by name.
type PropertyType int

// The property types.
const (
	PropertyText PropertyType = iota
	PropertyNumeric
	PropertyLocation
	PropertyDateTime
	PropertyArray
)

var propertyTypeNames = []string{"Text", "Numeric", "Location", "DateTime", "Array"}

func (t PropertyType) String() string {
	if t >= 0 && int(t) < len(propertyTypeNames) {
		return propertyTypeNames[t]
	}
	return strconv.Itoa(int(t))
}

// Valid reports whether t is a known type.
func (t PropertyType) Valid() bool { return t >= 0 && int(t) < len(propertyTypeNames) }

// MarshalText writes the type's name.
func (t PropertyType) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("cardgate: property type %d is unknown", int(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText reads a type's name.
func (t *PropertyType) UnmarshalText(b []byte) error {
	i := slices.Index(propertyTypeNames, string(b))
	if i < 0 {
		return Errorf(EINVALID, "property type %q is unknown; use one of %s", b, strings.Join(propertyTypeNames, ", "))
	}
	*t = PropertyType(i)
	return nil
}

// FormProperty is a piece of the form's metadata (KASFormProperty).
type FormProperty struct {
	Name  string       `json:"name"`
	Type  PropertyType `json:"type"`
	Value string       `json:"value"`
}

// Limits on a form, so that one form cannot fill the store.
const (
	MaxQuestions      = 100
	MaxOptions        = 100
	MaxProperties     = 100
	MaxFormTextLen    = 1024      // a title, option text or property name
	MaxPropertyLen    = 64 << 10  // a property's value
	MaxAnswerLen      = 16 << 10  // one answer
	MaxAppModelLen    = 256 << 10 // AppModel.json
	maxFormTitleBytes = MaxFormTextLen
)

// Validate reports the first field of the form that is wrong, as an
// EINVALID *Error naming it (questions[2].options[0].text).
func (f *Form) Validate() error {
	for _, v := range []struct{ field, id string }{{"id", f.ID}, {"conversationId", f.ConversationID}, {"creatorId", f.CreatorID}} {
		if err := ValidateUserID(v.field, v.id); err != nil {
			return err
		}
	}
	if err := ValidatePackageID("packageId", f.PackageID); err != nil {
		return err
	}
	if err := text("title", f.Title, maxFormTitleBytes, true); err != nil {
		return err
	}
	if len(f.AppModel) > MaxAppModelLen {
		return Errorf(EINVALID, "appModel: must be at most %d bytes", MaxAppModelLen)
	}
	if len(f.AppModel) > 0 && !json.Valid(f.AppModel) {
		return Errorf(EINVALID, "appModel: must be JSON")
	}
	if !f.Visibility.Valid() {
		return Errorf(EINVALID, "visibility: must be All, Sender or Admin")
	}
	if len(f.Questions) > MaxQuestions {
		return Errorf(EINVALID, "questions: at most %d", MaxQuestions)
	}
	for i, q := range f.Questions {
		at := fmt.Sprintf("questions[%d]", i)
		if q.ID != i {
			return Errorf(EINVALID, "%s.id: must be %d: questions are numbered from 0 in order", at, i)
		}
		if err := text(at+".title", q.Title, MaxFormTextLen, false); err != nil {
			return err
		}
		if !q.Type.Valid() {
			return Errorf(EINVALID, "%s.type: unknown question type %d", at, int(q.Type))
		}
		if len(q.Options) > MaxOptions {
			return Errorf(EINVALID, "%s.options: at most %d", at, MaxOptions)
		}
		if len(q.Options) > 0 && !q.Type.HasOptions() {
			return Errorf(EINVALID, "%s.options: a %s question has no options", at, q.Type)
		}
		for j, o := range q.Options {
			oat := fmt.Sprintf("%s.options[%d]", at, j)
			if o.ID != j {
				return Errorf(EINVALID, "%s.id: must be %d: options are numbered from 0 in order", oat, j)
			}
			if err := text(oat+".text", o.Text, MaxFormTextLen, false); err != nil {
				return err
			}
			if err := text(oat+".pictureUrl", o.PictureURL, MaxFormTextLen, false); err != nil {
				return err
			}
		}
	}
	if len(f.Properties) > MaxProperties {
		return Errorf(EINVALID, "properties: at most %d", MaxProperties)
	}
	for i, p := range f.Properties {
		at := fmt.Sprintf("properties[%d]", i)
		if err := text(at+".name", p.Name, MaxFormTextLen, true); err != nil {
			return err
		}
		if !p.Type.Valid() {
			return Errorf(EINVALID, "%s.type: unknown property type %d", at, int(p.Type))
		}
		if err := text(at+".value", p.Value, MaxPropertyLen, false); err != nil {
			return err
		}
	}
	return nil
}

func text(field, s string, max int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return Errorf(EINVALID, "%s: must not be empty", field)
	}
	if len(s) > max {
		return Errorf(EINVALID, "%s: must be at most %d bytes", field, max)
	}
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "%s: must be UTF-8 text", field)
	}
	return nil
}

// Expired reports whether the form takes no more responses at now.
func (f *Form) Expired(now time.Time) bool {
	return !f.Expiry.IsZero() && !now.Before(f.Expiry)
}

// CanRespond says whether m may respond to f at now: nil if so, else an
// EFORBIDDEN error saying why. m is the user's membership of the form's
// conversation, nil when they are not a member. (Whether the user has
// responded already matters only for forms that take one response per
// user; the store decides that when the response comes.)
func (f *Form) CanRespond(m *Member, now time.Time) error {
	if m == nil || m.ConversationID != f.ConversationID {
		return Errorf(EFORBIDDEN, "only the conversation's members may respond to this form")
	}
	if f.Expired(now) {
		return Errorf(EFORBIDDEN, "the form expired at %s and takes no more responses", f.Expiry.UTC().Format(time.RFC3339))
	}
	return nil
}

// CanSee says whether m (nil: not a member) may see the form itself and
// their own responses to it: nil for a member of its conversation, else
// an EFORBIDDEN error.
func (f *Form) CanSee(m *Member) error {
	if m == nil || m.ConversationID != f.ConversationID {
		return Errorf(EFORBIDDEN, "only the conversation's members may see this form")
	}
	return nil
}

// CanSeeResults says whether m (nil: not a member) may see f's responses
// and summaries: nil if so, else an EFORBIDDEN error. Only members ever
// see them; beyond that, the form's Visibility decides: everyone, only
// the creator, or the conversation's admins and the creator.
func (f *Form) CanSeeResults(m *Member) error {
	if m == nil || m.ConversationID != f.ConversationID {
		return Errorf(EFORBIDDEN, "only the conversation's members may see this form's results")
	}
	switch f.Visibility {
	case ResultsAll:
		return nil
	case ResultsSender:
		if m.UserID == f.CreatorID {
			return nil
		}
		return Errorf(EFORBIDDEN, "only the form's creator may see its results")
	case ResultsAdmin:
		if m.UserID == f.CreatorID || m.Role == MemberAdmin {
			return nil
		}
		return Errorf(EFORBIDDEN, "only the conversation's admins and the form's creator may see its results")
	}
	return Errorf(EFORBIDDEN, "the form's results are visible to no one")
}

// FormResponse is one user's response to a form (KASFormResponse).
type FormResponse struct {
	// ID is a GUID in canonical lower-case form.
	ID     string `json:"id"`
	FormID string `json:"formId"`
	UserID string `json:"userId"`
	// Answers maps a question's ID to its answer, as Kaizala's cards write
	// them: an option's ID for SingleSelect ("1"), a JSON list of option
	// IDs for MultiSelect ("[0,2]"), a number's text for Numeric, and
	// whatever the card sends for the other types. "" is no answer.
	Answers map[int]string `json:"answers"`
	// Anonymous: the responder asked not to be named with this response.
	Anonymous bool `json:"isAnonymous,omitempty"`
	// Edits counts how many times the response was changed.
	Edits     int       `json:"edits"`
	CreatedAt time.Time `json:"createdAt"`
	// UpdatedAt is when the answers were last sent: CreatedAt, or the
	// last edit.
	UpdatedAt time.Time `json:"updatedAt"`
}

// MaxResponseLen bounds all the answers of one response together.
const MaxResponseLen = 64 << 10

// ValidateResponse reports the first thing wrong with r as a response to
// f, as an EINVALID *Error naming it: its IDs, and each answer (a question
// the form has, an answer of the question's type). Invisible questions may
// be answered too: Kaizala's cards fill them in for the responder.
func (f *Form) ValidateResponse(r *FormResponse) error {
	if err := ValidateUserID("id", r.ID); err != nil {
		return err
	}
	if err := ValidateUserID("userId", r.UserID); err != nil {
		return err
	}
	if r.FormID != f.ID {
		return Errorf(EINVALID, "formId: must be %s", f.ID)
	}
	total := 0
	for _, qid := range slices.Sorted(maps.Keys(r.Answers)) {
		a := r.Answers[qid]
		at := fmt.Sprintf("questionToAnswerMap.%d", qid)
		if qid < 0 || qid >= len(f.Questions) {
			return Errorf(EINVALID, "%s: the form has no question %d", at, qid)
		}
		total += len(a)
		if len(a) > MaxAnswerLen {
			return Errorf(EINVALID, "%s: must be at most %d bytes", at, MaxAnswerLen)
		}
		if !utf8.ValidString(a) {
			return Errorf(EINVALID, "%s: must be UTF-8 text", at)
		}
		if a == "" {
			continue
		}
		q := f.Questions[qid]
		switch q.Type {
		case SingleSelect, SingleSelectExternal:
			if _, ok := q.option(a); !ok {
				return Errorf(EINVALID, "%s: must be the ID of one of the question's %d options", at, len(q.Options))
			}
		case MultiSelect:
			if _, err := q.SelectedOptions(a); err != nil {
				return Errorf(EINVALID, "%s: %s", at, err.Error())
			}
		case Numeric:
			if _, err := strconv.ParseFloat(strings.TrimSpace(a), 64); err != nil {
				return Errorf(EINVALID, "%s: must be a number", at)
			}
		}
	}
	if total > MaxResponseLen {
		return Errorf(EINVALID, "questionToAnswerMap: the answers must be at most %d bytes together", MaxResponseLen)
	}
	return nil
}

// option returns the option an answer names ("2" or "2.0" from a card that
// sent a number).
func (q *Question) option(a string) (int, bool) {
	n, err := strconv.ParseFloat(strings.TrimSpace(a), 64)
	if err != nil || n != float64(int(n)) || int(n) < 0 || int(n) >= len(q.Options) {
		return 0, false
	}
	return int(n), true
}

// SelectedOption returns the option a SingleSelect answer names.
func (q *Question) SelectedOption(a string) (int, bool) { return q.option(a) }

// SelectedOptions returns the options a MultiSelect answer names, a JSON
// list of option IDs ("[0,2]"), each once.
func (q *Question) SelectedOptions(a string) ([]int, error) {
	var ids []float64
	if err := json.Unmarshal([]byte(a), &ids); err != nil {
		return nil, fmt.Errorf("must be a JSON list of option IDs, like [0,2]")
	}
	out := make([]int, 0, len(ids))
	for _, n := range ids {
		if n != float64(int(n)) || int(n) < 0 || int(n) >= len(q.Options) {
			return nil, fmt.Errorf("%v is not one of the question's %d options", n, len(q.Options))
		}
		if !slices.Contains(out, int(n)) {
			out = append(out, int(n))
		}
	}
	return out, nil
}

// StoredJSON returns the form's questions and properties as the stores
// keep them: JSON arrays, never null.
func (f *Form) StoredJSON() (questions, properties []byte, err error) {
	qs, ps := f.Questions, f.Properties
	if qs == nil {
		qs = []Question{}
	}
	if ps == nil {
		ps = []FormProperty{}
	}
	if questions, err = json.Marshal(qs); err != nil {
		return nil, nil, fmt.Errorf("form %s: questions: %w", f.ID, err)
	}
	if properties, err = json.Marshal(ps); err != nil {
		return nil, nil, fmt.Errorf("form %s: properties: %w", f.ID, err)
	}
	return questions, properties, nil
}

// SetStoredJSON sets the form's questions and properties from what
// StoredJSON made.
func (f *Form) SetStoredJSON(questions, properties []byte) error {
	if err := json.Unmarshal(questions, &f.Questions); err != nil {
		return fmt.Errorf("form %s: questions: %w", f.ID, err)
	}
	if err := json.Unmarshal(properties, &f.Properties); err != nil {
		return fmt.Errorf("form %s: properties: %w", f.ID, err)
	}
	return nil
}

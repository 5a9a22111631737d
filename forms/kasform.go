package forms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cardgate/cardgate"
)

// The KASForm a creator's card submits (KASClient.Form.submitFormRequest)
// comes in one of two shapes, as KASForm.toJSON writes it: the client's
// short keys ({"title","ann","exp","vis","ira","ilr","ques","smd"}), or,
// under a web client, {"id": package, "actionBody": {...}} with long keys
// and names for enums. ApplyKASForm reads either.

type clientForm struct {
	Title *string          `json:"title"`
	Ann   *bool            `json:"ann"`
	Exp   *float64         `json:"exp"`
	Vis   *int             `json:"vis"`
	Ira   *bool            `json:"ira"`
	Ilr   *bool            `json:"ilr"`
	Ques  []clientQuestion `json:"ques"`
	Smd   []clientProperty `json:"smd"`

	ActionBody *apiForm `json:"actionBody"`
}

type clientQuestion struct {
	ID       *int           `json:"id"`
	Title    string         `json:"title"`
	Type     int            `json:"type"`
	Invis    bool           `json:"invis"`
	Editable *bool          `json:"editable"`
	Opts     []clientOption `json:"opts"`
}

type clientOption struct {
	ID *int   `json:"id"`
	At string `json:"at"`
	Ap string `json:"ap"`
}

type clientProperty struct {
	N string `json:"n"`
	T int    `json:"t"`
	V string `json:"v"`
}

type apiForm struct {
	Title              *string       `json:"title"`
	IsAnonymous        *bool         `json:"isAnonymous"`
	Expiry             *float64      `json:"expiry"`
	Visibility         *string       `json:"visibility"`
	IsResponseAppended *bool         `json:"isResponseAppended"`
	Questions          []apiQuestion `json:"questions"`
	Properties         []apiProperty `json:"properties"`
}

type apiQuestion struct {
	Title       string `json:"title"`
	Type        string `json:"type"`
	IsInvisible bool   `json:"isInvisible"`
	Options     []struct {
		Title      string `json:"title"`
		PictureURL string `json:"pictureUrl"`
	} `json:"options"`
}

type apiProperty struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// apiQuestionTypes are the names the web client's JSON uses where they
// differ from KASQuestionType's.
var apiQuestionTypes = map[string]cardgate.QuestionType{
	"SingleOption": cardgate.SingleSelect, "MultiOption": cardgate.MultiSelect, "SingleOptionExternal": cardgate.SingleSelectExternal,
}

// ApplyKASForm sets f's title, settings, questions and properties from the
// KASForm JSON a creator's card submitted; what the JSON leaves out keeps
// the value it had (the app model's). The IDs in the JSON (form,
// conversation, package, creator) are ignored: the server decides them.
// Errors are EINVALID and name the field (ques[1].opts[0].id); the result
// is checked with f.Validate.
func ApplyKASForm(f *cardgate.Form, raw []byte) error {
	var cf clientForm
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&cf); err != nil {
		return cardgate.Errorf(cardgate.EINVALID, "form: %s", jsonError(err))
	}
	if cf.ActionBody != nil {
		if err := applyAPIForm(f, cf.ActionBody); err != nil {
			return err
		}
		return f.Validate()
	}
	if cf.Title != nil {
		f.Title = *cf.Title
	}
	if cf.Ann != nil {
		f.Anonymous = *cf.Ann
	}
	if cf.Exp != nil {
		t, ok := msTime(*cf.Exp)
		if !ok {
			return cardgate.Errorf(cardgate.EINVALID, "exp: must be a time in Unix milliseconds")
		}
		f.Expiry = t
	}
	if cf.Vis != nil {
		v, ok := cardgate.ResultVisibilityOf(*cf.Vis)
		if !ok {
			return cardgate.Errorf(cardgate.EINVALID, "vis: must be 0 (All), 1 (Sender) or 2 (Admin)")
		}
		f.Visibility = v
	}
	if cf.Ira != nil {
		f.SeveralPerUser = *cf.Ira
	}
	if cf.Ilr != nil {
		f.LocationRequested = *cf.Ilr
	}
	if cf.Ques != nil {
		qs := make([]cardgate.Question, 0, len(cf.Ques))
		for i, q := range cf.Ques {
			at := fmt.Sprintf("ques[%d]", i)
			if q.ID != nil && *q.ID != i {
				return cardgate.Errorf(cardgate.EINVALID, "%s.id: must be %d: questions are numbered from 0 in order", at, i)
			}
			t := cardgate.QuestionType(q.Type)
			if !t.Valid() {
				return cardgate.Errorf(cardgate.EINVALID, "%s.type: %d is not a KASQuestionType (0 to 7)", at, q.Type)
			}
			cq := cardgate.Question{ID: i, Title: q.Title, Type: t, Invisible: q.Invis, Editable: q.Editable == nil || *q.Editable}
			for j, o := range q.Opts {
				if o.ID != nil && *o.ID != j {
					return cardgate.Errorf(cardgate.EINVALID, "%s.opts[%d].id: must be %d: options are numbered from 0 in order", at, j, j)
				}
				cq.Options = append(cq.Options, cardgate.QuestionOption{ID: j, Text: o.At, PictureURL: o.Ap})
			}
			qs = append(qs, cq)
		}
		f.Questions = qs
	}
	if cf.Smd != nil {
		ps := make([]cardgate.FormProperty, 0, len(cf.Smd))
		for i, p := range cf.Smd {
			t := cardgate.PropertyType(p.T)
			if !t.Valid() {
				return cardgate.Errorf(cardgate.EINVALID, "smd[%d].t: %d is not a KASFormPropertyType (0 to 4)", i, p.T)
			}
			ps = append(ps, cardgate.FormProperty{Name: p.N, Type: t, Value: p.V})
		}
		f.Properties = ps
	}
	return renameFields(f.Validate())
}

func applyAPIForm(f *cardgate.Form, b *apiForm) error {
	if b.Title != nil {
		f.Title = *b.Title
	}
	if b.IsAnonymous != nil {
		f.Anonymous = *b.IsAnonymous
	}
	if b.Expiry != nil {
		t, ok := msTime(*b.Expiry)
		if !ok {
			return cardgate.Errorf(cardgate.EINVALID, "actionBody.expiry: must be a time in Unix milliseconds")
		}
		f.Expiry = t
	}
	if b.Visibility != nil {
		v := cardgate.ResultVisibility(*b.Visibility)
		if !v.Valid() {
			return cardgate.Errorf(cardgate.EINVALID, "actionBody.visibility: must be All, Sender or Admin")
		}
		f.Visibility = v
	}
	if b.IsResponseAppended != nil {
		f.SeveralPerUser = *b.IsResponseAppended
	}
	if b.Questions != nil {
		qs := make([]cardgate.Question, 0, len(b.Questions))
		for i, q := range b.Questions {
			t, ok := apiQuestionTypes[q.Type]
			if !ok {
				if t, ok = cardgate.ParseQuestionType(q.Type); !ok {
					return cardgate.Errorf(cardgate.EINVALID, "actionBody.questions[%d].type: %q is not a question type", i, q.Type)
				}
			}
			cq := cardgate.Question{ID: i, Title: q.Title, Type: t, Invisible: q.IsInvisible, Editable: true}
			for j, o := range q.Options {
				cq.Options = append(cq.Options, cardgate.QuestionOption{ID: j, Text: o.Title, PictureURL: o.PictureURL})
			}
			qs = append(qs, cq)
		}
		f.Questions = qs
	}
	if b.Properties != nil {
		ps := make([]cardgate.FormProperty, 0, len(b.Properties))
		for i, p := range b.Properties {
			var t cardgate.PropertyType
			if err := t.UnmarshalText([]byte(p.Type)); err != nil {
				return cardgate.Errorf(cardgate.EINVALID, "actionBody.properties[%d].type: %q is not a property type", i, p.Type)
			}
			ps = append(ps, cardgate.FormProperty{Name: p.Name, Type: t, Value: p.Value})
		}
		f.Properties = ps
	}
	return nil
}

// renameFields words a Validate error in the client JSON's names
// (questions[1].options[0].text becomes ques[1].opts[0].at), so that it
// names what the card sent.
func renameFields(err error) error {
	e, ok := err.(*cardgate.Error)
	if !ok {
		return err
	}
	field, rest, found := strings.Cut(e.Message, ": ")
	if !found {
		return err
	}
	r := strings.NewReplacer("questions[", "ques[", "options", "opts", ".text", ".at", ".pictureUrl", ".ap",
		"properties[", "smd[", ".name", ".n", ".value", ".v")
	return &cardgate.Error{Code: e.Code, Message: r.Replace(field) + ": " + rest}
}

package cardgate_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

func goodForm() *cardgate.Form {
	return &cardgate.Form{ID: "f0000000-0000-4000-8000-000000000001", ConversationID: "11111111-1111-4111-8111-111111111111",
		PackageID: "com.contoso.lunch", CreatorID: "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", Title: "Lunch", Visibility: cardgate.ResultsAll,
		Questions: []cardgate.Question{
			{ID: 0, Title: "Dish", Type: cardgate.SingleSelect, Options: []cardgate.QuestionOption{{ID: 0, Text: "Soup"}, {ID: 1, Text: "Salad"}}},
			{ID: 1, Title: "Extras", Type: cardgate.MultiSelect, Options: []cardgate.QuestionOption{{ID: 0, Text: "Bread"}, {ID: 1, Text: "Tea"}}},
			{ID: 2, Title: "How many", Type: cardgate.Numeric},
			{ID: 3, Title: "Notes", Type: cardgate.Text},
		},
		Properties: []cardgate.FormProperty{{Name: "place", Type: cardgate.PropertyText, Value: "Canteen"}}}
}

func TestFormValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(f *cardgate.Form)
		field string // "" means valid
	}{
		{"valid", func(f *cardgate.Form) {}, ""},
		{"bad id", func(f *cardgate.Form) { f.ID = "form-1" }, "id:"},
		{"bad conversation", func(f *cardgate.Form) { f.ConversationID = "" }, "conversationId:"},
		{"bad creator", func(f *cardgate.Form) { f.CreatorID = "x" }, "creatorId:"},
		{"bad package", func(f *cardgate.Form) { f.PackageID = "lunch" }, "packageId:"},
		{"no title", func(f *cardgate.Form) { f.Title = " " }, "title:"},
		{"bad visibility", func(f *cardgate.Form) { f.Visibility = "Everyone" }, "visibility:"},
		{"app model not JSON", func(f *cardgate.Form) { f.AppModel = json.RawMessage(`{"title":`) }, "appModel:"},
		{"app model", func(f *cardgate.Form) { f.AppModel = json.RawMessage(`{"title":"Lunch"}`) }, ""},
		{"questions out of order", func(f *cardgate.Form) { f.Questions[1].ID = 5 }, "questions[1].id:"},
		{"unknown question type", func(f *cardgate.Form) { f.Questions[2].Type = 42 }, "questions[2].type:"},
		{"options out of order", func(f *cardgate.Form) { f.Questions[0].Options[1].ID = 0 }, "questions[0].options[1].id:"},
		{"options on a text question", func(f *cardgate.Form) {
			f.Questions[3].Options = []cardgate.QuestionOption{{ID: 0, Text: "x"}}
		}, "questions[3].options:"},
		{"long option", func(f *cardgate.Form) { f.Questions[0].Options[0].Text = strings.Repeat("x", 1025) }, "questions[0].options[0].text:"},
		{"unnamed property", func(f *cardgate.Form) { f.Properties[0].Name = "" }, "properties[0].name:"},
		{"unknown property type", func(f *cardgate.Form) { f.Properties[0].Type = 9 }, "properties[0].type:"},
		{"too many questions", func(f *cardgate.Form) {
			f.Questions = nil
			for i := range cardgate.MaxQuestions + 1 {
				f.Questions = append(f.Questions, cardgate.Question{ID: i, Title: "q", Type: cardgate.Text})
			}
		}, "questions:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := goodForm()
			tt.edit(f)
			err := f.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if cardgate.ErrorCode(err) != cardgate.EINVALID || !strings.HasPrefix(cardgate.ErrorMessage(err), tt.field) {
				t.Fatalf("Validate = %v, want EINVALID naming %s", err, tt.field)
			}
		})
	}
}

func TestValidateResponse(t *testing.T) {
	f := goodForm()
	tests := []struct {
		answers map[int]string
		field   string
	}{
		{map[int]string{0: "1", 1: "[0,1]", 2: "-2.5", 3: "anything"}, ""},
		{map[int]string{0: "", 1: "", 2: ""}, ""},
		{map[int]string{0: "1.0", 1: "[1,1]"}, ""},
		{map[int]string{4: "x"}, "questionToAnswerMap.4: the form has no question 4"},
		{map[int]string{0: "2"}, "questionToAnswerMap.0: must be the ID of one of the question's 2 options"},
		{map[int]string{0: "Soup"}, "questionToAnswerMap.0:"},
		{map[int]string{1: "0,1"}, "questionToAnswerMap.1: must be a JSON list of option IDs"},
		{map[int]string{1: "[3]"}, "questionToAnswerMap.1: 3 is not one of the question's 2 options"},
		{map[int]string{2: "many"}, "questionToAnswerMap.2: must be a number"},
		{map[int]string{3: strings.Repeat("x", cardgate.MaxAnswerLen+1)}, "questionToAnswerMap.3: must be at most"},
		{map[int]string{3: "\xff"}, "questionToAnswerMap.3: must be UTF-8 text"},
	}
	for _, tt := range tests {
		r := &cardgate.FormResponse{ID: "a0000000-0000-4000-8000-000000000001", FormID: f.ID, UserID: f.CreatorID, Answers: tt.answers}
		err := f.ValidateResponse(r)
		if tt.field == "" {
			if err != nil {
				t.Errorf("%v: %v, want valid", tt.answers, err)
			}
			continue
		}
		if cardgate.ErrorCode(err) != cardgate.EINVALID || !strings.HasPrefix(cardgate.ErrorMessage(err), tt.field) {
			t.Errorf("%.60v: err = %v, want EINVALID saying %q", tt.answers, err, tt.field)
		}
	}
	r := &cardgate.FormResponse{ID: "a0000000-0000-4000-8000-000000000001", FormID: "other", UserID: f.CreatorID}
	if err := f.ValidateResponse(r); !strings.HasPrefix(cardgate.ErrorMessage(err), "formId:") {
		t.Errorf("a response to another form: %v", err)
	}
}

func TestFormRules(t *testing.T) {
	f := goodForm()
	f.Expiry = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	m := &cardgate.Member{ConversationID: f.ConversationID, UserID: "0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40", Role: cardgate.MemberMember}
	other := &cardgate.Member{ConversationID: "22222222-2222-4222-8222-222222222222", UserID: m.UserID, Role: cardgate.MemberAdmin}
	before := f.Expiry.Add(-time.Second)
	if err := f.CanRespond(m, before); err != nil {
		t.Errorf("a member before the expiry: %v", err)
	}
	for name, err := range map[string]error{
		"at the expiry":                    f.CanRespond(m, f.Expiry),
		"no member":                        f.CanRespond(nil, before),
		"member of another conversation":   f.CanRespond(other, before),
		"results, no member":               f.CanSeeResults(nil),
		"results, another conversation":    f.CanSeeResults(other),
		"results for the sender, member":   func() error { g := *f; g.Visibility = cardgate.ResultsSender; return g.CanSeeResults(m) }(),
		"results for admins, plain member": func() error { g := *f; g.Visibility = cardgate.ResultsAdmin; return g.CanSeeResults(m) }(),
	} {
		if cardgate.ErrorCode(err) != cardgate.EFORBIDDEN {
			t.Errorf("%s: %v, want EFORBIDDEN", name, err)
		}
	}
	if f.Expired(before) || !f.Expired(f.Expiry) {
		t.Error("Expired is wrong at the expiry's edge")
	}
	f.Expiry = time.Time{}
	if f.Expired(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("a form without an expiry expired")
	}
}

// TestFormJSON: the admin API writes question and property types by name,
// as AppModel.json does, and the visibility by Kaizala's name.
func TestFormJSON(t *testing.T) {
	b, err := json.Marshal(goodForm())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"type":"SingleSelect"`, `"type":"Numeric"`, `"type":"Text"`, `"visibility":"All"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	var back cardgate.Form
	if err := json.Unmarshal(b, &back); err != nil || back.Questions[1].Type != cardgate.MultiSelect {
		t.Fatalf("round trip: %v, %+v", err, back.Questions)
	}
	if err := json.Unmarshal([]byte(`{"questions":[{"type":"Slider"}]}`), &back); err == nil || !strings.Contains(err.Error(), `"Slider" is unknown`) {
		t.Fatalf("unknown type: %v", err)
	}
}

func TestConversationValidate(t *testing.T) {
	c := &cardgate.Conversation{ID: " {3D0C5E2A-8F6B-4A1D-9C7E-5B2A4F6D8E10} ", Title: "  Field team "}
	c.Normalize()
	if c.ID != "3d0c5e2a-8f6b-4a1d-9c7e-5b2a4f6d8e10" || c.Title != "Field team" || c.Validate() != nil {
		t.Fatalf("normalized = %+v, %v", c, c.Validate())
	}
	for field, bad := range map[string]*cardgate.Conversation{
		"id:":    {ID: "team", Title: "T"},
		"title:": {ID: c.ID, Title: strings.Repeat("t", 129)},
	} {
		if err := bad.Validate(); !strings.HasPrefix(cardgate.ErrorMessage(err), field) {
			t.Errorf("%+v: %v, want an error naming %s", bad, err, field)
		}
	}
	if err := (&cardgate.Conversation{ID: c.ID}).Validate(); cardgate.ErrorMessage(err) != "title: must not be empty" {
		t.Errorf("no title: %v", err)
	}
	m := &cardgate.Member{ConversationID: c.ID, UserID: "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", Role: "owner"}
	if err := m.Validate(); cardgate.ErrorMessage(err) != "role: must be admin or member" {
		t.Errorf("bad role: %v", err)
	}
	m.Role, m.UserID = cardgate.MemberAdmin, "bob"
	if err := m.Validate(); !strings.HasPrefix(cardgate.ErrorMessage(err), "userId:") {
		t.Errorf("bad user: %v", err)
	}
}

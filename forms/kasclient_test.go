package forms_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/forms"
	"github.com/cardgate/cardgate/internal/kaizalatest"
)

// kasclientRead runs Kaizala's own KASClient.js fromJSON functions over
// what the forms package wrote, in Node.js, and returns what a card sees.
func kasclientRead(t *testing.T, input any) map[string]any {
	t.Helper()
	node := nodePath(t)
	sdk := kaizalatest.File(t, "actions/KASClient.js")
	b, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), node, "testdata/kasclient_read.js", sdk, in)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var seen map[string]any
	if err := json.Unmarshal(out, &seen); err != nil {
		t.Fatalf("node printed %s: %v", out, err)
	}
	return seen
}

// get walks a decoded JSON value by keys and list indexes.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: %v is not an object", path, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %v: %v is not a list of %d", path, v, k+1)
			}
			v = l[k]
		}
	}
	return v
}

func want(t *testing.T, seen any, w any, path ...any) {
	t.Helper()
	got := get(t, seen, path...)
	wj, _ := json.Marshal(w)
	var wv any
	json.Unmarshal(wj, &wv)
	if !reflect.DeepEqual(got, wv) {
		gj, _ := json.Marshal(got)
		t.Errorf("KASClient sees %v = %s, want %s", path, gj, wj)
	}
}

const (
	alice = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"
	bob   = "0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40"
	carol = "c0ffee00-1234-4abc-8def-0123456789ab"
	conv  = "11111111-1111-4111-8111-111111111111"
	fid   = "f0000000-0000-4000-8000-000000000001"
)

var t0 = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

func testForm(several, anonymous bool) *cardgate.Form {
	return &cardgate.Form{ID: fid, ConversationID: conv, PackageID: "com.contoso.lunch", CreatorID: alice, Title: "Lunch",
		Questions: []cardgate.Question{
			{ID: 0, Title: "Dish", Type: cardgate.SingleSelect, Editable: true,
				Options: []cardgate.QuestionOption{{ID: 0, Text: "Soup"}, {ID: 1, Text: "Salad", PictureURL: "https://pics.example/s.png"}}},
			{ID: 1, Title: "Extras", Type: cardgate.MultiSelect, Editable: true,
				Options: []cardgate.QuestionOption{{ID: 0, Text: "Bread"}, {ID: 1, Text: "Fruit"}, {ID: 2, Text: "Tea"}}},
			{ID: 2, Title: "How many", Type: cardgate.Numeric, Editable: true},
			{ID: 3, Title: "Notes", Type: cardgate.Text, Invisible: true},
		},
		Properties: []cardgate.FormProperty{{Name: "place", Type: cardgate.PropertyText, Value: "Canteen"}},
		Expiry:     t0.Add(time.Hour), Visibility: cardgate.ResultsAdmin, Anonymous: anonymous,
		SeveralPerUser: several, ResponsesEditable: true, CreatedAt: t0}
}

func resp(n int, user string, answers map[int]string) *cardgate.FormResponse {
	at := t0.Add(time.Duration(n) * time.Minute)
	return &cardgate.FormResponse{ID: "a0000000-0000-4000-8000-00000000000" + strconv.Itoa(n), FormID: fid, UserID: user,
		Answers: answers, CreatedAt: at, UpdatedAt: at.Add(time.Second)}
}

var members = []*cardgate.Member{
	{ConversationID: conv, UserID: alice, Role: cardgate.MemberAdmin},
	{ConversationID: conv, UserID: bob, Role: cardgate.MemberMember},
	{ConversationID: conv, UserID: carol, Role: cardgate.MemberMember},
}

// TestKASClientReadsSeveralPerUser: a form that takes several responses
// per user, read by KASClient.js: the form, each response, and the three
// summaries come out as Kaizala's card expects them.
func TestKASClientReadsSeveralPerUser(t *testing.T) {
	f := testForm(true, false)
	rs := []*cardgate.FormResponse{
		resp(1, bob, map[int]string{0: "1", 1: "[0,2]", 2: "2", 3: "no onions"}),
		resp(2, alice, map[int]string{0: "0", 1: "[2]", 2: "1.5"}),
		resp(3, bob, map[int]string{0: "1", 1: "[]", 2: "3"}),
	}
	s := forms.Summarize(f, members, rs, t0)
	var jr []any
	for _, r := range rs {
		jr = append(jr, forms.ToResponse(r))
	}
	seen := kasclientRead(t, map[string]any{"form": forms.ToForm(f), "responses": jr,
		"flat": s.Flat, "processed": s.Processed, "aggregated": s.Aggregated})

	want(t, seen, map[string]any{
		"id": fid, "conversationId": conv, "packageId": "com.contoso.lunch", "creatorId": alice, "title": "Lunch",
		"isAnonymous": false, "expiry": t0.Add(time.Hour).UnixMilli(), "version": 2, "visibility": 2,
		"isResponseAppended": true, "isLocationRequested": false, "type": 20,
		"questions": []any{
			map[string]any{"id": 0, "title": "Dish", "type": 0, "isInvisible": false, "isEditable": true, "options": []any{
				map[string]any{"id": 0, "text": "Soup", "pictureUrl": nil},
				map[string]any{"id": 1, "text": "Salad", "pictureUrl": "https://pics.example/s.png"}}},
			map[string]any{"id": 1, "title": "Extras", "type": 1, "isInvisible": false, "isEditable": true, "options": []any{
				map[string]any{"id": 0, "text": "Bread", "pictureUrl": nil},
				map[string]any{"id": 1, "text": "Fruit", "pictureUrl": nil},
				map[string]any{"id": 2, "text": "Tea", "pictureUrl": nil}}},
			map[string]any{"id": 2, "title": "How many", "type": 3, "isInvisible": false, "isEditable": true, "options": []any{}},
			map[string]any{"id": 3, "title": "Notes", "type": 2, "isInvisible": true, "isEditable": false, "options": []any{}},
		},
		"properties": []any{map[string]any{"name": "place", "type": 0, "value": "Canteen"}},
	}, "form")

	want(t, seen, rs[0].ID, "responses", 0, "id")
	want(t, seen, rs[0].UpdatedAt.UnixMilli(), "responses", 0, "sendTime")
	want(t, seen, map[string]string{"0": "1", "1": "[0,2]", "2": "2", "3": "no onions"}, "responses", 0, "questionToAnswerMap")

	want(t, seen, []string{bob, alice}, "flat", "respondedUserIds")
	want(t, seen, 3, "flat", "totalResponseCount")
	want(t, seen, []any{
		map[string]string{"0": "1", "1": "[0,2]", "2": "2", "3": "no onions"},
		map[string]string{"0": "1", "1": "[]", "2": "3", "3": ""},
	}, "flat", "allResponses", bob)
	want(t, seen, []any{map[string]string{"0": "0", "1": "[2]", "2": "1.5"}}, "flat", "allResponses", alice)

	want(t, seen, []string{carol}, "processed", "nonResponders")
	want(t, seen, 3, "processed", "targetResponderCount")
	want(t, seen, 3, "processed", "totalResponseCount")
	want(t, seen, map[string]any{"optionTitle": "Salad", "optionId": 1, "total": 2, "responders": map[string]int{bob: 2}},
		"processed", "results", "0", "options", "1")
	want(t, seen, map[string]any{"optionTitle": "Soup", "optionId": 0, "total": 1, "responders": map[string]int{alice: 1}},
		"processed", "results", "0", "options", "0")
	want(t, seen, []int{1, 0}, "processed", "results", "0", "resultsOrder")
	want(t, seen, map[string]any{"optionTitle": "Tea", "optionId": 2, "total": 2, "responders": map[string]int{bob: 1, alice: 1}},
		"processed", "results", "1", "options", "2")
	want(t, seen, 6.5, "processed", "results", "2", "sum")
	want(t, seen, 6.5/3, "processed", "results", "2", "average")
	if get(t, seen, "processed", "results", "3") != nil {
		t.Errorf("a Text question has a processed result")
	}

	want(t, seen, map[string]any{"formId": fid, "formStatus": 0, "totalResponseCount": 3, "totalParticipantsCount": 2,
		"targetResponderCount": 3, "result": [][]int{{1, 2}, {1, 0, 2}, {}, {}}}, "aggregated")
}

// TestKASClientReadsOnePerUser: with one response per user the flat
// summary holds each answer as it is, and an expired form's aggregated
// summary says so.
func TestKASClientReadsOnePerUser(t *testing.T) {
	f := testForm(false, false)
	rs := []*cardgate.FormResponse{
		resp(1, bob, map[int]string{0: "1", 2: "2"}),
		resp(2, carol, map[int]string{0: "0", 1: "[1]"}),
	}
	s := forms.Summarize(f, members, rs, f.Expiry)
	seen := kasclientRead(t, map[string]any{"form": forms.ToForm(f), "responses": []any{},
		"flat": s.Flat, "processed": s.Processed, "aggregated": s.Aggregated})
	want(t, seen, false, "form", "isResponseAppended")
	want(t, seen, []any{map[string]string{"0": "1", "2": "2"}}, "flat", "allResponses", bob)
	want(t, seen, []any{map[string]string{"0": "0", "1": "[1]"}}, "flat", "allResponses", carol)
	want(t, seen, 2, "flat", "totalResponseCount")
	want(t, seen, []string{alice}, "processed", "nonResponders")
	want(t, seen, 2, "aggregated", "formStatus")
}

// TestKASClientReadsAnonymous: an anonymous form's summaries name no
// responder: each is "anonymous-N", the same in every summary.
func TestKASClientReadsAnonymous(t *testing.T) {
	f := testForm(true, true)
	rs := []*cardgate.FormResponse{
		resp(1, bob, map[int]string{0: "1"}),
		resp(2, carol, map[int]string{0: "1"}),
		resp(3, bob, map[int]string{0: "0"}),
	}
	s := forms.Summarize(f, members, rs, t0)
	seen := kasclientRead(t, map[string]any{"form": forms.ToForm(f), "responses": []any{},
		"flat": s.Flat, "processed": s.Processed, "aggregated": s.Aggregated})
	want(t, seen, []string{"anonymous-1", "anonymous-2"}, "flat", "respondedUserIds")
	want(t, seen, []any{map[string]string{"0": "1"}, map[string]string{"0": "0"}}, "flat", "allResponses", "anonymous-1")
	want(t, seen, map[string]int{"anonymous-1": 1, "anonymous-2": 1}, "processed", "results", "0", "options", "1", "responders")
	want(t, seen, 2, "processed", "results", "0", "options", "1", "total")
	b, _ := json.Marshal(s)
	for _, id := range []string{bob, carol} {
		if strings.Contains(string(b), id) {
			t.Errorf("the summaries of an anonymous form name user %s", id)
		}
	}
}

// TestAnonymousResponseOnANamedForm: a response sent anonymously is not
// named even when the form is not anonymous; the user's other responses
// are.
func TestAnonymousResponseOnANamedForm(t *testing.T) {
	f := testForm(true, false)
	r2 := resp(2, bob, map[int]string{0: "0"})
	r2.Anonymous = true
	s := forms.Summarize(f, members, []*cardgate.FormResponse{resp(1, bob, map[int]string{0: "1"}), r2}, t0)
	if _, ok := s.Flat.Responses[bob]; !ok || len(s.Flat.Responses) != 2 {
		t.Fatalf("flat responders = %v; want bob and one anonymous", s.Flat.Responses)
	}
	if got := s.Processed.Results["0"].OptionResults["0"].Responders; len(got) != 1 || got[0].ID != "anonymous-1" {
		t.Fatalf("responders of the anonymous answer = %+v", got)
	}
}

// TestApplyWhatKASClientWrites: a form built with Kaizala's own KASClient.js
// classes, as a creation view builds it, and written by KASForm.toJSON in
// each of its two shapes, reads back as the same form.
func TestApplyWhatKASClientWrites(t *testing.T) {
	node := nodePath(t)
	cmd := exec.CommandContext(t.Context(), node, "testdata/kasclient_write.js", kaizalatest.File(t, "actions/KASClient.js"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var shapes map[string]json.RawMessage
	if err := json.Unmarshal(out, &shapes); err != nil {
		t.Fatalf("node printed %s: %v", out, err)
	}
	am, err := forms.ParseAppModel([]byte(`{"title":"Lunch","isAnonymous":false,"isResponseAppended":true}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, shape := range []string{"client", "web"} {
		f := am.Form(origin)
		if err := forms.ApplyKASForm(f, shapes[shape]); err != nil {
			t.Fatalf("%s: %v\n%s", shape, err, shapes[shape])
		}
		if f.Title != "Team lunch" || !f.Anonymous || f.Expiry.UnixMilli() != 1795602600000 || f.SeveralPerUser ||
			f.Visibility != cardgate.ResultsAdmin || len(f.Questions) != 3 ||
			f.Questions[0].Type != cardgate.SingleSelect || f.Questions[0].Options[1].Text != "Park" ||
			f.Questions[0].Options[1].PictureURL != "https://pics.example/park.png" ||
			f.Questions[1].Type != cardgate.MultiSelect || len(f.Questions[1].Options) != 2 ||
			f.Questions[2].Type != cardgate.Numeric || !f.Questions[2].Invisible ||
			len(f.Properties) != 1 || f.Properties[0] != (cardgate.FormProperty{Name: "budget", Type: cardgate.PropertyNumeric, Value: "10"}) {
			t.Errorf("%s shape read as %+v\nfrom %s", shape, f, shapes[shape])
		}
	}
}

// nodePath finds Node.js, or skips (fails under CI=true).
func nodePath(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal("node is not installed; CI must run this test (apt-get install nodejs)")
		}
		t.Skip("node is not installed; install Node.js to run Kaizala's KASClient.js")
	}
	return node
}

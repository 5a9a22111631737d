package forms_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/forms"
	"github.com/cardgate/cardgate/sqlite"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

// TestParseAnswers: a card's questionToAnswerMap, whatever JSON types its
// answers have, becomes text answers by question ID.
func TestParseAnswers(t *testing.T) {
	got, err := forms.ParseAnswers([]byte(`{"0":"1","1":"[0, 2]","2":3.5,"3":1795602600000,"4":true,"5":null,"6":{"lat": 1,"long":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{0: "1", 1: "[0, 2]", 2: "3.5", 3: "1795602600000", 4: "true", 5: "", 6: `{"lat":1,"long":2}`}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("answers = %v", got)
	}
	for _, tc := range []struct{ json, want string }{
		{`[]`, "questionToAnswerMap: must be an object"},
		{`{"a":"x"}`, `questionToAnswerMap."a": keys must be question IDs`},
		{`{"01":"x"}`, `questionToAnswerMap."01": keys must be question IDs`},
		{`{"-1":"x"}`, `questionToAnswerMap."-1": keys must be question IDs`},
	} {
		_, err := forms.ParseAnswers([]byte(tc.json))
		if cardgate.ErrorCode(err) != cardgate.EINVALID || !strings.Contains(cardgate.ErrorMessage(err), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.json, err, tc.want)
		}
	}
}

// world stores alice (admin), bob (member) and carol (no member) and the
// form f in conv.
func world(t *testing.T, f *cardgate.Form) *sqlite.DB {
	t.Helper()
	ctx := t.Context()
	db := sqlitetest.Open(t)
	for i, id := range []string{alice, bob, carol} {
		u := &cardgate.User{ID: id, Name: "U", PhoneNumber: []string{"+14155550101", "+14155550102", "+14155550103"}[i], CreatedAt: t0, UpdatedAt: t0}
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	must(t, db.CreatePackage(ctx, &cardgate.ActionPackage{ID: f.PackageID, DisplayName: "Lunch", CreatedAt: t0, UpdatedAt: t0}))
	must(t, db.CreateConversation(ctx, &cardgate.Conversation{ID: conv, Title: "Team", CreatedAt: t0}))
	must(t, db.PutMember(ctx, &cardgate.Member{ConversationID: conv, UserID: alice, Role: cardgate.MemberAdmin, AddedAt: t0}))
	must(t, db.PutMember(ctx, &cardgate.Member{ConversationID: conv, UserID: bob, Role: cardgate.MemberMember, AddedAt: t0}))
	must(t, db.CreateForm(ctx, f))
	return db
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const (
	r1 = "a0000000-0000-4000-8000-000000000001"
	r2 = "a0000000-0000-4000-8000-000000000002"
	r3 = "a0000000-0000-4000-8000-000000000003"
)

// TestRespondOnePerUser: on a form that takes one response per user, a
// second submission edits the first, as Kaizala's "update response" did;
// an answer to a question that is not editable cannot change.
func TestRespondOnePerUser(t *testing.T) {
	ctx := t.Context()
	f := testForm(false, false)
	db := world(t, f)
	now := t0.Add(time.Minute)

	r, err := forms.Respond(ctx, db, f, forms.Submission{UserID: bob, Answers: map[int]string{0: "1", 3: "no onions"}}, r1, now)
	must(t, err)
	if r.ID != r1 || r.Edits != 0 {
		t.Fatalf("first response = %+v", r)
	}
	r, err = forms.Respond(ctx, db, f, forms.Submission{UserID: bob, Answers: map[int]string{0: "0"}}, r2, now.Add(time.Minute))
	must(t, err)
	if r.ID != r1 || r.Edits != 1 || !r.CreatedAt.Equal(now) {
		t.Fatalf("second submission = %+v; want an edit of %s", r, r1)
	}
	mine, err := db.UserResponses(ctx, fid, bob)
	must(t, err)
	// Question 3 is not editable: its answer stays though the edit left it out.
	if len(mine) != 1 || !reflect.DeepEqual(mine[0].Answers, map[int]string{0: "0", 3: "no onions"}) {
		t.Fatalf("responses = %+v", mine)
	}
	_, err = forms.Respond(ctx, db, f, forms.Submission{UserID: bob, ResponseID: r1, IsEdit: true, Answers: map[int]string{3: "extra onions"}}, r3, now)
	if cardgate.ErrorCode(err) != cardgate.EFORBIDDEN || !strings.Contains(cardgate.ErrorMessage(err), "questionToAnswerMap.3") {
		t.Fatalf("changing a non-editable answer: %v", err)
	}
	_, err = forms.Respond(ctx, db, f, forms.Submission{UserID: alice, ResponseID: r1, IsEdit: true, Answers: map[int]string{0: "1"}}, r3, now)
	if cardgate.ErrorCode(err) != cardgate.ENOTFOUND {
		t.Fatalf("editing another user's response: %v", err)
	}
	_, err = forms.Respond(ctx, db, f, forms.Submission{UserID: carol, Answers: map[int]string{0: "1"}}, r3, now)
	if cardgate.ErrorCode(err) != cardgate.EFORBIDDEN {
		t.Fatalf("a non-member: %v", err)
	}
	locked := testForm(false, false)
	locked.ID, locked.ResponsesEditable = "f0000000-0000-4000-8000-000000000009", false
	must(t, db.CreateForm(ctx, locked))
	must2(t)(forms.Respond(ctx, db, locked, forms.Submission{UserID: bob, Answers: map[int]string{0: "1"}}, r2, now))
	_, err = forms.Respond(ctx, db, locked, forms.Submission{UserID: bob, Answers: map[int]string{0: "0"}}, r3, now)
	if cardgate.ErrorCode(err) != cardgate.ECONFLICT || !strings.Contains(cardgate.ErrorMessage(err), "its responses cannot be changed") {
		t.Fatalf("a second response to a form whose responses cannot be edited: %v", err)
	}
	_, err = forms.Respond(ctx, db, f, forms.Submission{UserID: alice, Answers: map[int]string{0: "7"}}, r3, now)
	if cardgate.ErrorCode(err) != cardgate.EINVALID || !strings.Contains(cardgate.ErrorMessage(err), "questionToAnswerMap.0: must be the ID of one of the question's 2 options") {
		t.Fatalf("an answer that is no option: %v", err)
	}
}

// TestRespondSeveralPerUser: on a form that takes several responses, each
// submission is a new response, and an edit names the one it changes.
func TestRespondSeveralPerUser(t *testing.T) {
	ctx := t.Context()
	f := testForm(true, false)
	db := world(t, f)
	now := t0.Add(time.Minute)
	must2(t)(forms.Respond(ctx, db, f, forms.Submission{UserID: bob, Answers: map[int]string{0: "1"}}, r1, now))
	must2(t)(forms.Respond(ctx, db, f, forms.Submission{UserID: bob, Answers: map[int]string{0: "0"}}, r2, now))
	r, err := forms.Respond(ctx, db, f, forms.Submission{UserID: bob, ResponseID: r1, IsEdit: true, Answers: map[int]string{0: "0", 2: "4"}}, r3, now)
	must(t, err)
	if r.ID != r1 || r.Edits != 1 {
		t.Fatalf("edit = %+v", r)
	}
	if _, err := forms.Respond(ctx, db, f, forms.Submission{UserID: bob, IsEdit: true}, r3, now); cardgate.ErrorCode(err) != cardgate.EINVALID {
		t.Fatalf("an edit without a response ID: %v", err)
	}
	s, err := forms.Results(ctx, db, alice, f, now)
	must(t, err)
	if s.Processed.TotalResponseCount != 2 || s.Processed.Results["0"].OptionResults["0"].TotalResponsesCount != 2 ||
		*s.Processed.Results["2"].Sum != 4 || s.Aggregated.TotalParticipants != 1 || len(s.Processed.NonResponders) != 1 {
		t.Fatalf("summaries after an edit: %+v %+v", s.Processed, s.Aggregated)
	}
}

func must2(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		must(t, err)
	}
}

// TestRuleChecks: CanRespond and CanSeeResults read the membership the
// store holds now; Results refuses whoever may not see the results.
func TestRuleChecks(t *testing.T) {
	ctx := t.Context()
	f := testForm(true, false) // results visible to admins and the creator
	db := world(t, f)
	now := t0.Add(time.Minute)
	for _, tc := range []struct {
		user          string
		respond, sees bool
	}{{alice, true, true}, {bob, true, false}, {carol, false, false}} {
		if err := forms.CanRespond(ctx, db, tc.user, f, now); (err == nil) != tc.respond {
			t.Errorf("CanRespond(%s) = %v", tc.user[:4], err)
		}
		if err := forms.CanSee(ctx, db, tc.user, f); (err == nil) != tc.respond {
			t.Errorf("CanSee(%s) = %v", tc.user[:4], err)
		}
		if err := forms.CanSeeResults(ctx, db, tc.user, f); (err == nil) != tc.sees {
			t.Errorf("CanSeeResults(%s) = %v", tc.user[:4], err)
		}
		if _, err := forms.Results(ctx, db, tc.user, f, now); (err == nil) != tc.sees {
			t.Errorf("Results(%s) = %v", tc.user[:4], err)
		}
	}
	if err := forms.CanRespond(ctx, db, alice, f, f.Expiry); cardgate.ErrorCode(err) != cardgate.EFORBIDDEN {
		t.Errorf("CanRespond at the expiry = %v", err)
	}
	must(t, db.RemoveMember(ctx, conv, alice))
	if err := forms.CanSeeResults(ctx, db, alice, f); cardgate.ErrorCode(err) != cardgate.EFORBIDDEN {
		t.Errorf("CanSeeResults of a removed admin = %v", err)
	}
}

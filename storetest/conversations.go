package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

// Conversation IDs and form IDs of the conversation tests.
const (
	c1 = "11111111-1111-4111-8111-111111111111"
	c2 = "22222222-2222-4222-8222-222222222222"
	f1 = "f0000000-0000-4000-8000-000000000001"
	f2 = "f0000000-0000-4000-8000-000000000002"
)

// rid makes the n-th response ID.
func rid(n int) string { return fmt.Sprintf("a0000000-0000-4000-8000-%012d", n) }

// conversationWorld stores users u1, u2 and u3, package p1, and
// conversation c1 with u1 as admin and u2 as member; u3 belongs to no
// conversation.
func conversationWorld(t *testing.T, s cardgate.Store) {
	t.Helper()
	ctx := t.Context()
	for _, id := range []string{u1, u2, u3} {
		mustOK(t, s.CreateUser(ctx, user(id)))
	}
	mustOK(t, s.CreatePackage(ctx, pkg(p1)))
	mustOK(t, s.CreateConversation(ctx, &cardgate.Conversation{ID: c1, Title: "Field team", CreatedAt: t0}))
	mustOK(t, s.PutMember(ctx, &cardgate.Member{ConversationID: c1, UserID: u1, Role: cardgate.MemberAdmin, AddedAt: t0}))
	mustOK(t, s.PutMember(ctx, &cardgate.Member{ConversationID: c1, UserID: u2, Role: cardgate.MemberMember, AddedAt: t0}))
}

// form makes a form of p1 in c1 by u1 with one question of each kind the
// summaries count.
func form(id string) *cardgate.Form {
	return &cardgate.Form{ID: id, ConversationID: c1, PackageID: p1, CreatorID: u1, Title: "Lunch order",
		AppModel: json.RawMessage(`{"title":"Lunch order"}`),
		Questions: []cardgate.Question{
			{ID: 0, Title: "Dish", Type: cardgate.SingleSelect, Editable: true,
				Options: []cardgate.QuestionOption{{ID: 0, Text: "Soup"}, {ID: 1, Text: "Salad", PictureURL: "https://pics.example/salad.png"}}},
			{ID: 1, Title: "How many", Type: cardgate.Numeric, Editable: true},
			{ID: 2, Title: "Notes", Type: cardgate.Text, Invisible: true},
		},
		Properties: []cardgate.FormProperty{{Name: "place", Type: cardgate.PropertyText, Value: "Canteen"}},
		Expiry:     t0.Add(24 * time.Hour), Visibility: cardgate.ResultsAll,
		ResponsesEditable: true, CreatedAt: t0}
}

func response(n int, formID, userID string, at time.Time) *cardgate.FormResponse {
	return &cardgate.FormResponse{ID: rid(n), FormID: formID, UserID: userID,
		Answers: map[int]string{0: "1", 1: "2"}, CreatedAt: at}
}

// testConversations: a conversation comes back as stored; a second one
// with its ID is ECONFLICT; an unknown one is ENOTFOUND.
func testConversations(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	_, err := s.Conversation(ctx, c1)
	wantCode(t, err, cardgate.ENOTFOUND)
	if cs, err := s.Conversations(ctx); err != nil || len(cs) != 0 {
		t.Fatalf("Conversations of an empty store = %v, %v", cs, err)
	}
	a := &cardgate.Conversation{ID: c1, Title: "Field team", CreatedAt: t0}
	mustOK(t, s.CreateConversation(ctx, a))
	mustOK(t, s.CreateConversation(ctx, &cardgate.Conversation{ID: c2, Title: "Office", CreatedAt: t0.Add(time.Minute)}))
	wantCode(t, s.CreateConversation(ctx, &cardgate.Conversation{ID: c1, Title: "Again", CreatedAt: t0}), cardgate.ECONFLICT)
	got, err := s.Conversation(ctx, c1)
	mustOK(t, err)
	if got.ID != a.ID || got.Title != a.Title || !sameTime(got.CreatedAt, a.CreatedAt) {
		t.Fatalf("Conversation = %+v, want %+v", got, a)
	}
	cs, err := s.Conversations(ctx)
	mustOK(t, err)
	if got := ids(cs, func(c *cardgate.ConversationSummary) string { return c.ID }); got != c1+" "+c2 {
		t.Fatalf("Conversations = %s", got)
	}
}

// testMembers: members are added with a role, re-adding changes the
// role, removing takes them out; unknown conversations and users are
// ENOTFOUND, and so is removing or reading a non-member.
func testMembers(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	mustOK(t, s.CreateUser(ctx, user(u1)))
	mustOK(t, s.CreateUser(ctx, user(u2)))
	wantCode(t, s.PutMember(ctx, &cardgate.Member{ConversationID: c1, UserID: u1, Role: cardgate.MemberAdmin, AddedAt: t0}), cardgate.ENOTFOUND)
	_, err := s.Members(ctx, c1)
	wantCode(t, err, cardgate.ENOTFOUND)
	mustOK(t, s.CreateConversation(ctx, &cardgate.Conversation{ID: c1, Title: "Field team", CreatedAt: t0}))
	wantCode(t, s.PutMember(ctx, &cardgate.Member{ConversationID: c1, UserID: u3, Role: cardgate.MemberMember, AddedAt: t0}), cardgate.ENOTFOUND)

	mustOK(t, s.PutMember(ctx, &cardgate.Member{ConversationID: c1, UserID: u1, Role: cardgate.MemberAdmin, AddedAt: t0}))
	mustOK(t, s.PutMember(ctx, &cardgate.Member{ConversationID: c1, UserID: u2, Role: cardgate.MemberAdmin, AddedAt: t0}))
	later := t0.Add(time.Hour)
	mustOK(t, s.PutMember(ctx, &cardgate.Member{ConversationID: c1, UserID: u2, Role: cardgate.MemberMember, AddedAt: later}))
	m, err := s.Member(ctx, c1, u2)
	mustOK(t, err)
	if m.ConversationID != c1 || m.UserID != u2 || m.Role != cardgate.MemberMember || !sameTime(m.AddedAt, later) {
		t.Fatalf("Member after a role change = %+v", m)
	}
	// Added again with the same role: nothing changes, addedAt included.
	mustOK(t, s.PutMember(ctx, &cardgate.Member{ConversationID: c1, UserID: u2, Role: cardgate.MemberMember, AddedAt: later.Add(time.Hour)}))
	if m, err := s.Member(ctx, c1, u2); err != nil || m.Role != cardgate.MemberMember || !sameTime(m.AddedAt, later) {
		t.Fatalf("Member after being added again with the same role = %+v, %v; want addedAt %v", m, err, later)
	}
	ms, err := s.Members(ctx, c1)
	mustOK(t, err)
	if len(ms) != 2 || ms[0].UserID != u1 || ms[0].Role != cardgate.MemberAdmin || ms[1].UserID != u2 {
		t.Fatalf("Members = %+v, %+v", ms[0], ms[1:])
	}

	// Each user lists their own conversations, with their role and the
	// member count; one in none lists none.
	mustOK(t, s.CreateConversation(ctx, &cardgate.Conversation{ID: c2, Title: "Office", CreatedAt: t0.Add(time.Minute)}))
	mustOK(t, s.PutMember(ctx, &cardgate.Member{ConversationID: c2, UserID: u2, Role: cardgate.MemberAdmin, AddedAt: t0}))
	ucs, err := s.UserConversations(ctx, u2)
	mustOK(t, err)
	if len(ucs) != 2 || ucs[0].ID != c1 || ucs[0].Title != "Field team" || ucs[0].Role != cardgate.MemberMember || ucs[0].Members != 2 ||
		!sameTime(ucs[0].CreatedAt, t0) || ucs[1].ID != c2 || ucs[1].Role != cardgate.MemberAdmin || ucs[1].Members != 1 {
		t.Fatalf("UserConversations(u2) = %+v", ucs)
	}
	if ucs, err := s.UserConversations(ctx, u1); err != nil || len(ucs) != 1 || ucs[0].ID != c1 || ucs[0].Role != cardgate.MemberAdmin {
		t.Fatalf("UserConversations(u1) = %+v, %v", ucs, err)
	}
	if ucs, err := s.UserConversations(ctx, u3); err != nil || len(ucs) != 0 {
		t.Fatalf("UserConversations of a user in none = %+v, %v", ucs, err)
	}
	// Every conversation, each with its member count.
	counts := func() string {
		cs, err := s.Conversations(ctx)
		mustOK(t, err)
		return ids(cs, func(c *cardgate.ConversationSummary) string { return fmt.Sprintf("%s:%d", c.Title, c.Members) })
	}
	if got := counts(); got != "Field team:2 Office:1" {
		t.Fatalf("Conversations = %s, want Field team:2 Office:1", got)
	}

	mustOK(t, s.RemoveMember(ctx, c1, u2))
	if ucs, err := s.UserConversations(ctx, u2); err != nil || len(ucs) != 1 || ucs[0].ID != c2 {
		t.Fatalf("UserConversations after a removal = %+v, %v", ucs, err)
	}
	_, err = s.Member(ctx, c1, u2)
	wantCode(t, err, cardgate.ENOTFOUND)
	wantCode(t, s.RemoveMember(ctx, c1, u2), cardgate.ENOTFOUND)
	if ms, err := s.Members(ctx, c1); err != nil || len(ms) != 1 || ms[0].UserID != u1 {
		t.Fatalf("Members after a removal = %v, %v", ms, err)
	}
	if got := counts(); got != "Field team:1 Office:1" {
		t.Fatalf("Conversations after a removal = %s, want Field team:1 Office:1", got)
	}
}

func equalForm(t *testing.T, got, want *cardgate.Form) {
	t.Helper()
	if got == nil {
		t.Fatalf("form is nil, want %+v", want)
	}
	g, w := *got, *want
	if !sameTime(g.Expiry, w.Expiry) || !sameTime(g.CreatedAt, w.CreatedAt) || string(g.AppModel) != string(w.AppModel) {
		t.Fatalf("form =\n\t%+v\nwant\n\t%+v", got, want)
	}
	g.Expiry, g.CreatedAt, g.AppModel = w.Expiry, w.CreatedAt, w.AppModel
	if len(g.Properties) == 0 && len(w.Properties) == 0 {
		g.Properties = w.Properties
	}
	if len(g.Questions) == 0 && len(w.Questions) == 0 {
		g.Questions = w.Questions
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("form =\n\t%+v\nwant\n\t%+v", got, want)
	}
}

// testForms: a form comes back as stored, with every setting; it needs a
// known conversation, package and creator (ENOTFOUND), a creator who is a
// member (EFORBIDDEN), and an ID of its own (ECONFLICT).
func testForms(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	conversationWorld(t, s)
	f := form(f1)
	for _, tc := range []struct {
		name   string
		change func(f *cardgate.Form)
		code   string
	}{
		{"unknown conversation", func(f *cardgate.Form) { f.ConversationID = c2 }, cardgate.ENOTFOUND},
		{"unknown package", func(f *cardgate.Form) { f.PackageID = p2 }, cardgate.ENOTFOUND},
		{"unknown creator", func(f *cardgate.Form) { f.CreatorID = "99999999-9999-4999-8999-999999999999" }, cardgate.ENOTFOUND},
		{"creator not a member", func(f *cardgate.Form) { f.CreatorID = u3 }, cardgate.EFORBIDDEN},
	} {
		bad := form(f1)
		tc.change(bad)
		if err := s.CreateForm(ctx, bad); cardgate.ErrorCode(err) != tc.code {
			t.Errorf("%s: CreateForm = %v, want code %s", tc.name, err, tc.code)
		}
	}
	_, err := s.Form(ctx, f1)
	wantCode(t, err, cardgate.ENOTFOUND) // the refused forms left nothing

	mustOK(t, s.CreateForm(ctx, f))
	wantCode(t, s.CreateForm(ctx, form(f1)), cardgate.ECONFLICT)
	got, err := s.Form(ctx, f1)
	mustOK(t, err)
	equalForm(t, got, f)

	// Every setting flipped, no expiry, no questions, properties nor app model.
	g := &cardgate.Form{ID: f2, ConversationID: c1, PackageID: p1, CreatorID: u2, Title: "Poll",
		Visibility: cardgate.ResultsAdmin, Anonymous: true, SeveralPerUser: true, LocationRequested: true,
		CreatedAt: t0.Add(time.Minute)}
	mustOK(t, s.CreateForm(ctx, g))
	got, err = s.Form(ctx, f2)
	mustOK(t, err)
	equalForm(t, got, g)

	fs, err := s.Forms(ctx, c1)
	mustOK(t, err)
	if len(fs) != 2 || fs[0].ID != f1 || fs[1].ID != f2 {
		t.Fatalf("Forms = %v", fs)
	}
	mustOK(t, s.CreateConversation(ctx, &cardgate.Conversation{ID: c2, Title: "Empty", CreatedAt: t0}))
	if fs, err := s.Forms(ctx, c2); err != nil || len(fs) != 0 {
		t.Fatalf("Forms of a conversation without forms = %v, %v", fs, err)
	}
	_, err = s.Forms(ctx, "33333333-3333-4333-8333-333333333333")
	wantCode(t, err, cardgate.ENOTFOUND)
}

// testResponseRules: only members respond, a removed member no longer
// can (their earlier response stays), nothing is taken at or after the
// expiry, and a form that takes one response per user refuses a second.
func testResponseRules(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	conversationWorld(t, s)
	f := form(f1)
	mustOK(t, s.CreateForm(ctx, f))
	at := t0.Add(time.Hour)

	wantCode(t, s.AddResponse(ctx, response(1, "f0000000-0000-4000-8000-00000000dead", u1, at)), cardgate.ENOTFOUND)
	wantCode(t, s.AddResponse(ctx, response(1, f1, u3, at)), cardgate.EFORBIDDEN)

	mustOK(t, s.AddResponse(ctx, response(1, f1, u2, at)))
	err := s.AddResponse(ctx, response(2, f1, u2, at.Add(time.Second)))
	wantCode(t, err, cardgate.ECONFLICT)
	wantCode(t, s.AddResponse(ctx, response(1, f1, u1, at)), cardgate.ECONFLICT) // the ID is taken

	// At the expiry is too late; a moment before is not.
	wantCode(t, s.AddResponse(ctx, response(3, f1, u1, f.Expiry)), cardgate.EFORBIDDEN)
	mustOK(t, s.AddResponse(ctx, response(3, f1, u1, f.Expiry.Add(-time.Millisecond))))

	mustOK(t, s.RemoveMember(ctx, c1, u2))
	wantCode(t, s.AddResponse(ctx, response(4, f1, u2, at)), cardgate.EFORBIDDEN)
	rs, err := s.Responses(ctx, f1)
	mustOK(t, err)
	if len(rs) != 2 || rs[0].ID != rid(1) || rs[1].ID != rid(3) {
		t.Fatalf("Responses = %v", rs)
	}
	want := response(1, f1, u2, at)
	if got := rs[0]; got.UserID != u2 || !reflect.DeepEqual(got.Answers, want.Answers) || got.Edits != 0 ||
		!sameTime(got.CreatedAt, at) || !sameTime(got.UpdatedAt, at) || got.Anonymous {
		t.Fatalf("stored response = %+v, want %+v", got, want)
	}
	// Back in the conversation, the user responds again... to a form that
	// takes one response each: still no.
	mustOK(t, s.PutMember(ctx, &cardgate.Member{ConversationID: c1, UserID: u2, Role: cardgate.MemberMember, AddedAt: at}))
	wantCode(t, s.AddResponse(ctx, response(4, f1, u2, at)), cardgate.ECONFLICT)

	_, err = s.Responses(ctx, "f0000000-0000-4000-8000-00000000dead")
	wantCode(t, err, cardgate.ENOTFOUND)
}

// testSeveralResponses: a form with SeveralPerUser takes any number of
// responses from one user, each kept and listed per user.
func testSeveralResponses(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	conversationWorld(t, s)
	f := form(f1)
	f.SeveralPerUser = true
	mustOK(t, s.CreateForm(ctx, f))
	for i := range 3 {
		r := response(i, f1, u2, t0.Add(time.Duration(i)*time.Minute))
		r.Anonymous = i == 1
		mustOK(t, s.AddResponse(ctx, r))
	}
	mustOK(t, s.AddResponse(ctx, response(9, f1, u1, t0)))
	rs, err := s.UserResponses(ctx, f1, u2)
	mustOK(t, err)
	if len(rs) != 3 || rs[0].ID != rid(0) || rs[2].ID != rid(2) || !rs[1].Anonymous || rs[0].Anonymous {
		t.Fatalf("UserResponses = %+v", rs)
	}
	if rs, err := s.UserResponses(ctx, f1, u3); err != nil || len(rs) != 0 {
		t.Fatalf("UserResponses of a user who did not respond = %v, %v", rs, err)
	}
	if rs, err := s.Responses(ctx, f1); err != nil || len(rs) != 4 {
		t.Fatalf("Responses = %v, %v", rs, err)
	}
}

// testEditResponse: an edit replaces the answers under the same ID and
// CreatedAt and counts itself; only the response's own user edits it,
// only while a member and before the expiry, and only on a form whose
// responses are editable.
func testEditResponse(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	conversationWorld(t, s)
	f := form(f1)
	mustOK(t, s.CreateForm(ctx, f))
	locked := form(f2)
	locked.ResponsesEditable = false
	mustOK(t, s.CreateForm(ctx, locked))
	at := t0.Add(time.Hour)
	mustOK(t, s.AddResponse(ctx, response(1, f1, u2, at)))
	mustOK(t, s.AddResponse(ctx, response(2, f2, u2, at)))

	edit := func(n int, formID, userID string, when time.Time) *cardgate.FormResponse {
		return &cardgate.FormResponse{ID: rid(n), FormID: formID, UserID: userID, Answers: map[int]string{0: "0", 2: "no onions"}, UpdatedAt: when}
	}
	wantCode(t, s.EditResponse(ctx, edit(1, f1, u1, at)), cardgate.ENOTFOUND) // not u1's
	wantCode(t, s.EditResponse(ctx, edit(1, f2, u2, at)), cardgate.ENOTFOUND) // not f2's
	wantCode(t, s.EditResponse(ctx, edit(7, f1, u2, at)), cardgate.ENOTFOUND) // no such response
	wantCode(t, s.EditResponse(ctx, edit(2, f2, u2, at)), cardgate.EFORBIDDEN)
	wantCode(t, s.EditResponse(ctx, edit(1, f1, u2, f.Expiry)), cardgate.EFORBIDDEN)

	when := at.Add(time.Minute)
	e := edit(1, f1, u2, when)
	mustOK(t, s.EditResponse(ctx, e))
	if e.Edits != 1 || !sameTime(e.CreatedAt, at) {
		t.Fatalf("EditResponse left r = %+v; want Edits 1 and CreatedAt %v", e, at)
	}
	e2 := edit(1, f1, u2, when.Add(time.Minute))
	e2.Answers = map[int]string{0: "1"}
	mustOK(t, s.EditResponse(ctx, e2))
	rs, err := s.UserResponses(ctx, f1, u2)
	mustOK(t, err)
	if len(rs) != 1 || rs[0].Edits != 2 || !reflect.DeepEqual(rs[0].Answers, map[int]string{0: "1"}) ||
		!sameTime(rs[0].CreatedAt, at) || !sameTime(rs[0].UpdatedAt, when.Add(time.Minute)) {
		t.Fatalf("after two edits: %+v", rs[0])
	}

	mustOK(t, s.RemoveMember(ctx, c1, u2))
	wantCode(t, s.EditResponse(ctx, edit(1, f1, u2, when)), cardgate.EFORBIDDEN)
	if rs, _ := s.UserResponses(ctx, f1, u2); len(rs) != 1 || rs[0].Edits != 2 {
		t.Fatalf("a refused edit changed the response: %+v", rs)
	}
}

// testCloseForm: CloseForm moves a form's expiry to the time it closes,
// unless it expires at or before that already, and returns the form as
// stored; the form is then an expired one, for responses and edits alike.
// Closing again never reopens it; an unknown form is ENOTFOUND. Closes at
// once leave the earliest.
func testCloseForm(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	conversationWorld(t, s)
	const f3 = "f0000000-0000-4000-8000-000000000003"
	f := form(f1) // expires at t0+24h
	mustOK(t, s.CreateForm(ctx, f))
	never := form(f2)
	never.Expiry = time.Time{}
	mustOK(t, s.CreateForm(ctx, never))
	at := t0.Add(time.Hour)
	mustOK(t, s.AddResponse(ctx, response(1, f1, u2, at.Add(-time.Minute))))

	_, err := s.CloseForm(ctx, "f0000000-0000-4000-8000-00000000dead", at)
	wantCode(t, err, cardgate.ENOTFOUND)
	_, err = s.CloseForm(ctx, f1, time.Time{})
	wantCode(t, err, cardgate.EINVALID)

	closed, err := s.CloseForm(ctx, f1, at)
	mustOK(t, err)
	want := form(f1)
	want.Expiry = at
	equalForm(t, closed, want) // only the expiry changed
	got, err := s.Form(ctx, f1)
	mustOK(t, err)
	equalForm(t, got, want)
	if !got.Expired(at) || got.Expired(at.Add(-time.Microsecond)) {
		t.Fatalf("the closed form: Expired(at) = %v, a moment before %v", got.Expired(at), got.Expired(at.Add(-time.Microsecond)))
	}

	// Closed is expired: no response nor edit at or after the close; the
	// response sent before stays.
	wantCode(t, s.AddResponse(ctx, response(2, f1, u1, at)), cardgate.EFORBIDDEN)
	wantCode(t, s.AddResponse(ctx, response(2, f1, u1, at.Add(time.Hour))), cardgate.EFORBIDDEN)
	edit := &cardgate.FormResponse{ID: rid(1), FormID: f1, UserID: u2, Answers: map[int]string{0: "0"}, UpdatedAt: at}
	wantCode(t, s.EditResponse(ctx, edit), cardgate.EFORBIDDEN)
	if rs, err := s.Responses(ctx, f1); err != nil || len(rs) != 1 || rs[0].ID != rid(1) || rs[0].Edits != 0 {
		t.Fatalf("Responses after the close = %v, %v", rs, err)
	}
	mustOK(t, s.AddResponse(ctx, response(3, f1, u1, at.Add(-time.Millisecond)))) // a moment before is taken

	// Closing again later keeps the first close; an earlier time moves it.
	again, err := s.CloseForm(ctx, f1, at.Add(time.Hour))
	mustOK(t, err)
	if !sameTime(again.Expiry, at) {
		t.Fatalf("closed again later: expiry %v, want %v", again.Expiry, at)
	}
	earlier, err := s.CloseForm(ctx, f1, at.Add(-30*time.Minute))
	mustOK(t, err)
	if got, _ := s.Form(ctx, f1); !sameTime(earlier.Expiry, at.Add(-30*time.Minute)) || !sameTime(got.Expiry, earlier.Expiry) {
		t.Fatalf("closed at an earlier time: returned expiry %v, stored %v", earlier.Expiry, got.Expiry)
	}

	// A form that never expired now does; one that expired before the
	// close keeps its expiry.
	nc, err := s.CloseForm(ctx, f2, at)
	mustOK(t, err)
	if !sameTime(nc.Expiry, at) {
		t.Fatalf("a form without expiry, closed: expiry %v, want %v", nc.Expiry, at)
	}
	past := form(f3)
	past.Expiry = t0.Add(time.Minute)
	mustOK(t, s.CreateForm(ctx, past))
	pc, err := s.CloseForm(ctx, f3, at)
	mustOK(t, err)
	if !sameTime(pc.Expiry, past.Expiry) {
		t.Fatalf("a form that expired before the close: expiry %v, want %v", pc.Expiry, past.Expiry)
	}

	// Closes at once, each at its own time: every one answers an expiry
	// at or before its time, and the earliest stays.
	const n = 10
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			when := t0.Add(time.Duration(30-i) * time.Second) // all before f2's close
			cf, err := s.CloseForm(ctx, f2, when)
			if err == nil && cf.Expiry.After(when) {
				err = fmt.Errorf("CloseForm at %v answered expiry %v", when, cf.Expiry)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		mustOK(t, err)
	}
	if got, _ := s.Form(ctx, f2); !sameTime(got.Expiry, t0.Add(21*time.Second)) {
		t.Fatalf("after %d closes at once: expiry %v, want %v", n, got.Expiry, t0.Add(21*time.Second))
	}
}

// testResultVisibility: who may see a form's results, by its visibility,
// as Form.CanSeeResults decides from the memberships the store keeps.
func testResultVisibility(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	conversationWorld(t, s)
	mustOK(t, s.CreateUser(ctx, user("44444444-4444-4444-8444-444444444444")))
	const u4 = "44444444-4444-4444-8444-444444444444" // a member, later removed
	mustOK(t, s.PutMember(ctx, &cardgate.Member{ConversationID: c1, UserID: u4, Role: cardgate.MemberAdmin, AddedAt: t0}))
	f := form(f1)
	f.CreatorID = u2 // a plain member created it
	mustOK(t, s.CreateForm(ctx, f))
	mustOK(t, s.RemoveMember(ctx, c1, u4))

	member := func(u string) *cardgate.Member {
		m, err := s.Member(ctx, c1, u)
		if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
			return nil
		}
		mustOK(t, err)
		return m
	}
	// u1 admin, u2 creator, u3 never a member, u4 removed admin.
	for _, tc := range []struct {
		vis  cardgate.ResultVisibility
		sees map[string]bool
	}{
		{cardgate.ResultsAll, map[string]bool{u1: true, u2: true, u3: false, u4: false}},
		{cardgate.ResultsSender, map[string]bool{u1: false, u2: true, u3: false, u4: false}},
		{cardgate.ResultsAdmin, map[string]bool{u1: true, u2: true, u3: false, u4: false}},
	} {
		f.Visibility = tc.vis
		for u, sees := range tc.sees {
			err := f.CanSeeResults(member(u))
			if sees && err != nil || !sees && cardgate.ErrorCode(err) != cardgate.EFORBIDDEN {
				t.Errorf("visibility %s, user %s: CanSeeResults = %v, want seeing %v", tc.vis, u[:4], err, sees)
			}
		}
	}
	// CanRespond agrees with AddResponse.
	now := t0.Add(time.Hour)
	for i, u := range []string{u1, u2, u3, u4} {
		want := f.CanRespond(member(u), now)
		got := s.AddResponse(ctx, response(i, f1, u, now))
		if cardgate.ErrorCode(want) != cardgate.ErrorCode(got) {
			t.Errorf("user %s: CanRespond = %v but AddResponse = %v", u[:4], want, got)
		}
	}
}

// testConcurrentResponses: 100 users respond to one form at once and
// every response is counted; one user sending 10 responses at once to a
// form that takes one per user gets exactly one stored.
func testConcurrentResponses(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	conversationWorld(t, s)
	f := form(f1)
	mustOK(t, s.CreateForm(ctx, f))
	const n = 100
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("b0000000-0000-4000-8000-%012d", i)
		mustOK(t, s.CreateUser(ctx, user(users[i])))
		mustOK(t, s.PutMember(ctx, &cardgate.Member{ConversationID: c1, UserID: users[i], Role: cardgate.MemberMember, AddedAt: t0}))
	}
	at := t0.Add(time.Hour)
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.AddResponse(ctx, response(i, f1, u, at)); err != nil {
				t.Errorf("response of user %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	rs, err := s.Responses(ctx, f1)
	mustOK(t, err)
	if len(rs) != n {
		t.Fatalf("%d responses stored, want %d", len(rs), n)
	}
	seen := map[string]bool{}
	for _, r := range rs {
		seen[r.UserID] = true
	}
	if len(seen) != n {
		t.Fatalf("responses from %d users, want %d", len(seen), n)
	}

	var mu sync.Mutex
	codes := map[string]int{}
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.AddResponse(ctx, response(1000+i, f1, u2, at))
			mu.Lock()
			codes[cardgate.ErrorCode(err)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[""] != 1 || codes[cardgate.ECONFLICT] != 9 {
		t.Fatalf("10 responses at once from one user to a one-each form: %v; want 1 stored, 9 ECONFLICT", codes)
	}
	if rs, _ := s.UserResponses(ctx, f1, u2); len(rs) != 1 {
		t.Fatalf("user has %d responses, want 1", len(rs))
	}
}

// CheckConversationsAfterUpgrade checks a store just migrated from schema
// 8, which held the user u1 (made by user(u1)): the user is kept and can
// join a conversation and respond to a form in it.
func CheckConversationsAfterUpgrade(t *testing.T, s cardgate.Store) {
	t.Helper()
	ctx := t.Context()
	got, err := s.User(ctx, u1)
	mustOK(t, err)
	equalUser(t, got, user(u1))
	mustOK(t, s.CreatePackage(ctx, pkg(p1)))
	mustOK(t, s.CreateConversation(ctx, &cardgate.Conversation{ID: c1, Title: "After the upgrade", CreatedAt: t0}))
	mustOK(t, s.PutMember(ctx, &cardgate.Member{ConversationID: c1, UserID: u1, Role: cardgate.MemberAdmin, AddedAt: t0}))
	mustOK(t, s.CreateForm(ctx, form(f1)))
	mustOK(t, s.AddResponse(ctx, response(1, f1, u1, t0.Add(time.Hour))))
}

// UpgradeUser is the user CheckConversationsAfterUpgrade expects the store
// to hold from before the upgrade.
func UpgradeUser() *cardgate.User { return user(u1) }

// testRemovalStopsResponses: a user responds over and over from several
// goroutines while they are removed from the conversation. Every response
// that began after RemoveMember returned is refused, and every response
// that was accepted is stored.
func testRemovalStopsResponses(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	conversationWorld(t, s)
	f := form(f1)
	f.SeveralPerUser = true
	mustOK(t, s.CreateForm(ctx, f))
	at := t0.Add(time.Hour)

	var (
		removed  atomic.Bool
		accepted atomic.Int64
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	firstIn := make(chan struct{})
	var once sync.Once
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				after := removed.Load()
				err := s.AddResponse(ctx, response(int(next.Add(1)), f1, u2, at))
				switch {
				case err == nil && after:
					t.Errorf("a response begun after the removal was stored")
					return
				case err == nil:
					accepted.Add(1)
					once.Do(func() { close(firstIn) })
				case cardgate.ErrorCode(err) == cardgate.EFORBIDDEN:
					if after {
						return
					}
				default:
					t.Errorf("AddResponse: %v", err)
					return
				}
			}
		}()
	}
	<-firstIn
	mustOK(t, s.RemoveMember(ctx, c1, u2))
	removed.Store(true)
	wg.Wait()
	rs, err := s.UserResponses(ctx, f1, u2)
	mustOK(t, err)
	if int64(len(rs)) != accepted.Load() {
		t.Fatalf("%d responses stored, %d accepted", len(rs), accepted.Load())
	}
}

package host_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/actionpkg"
)

const (
	bob     = "7a2d3b0f-4c8e-4d2f-8b6a-3e9f8c7d5b21"
	carol   = "8b3e4c1a-5d9f-4e3a-9c7b-4fa09d8e6c32"
	poll    = "com.contoso.poll"
	checkin = "com.contoso.checkin"
)

// team is a conversation with Alice (admin) and Bob; Carol is in
// "Carol's" alone. The poll and check-in cards are installed.
type team struct {
	*env
	team, carols string
}

func newTeam(t *testing.T) *team {
	t.Helper()
	e := newEnv(t, true)
	ctx := context.Background()
	for _, u := range []*cardgate.User{{ID: bob, Name: "Bob", PhoneNumber: "+14155550102"}, {ID: carol, Name: "Carol", PhoneNumber: "+14155550103"}} {
		if err := e.svc.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{"testdata/poll", "testdata/checkin"} {
		p, err := actionpkg.Load(dir, actionpkg.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ImportPackage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	tm := &team{env: e}
	for _, c := range []struct {
		id      *string
		title   string
		members map[string]cardgate.MemberRole
	}{
		{&tm.team, "Contoso team", map[string]cardgate.MemberRole{alice: cardgate.MemberAdmin, bob: cardgate.MemberMember}},
		{&tm.carols, "Carol's", map[string]cardgate.MemberRole{carol: cardgate.MemberAdmin}},
	} {
		conv := &cardgate.Conversation{Title: c.title}
		if err := e.svc.CreateConversation(ctx, conv); err != nil {
			t.Fatal(err)
		}
		*c.id = conv.ID
		for u, role := range c.members {
			if _, err := e.svc.PutMember(ctx, conv.ID, u, role); err != nil {
				t.Fatal(err)
			}
		}
	}
	return tm
}

// as is a browser signed in as user (the demo's one-click sign-in).
func (e *env) as(t *testing.T, user string) *client {
	t.Helper()
	b := e.browser(t)
	if a := b.call("POST", "/host/api/demo/signin", map[string]string{"userId": user}); a.status != 200 {
		t.Fatalf("sign in as %s: %d %s", user, a.status, a.raw)
	}
	return b
}

func list(v any) []any { l, _ := v.([]any); return l }
func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// formByID finds a form in a conversation's answer.
func formByID(a answer, id string) map[string]any {
	for _, f := range list(a.body["forms"]) {
		if obj(f)["id"] == id {
			return obj(f)
		}
	}
	return nil
}

func TestConversationList(t *testing.T) {
	tm := newTeam(t)
	for _, tc := range []struct {
		user   string
		titles string
	}{{alice, "Contoso team"}, {bob, "Contoso team"}, {carol, "Carol's"}} {
		a := tm.as(t, tc.user).call("GET", "/host/api/conversations", nil)
		var titles []string
		for _, c := range list(a.body["conversations"]) {
			titles = append(titles, obj(c)["title"].(string))
		}
		if a.status != 200 || strings.Join(titles, ",") != tc.titles {
			t.Errorf("%s's conversations: %d %s, want %s", tc.user, a.status, a.raw, tc.titles)
		}
	}

	a := tm.as(t, alice).call("GET", "/host/api/conversations/"+tm.team, nil)
	if a.status != 200 || obj(a.body["conversation"])["role"] != "admin" || len(list(a.body["members"])) != 2 || len(list(a.body["forms"])) != 0 {
		t.Fatalf("the team for Alice: %d %s", a.status, a.raw)
	}
	var names []string
	for _, m := range list(a.body["members"]) {
		names = append(names, obj(m)["name"].(string))
	}
	if strings.Join(names, ",") != "Alice,Bob" && strings.Join(names, ",") != "Bob,Alice" {
		t.Errorf("members: %v", names)
	}

	// Carol is no member: the same refusal for the team as for a
	// conversation that does not exist.
	c := tm.as(t, carol)
	other := cardgate.NewID()
	refused := c.call("GET", "/host/api/conversations/"+tm.team, nil)
	unknown := c.call("GET", "/host/api/conversations/"+other, nil)
	if refused.status != 403 || unknown.status != 403 || !strings.Contains(refused.message(), "only its members") ||
		strings.ReplaceAll(refused.message(), tm.team, "X") != strings.ReplaceAll(unknown.message(), other, "X") {
		t.Errorf("Carol opens the team: %d %q; an unknown conversation: %d %q", refused.status, refused.message(), unknown.status, unknown.message())
	}
	if a := c.call("GET", "/host/api/conversations/team", nil); a.status != 400 || !strings.Contains(a.message(), "conversationId: must be a lower-case GUID") {
		t.Errorf("a bad ID: %d %s", a.status, a.raw)
	}
	if a := tm.browser(t).call("GET", "/host/api/conversations", nil); a.status != 401 {
		t.Errorf("signed out: %d", a.status)
	}
}

func TestFormsInAConversation(t *testing.T) {
	tm := newTeam(t)
	a, b, c := tm.as(t, alice), tm.as(t, bob), tm.as(t, carol)

	// CreationView: the package's app model, for Alice in the team.
	d := a.call("GET", "/host/api/conversations/"+tm.team+"/cards/"+poll+"/draft", nil)
	form := obj(d.body["form"])
	if d.status != 200 || form["title"] != "Lunch?" || form["gid"] != tm.team || form["pid"] != poll || form["creatorId"] != alice || len(list(form["ques"])) != 2 {
		t.Fatalf("draft: %d %s", d.status, d.raw)
	}
	// createRequest: what the card filled in; the IDs it names are not
	// taken.
	form["title"] = "Lunch on Friday?"
	form["gid"], form["creatorId"] = tm.carols, carol
	raw, _ := json.Marshal(form)
	cr := a.call("POST", "/host/api/conversations/"+tm.team+"/forms", map[string]any{"packageId": poll, "form": string(raw)})
	sent := obj(cr.body["form"])
	if cr.status != 201 || sent["title"] != "Lunch on Friday?" || sent["gid"] != tm.team || sent["creatorId"] != alice {
		t.Fatalf("create: %d %s", cr.status, cr.raw)
	}
	id := sent["id"].(string)

	// Bob sees the card, with the package's card settings.
	conv := b.call("GET", "/host/api/conversations/"+tm.team, nil)
	f := formByID(conv, id)
	if f == nil || f["title"] != "Lunch on Friday?" || f["creatorName"] != "Alice" || f["responseCount"] != 0.0 || f["canRespond"] != true ||
		obj(f["cardView"])["labelRespondToForm"] != "Vote" || obj(f["cardView"])["showLikes"] != false ||
		obj(f["views"])["response"] != cardsOrigin+"/frame/"+poll+"/respond.html" || obj(f["views"])["results"] != cardsOrigin+"/frame/"+poll+"/results.html" {
		t.Fatalf("Bob's card: %s", conv.raw)
	}

	q := "?package=" + poll
	st := b.call("GET", "/host/api/forms/"+id+q, nil)
	if st.status != 200 || st.body["active"] != true || st.body["canRespond"] != true || st.body["canSeeResults"] != true || obj(st.body["form"])["id"] != id {
		t.Fatalf("Bob's form: %d %s", st.status, st.raw)
	}
	// Bob responds, then changes his answer: one response per user, and
	// the package lets him edit it.
	for _, answers := range []map[string]any{{"0": "0", "1": "2"}, {"0": "1", "1": 3}} {
		if r := b.call("POST", "/host/api/forms/"+id+"/responses"+q, map[string]any{"answers": answers}); r.status != 201 {
			t.Fatalf("Bob responds %v: %d %s", answers, r.status, r.raw)
		}
	}
	mine := b.call("GET", "/host/api/forms/"+id+"/responses"+q, nil)
	if rs := list(mine.body["responses"]); mine.status != 200 || len(rs) != 1 || obj(rs[0])["response_payload_native"] != `{"0":"1","1":"3"}` {
		t.Fatalf("Bob's responses: %d %s", mine.status, mine.raw)
	}
	if r := a.call("GET", "/host/api/forms/"+id+"/responses"+q, nil); r.status != 200 || len(list(r.body["responses"])) != 0 {
		t.Errorf("Alice's own responses: %d %s", r.status, r.raw)
	}
	sum := a.call("GET", "/host/api/forms/"+id+"/summary"+q, nil)
	res := obj(obj(obj(sum.body["processed"])["Results"])["0"])
	if sum.status != 200 || obj(sum.body["processed"])["TotalResponseCount"] != 1.0 ||
		obj(obj(res["OptionResults"])["1"])["TotalResponsesCount"] != 1.0 || obj(sum.body["flat"])["frsps"] == nil || obj(sum.body["aggregated"])["rc"] != 1.0 {
		t.Fatalf("Alice's summary: %d %s", sum.status, sum.raw)
	}

	// Carol, who is not in the team, gets nothing of it.
	for _, call := range []struct{ method, path string }{
		{"GET", "/host/api/forms/" + id + q}, {"GET", "/host/api/forms/" + id + "/responses" + q},
		{"GET", "/host/api/forms/" + id + "/summary" + q}, {"POST", "/host/api/forms/" + id + "/responses" + q},
		{"GET", "/host/api/conversations/" + tm.team + "/cards/" + poll + "/draft"}, {"POST", "/host/api/conversations/" + tm.team + "/forms"},
		{"GET", "/host/api/forms/" + cardgate.NewID() + q},
	} {
		var body any
		if strings.HasSuffix(call.path, "/forms") {
			body = map[string]any{"packageId": poll}
		} else if call.method == "POST" {
			body = map[string]any{"answers": map[string]string{"0": "0"}}
		}
		if r := c.call(call.method, call.path, body); r.status != 403 || strings.Contains(r.raw, "Lunch") {
			t.Errorf("Carol: %s %s: %d %s", call.method, call.path, r.status, r.raw)
		}
	}
	// The form is the poll's, not another card's.
	if r := b.call("GET", "/host/api/forms/"+id+"?package="+checkin, nil); r.status != 403 || !strings.Contains(r.message(), "not a form of card "+checkin) {
		t.Errorf("the form for another card: %d %s", r.status, r.raw)
	}
	if r := b.call("GET", "/host/api/forms/"+id, nil); r.status != 400 || !strings.Contains(r.message(), "package:") {
		t.Errorf("no card named: %d %s", r.status, r.raw)
	}

	// Bob leaves: from then on he neither reads nor responds.
	if err := tm.svc.RemoveMember(context.Background(), tm.team, bob); err != nil {
		t.Fatal(err)
	}
	for _, call := range []struct{ method, path string }{
		{"GET", "/host/api/forms/" + id + q}, {"GET", "/host/api/forms/" + id + "/summary" + q}, {"POST", "/host/api/forms/" + id + "/responses" + q},
		{"GET", "/host/api/conversations/" + tm.team},
	} {
		var body any
		if call.method == "POST" {
			body = map[string]any{"answers": map[string]string{"0": "0"}}
		}
		if r := b.call(call.method, call.path, body); r.status != 403 {
			t.Errorf("Bob, removed: %s %s: %d %s", call.method, call.path, r.status, r.raw)
		}
	}
}

func TestFormErrors(t *testing.T) {
	tm := newTeam(t)
	a := tm.as(t, alice)
	for _, tc := range []struct {
		body   map[string]any
		status int
		msg    string
	}{
		{map[string]any{"packageId": orders}, 404, "has no AppModel.json"},
		{map[string]any{"packageId": "com.contoso.nothing"}, 404, "no card com.contoso.nothing is installed"},
		{map[string]any{"packageId": poll, "form": `{"vis": 7}`}, 400, "vis: must be 0 (All), 1 (Sender) or 2 (Admin)"},
		{map[string]any{"packageId": poll, "form": `{"title": `}, 400, "form: "},
	} {
		if r := a.call("POST", "/host/api/conversations/"+tm.team+"/forms", tc.body); r.status != tc.status || !strings.Contains(r.message(), tc.msg) {
			t.Errorf("create %v: %d %q, want %d %q", tc.body, r.status, r.message(), tc.status, tc.msg)
		}
	}
	cr := a.call("POST", "/host/api/conversations/"+tm.team+"/forms", map[string]any{"packageId": poll})
	id, _ := obj(cr.body["form"])["id"].(string)
	if cr.status != 201 || obj(cr.body["form"])["title"] != "Lunch?" {
		t.Fatalf("the app model as it is: %d %s", cr.status, cr.raw)
	}
	for _, tc := range []struct {
		answers any
		msg     string
	}{
		{map[string]any{"0": "5"}, "questionToAnswerMap.0: must be the ID of one of the question's 2 options"},
		{map[string]any{"x": "1"}, "keys must be question IDs"},
		{map[string]any{"1": "many"}, "questionToAnswerMap.1: must be a number"},
	} {
		if r := a.call("POST", "/host/api/forms/"+id+"/responses?package="+poll, map[string]any{"answers": tc.answers}); r.status != 400 || !strings.Contains(r.message(), tc.msg) {
			t.Errorf("answers %v: %d %q, want %q", tc.answers, r.status, r.message(), tc.msg)
		}
	}
}

// A response-only card (no ResponseView, like Kaizala's Response sample)
// responds from its CreationView: the form is created with the creator's
// response, and each response is a message of its own.
func TestResponseOnlyCard(t *testing.T) {
	tm := newTeam(t)
	a, b := tm.as(t, alice), tm.as(t, bob)
	cr := a.call("POST", "/host/api/conversations/"+tm.team+"/forms", map[string]any{"packageId": checkin,
		"response": map[string]any{"answers": map[string]string{"0": "Lisbon"}}})
	if cr.status != 201 || obj(cr.body["response"])["response_payload_native"] != `{"0":"Lisbon"}` {
		t.Fatalf("check in: %d %s", cr.status, cr.raw)
	}
	id := obj(cr.body["form"])["id"].(string)
	f := formByID(b.call("GET", "/host/api/conversations/"+tm.team, nil), id)
	rs := list(f["responses"])
	if f == nil || obj(f["views"])["response"] != cardsOrigin+"/frame/"+checkin+"/checkin.html" || len(rs) != 1 || obj(rs[0])["userName"] != "Alice" {
		t.Fatalf("Bob's view of the check-in: %v", f)
	}
	one := obj(rs[0])["id"].(string)
	// The response card's summary page shows that response, to a member
	// who may see the results.
	r := b.call("GET", "/host/api/forms/"+id+"/responses?package="+checkin+"&response="+one, nil)
	if got := list(r.body["responses"]); r.status != 200 || len(got) != 1 || obj(got[0])["response_Id_native"] != one {
		t.Fatalf("Bob reads Alice's check-in: %d %s", r.status, r.raw)
	}
	if r := tm.as(t, carol).call("GET", "/host/api/forms/"+id+"/responses?package="+checkin+"&response="+one, nil); r.status != 403 || strings.Contains(r.raw, "Lisbon") {
		t.Errorf("Carol reads Alice's check-in: %d %s", r.status, r.raw)
	}
}

func TestTokenInConversation(t *testing.T) {
	tm := newTeam(t)
	ctx := context.Background()
	b := tm.as(t, bob)
	a := b.call("POST", "/host/api/tokens", map[string]string{"actionPackageId": poll, "conversationId": tm.team})
	if a.status != 201 {
		t.Fatalf("Bob's token in the team: %d %s", a.status, a.raw)
	}
	// A card that lists no externalUrls gets an empty list, not null.
	if urls, ok := a.body["externalUrls"].([]any); !ok || len(urls) != 0 {
		t.Errorf("externalUrls %#v, want []", a.body["externalUrls"])
	}
	id, _, err := tm.svc.Check(ctx, a.body["token"].(string))
	if err != nil || id.UserID != bob || id.ActionPackageID != poll || id.ConversationID != tm.team {
		t.Fatalf("the token: %+v %v", id, err)
	}
	// Outside a conversation, as before: no conv claim.
	a = b.call("POST", "/host/api/tokens", map[string]string{"actionPackageId": poll})
	if id, _, err := tm.svc.Check(ctx, a.body["token"].(string)); err != nil || id.ConversationID != "" {
		t.Fatalf("a token outside conversations: %+v %v", id, err)
	}
	for _, conv := range []string{tm.carols, cardgate.NewID()} {
		if a := b.call("POST", "/host/api/tokens", map[string]string{"actionPackageId": poll, "conversationId": conv}); a.status != 403 || a.body["token"] != nil {
			t.Errorf("Bob's token in a conversation not his: %d %s", a.status, a.raw)
		}
	}
	if a := b.call("POST", "/host/api/tokens", map[string]string{"actionPackageId": poll, "conversationId": "team"}); a.status != 400 {
		t.Errorf("a bad conversation ID: %d %s", a.status, a.raw)
	}
	if err := tm.svc.RemoveMember(ctx, tm.team, bob); err != nil {
		t.Fatal(err)
	}
	if a := b.call("POST", "/host/api/tokens", map[string]string{"actionPackageId": poll, "conversationId": tm.team}); a.status != 403 || a.body["token"] != nil {
		t.Errorf("Bob's token after he left: %d %s", a.status, a.raw)
	}
}

// events opens c's live update stream and returns its events as they come.
func (c *client) events() (<-chan map[string]any, func()) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.e.srv.URL+"/host/api/events", nil)
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		c.t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan map[string]any, 16)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		name := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				var ev map[string]any
				json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev)
				ev["event"] = name
				out <- ev
			}
		}
	}()
	return out, func() { res.Body.Close() }
}

func TestLiveUpdates(t *testing.T) {
	tm := newTeam(t)
	a, b, c := tm.as(t, alice), tm.as(t, bob), tm.as(t, carol)
	bobs, closeB := b.events()
	defer closeB()
	carols, closeC := c.events()
	defer closeC()

	cr := a.call("POST", "/host/api/conversations/"+tm.team+"/forms", map[string]any{"packageId": poll})
	id := obj(cr.body["form"])["id"].(string)
	if ev := <-bobs; ev["event"] != "form" || ev["type"] != "form" || ev["conversationId"] != tm.team || ev["formId"] != id {
		t.Fatalf("Bob's first event: %v", ev)
	}
	if r := b.call("POST", "/host/api/forms/"+id+"/responses?package="+poll, map[string]any{"answers": map[string]string{"0": "0"}}); r.status != 201 {
		t.Fatal(r.raw)
	}
	if ev := <-bobs; ev["event"] != "response" || ev["formId"] != id {
		t.Fatalf("Bob's second event: %v", ev)
	}
	// Carol's first event is of her own conversation: none of the team's
	// came before it.
	cc := c.call("POST", "/host/api/conversations/"+tm.carols+"/forms", map[string]any{"packageId": poll})
	if ev := <-carols; ev["conversationId"] != tm.carols || ev["formId"] != obj(cc.body["form"])["id"] {
		t.Fatalf("Carol's first event: %v; she is not in the team", ev)
	}
	// Bob is removed: the next team event goes to Alice, not to him.
	if err := tm.svc.RemoveMember(context.Background(), tm.team, bob); err != nil {
		t.Fatal(err)
	}
	alices, closeA := a.events()
	defer closeA()
	a.call("POST", "/host/api/conversations/"+tm.team+"/forms", map[string]any{"packageId": poll})
	<-alices
	if _, err := tm.svc.PutMember(context.Background(), tm.carols, bob, cardgate.MemberMember); err != nil {
		t.Fatal(err)
	}
	cc = c.call("POST", "/host/api/conversations/"+tm.carols+"/forms", map[string]any{"packageId": poll})
	if ev := <-bobs; ev["conversationId"] != tm.carols {
		t.Fatalf("Bob's next event after he left the team: %v", ev)
	}
	if a := tm.browser(t).call("GET", "/host/api/events", nil); a.status != 401 {
		t.Errorf("events signed out: %d", a.status)
	}
}

// A user has at most 16 live update streams open; the 17th is refused
// with 429 and a message that says why, and closing one makes room.
func TestLiveUpdateStreamsBounded(t *testing.T) {
	tm := newTeam(t)
	b := tm.as(t, bob)
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for range 16 {
		_, closeStream := b.events()
		closers = append(closers, closeStream)
	}
	r := b.call("GET", "/host/api/events", nil)
	if r.status != 429 || !strings.Contains(r.raw, "more than 16 live update streams") {
		t.Fatalf("17th stream: %d %s, want 429 saying why", r.status, r.raw)
	}
	// Another user is not held up by Bob's streams.
	_, closeA := tm.as(t, alice).events()
	closeA()
	closers[0]()
	closers = closers[1:]
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("GET", b.e.srv.URL+"/host/api/events", nil)
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode == 200 {
			res.Body.Close()
			break
		}
		res.Body.Close()
		if time.Now().After(deadline) {
			t.Fatalf("after closing a stream: %d, want a new one to open", res.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package host_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

// TestCloseForm: KASClient.Form.closeForm (the closeCard command) on a sent
// form. Only its creator closes it; from then on it is an expired form
// everywhere: no response or edit is taken, its state and summaries say
// expired, and the other members' pages hear of it. Closing again is
// harmless.
func TestCloseForm(t *testing.T) {
	tm := newTeam(t)
	a, b, c := tm.as(t, alice), tm.as(t, bob), tm.as(t, carol)
	cr := a.call("POST", "/host/api/conversations/"+tm.team+"/forms", map[string]any{"packageId": poll})
	if cr.status != 201 {
		t.Fatalf("create: %d %s", cr.status, cr.raw)
	}
	id := obj(cr.body["form"])["id"].(string)
	q := "?package=" + poll
	closePath := "/host/api/forms/" + id + "/close" + q
	if r := b.call("POST", "/host/api/forms/"+id+"/responses"+q, map[string]any{"answers": map[string]string{"0": "0"}}); r.status != 201 {
		t.Fatalf("Bob responds while the form is open: %d %s", r.status, r.raw)
	}
	bobs, closeB := b.events()
	defer closeB()

	// Bob, a member who did not send it, may not close it.
	if r := b.call("POST", closePath, map[string]any{}); r.status != 403 || !strings.Contains(r.message(), "only the form's creator may close it") {
		t.Fatalf("Bob closes Alice's form: %d %s", r.status, r.raw)
	}
	// Carol, no member, gets what every form call gives her: the same for
	// the team's form as for one that does not exist.
	other := cardgate.NewID()
	refused := c.call("POST", closePath, map[string]any{})
	unknown := c.call("POST", "/host/api/forms/"+other+"/close"+q, map[string]any{})
	if refused.status != 403 || unknown.status != 403 || strings.Contains(refused.raw, "Lunch") ||
		refused.message() != "only the conversation's members may see this form" || unknown.message() != refused.message() {
		t.Fatalf("Carol closes the team's form: %d %s; an unknown form: %d %s", refused.status, refused.raw, unknown.status, unknown.raw)
	}
	if r := a.call("POST", "/host/api/forms/"+id+"/close?package="+checkin, map[string]any{}); r.status != 403 || !strings.Contains(r.message(), "not a form of card") {
		t.Errorf("Alice closes it as another card's: %d %s", r.status, r.raw)
	}
	// A cross-site POST is refused like every other write.
	x := tm.as(t, alice)
	x.hdr["Sec-Fetch-Site"] = "cross-site"
	if r := x.call("POST", closePath, map[string]any{}); r.status != 403 || !strings.Contains(r.message(), "cross-origin") {
		t.Errorf("a cross-site close: %d %s", r.status, r.raw)
	}
	if st := b.call("GET", "/host/api/forms/"+id+q, nil); st.status != 200 || st.body["active"] != true {
		t.Fatalf("the refused closes left it open: %d %s", st.status, st.raw)
	}

	// Alice closes her form: the answer is its state, as GET gives it.
	before := time.Now()
	cl := a.call("POST", closePath, map[string]any{})
	exp, _ := obj(cl.body["form"])["exp"].(float64)
	if cl.status != 200 || cl.body["active"] != false || cl.body["canRespond"] != false || cl.body["canSeeResults"] != true ||
		obj(cl.body["form"])["id"] != id || exp < float64(before.Add(-time.Second).UnixMilli()) || exp > float64(time.Now().UnixMilli()) {
		t.Fatalf("Alice closes her form: %d %s", cl.status, cl.raw)
	}
	if st := a.call("GET", "/host/api/forms/"+id+q, nil); st.raw != cl.raw {
		t.Errorf("GET after the close:\n%s\nthe close answered:\n%s", st.raw, cl.raw)
	}
	select {
	case ev := <-bobs:
		if ev["event"] != "form" || ev["conversationId"] != tm.team || ev["formId"] != id {
			t.Errorf("Bob's live update: %v", ev)
		}
	case <-time.After(5 * time.Second):
		t.Error("Bob heard nothing of the close")
	}

	// Closed is expired: Bob's edit and Alice's response are refused as for
	// an expired form, and every view says so.
	for who, cl := range map[string]*client{"Bob": b, "Alice": a} {
		r := cl.call("POST", "/host/api/forms/"+id+"/responses"+q, map[string]any{"answers": map[string]string{"0": "1"}})
		if r.status != 403 || !strings.Contains(r.message(), "expired") || !strings.Contains(r.message(), "takes no more responses") {
			t.Errorf("%s responds to the closed form: %d %s", who, r.status, r.raw)
		}
	}
	if st := b.call("GET", "/host/api/forms/"+id+q, nil); st.status != 200 || st.body["active"] != false || st.body["canRespond"] != false {
		t.Errorf("Bob's state of the closed form: %d %s", st.status, st.raw)
	}
	if s := b.call("GET", "/host/api/forms/"+id+"/summary"+q, nil); s.status != 200 || obj(s.body["aggregated"])["st"] != 2.0 || obj(s.body["aggregated"])["rc"] != 1.0 {
		t.Errorf("the summary of the closed form: %d %s", s.status, s.raw)
	}
	if f := formByID(b.call("GET", "/host/api/conversations/"+tm.team, nil), id); f == nil || f["canRespond"] != false || f["responseCount"] != 1.0 {
		t.Errorf("the closed form in Bob's conversation: %v", f)
	}
	mine := b.call("GET", "/host/api/forms/"+id+"/responses"+q, nil)
	if rs := list(mine.body["responses"]); len(rs) != 1 || obj(rs[0])["response_payload_native"] != `{"0":"0"}` {
		t.Errorf("Bob's response stays as it was: %s", mine.raw)
	}

	// Closing again is harmless: the form keeps the time it closed at.
	again := a.call("POST", closePath, map[string]any{})
	if again.status != 200 || again.body["active"] != false || obj(again.body["form"])["exp"] != exp {
		t.Errorf("Alice closes it again: %d %s (exp %v before)", again.status, again.raw, exp)
	}
	if r := b.call("POST", closePath, map[string]any{}); r.status != 403 || !strings.Contains(r.message(), "only the form's creator") {
		t.Errorf("Bob closes the closed form: %d %s", r.status, r.raw)
	}
	// A creator who left the conversation closes nothing.
	if err := tm.svc.RemoveMember(context.Background(), tm.team, alice); err != nil {
		t.Fatal(err)
	}
	if r := a.call("POST", closePath, map[string]any{}); r.status != 403 || r.message() != "only the conversation's members may see this form" {
		t.Errorf("Alice, removed, closes her form: %d %s", r.status, r.raw)
	}
}

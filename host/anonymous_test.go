package host_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

// An anonymous response names nobody, to anyone but its responder: Alice
// (the form's creator, who sees the results) and Carol (a member who sees
// them too) read the conversation, the response itself, the summaries and
// the live update stream, and never find Bob's user ID beside his
// response, on an anonymous form or for a response Bob sent anonymously
// on a named one. Bob still sees his responses as his own (mine), and
// still reads and edits them.
func TestAnonymousResponsesNameNobody(t *testing.T) {
	tm := newTeam(t)
	if _, err := tm.svc.PutMember(context.Background(), tm.team, carol, cardgate.MemberMember); err != nil {
		t.Fatal(err)
	}
	a, b, c := tm.as(t, alice), tm.as(t, bob), tm.as(t, carol)
	alices, closeA := a.events()
	defer closeA()
	carols, closeC := c.events()
	defer closeC()

	// An anonymous check-in (no ResponseView: each response is a message
	// in the conversation), sent by Alice with her own response; and a
	// named one, to which Bob responds anonymously.
	anon := a.call("POST", "/host/api/conversations/"+tm.team+"/forms", map[string]any{"packageId": checkin, "form": `{"ann":true}`,
		"response": map[string]any{"answers": map[string]string{"0": "Lisbon"}}})
	named := a.call("POST", "/host/api/conversations/"+tm.team+"/forms", map[string]any{"packageId": checkin,
		"response": map[string]any{"answers": map[string]string{"0": "Porto"}}})
	if anon.status != 201 || obj(anon.body["form"])["ann"] != true || named.status != 201 || obj(named.body["form"])["ann"] != false {
		t.Fatalf("check-ins: %d %s; %d %s", anon.status, anon.raw, named.status, named.raw)
	}
	anonID, namedID := obj(anon.body["form"])["id"].(string), obj(named.body["form"])["id"].(string)
	q := "?package=" + checkin
	r1 := b.call("POST", "/host/api/forms/"+anonID+"/responses"+q, map[string]any{"answers": map[string]string{"0": "at the dentist"}})
	r2 := b.call("POST", "/host/api/forms/"+namedID+"/responses"+q, map[string]any{"answers": map[string]string{"0": "at the clinic"}, "isAnonymous": true})
	if r1.status != 201 || r2.status != 201 {
		t.Fatalf("Bob responds: %d %s; %d %s", r1.status, r1.raw, r2.status, r2.raw)
	}
	bobs := map[string]string{ // Bob's response by form
		anonID:  obj(r1.body["response"])["response_Id_native"].(string),
		namedID: obj(r2.body["response"])["response_Id_native"].(string),
	}
	alicesOwn := map[string]string{
		anonID:  obj(anon.body["response"])["response_Id_native"].(string),
		namedID: obj(named.body["response"])["response_Id_native"].(string),
	}

	// The live updates: two forms and two responses, each naming its
	// conversation and form and nobody.
	for who, ch := range map[string]<-chan map[string]any{"Alice": alices, "Carol": carols} {
		for i := range 4 {
			select {
			case ev := <-ch:
				raw, _ := json.Marshal(ev)
				if strings.Contains(string(raw), bob) || ev["userId"] != nil {
					t.Errorf("%s's event %d names a responder: %s", who, i, raw)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s's event %d never came", who, i)
			}
		}
	}

	for _, v := range []struct {
		name string
		c    *client
	}{{"Alice", a}, {"Carol", c}} {
		conv := v.c.call("GET", "/host/api/conversations/"+tm.team, nil)
		if conv.status != 200 {
			t.Fatalf("%s's conversation: %d %s", v.name, conv.status, conv.raw)
		}
		for form, resp := range bobs {
			f := formByID(conv, form)
			if f == nil || f["canSeeResults"] != true || len(list(f["responses"])) != 2 {
				t.Fatalf("%s's view of form %s: %v", v.name, form, f)
			}
			for _, x := range list(f["responses"]) {
				o := obj(x)
				raw, _ := json.Marshal(o)
				if o["id"] != resp {
					// Alice's own: named on the named form, anonymous on
					// the anonymous one; hers for her alone.
					wantID := ""
					if form == namedID {
						wantID = alice
					}
					if id, _ := o["userId"].(string); o["id"] != alicesOwn[form] || id != wantID || o["mine"] != (v.name == "Alice") {
						t.Errorf("%s sees Alice's response on form %s as %s", v.name, form, raw)
					}
					continue
				}
				if strings.Contains(string(raw), bob) || o["userId"] != nil || o["userName"] != "Someone" || o["mine"] != false || o["anonymous"] != true {
					t.Errorf("%s sees Bob's anonymous response on form %s as %s, want no user ID, \"Someone\", not hers", v.name, form, raw)
				}
			}
			// The response itself (a response card's results page reads
			// it), and the summaries.
			one := v.c.call("GET", "/host/api/forms/"+form+"/responses"+q+"&response="+resp, nil)
			if one.status != 200 || !strings.Contains(one.raw, "at the") || strings.Contains(one.raw, bob) {
				t.Errorf("%s reads Bob's anonymous response: %d %s", v.name, one.status, one.raw)
			}
			sum := v.c.call("GET", "/host/api/forms/"+form+"/summary"+q, nil)
			if sum.status != 200 || !strings.Contains(sum.raw, "anonymous-") || strings.Contains(sum.raw, bob) {
				t.Errorf("%s's summary of form %s: %d %s", v.name, form, sum.status, sum.raw)
			}
		}
	}

	// Bob sees his responses as his, and Alice's on the anonymous form
	// as nobody's.
	conv := b.call("GET", "/host/api/conversations/"+tm.team, nil)
	for form, resp := range bobs {
		f := formByID(conv, form)
		if f == nil || f["myResponses"] != 1.0 {
			t.Fatalf("Bob's view of form %s: %v", form, f)
		}
		for _, x := range list(f["responses"]) {
			o := obj(x)
			raw, _ := json.Marshal(o)
			switch {
			case o["id"] == resp:
				if o["mine"] != true || o["userName"] != "Someone" || o["anonymous"] != true {
					t.Errorf("Bob's own anonymous response on form %s: %s, want it his", form, raw)
				}
			case form == anonID:
				if o["mine"] != false || o["userId"] != nil || strings.Contains(string(raw), alice) {
					t.Errorf("Bob sees Alice's response on the anonymous form as %s", raw)
				}
			case o["mine"] != false || o["userId"] != alice || o["userName"] != "Alice":
				t.Errorf("Bob sees Alice's named response as %s", raw)
			}
		}
		own := b.call("GET", "/host/api/forms/"+form+"/responses"+q, nil)
		if rs := list(own.body["responses"]); own.status != 200 || len(rs) != 1 || obj(rs[0])["response_Id_native"] != resp {
			t.Errorf("Bob's own responses to form %s: %d %s", form, own.status, own.raw)
		}
	}

	// On an anonymous form whose responses Bob may edit (the poll's
	// ResponseView), he edits his response; the summary still names
	// nobody.
	pf := a.call("POST", "/host/api/conversations/"+tm.team+"/forms", map[string]any{"packageId": poll, "form": `{"ann":true}`})
	if pf.status != 201 {
		t.Fatalf("anonymous poll: %d %s", pf.status, pf.raw)
	}
	pq := "?package=" + poll
	pollID := obj(pf.body["form"])["id"].(string)
	first := b.call("POST", "/host/api/forms/"+pollID+"/responses"+pq, map[string]any{"answers": map[string]any{"0": "0", "1": 2}})
	rid, _ := obj(first.body["response"])["response_Id_native"].(string)
	edit := b.call("POST", "/host/api/forms/"+pollID+"/responses"+pq, map[string]any{"answers": map[string]any{"0": "1", "1": 3}, "responseId": rid, "isEdit": true})
	if first.status != 201 || edit.status != 201 || obj(edit.body["response"])["response_Id_native"] != rid {
		t.Fatalf("Bob responds to the anonymous poll and edits: %d %s; %d %s", first.status, first.raw, edit.status, edit.raw)
	}
	if own := b.call("GET", "/host/api/forms/"+pollID+"/responses"+pq, nil); len(list(own.body["responses"])) != 1 ||
		obj(list(own.body["responses"])[0])["response_payload_native"] != `{"0":"1","1":"3"}` {
		t.Errorf("Bob's edited poll response: %d %s", own.status, own.raw)
	}
	for _, v := range []*client{a, c} {
		if sum := v.call("GET", "/host/api/forms/"+pollID+"/summary"+pq, nil); sum.status != 200 || strings.Contains(sum.raw, bob) || !strings.Contains(sum.raw, "anonymous-1") {
			t.Errorf("the anonymous poll's summary: %d %s", sum.status, sum.raw)
		}
	}
}

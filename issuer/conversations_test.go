package issuer_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestConversationsAdminAPI: an admin makes a conversation, adds members
// with roles, changes a role, lists and removes members; every mistake
// gets a status and a message naming the field; keys of other roles are
// refused.
func TestConversationsAdminAPI(t *testing.T) {
	e := newEnv(t)
	admin := bearer(e.adminKey)

	res := e.do("POST", "/v1/admin/conversations", admin, `{"title":"  Field team "}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create conversation: %d %s", res.status, res.body)
	}
	conv := res.json(t)
	id, _ := conv["id"].(string)
	if len(id) != 36 || conv["title"] != "Field team" {
		t.Fatalf("created = %v, want a GUID id and the title trimmed", conv)
	}
	if got := e.do("GET", "/v1/admin/conversations/"+id, admin, "").json(t); got["title"] != "Field team" {
		t.Errorf("read back = %v", got)
	}
	res = e.do("POST", "/v1/admin/conversations/"+id+"/members", admin, `{"userId":"`+alice+`","role":"admin"}`)
	if res.status != http.StatusOK || res.json(t)["role"] != "admin" {
		t.Fatalf("add alice: %d %s", res.status, res.body)
	}
	if res := e.do("POST", "/v1/admin/conversations/"+id+"/members", admin, `{"userId":"`+bob+`"}`); res.json(t)["role"] != "member" {
		t.Fatalf("add bob without a role: %s; want role member", res.body)
	}
	e.do("POST", "/v1/admin/conversations/"+id+"/members", admin, `{"userId":"`+bob+`","role":"admin"}`)
	members := e.do("GET", "/v1/admin/conversations/"+id+"/members", admin, "").json(t)["members"].([]any)
	roles := map[any]any{}
	for _, m := range members {
		roles[m.(map[string]any)["userId"]] = m.(map[string]any)["role"]
	}
	if len(members) != 2 || roles[alice] != "admin" || roles[bob] != "admin" {
		t.Fatalf("members = %v; want alice and bob, both admins", members)
	}
	if res := e.do("DELETE", "/v1/admin/conversations/"+id+"/members/"+bob, admin, ""); res.status != http.StatusNoContent {
		t.Fatalf("remove bob: %d %s", res.status, res.body)
	}
	if n := len(e.do("GET", "/v1/admin/conversations/"+id+"/members", admin, "").json(t)["members"].([]any)); n != 1 {
		t.Errorf("members after the removal = %d, want 1", n)
	}
	if forms := e.do("GET", "/v1/admin/conversations/"+id+"/forms", admin, "").json(t)["forms"].([]any); len(forms) != 0 {
		t.Errorf("forms of a new conversation = %v", forms)
	}
	if cs := e.do("GET", "/v1/admin/conversations", admin, "").json(t)["conversations"].([]any); len(cs) != 1 ||
		cs[0].(map[string]any)["id"] != id || cs[0].(map[string]any)["members"] != 1.0 {
		t.Errorf("conversations listed = %v, want this one, with 1 member", cs)
	}

	nobody := "11111111-2222-4333-8444-555555555555"
	tests := []struct {
		name, method, path, body string
		status                   int
		msg                      string
	}{
		{"no title", "POST", "/v1/admin/conversations", `{}`, 400, "title: must not be empty"},
		{"long title", "POST", "/v1/admin/conversations", `{"title":"` + strings.Repeat("t", 129) + `"}`, 400, "title: must be at most 128 bytes"},
		{"bad id", "POST", "/v1/admin/conversations", `{"id":"team","title":"T"}`, 400, "id: must be a lower-case GUID"},
		{"duplicate", "POST", "/v1/admin/conversations", `{"id":"` + id + `","title":"T"}`, 409, "conversation " + id + " already exists"},
		{"unknown conversation", "GET", "/v1/admin/conversations/" + nobody, "", 404, "id: no such conversation"},
		{"members of unknown", "GET", "/v1/admin/conversations/" + nobody + "/members", "", 404, "id: no such conversation"},
		{"add to unknown", "POST", "/v1/admin/conversations/" + nobody + "/members", `{"userId":"` + alice + `"}`, 404, "conversationId: no such conversation"},
		{"add unknown user", "POST", "/v1/admin/conversations/" + id + "/members", `{"userId":"` + nobody + `"}`, 404, "userId: no such user"},
		{"add bad user id", "POST", "/v1/admin/conversations/" + id + "/members", `{"userId":"bob"}`, 400, "userId: must be a lower-case GUID"},
		{"bad role", "POST", "/v1/admin/conversations/" + id + "/members", `{"userId":"` + bob + `","role":"owner"}`, 400, "role: must be admin or member"},
		{"remove non-member", "DELETE", "/v1/admin/conversations/" + id + "/members/" + bob, "", 404, "userId: user " + bob + " is not a member"},
		{"remove from unknown", "DELETE", "/v1/admin/conversations/" + nobody + "/members/" + bob, "", 404, "conversationId: no such conversation"},
		{"forms of unknown", "GET", "/v1/admin/conversations/" + nobody + "/forms", "", 404, "id: no such conversation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(tt.method, tt.path, admin, tt.body)
			if res.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", res.status, tt.status, res.body)
			}
			res.errorCode(t)
			if msg := res.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, tt.msg) {
				t.Errorf("message = %q, want it to mention %q", msg, tt.msg)
			}
		})
	}

	// Only an admin key: a host's or a resource server's is refused, and
	// no key at all is unauthorized.
	for _, c := range []struct {
		method, path, body string
	}{
		{"GET", "/v1/admin/conversations", ""},
		{"POST", "/v1/admin/conversations", `{"title":"Sneaky"}`},
		{"POST", "/v1/admin/conversations/" + id + "/members", `{"userId":"` + bob + `","role":"admin"}`},
		{"DELETE", "/v1/admin/conversations/" + id + "/members/" + alice, ""},
	} {
		for _, key := range []string{e.hostKey, e.rsKey} {
			if res := e.do(c.method, c.path, bearer(key), c.body); res.status != http.StatusForbidden {
				t.Errorf("%s %s with a non-admin key: %d, want 403", c.method, c.path, res.status)
			}
		}
		if res := e.do(c.method, c.path, nil, c.body); res.status != http.StatusUnauthorized {
			t.Errorf("%s %s without a key: %d, want 401", c.method, c.path, res.status)
		}
	}
	// The refused requests changed nothing.
	if n := len(e.do("GET", "/v1/admin/conversations", admin, "").json(t)["conversations"].([]any)); n != 1 {
		t.Errorf("conversations after refused requests = %d, want 1", n)
	}
	if m := e.do("GET", "/v1/admin/conversations/"+id+"/members", admin, "").json(t)["members"].([]any); len(m) != 1 || m[0].(map[string]any)["userId"] != alice {
		t.Errorf("members after refused requests = %v", m)
	}
}

package issuer_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestAdminAPI(t *testing.T) {
	e := newEnv(t)
	admin := bearer(e.adminKey)

	res := e.do("POST", "/v1/admin/users", admin, `{"name":"Carol","phoneNumber":"+447911123456"}`)
	if res.status != http.StatusCreated {
		t.Fatalf("create user: %d %s", res.status, res.body)
	}
	carol := res.json(t)
	if id, _ := carol["id"].(string); len(id) != 36 || carol["disabled"] != false {
		t.Errorf("created = %v, want a GUID id and disabled false", carol)
	}
	got := e.do("GET", "/v1/admin/users/"+carol["id"].(string), admin, "").json(t)
	if got["name"] != "Carol" || got["phoneNumber"] != "+447911123456" {
		t.Errorf("read back = %v", got)
	}
	if n := len(e.do("GET", "/v1/admin/users", admin, "").json(t)["users"].([]any)); n != 3 {
		t.Errorf("users listed = %d, want 3", n)
	}
	if res := e.do("POST", "/v1/admin/packages", admin, `{"id":"com.fabrikam.poll","displayName":"Poll"}`); res.status != http.StatusCreated {
		t.Errorf("create package: %d %s", res.status, res.body)
	}
	res = e.do("POST", "/v1/admin/clients", admin, `{"name":"erp adapter","role":"resource-server"}`)
	key, _ := res.json(t)["apiKey"].(string)
	if res.status != http.StatusCreated || !strings.HasPrefix(key, "cgk_") {
		t.Fatalf("create client: %d %s", res.status, res.body)
	}
	if introspect(e, key, e.mint(alice, ordersPkg)).json(t)["active"] != true {
		t.Error("the new resource-server key does not work")
	}
	clients := e.do("GET", "/v1/admin/clients?role=resource-server", admin, "")
	if strings.Contains(string(clients.body), key) || strings.Contains(string(clients.body), "keyHash") {
		t.Error("client listing shows a key or its hash")
	}

	tests := []struct {
		name, method, path, body string
		status                   int
		msg                      string
	}{
		{"bad phone", "POST", "/v1/admin/users", `{"name":"X","phoneNumber":"555-1234"}`, 400, "phoneNumber: must be a real phone number in international form"},
		{"phone of no country", "POST", "/v1/admin/users", `{"name":"X","phoneNumber":"+1415555"}`, 400, "phoneNumber: must be a real phone number"},
		{"no name", "POST", "/v1/admin/users", `{"phoneNumber":"+14155550199"}`, 400, "name: must not be empty"},
		{"bad picture", "POST", "/v1/admin/users", `{"name":"X","phoneNumber":"+14155550199","pictureUrl":"javascript:alert(1)"}`, 400, "pictureUrl:"},
		{"bad id", "POST", "/v1/admin/users", `{"id":"123","name":"X","phoneNumber":"+14155550199"}`, 400, "id: must be a lower-case GUID"},
		{"phone taken", "POST", "/v1/admin/users", `{"name":"X","phoneNumber":"+1 415 555 0101"}`, 409, "phoneNumber: +14155550101 is user " + alice},
		{"duplicate user", "POST", "/v1/admin/users", `{"id":"` + alice + `","name":"X","phoneNumber":"+14155550199"}`, 409, ""},
		{"wrong type", "POST", "/v1/admin/users", `{"name":7,"phoneNumber":"+14155550199"}`, 400, "name: must be string"},
		{"bad package id", "POST", "/v1/admin/packages", `{"id":"Orders!","displayName":"X"}`, 400, "id: must be in reverse-DNS form"},
		{"long package id", "POST", "/v1/admin/packages", `{"id":"com.` + strings.Repeat("a", 70) + `","displayName":"X"}`, 400, "at most 64"},
		{"duplicate package", "POST", "/v1/admin/packages", `{"id":"` + ordersPkg + `","displayName":"X"}`, 409, ""},
		{"bad role", "POST", "/v1/admin/clients", `{"name":"x","role":"root"}`, 400, "role:"},
		{"unknown user", "GET", "/v1/admin/users/11111111-2222-4333-8444-555555555555", "", 404, "no such user"},
		{"disable unknown", "POST", "/v1/admin/packages/com.nope.x/disable", "", 404, "no such action package"},
		{"no endpoint", "GET", "/v1/nothing", "", 404, "no endpoint at /v1/nothing"},
		{"wrong method", "DELETE", "/v1/users/me", "", 405, "method DELETE is not allowed"},
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
	if res := e.do("GET", "/v1/admin/users", bearer(e.hostKey), ""); res.status != http.StatusForbidden {
		t.Errorf("host key on admin API: %d, want 403", res.status)
	}
	// Nothing stored was lost to the bad requests.
	if n := len(e.do("GET", "/v1/admin/users", admin, "").json(t)["users"].([]any)); n != 3 {
		t.Errorf("users after bad input = %d, want 3", n)
	}
}

func TestOperations(t *testing.T) {
	e := newEnv(t)
	for path, want := range map[string]string{"/healthz": `{"status":"ok"}`, "/readyz": `{"status":"ready"}`} {
		if res := e.do("GET", path, nil, ""); res.status != 200 || strings.TrimSpace(string(res.body)) != want {
			t.Errorf("%s: %d %s", path, res.status, res.body)
		}
	}
	tok := e.mint(alice, ordersPkg)
	e.usersMe(tok)
	e.usersMe("junk")
	res := e.do("GET", "/metrics", nil, "")
	m := string(res.body)
	for _, want := range []string{
		`cardgate_issuer_requests_total{code="200",route="GET /v1/users/me"} 1`,
		`cardgate_issuer_requests_total{code="401",route="GET /v1/users/me"} 1`,
		`cardgate_issuer_token_checks_total{result="valid"} 1`,
		`cardgate_issuer_tokens_minted_total 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, secret := range []string{tok, e.hostKey, e.adminKey, e.rsKey, alice} {
		if strings.Contains(m, secret) {
			t.Errorf("metrics contain %q", secret[:8])
		}
	}
}

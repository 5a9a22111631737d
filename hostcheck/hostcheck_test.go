package hostcheck_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/hostcheck"
)

func TestNames(t *testing.T) {
	var n hostcheck.Names
	for _, u := range []struct {
		url string
		sub bool
	}{{"https://id.example.com", false}, {"http://cards.localhost:8082", true}, {"http://127.0.0.1:8080/", false}} {
		if err := n.AddURL(u.url, u.sub); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.AddHost("issuer.internal:8080"); err != nil {
		t.Fatal(err)
	}
	if err := n.AddHost("node-1"); err != nil {
		t.Fatal(err)
	}
	var demo hostcheck.Names
	demo.AddLoopback("9000")
	for host, want := range map[string]bool{
		"id.example.com": true, "ID.Example.com": true, "id.example.com:443": true,
		"id.example.com:80": false, "id.example.com.evil.net": false, "evil.example.com": false, "example.com": false,
		"cards.localhost:8082": true, "com-contoso-orders-abc.cards.localhost:8082": true,
		"a.b.cards.localhost:8082": false, ".cards.localhost:8082": false, "cards.localhost": false,
		"x.cards.localhost:9999": false, "xcards.localhost:8082": false,
		"127.0.0.1:8080": true, "127.0.0.1:8081": false, "127.0.0.1": false, "localhost:8080": false,
		"issuer.internal:8080": true, "issuer.internal": false, "node-1": true, "node-1:1234": true,
		"": false, "evil.example": false,
	} {
		if got := n.Allows(host); got != want {
			t.Errorf("Allows(%q) = %v, want %v", host, got, want)
		}
	}
	for host, want := range map[string]bool{
		"127.0.0.1:9000": true, "localhost:9000": true, "[::1]:9000": true, "LOCALHOST:9000": true,
		"localhost": false, "127.0.0.1:9001": false, "rebind.evil.example:9000": false,
	} {
		if got := demo.Allows(host); got != want {
			t.Errorf("loopback: Allows(%q) = %v, want %v", host, got, want)
		}
	}
	for _, bad := range []string{"ftp://x", "/path", "http://"} {
		if err := n.AddURL(bad, false); err == nil {
			t.Errorf("AddURL(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "a b", "*.example.com", "http://x"} {
		if err := n.AddHost(bad); err == nil {
			t.Errorf("AddHost(%q) accepted", bad)
		}
	}
}

func TestHandler(t *testing.T) {
	var n hostcheck.Names
	n.AddURL("https://id.example.com", false)
	h := hostcheck.Handler(n, "https://id.example.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(204)
	}), "/healthz")
	for _, tc := range []struct {
		host, path string
		status     int
	}{
		{"id.example.com", "/v1/users/me", 204},
		{"rebound.evil.example", "/v1/users/me", 421},
		{"10.0.0.7:8080", "/healthz", 204},
		{"10.0.0.7:8080", "/healthz/", 421},
	} {
		r := httptest.NewRequest("GET", "http://x"+tc.path, nil)
		r.Host = tc.host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.host, tc.path, w.Code, tc.status)
		}
		if w.Code == 421 {
			var body struct {
				Error struct{ Code, Message string }
			}
			if json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Error.Code != "MisdirectedRequest" ||
				!strings.Contains(body.Error.Message, "answers as https://id.example.com") || w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("421 body %s", w.Body)
			}
		}
	}
}

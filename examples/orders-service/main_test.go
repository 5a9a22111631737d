package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/verify"
)

// tokens is a Verifier over fixed tokens, standing in for the issuer; the
// verify package's own tests run against the real one.
type tokens map[string]*verify.Identity

func (t tokens) Verify(_ context.Context, tok string) (*verify.Identity, error) {
	if id, ok := t[tok]; ok {
		return id, nil
	}
	return nil, cardgate.Errorf(cardgate.EINVALIDTOKEN, "token is invalid")
}

func TestOrdersAreKeptPerUser(t *testing.T) {
	srv := httptest.NewServer(newHandler(tokens{
		"alice": {UserID: "a", ActionPackageID: "com.contoso.orders"},
		"bob":   {UserID: "b", ActionPackageID: "com.contoso.orders"},
		"other": {UserID: "a", ActionPackageID: "com.contoso.survey"},
	}))
	defer srv.Close()
	do := func(method, tok, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+"/orders", strings.NewReader(body))
		req.Header.Set("accessToken", tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b := new(strings.Builder)
		_, _ = io.Copy(b, res.Body)
		return res.StatusCode, b.String()
	}
	if s, _ := do("POST", "alice", `{"item":"paper"}`); s != 201 {
		t.Fatalf("alice orders: %d", s)
	}
	if _, body := do("GET", "bob", ""); strings.Contains(body, "paper") {
		t.Error("bob sees alice's order")
	}
	if _, body := do("GET", "alice", ""); !strings.Contains(body, "paper") {
		t.Error("alice does not see her order")
	}
	if s, _ := do("GET", "other", ""); s != 403 {
		t.Errorf("another card: %d, want 403", s)
	}
	if s, _ := do("GET", "nobody", ""); s != 401 {
		t.Errorf("bad token: %d, want 401", s)
	}
}

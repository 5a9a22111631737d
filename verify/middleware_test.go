package verify_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/verify"
)

// call sends a request to url with the headers (each value its own header
// line, names written as given) and body, and returns the status and the
// error body's code and message.
func call(t *testing.T, url string, headers [][2]string, body string) (int, string, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest("POST", url, rd)
	for _, h := range headers {
		req.Header[h[0]] = append(req.Header[h[0]], h[1]) // not canonicalized: sent as written
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e struct {
		Error struct{ Code, Message string }
	}
	json.NewDecoder(res.Body).Decode(&e)
	return res.StatusCode, e.Error.Code, e.Error.Message
}

// TestMiddlewareRefusesTwoHeaderTokens: the service behind may read
// another header value than the middleware checked, so a request with two
// values of a token header, or two different tokens in Authorization and
// accessToken, is refused before any token is checked.
func TestMiddlewareRefusesTwoHeaderTokens(t *testing.T) {
	e := newIssuer(t)
	srv, seen := serve(t, e.remote(t, verify.RemoteConfig{}))
	a, b := e.mint(t, alice, orders), e.mint(t, bob, orders)
	for _, tt := range []struct {
		name    string
		headers [][2]string
		status  int
		msg     string
	}{
		{"two Authorization headers", [][2]string{{"Authorization", "Bearer " + a}, {"Authorization", "Bearer " + b}}, 401, "two Authorization headers"},
		{"the same token twice in Authorization", [][2]string{{"Authorization", "Bearer " + a}, {"Authorization", "Bearer " + a}}, 401, "two Authorization headers"},
		{"Basic beside Bearer", [][2]string{{"Authorization", "Basic dXNlcjpwdw=="}, {"Authorization", "Bearer " + a}}, 401, "two Authorization headers"},
		{"two accessToken headers", [][2]string{{"accessToken", a}, {"accessToken", b}}, 401, "two accessToken headers"},
		{"two accessToken headers, other case", [][2]string{{"accessToken", a}, {"AccessToken", b}}, 401, "two accessToken headers"},
		{"different tokens in Authorization and accessToken", [][2]string{{"Authorization", "Bearer " + a}, {"accessToken", b}}, 401, "two different tokens"},
		{"a space inside the bearer token", [][2]string{{"Authorization", "Bearer " + a + " " + b}}, 401, "malformed token"},
		{"a tab inside the bearer token", [][2]string{{"Authorization", "Bearer " + a + "\t" + b}}, 401, "malformed token"},
		{"an empty bearer token", [][2]string{{"Authorization", "Bearer   "}}, 401, "malformed token"},
		{"the same token in Authorization and accessToken", [][2]string{{"Authorization", "Bearer " + a}, {"accessToken", a}}, 200, ""},
		{"Basic for another purpose, token in accessToken", [][2]string{{"Authorization", "Basic dXNlcjpwdw=="}, {"accessToken", a}}, 200, ""},
		{"bearer in any case", [][2]string{{"Authorization", "bEaReR  " + a}}, 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			seen.Clear()
			status, code, msg := call(t, srv.URL, tt.headers, "")
			if status != tt.status {
				t.Fatalf("status %d (%s: %s), want %d", status, code, msg, tt.status)
			}
			if status == 200 {
				if _, ok := seen.Load(alice); !ok {
					t.Error("the handler did not see alice")
				}
				return
			}
			if code != "InvalidToken" || !strings.Contains(msg, tt.msg) {
				t.Errorf("error %s: %q, want InvalidToken saying %q", code, msg, tt.msg)
			}
			if strings.Contains(msg, a) || strings.Contains(msg, b) {
				t.Error("the error holds a token")
			}
			n := 0
			seen.Range(func(any, any) bool { n++; return true })
			if n > 0 {
				t.Error("the handler ran")
			}
		})
	}
}

// TestMiddlewareBodyTokenMatchesHeader: with BodyField, the body is read
// whether or not a header carries the token, its field is found the way
// Go's encoding/json finds it (in any case, escapes decoded, the first
// JSON value only), and a body that names another token than the header,
// names the field twice or holds a non-string is refused. The handler
// gets the body byte for byte.
func TestMiddlewareBodyTokenMatchesHeader(t *testing.T) {
	e := newIssuer(t)
	a, b := e.mint(t, alice, orders), e.mint(t, bob, orders)
	var got []byte
	var who string
	srv := httptest.NewServer(verify.Middleware(e.remote(t, verify.RemoteConfig{}), verify.BodyField("integrationToken", 4096))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, _ = io.ReadAll(r.Body)
			id, _ := verify.IdentityFrom(r.Context())
			who = id.UserID
		})))
	t.Cleanup(srv.Close)
	bearer := [][2]string{{"Authorization", "Bearer " + a}}
	for _, tt := range []struct {
		name    string
		headers [][2]string
		body    string
		status  int
		code    string
		msg     string
	}{
		{"header alice, body bob", bearer, `{"sku":"P-100","integrationToken":"` + b + `"}`, 401, "InvalidToken", "two different tokens"},
		{"accessToken alice, body bob", [][2]string{{"accessToken", a}}, `{"integrationToken":"` + b + `"}`, 401, "InvalidToken", "two different tokens"},
		{"header alice, body bob in another case", bearer, `{"INTEGRATIONTOKEN":"` + b + `"}`, 401, "InvalidToken", "two different tokens"},
		{"header alice, body bob with a Kelvin sign K", bearer, "{\"integrationTo\u212Aen\":\"" + b + `"}`, 401, "InvalidToken", "two different tokens"},
		{"header alice, body bob with an escaped name", bearer, `{"integration\u0054oken":"` + b + `"}`, 401, "InvalidToken", "two different tokens"},
		{"header alice, body bob then trailing bytes", bearer, `{"integrationToken":"` + b + `"} trailing`, 401, "InvalidToken", "two different tokens"},
		{"two spellings of the field", nil, `{"integrationToken":"` + a + `","IntegrationToken":"` + b + `"}`, 400, "InvalidRequest", "appears twice"},
		{"the field twice", bearer, `{"integrationToken":"` + a + `","integrationToken":"` + a + `"}`, 400, "InvalidRequest", "appears twice"},
		{"a number", nil, `{"integrationToken":12345}`, 400, "InvalidRequest", "must be a string"},
		{"an object, beside a header token", bearer, `{"integrationToken":{"token":"` + b + `"}}`, 400, "InvalidRequest", "must be a string"},
		{"body too large, beside a header token", bearer, `{"pad":"` + strings.Repeat("x", 5000) + `"}`, 413, "TooLarge", "larger than 4096 bytes"},
		{"header alice, body alice", bearer, `{"sku":"P-100", "integrationToken": "` + a + `" ,"quantity":2}`, 200, "", ""},
		{"body only, another case", nil, `{"IntegrationToken":"` + a + `"}`, 200, "", ""},
		{"header alice, body without the field", bearer, `{"sku":"P-100","nested":{"integrationToken":"` + b + `"}}`, 200, "", ""},
		{"header alice, body not JSON", bearer, "sku=P-100&integrationToken=" + b, 200, "", ""},
		{"header alice, empty body token", bearer, `{"integrationToken":""}`, 200, "", ""},
		{"header alice, null body token", bearer, `{"integrationToken":null}`, 200, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, who = nil, ""
			status, code, msg := call(t, srv.URL, tt.headers, tt.body)
			if status != tt.status {
				t.Fatalf("status %d (%s: %s), want %d", status, code, msg, tt.status)
			}
			if status == 200 {
				if who != alice || string(got) != tt.body {
					t.Errorf("handler saw %q with body %q, want alice and the body as sent", who, got)
				}
				return
			}
			if code != tt.code || !strings.Contains(msg, tt.msg) {
				t.Errorf("error %s: %q, want %s saying %q", code, msg, tt.code, tt.msg)
			}
			if strings.Contains(msg, a) || strings.Contains(msg, b) {
				t.Error("the error holds a token")
			}
			if who != "" || got != nil {
				t.Error("the handler ran")
			}
		})
	}
	// The Kelvin-sign and escaped spellings are refused because Go's own
	// decoder would hand them to a handler as the field.
	var dst struct {
		Token string `json:"integrationToken"`
	}
	for _, body := range []string{"{\"integrationTo\u212Aen\":\"x\"}", `{"integration\u0054oken":"x"}`, `{"INTEGRATIONTOKEN":"x"}`} {
		dst.Token = ""
		if json.NewDecoder(strings.NewReader(body)).Decode(&dst); dst.Token != "x" {
			t.Errorf("encoding/json does not read %s as the field", body)
		}
	}
}

// TestMiddlewareIgnoresUnderscoreHeaders: access_token and the like are
// not the accessToken header, so they are never read as a token (nor
// count as a second one).
func TestMiddlewareIgnoresUnderscoreHeaders(t *testing.T) {
	e := newIssuer(t)
	srv, seen := serve(t, e.remote(t, verify.RemoteConfig{}))
	a, b := e.mint(t, alice, orders), e.mint(t, bob, orders)
	for _, h := range []string{"access_token", "Access_Token", "ACCESS_TOKEN", "access-token", "Authorization_", "authorization_token"} {
		val := a
		if strings.HasPrefix(strings.ToLower(h), "authorization") {
			val = "Bearer " + a
		}
		if status, _, msg := call(t, srv.URL, [][2]string{{h, val}}, ""); status != 401 || !strings.Contains(msg, "no token") {
			t.Errorf("%s alone: %d %q, want 401 no token", h, status, msg)
		}
	}
	seen.Clear()
	if status, _, msg := call(t, srv.URL, [][2]string{{"accessToken", a}, {"access_token", b}, {"Access_Token", b}}, ""); status != 200 {
		t.Errorf("accessToken beside access_token: %d %q, want 200", status, msg)
	}
	if _, ok := seen.Load(bob); ok {
		t.Error("the handler saw bob, from access_token")
	}
}

// TestBodyFieldDefaultLimit: maxBytes 0 means 64 KiB, for a body beside a
// header token too.
func TestBodyFieldDefaultLimit(t *testing.T) {
	e := newIssuer(t)
	a := e.mint(t, alice, orders)
	srv := httptest.NewServer(verify.Middleware(e.remote(t, verify.RemoteConfig{}), verify.BodyField("integrationToken", 0))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	t.Cleanup(srv.Close)
	pad := func(n int) string { return `{"pad":"` + strings.Repeat("x", n-len(`{"pad":""}`)) + `"}` }
	bearer := [][2]string{{"Authorization", "Bearer " + a}}
	if status, _, msg := call(t, srv.URL, bearer, pad(64<<10)); status != 200 {
		t.Errorf("64 KiB: %d %q, want 200", status, msg)
	}
	if status, _, msg := call(t, srv.URL, bearer, pad(64<<10+1)); status != 413 {
		t.Errorf("64 KiB + 1: %d %q, want 413", status, msg)
	}
}

// AllowUsers and Allow refuse (403) every caller they do not admit, and
// the handler never runs for them.
func TestMiddlewareAllowUsersAndAllow(t *testing.T) {
	e := newIssuer(t)
	v := e.remote(t, verify.RemoteConfig{})
	for _, tc := range []struct {
		name string
		opt  verify.Option
	}{
		{"AllowUsers", verify.AllowUsers(alice)},
		{"Allow", verify.Allow(func(id *verify.Identity) bool { return id.UserID == alice })},
	} {
		srv, _ := serve(t, v, tc.opt)
		for _, c := range []struct {
			user   string
			status int
		}{{alice, 200}, {bob, 403}} {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("Authorization", "Bearer "+e.mint(t, c.user, orders))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.status || (c.status == 403 && !strings.Contains(string(body), `"Forbidden"`)) {
				t.Errorf("%s, %s: %d %s, want %d", tc.name, c.user, res.StatusCode, body, c.status)
			}
		}
	}
}

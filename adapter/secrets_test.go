package adapter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/http/httputil"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tokenEndpoint is an OAuth 2.0 token endpoint that counts its calls.
func tokenEndpoint(t *testing.T, accessToken string) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		id, sec, _ := r.BasicAuth()
		if id != "cardgate" || sec != testSecrets["CLIENT_SECRET"] || r.FormValue("grant_type") != "client_credentials" {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":"invalid_client","error_description":"secret was `+sec+`"}`)
			return
		}
		time.Sleep(10 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": accessToken, "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestOAuth2OneTokenCallForConcurrentRequests(t *testing.T) {
	const access = "oauth-access-4b5c6d"
	tokSrv, calls := tokenEndpoint(t, access)
	var bad atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+access {
			bad.Add(1)
		}
	}))
	defer up.Close()
	e := newEnv(t, strings.NewReplacer("UP", up.URL, "TOK", tokSrv.URL).Replace(`
issuer: {url: "http://127.0.0.1:1"}
routes:
  - name: crm
    match: /crm/
    policy: {packages: ["*"]}
    upstream: {url: "UP"}
    credential: {type: oauth2-client-credentials, tokenUrl: "TOK", clientId: cardgate, clientSecret: env:CLIENT_SECRET, scopes: [a]}
`))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", e.srv.URL+"/crm/x", nil)
			req.Header.Set("Authorization", "Bearer tok-alice")
			res, err := client.Do(req)
			if err != nil || res.StatusCode != 200 {
				failed.Add(1)
				return
			}
			res.Body.Close()
		}()
	}
	wg.Wait()
	if failed.Load() != 0 || bad.Load() != 0 {
		t.Fatalf("%d failed, %d reached the upstream without the token", failed.Load(), bad.Load())
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("token endpoint called %d times for 200 concurrent requests, want 1", n)
	}
}

// TestSecretsNeverLeak runs every flow while recording every response
// (status, headers, body), every log line, the metrics and the audit
// records, then looks for each secret value in all of them.
func TestSecretsNeverLeak(t *testing.T) {
	const access = "oauth-access-4b5c6d"
	tokSrv, _ := tokenEndpoint(t, access)
	badTok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, sec, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		io.WriteString(w, `{"error":"invalid_client","error_description":"got `+sec+`"}`)
	}))
	defer badTok.Close()
	// The upstream checks each credential and answers without echoing.
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/slow"):
			time.Sleep(300 * time.Millisecond)
		case strings.HasPrefix(r.URL.Path, "/redirect"):
			http.Redirect(w, r, "http://elsewhere.example/", 302)
			return
		}
		w.Header().Set("X-Upstream", "yes")
		io.WriteString(w, `{"ok":true}`)
	}))
	defer up.Close()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String()
	l.Close()
	yaml := strings.NewReplacer("UP", up.URL, "TOK", tokSrv.URL, "BADT", badTok.URL, "CLOSED", closed).Replace(`
issuer: {url: "http://127.0.0.1:1"}
token: {bodyField: integrationToken}
limits: {maxBodyBytes: 512}
routes:
  - {name: header, match: /header/, policy: {packages: [com.example.a]}, upstream: {url: "UP"},
     credential: {type: header, header: X-Api-Key, value: env:API_KEY}, limits: {rateLimit: {perUser: {requests: 2, per: hour}}}}
  - {name: bearer, match: /bearer/, policy: {packages: ["*"]}, upstream: {url: "UP"}, credential: {type: bearer, token: env:BEARER}}
  - {name: basic, match: /basic/, policy: {packages: ["*"]}, upstream: {url: "UP"}, credential: {type: basic, username: u, password: store:basic-pw}}
  - {name: oauth, match: /oauth/, policy: {packages: ["*"]}, upstream: {url: "UP"},
     credential: {type: oauth2-client-credentials, tokenUrl: "TOK", clientId: cardgate, clientSecret: env:CLIENT_SECRET}}
  - {name: oauthbad, match: /oauthbad/, policy: {packages: ["*"]}, upstream: {url: "UP"},
     credential: {type: oauth2-client-credentials, tokenUrl: "BADT", clientId: cardgate, clientSecret: env:CLIENT_SECRET}}
  - {name: slow, match: /slow, policy: {packages: ["*"]}, upstream: {url: "UP", timeout: 50ms}, credential: {type: bearer, token: env:BEARER}}
  - {name: redirect, match: /redirect, policy: {packages: ["*"]}, upstream: {url: "UP"}, credential: {type: bearer, token: env:BEARER}}
  - {name: down, match: /down, policy: {packages: ["*"]}, upstream: {url: "CLOSED"}, credential: {type: header, header: X-Api-Key, value: env:API_KEY}}
`)
	e := newEnv(t, yaml)
	var seenText strings.Builder
	record := func(res *http.Response, body string) {
		b, _ := httputil.DumpResponse(res, false)
		seenText.Write(b)
		seenText.WriteString(body + "\n")
	}
	flows := []struct {
		method, path, token, body string
		hdr                       []string
	}{
		{"GET", "/header/x", "tok-alice", "", nil},
		{"GET", "/header/x", "tok-alice", "", nil},
		{"GET", "/header/x", "tok-alice", "", nil}, // 429
		{"GET", "/header/x", "tok-bob", "", nil},   // 403
		{"GET", "/bearer/x", "tok-bob", "", nil},
		{"GET", "/basic/x", "tok-bob", "", nil},
		{"GET", "/oauth/x", "tok-bob", "", nil},
		{"GET", "/oauthbad/x", "tok-bob", "", nil}, // 502
		{"GET", "/slow", "tok-bob", "", nil},       // 504
		{"GET", "/redirect", "tok-bob", "", nil},   // 302
		{"GET", "/down", "tok-bob", "", nil},       // 502
		{"GET", "/nowhere", "tok-bob", "", nil},    // 404
		{"GET", "/bearer/x", "", "", nil},          // 401
		{"GET", "/bearer/x", "issuer-down", "", nil},
		{"POST", "/bearer/x", "", `{"integrationToken":"tok-bob","a":1}`, []string{"Content-Type", "application/json"}},
		{"POST", "/bearer/x", "tok-bob", strings.Repeat("x", 600), nil}, // 413
		{"GET", "/bearer/%2e%2e/x", "tok-bob", "", nil},                 // 400
		{"GET", "/auth", "tok-alice", "", []string{"X-Original-Method", "GET", "X-Original-Uri", "/basic/x"}},
		{"GET", "/auth", "tok-bob", "", []string{"X-Original-Method", "GET", "X-Original-Uri", "/bearer/x"}},
	}
	for _, f := range flows {
		var body io.Reader
		if f.body != "" {
			body = strings.NewReader(f.body)
		}
		res, b := e.do(f.method, f.path, f.token, body, f.hdr...)
		record(res, b)
	}
	// A reload with a secret pasted where a reference belongs.
	e.write(strings.Replace(yaml, "env:API_KEY", testSecrets["API_KEY"], 1))
	if err := e.a.Reload(context.Background()); err != nil {
		seenText.WriteString(err.Error())
	} else {
		t.Fatal("pasted secret accepted")
	}
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	metricsText := fmt.Sprint(mfs)
	auditText := fmt.Sprintf("%+v", e.audit.all())
	everything := map[string]string{
		"responses": seenText.String(),
		"logs":      e.logs.String(),
		"metrics":   metricsText,
		"audit":     auditText,
		"adapter":   fmt.Sprintf("%+v %#v", e.a.table.Load().routes, e.a.Config()),
	}
	secrets := map[string]string{"access token": access}
	for k, v := range testSecrets {
		secrets[k] = v
	}
	for where, text := range everything {
		for name, v := range secrets {
			if strings.Contains(text, v) {
				t.Errorf("secret %s appears in the %s", name, where)
			}
		}
	}
	// The flows did run: check a few outcomes in what was recorded.
	for _, want := range []string{"429 Too Many Requests", "403 Forbidden", "502 Bad Gateway", "504 Gateway Timeout", "302 Found", "413 Request Entity Too Large", "X-Upstream: yes", "X-Cardgate-User-Id: " + alice.UserID} {
		if !strings.Contains(seenText.String(), want) {
			t.Errorf("no %q among the responses", want)
		}
	}
	if !strings.Contains(e.logs.String(), "invalid_client") {
		t.Errorf("the token endpoint refusal was not logged")
	}
	if len(e.audit.all()) != len(flows) {
		t.Errorf("%d audit records for %d requests", len(e.audit.all()), len(flows))
	}
}

// An upstream's informational responses (103 Early Hints, a 100 nobody
// asked for) are not passed on: ReverseProxy would copy their headers to
// the client as they came, past the scrubbing of secrets and the mapping
// of Location that the final response gets.
func TestInformationalResponsesNotPassedOn(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo-Key", r.Header.Get("X-Api-Key"))
		w.Header().Set("Location", "http://"+r.Host+"/admin")
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusContinue)
		clear(w.Header())
		io.WriteString(w, `{"ok":true}`)
	}))
	defer up.Close()
	e := newEnv(t, `
issuer: {url: "http://127.0.0.1:1"}
routes:
  - {name: h, match: /h/, policy: {packages: ["*"]}, upstream: {url: "`+up.URL+`"},
     credential: {type: header, header: X-Api-Key, value: env:API_KEY}}
`)
	var got []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		got = append(got, fmt.Sprint(code, h))
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", e.srv.URL+"/h/x", nil)
	req.Header.Set("Authorization", "Bearer tok-alice")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != `{"ok":true}` {
		t.Fatalf("final response: %d %s", res.StatusCode, b)
	}
	if len(got) != 0 {
		t.Errorf("the client got the upstream's informational responses: %q", got)
	}
}

package adapter

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestForwardRewritesRequest(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	res, body := e.do("GET", "/products/42/a%20b?q=1&r=%2F", "", nil,
		"accessToken", "tok-alice",
		"X-Cardgate-User-Id", "forged-user",
		"x-cardgate-package-id", "forged-package",
		"X-Cardgate-Anything", "forged",
		"X-Api-Key", "forged-key",
		"X-Forwarded-For", "6.6.6.6",
		"X-Forwarded-Host", "evil.example",
		"X-Forwarded-Proto", "https",
		"X-Forwarded-Prefix", "/evil",
		"X-Real-Ip", "6.6.6.6",
		"Forwarded", "for=6.6.6.6",
		"Connection", "X-Hop",
		"X-Hop", "drop me",
		"Proxy-Authorization", "Basic eDp5",
		"Keep-Alive", "timeout=5",
		"Expect", "100-continue",
		"X-Custom", "kept",
	)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	s := decodeSeen(t, body)
	if s.Path != "/api/items/42/a%20b" || s.Query != "q=1&r=%2F" {
		t.Errorf("upstream path %q query %q", s.Path, s.Query)
	}
	if want := strings.TrimPrefix(up.URL, "http://"); s.Host != want {
		t.Errorf("upstream Host %q, want %q", s.Host, want)
	}
	want := map[string]string{
		"X-Cardgate-User-Id":    alice.UserID,
		"X-Cardgate-Package-Id": alice.ActionPackageID,
		"X-Cardgate-User-Name":  "Alice%20%C3%9Cn%C3%AFcode",
		"X-Api-Key":             testSecrets["API_KEY"],
		"X-Forwarded-For":       "127.0.0.1",
		"X-Forwarded-Proto":     "http",
		"X-Custom":              "kept",
	}
	for k, v := range want {
		if got := s.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("upstream %s = %q, want [%q]", k, got, v)
		}
	}
	for _, k := range []string{"Authorization", "Accesstoken", "X-Cardgate-Anything", "X-Forwarded-Prefix", "X-Real-Ip", "Forwarded", "X-Hop", "Proxy-Authorization", "Keep-Alive", "Expect"} {
		if v, ok := s.Header[k]; ok {
			t.Errorf("upstream got %s: %q", k, v)
		}
	}
	if got, ok := s.Header["X-Forwarded-Host"]; ok {
		t.Errorf("X-Forwarded-Host = %q: it would come from the client's Host", got)
	}
}

func TestCredentials(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	_, body := e.do("GET", "/orders/7?x=1", "tok-bob", nil)
	s := decodeSeen(t, body)
	if got := s.Header.Get("Authorization"); got != "Bearer "+testSecrets["BEARER"] {
		t.Errorf("bearer: Authorization = %q", got)
	}
	if s.Path != "/v2/orders/7" || s.Query != "tenant=t1&x=1" {
		t.Errorf("path %q query %q", s.Path, s.Query)
	}
	_, body = e.do("POST", "/reports", "tok-bob", strings.NewReader("{}"))
	s = decodeSeen(t, body)
	if got := s.Header.Get("Authorization"); got != "Basic "+base64.StdEncoding.EncodeToString([]byte("svc:"+testSecrets["BASIC_PW"])) {
		t.Errorf("basic: Authorization = %q", got)
	}
	if s.Path != "/reports" {
		t.Errorf("path %q", s.Path)
	}
}

// rawRequest sends text as it is on a new connection and returns the
// response status and body.
func rawRequest(t *testing.T, addr, text string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, text)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestPathTraversalStaysUnderBase(t *testing.T) {
	up, hits := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	bad := []string{
		"/products/../admin",
		"/products/..",
		"/products/x/../../admin",
		"/products/%2e%2e/admin",
		"/products/%2E%2E/admin",
		"/products/.%2e/admin",
		"/products/%2e./admin",
		"/products/%2e",
		"/products/./x",
		"/products/..%2fadmin",
		"/products/..%2Fadmin",
		"/products/a%2fb",
		"/products/..%5cadmin",
		"/products/a%5Cb",
		`/products/..\admin`,
		`/products/a\b`,
		"/products/%252e%252e/admin",
		"/products/%252fadmin",
		"/products/%25",
		"/products/..;/admin",
		"/products/.;x/admin",
		"/products//admin",
		"/products/x//y",
		"/products/%00",
		"/products/a%0d%0aX-Injected:%201",
		"/products/%c0%ae%c0%ae/admin",
		"/products/%e0%80%ae",
	}
	for _, p := range bad {
		t.Run(p, func(t *testing.T) {
			before := *hits
			status, body := rawRequest(t, addr, "GET "+p+" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-alice\r\nConnection: close\r\n\r\n")
			if status != http.StatusBadRequest {
				t.Errorf("status %d, want 400: %s", status, body)
			}
			if *hits != before {
				t.Errorf("the upstream was called")
			}
		})
	}
	// Encodings that are harmless still pass, and stay under the base.
	for p, want := range map[string]string{
		"/products/a%20b":   "/api/items/a%20b",
		"/products/a%3Bb":   "/api/items/a%3Bb",
		"/products/%C3%BC":  "/api/items/%C3%BC",
		"/products/a.b/..c": "/api/items/a.b/..c",
	} {
		status, body := rawRequest(t, addr, "GET "+p+" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-alice\r\nConnection: close\r\n\r\n")
		if status != 200 {
			t.Errorf("%s: status %d: %s", p, status, body)
			continue
		}
		if s := decodeSeen(t, body); s.Path != want {
			t.Errorf("%s: upstream path %q, want %q", p, s.Path, want)
		}
	}
}

func TestRefusals(t *testing.T) {
	up, hits := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	tests := []struct {
		name, method, path, token string
		hdr                       []string
		status                    int
		code                      string
	}{
		{"no token", "GET", "/products/1", "", nil, 401, "InvalidToken"},
		{"bad token", "GET", "/products/1", "nope", nil, 401, "InvalidToken"},
		{"two tokens", "GET", "/products/1", "", []string{"accessToken", "tok-alice", "accessToken", "tok-bob"}, 401, "InvalidToken"},
		{"Bearer and accessToken differ", "GET", "/products/1", "tok-alice", []string{"accessToken", "tok-bob"}, 401, "InvalidToken"},
		{"accessToken and Bearer differ", "GET", "/products/1", "tok-bob", []string{"accessToken", "tok-alice"}, 401, "InvalidToken"},
		{"basic is not a token", "GET", "/products/1", "", []string{"Authorization", "Basic eDp5"}, 401, "InvalidToken"},
		{"a space inside the token", "GET", "/products/1", "", []string{"Authorization", "Bearer tok-alice tok-bob"}, 401, "InvalidToken"},
		{"a tab inside the token", "GET", "/products/1", "", []string{"accessToken", "tok-alice\ttok-bob"}, 401, "InvalidToken"},
		{"issuer down", "GET", "/products/1", "issuer-down", nil, 503, "Unavailable"},
		{"no route", "GET", "/nothing", "tok-alice", nil, 404, "NotFound"},
		{"no route, no token", "GET", "/nothing", "", nil, 401, "InvalidToken"},
		{"wrong method", "DELETE", "/products/1", "tok-alice", nil, 405, "MethodNotAllowed"},
		{"package B on a route for A", "GET", "/products/1", "tok-bob", nil, 403, "Forbidden"},
		{"user not listed", "POST", "/reports", "tok-alice", nil, 403, "Forbidden"},
	}
	// The same token in both headers is one caller.
	if res, body := e.do("GET", "/products/1", "tok-alice", nil, "accessToken", "tok-alice"); res.StatusCode != 200 {
		t.Errorf("the same token as Bearer and accessToken: %d %s", res.StatusCode, body)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *hits
			res, body := e.do(tt.method, tt.path, tt.token, nil, tt.hdr...)
			if res.StatusCode != tt.status || errorCode(body) != tt.code {
				t.Fatalf("got %d %s, want %d %s", res.StatusCode, body, tt.status, tt.code)
			}
			if strings.Contains(tt.name, "differ") && !strings.Contains(string(body), "two different tokens") {
				t.Errorf("body %s: want it to say there are two tokens", body)
			}
			if strings.Contains(tt.name, "inside") && !strings.Contains(string(body), "malformed token") {
				t.Errorf("body %s: want it to say the token is malformed", body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tt.status == 401 && res.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
				t.Errorf("WWW-Authenticate = %q", res.Header.Get("WWW-Authenticate"))
			}
			if tt.status == 405 && !strings.Contains(res.Header.Get("Allow"), "GET") {
				t.Errorf("Allow = %q", res.Header.Get("Allow"))
			}
			if *hits != before {
				t.Error("the upstream was called")
			}
		})
	}
}

func TestRedirectPassedBack(t *testing.T) {
	var evil int
	evilSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { evil++ }))
	defer evilSrv.Close()
	// Another site: by name, since the upstream's own host is mapped.
	evilURL := strings.Replace(evilSrv.URL, "127.0.0.1", "localhost", 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evilURL+"/steal", http.StatusFound)
	}))
	defer up.Close()
	e := newEnv(t, config(up.URL, ""))
	res, _ := e.do("GET", "/products/1", "tok-alice", nil)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != evilURL+"/steal" {
		t.Fatalf("got %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if evil != 0 {
		t.Fatal("the adapter followed the redirect")
	}
}

func TestUpstreamFailures(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String()
	l.Close()
	e := newEnv(t, strings.NewReplacer("SLOW", slow.URL, "CLOSED", closed).Replace(`
issuer: {url: "http://127.0.0.1:1"}
routes:
  - {name: slow, match: /slow, policy: {packages: ["*"]}, upstream: {url: "SLOW", timeout: 100ms}}
  - {name: down, match: /down, policy: {packages: ["*"]}, upstream: {url: "CLOSED"}}
`))
	start := time.Now()
	res, body := e.do("GET", "/slow", "tok-alice", nil)
	if res.StatusCode != 504 || errorCode(body) != "UpstreamTimeout" {
		t.Errorf("slow: %d %s", res.StatusCode, body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("504 took %v", d)
	}
	res, body = e.do("GET", "/down", "tok-alice", nil)
	if res.StatusCode != 502 || errorCode(body) != "UpstreamFailed" {
		t.Errorf("down: %d %s", res.StatusCode, body)
	}
	if strings.Contains(body, "127.0.0.1") || strings.Contains(body, "refused") {
		t.Errorf("502 body tells the client about the upstream: %s", body)
	}
	if !strings.Contains(e.logs.String(), "connection refused") {
		t.Errorf("the log lacks the cause:\n%s", e.logs.String())
	}
}

// Routes to one upstream keep their own timeouts (each is its transport's
// wait for response headers), and a reload that changes one applies it.
func TestRouteTimeoutsAreTheirOwn(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(300 * time.Millisecond):
			io.WriteString(w, "late")
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	cfg := func(patient string) string {
		return strings.NewReplacer("SLOW", slow.URL, "PATIENT", patient).Replace(`
issuer: {url: "http://127.0.0.1:1"}
routes:
  - {name: quick, match: /quick, policy: {packages: ["*"]}, upstream: {url: "SLOW", timeout: 50ms}}
  - {name: patient, match: /patient, policy: {packages: ["*"]}, upstream: {url: "SLOW", timeout: PATIENT}}
`)
	}
	e := newEnv(t, cfg("10s"))
	if res, body := e.do("GET", "/quick", "tok-alice", nil); res.StatusCode != 504 || errorCode(body) != "UpstreamTimeout" {
		t.Errorf("quick: %d %s, want 504", res.StatusCode, body)
	}
	if n := e.metric("cardgate_adapter_upstream_errors_total", "route=quick", "reason=timeout"); n != 1 {
		t.Errorf("upstream_errors_total{route=quick,reason=timeout} = %v, want 1", n)
	}
	if res, body := e.do("GET", "/patient", "tok-alice", nil); res.StatusCode != 200 || body != "late" {
		t.Errorf("patient: %d %s, want 200 late: it got the other route's timeout", res.StatusCode, body)
	}
	e.write(cfg("50ms"))
	if err := e.a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res, body := e.do("GET", "/patient", "tok-alice", nil); res.StatusCode != 504 || errorCode(body) != "UpstreamTimeout" {
		t.Errorf("patient after a reload to 50ms: %d %s, want 504", res.StatusCode, body)
	}
}

// A dial that timed out is an unreachable upstream (502), not a slow one,
// although its error matches context.DeadlineExceeded as the transport's
// wait for headers does.
func TestDialTimeoutIsNotHeaderTimeout(t *testing.T) {
	_, err := (&net.Dialer{Timeout: time.Nanosecond}).Dial("tcp", "127.0.0.1:9")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Skipf("could not make a dial time out here: %v", err)
	}
	if headerTimeout(err) {
		t.Errorf("headerTimeout(%v) = true: a dial timeout would be answered 504", err)
	}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer slow.Close()
	tr := &http.Transport{ResponseHeaderTimeout: 10 * time.Millisecond}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", slow.URL, nil)
	if _, err := tr.RoundTrip(req); !headerTimeout(err) {
		t.Errorf("headerTimeout(%v) = false for the transport's own timeout", err)
	}
}

// The client has the whole response before the adapter records the
// request: metrics and the audit record never hold it up.
func TestResponseSentBeforeRecord(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "done")
	}))
	defer up.Close()
	e := newEnv(t, `
issuer: {url: "http://127.0.0.1:1"}
routes:
  - {name: r, match: /r, policy: {packages: ["*"]}, upstream: {url: "`+up.URL+`"}}
`)
	received := make(chan struct{})
	e.audit.mu.Lock()
	e.audit.hold = func() {
		select {
		case <-received:
		case <-time.After(5 * time.Second):
		}
	}
	e.audit.mu.Unlock()
	req, _ := http.NewRequest("GET", e.srv.URL+"/r", nil)
	req.Header.Set("Authorization", "Bearer tok-alice")
	client := &http.Client{Timeout: 2 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("no response while the audit record was pending: %v", err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || string(b) != "done" {
		t.Fatalf("body %q, %v while the audit record was pending", b, err)
	}
	close(received)
	deadline := time.Now().Add(5 * time.Second)
	for len(e.audit.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if recs := e.audit.all(); len(recs) != 1 || recs[0].Status != 200 || recs[0].BytesOut != 4 {
		t.Errorf("audit records %+v, want one 200 of 4 bytes", recs)
	}

	// HEAD is sent early too, and the connection stays good for the next
	// request.
	for _, method := range []string{"HEAD", "GET", "HEAD", "GET"} {
		req, _ := http.NewRequest(method, e.srv.URL+"/r", nil)
		req.Header.Set("Authorization", "Bearer tok-alice")
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		want := "done"
		if method == "HEAD" {
			want = ""
		}
		if err != nil || res.StatusCode != 200 || string(b) != want || res.ContentLength != 4 {
			t.Errorf("%s: %d, length %d, body %q, %v; want 200, 4, %q", method, res.StatusCode, res.ContentLength, b, err, want)
		}
	}
}

func TestRetryOnlyIdempotentDialFailures(t *testing.T) {
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("connection refused")}
	tests := []struct {
		method string
		body   bool
		err    error
		calls  int
	}{
		{"GET", false, dialErr, 2},
		{"PUT", false, dialErr, 2},
		{"POST", false, dialErr, 1},
		{"PUT", true, dialErr, 1},
		{"GET", false, io.ErrUnexpectedEOF, 1},
		{"GET", false, nil, 1},
	}
	for _, tt := range tests {
		calls := 0
		rt := retryTransport{base: roundTripFunc(func(*http.Request) (*http.Response, error) {
			calls++
			if tt.err != nil {
				return nil, tt.err
			}
			return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
		})}
		var body io.Reader
		if tt.body {
			body = strings.NewReader("x")
		}
		req := httptest.NewRequest(tt.method, "http://u/", body)
		rt.RoundTrip(req)
		if calls != tt.calls {
			t.Errorf("%s body=%v err=%v: %d calls, want %d", tt.method, tt.body, tt.err, calls, tt.calls)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestCredentialCannotBeForgedOrDropped: the route's credential reaches
// the upstream exactly once, with its own value, whatever the client sent
// under the same name, and even when the client names that header in
// Connection, which makes it hop-by-hop for the proxy.
func TestCredentialCannotBeForgedOrDropped(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	for _, c := range []struct {
		name, method, path, token, header, want string
		hdr                                     []string
	}{
		{"header", "GET", "/products/1", "tok-alice", "X-Api-Key", testSecrets["API_KEY"],
			[]string{"Connection", "X-Api-Key", "X-Api-Key", "forged", "x-api-key", "forged-again"}},
		{"basic", "POST", "/reports", "", "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("svc:"+testSecrets["BASIC_PW"])),
			[]string{"accessToken", "tok-bob", "Connection", "Authorization", "Authorization", "Basic Zm9yZ2VkOng="}},
		{"bearer", "GET", "/orders/1", "tok-alice", "Authorization", "Bearer " + testSecrets["BEARER"],
			[]string{"Connection", "authorization"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, body := e.do(c.method, c.path, c.token, nil, c.hdr...)
			if res.StatusCode != 200 {
				t.Fatalf("status %d: %s", res.StatusCode, body)
			}
			if got := decodeSeen(t, body).Header.Values(c.header); len(got) != 1 || got[0] != c.want {
				t.Errorf("upstream %s = %q, want the route's credential once", c.header, got)
			}
		})
	}
}

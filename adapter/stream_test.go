package adapter

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, "")+`    limits: {rateLimit: {perUser: {requests: 1, per: minute, burst: 2}, perPackage: {requests: 3, per: hour}}}
`)
	// reports: perUser 1/min burst 2 → two pass, the third waits a minute.
	for i := range 2 {
		if res, body := e.do("POST", "/reports", "tok-bob", nil); res.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, res.StatusCode, body)
		}
	}
	res, body := e.do("POST", "/reports", "tok-bob", nil)
	if res.StatusCode != 429 || errorCode(body) != "RateLimited" || res.Header.Get("Retry-After") != "60" {
		t.Fatalf("got %d Retry-After %q %s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	e.clock.Add(time.Minute)
	if res, _ := e.do("POST", "/reports", "tok-bob", nil); res.StatusCode != 200 {
		t.Fatalf("after a minute: %d", res.StatusCode)
	}
	// The package's bucket (3 per hour) is now empty too: 0.15 tokens back
	// after 3 minutes, so 0.85 × 1200 s = 1020 s to wait.
	e.clock.Add(2 * time.Minute)
	res, _ = e.do("POST", "/reports", "tok-bob", nil)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "1020" {
		t.Fatalf("package limit: %d Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Other routes have no limit.
	if res, _ := e.do("GET", "/orders/1", "tok-bob", nil); res.StatusCode != 200 {
		t.Fatalf("orders: %d", res.StatusCode)
	}
}

func TestBodyTooLarge(t *testing.T) {
	var upstreamRead atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		upstreamRead.Add(n)
	}))
	defer up.Close()
	e := newEnv(t, config(up.URL, ""))
	addr := strings.TrimPrefix(e.srv.URL, "http://")

	// Content-Length over the limit: 413 at once, though the body never comes.
	start := time.Now()
	status, body := rawRequest(t, addr, "POST /orders/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-alice\r\nContent-Length: 104857600\r\n\r\n")
	if status != 413 || errorCode(body) != "TooLarge" {
		t.Fatalf("declared: %d %s", status, body)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("413 took %v: the adapter waited for the body", d)
	}

	// Chunked, no length: refused once 1024 bytes have passed, and the
	// client's remaining megabytes are never read.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "POST /orders/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-alice\r\nTransfer-Encoding: chunked\r\n\r\n")
	chunk := fmt.Sprintf("%x\r\n%s\r\n", 600, strings.Repeat("a", 600))
	for range 3 {
		io.WriteString(c, chunk)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 413 || errorCode(string(b)) != "TooLarge" {
		t.Fatalf("chunked: %d %s", res.StatusCode, b)
	}
	if n := upstreamRead.Load(); n > 1024 {
		t.Fatalf("upstream read %d bytes, more than the limit", n)
	}
}

func TestBodyFieldToken(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	tests := []struct{ in, out string }{
		{`{"a":1,"integrationToken":"tok-alice","b":[1,2]}`, `{"a":1,"b":[1,2]}`},
		{`{"integrationToken":"tok-alice", "b": {"integrationToken":"inner"}}`, `{ "b": {"integrationToken":"inner"}}`},
		{`{"a":1.50, "integrationToken" : "tok-alice" }`, `{"a":1.50 }`},
		{`{"integrationToken":"tok-alice"}`, `{}`},
	}
	for _, tt := range tests {
		res, body := e.do("POST", "/orders/1", "", strings.NewReader(tt.in), "Content-Type", "application/json")
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tt.in, res.StatusCode, body)
		}
		s := decodeSeen(t, body)
		if s.Body != tt.out || s.BodyLen != int64(len(tt.out)) {
			t.Errorf("%s: upstream got %q (Content-Length %d), want %q", tt.in, s.Body, s.BodyLen, tt.out)
		}
		if s.Header.Get("X-Cardgate-User-Id") != alice.UserID {
			t.Errorf("identity not from the body token")
		}
	}
	for in, want := range map[string]int{
		`{"integrationToken":"tok-alice","integrationToken":"tok-bob"}`: 400,
		`{"integrationToken":5}`:          400,
		`{"integrationToken":"tok-alice"`: 400,
		`{"other":"x"}`:                   401,
		`[1,2]`:                           401,
	} {
		res, body := e.do("POST", "/orders/1", "", strings.NewReader(in), "Content-Type", "application/json")
		if res.StatusCode != want {
			t.Errorf("%s: %d %s, want %d", in, res.StatusCode, body, want)
		}
	}
	// Bodies some decoder reads as JSON although Go's does not (a
	// byte-order mark, UTF-16, a comment, trailing data) are refused, with
	// or without a header token: passed on, an upstream could find a token
	// field in them that the adapter never saw.
	for _, in := range []string{
		"\ufeff" + `{"integrationToken":"tok-bob"}`,
		"\xfe\xff\x00{\x00\"\x00i\x00\"\x00:\x001\x00}",
		`/* c */ {"integrationToken":"tok-bob"}`,
		`"x" {"integrationToken":"tok-bob"}`,
	} {
		for _, tok := range []string{"", "tok-alice"} {
			res, body := e.do("POST", "/orders/1", tok, strings.NewReader(in), "Content-Type", "application/json")
			if res.StatusCode != 400 || errorCode(body) != "InvalidRequest" {
				t.Errorf("%q, header token %q: %d %s, want 400", in, tok, res.StatusCode, body)
			}
		}
	}
	// A JSON body that is not an object has no field to take; an empty
	// one is no body.
	for _, in := range []string{`[1,2]`, `"x"`, ``} {
		if res, body := e.do("POST", "/orders/1", "tok-alice", strings.NewReader(in), "Content-Type", "application/json"); res.StatusCode != 200 {
			t.Errorf("%q with a header token: %d %s", in, res.StatusCode, body)
		}
	}
	// Over the route's limit: 413 before any token is looked for.
	big := `{"integrationToken":"tok-alice","pad":"` + strings.Repeat("x", 2000) + `"}`
	res, _ := e.do("POST", "/orders/1", "", strings.NewReader(big), "Content-Type", "application/json")
	if res.StatusCode != 413 {
		t.Errorf("big body: %d", res.StatusCode)
	}
	// With the same token in a header the field is removed all the same
	// (TestBodyFieldTokenAlwaysRemoved has the rest).
	in := `{"integrationToken":"tok-alice"}`
	_, body := e.do("POST", "/orders/1", "tok-alice", strings.NewReader(in), "Content-Type", "application/json")
	if s := decodeSeen(t, body); s.Body != "{}" || s.Header.Get("X-Cardgate-User-Id") != alice.UserID {
		t.Errorf("header token: upstream got %q as %s", s.Body, s.Header.Get("X-Cardgate-User-Id"))
	}
}

func TestServerSentEventsStream(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release // the handler is still running while the client reads
		io.WriteString(w, "data: second\n\n")
	}))
	defer up.Close()
	e := newEnv(t, config(up.URL, ""))
	req, _ := http.NewRequest("GET", e.srv.URL+"/products/feed", nil)
	req.Header.Set("Authorization", "Bearer tok-alice")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	got := make(chan string, 1)
	go func() {
		l, _ := br.ReadString('\n')
		got <- l
	}()
	select {
	case l := <-got:
		if l != "data: first\n" {
			t.Fatalf("first line %q", l)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the first event did not arrive before the upstream handler returned")
	}
	close(release)
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), "data: second") {
		t.Fatalf("rest %q", rest)
	}
}

func TestUpgradePassthrough(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" || r.Header.Get("X-Cardgate-User-Id") != alice.UserID || r.Header.Get("Authorization") != "" {
			http.Error(w, "bad upgrade request", 400)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		buf := make([]byte, 4)
		if _, err := io.ReadFull(brw, buf); err == nil {
			c.Write(bytes.ToUpper(buf))
		}
	}))
	defer up.Close()
	e := newEnv(t, config(up.URL, "")+"  - {name: ws, match: GET /ws, policy: {packages: [com.example.a]}, upstream: {url: \""+up.URL+"\"}, websocket: true}\n")
	c, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-alice\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 101 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("status %d %s", res.StatusCode, b)
	}
	io.WriteString(c, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "PING" {
		t.Fatalf("echo %q, %v", buf, err)
	}
}

func TestHeadersTooLarge(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, "server: {maxHeaderBytes: 4096}\n"))
	res, _ := e.do("GET", "/products/1", "tok-alice", nil, "X-Big", strings.Repeat("x", 10000))
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d", res.StatusCode)
	}
	// CRLF inside a header value is refused by net/http itself.
	status, _ := rawRequest(t, strings.TrimPrefix(e.srv.URL, "http://"), "GET /products/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-alice\r\nX-A: a\rX-Cardgate-User-Id: forged\r\n\r\n")
	if status != 400 {
		t.Fatalf("CR in a header: %d", status)
	}
}

func TestCORS(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}))
	defer up.Close()
	e := newEnv(t, config(up.URL, ""))
	res, _ := e.do("OPTIONS", "/products/1", "", nil, "Origin", "https://cards.example.com",
		"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://cards.example.com" ||
		res.Header.Get("Access-Control-Allow-Headers") != "authorization" {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
	res, _ = e.do("OPTIONS", "/products/1", "", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
	if res.StatusCode != 401 || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin: %d %v", res.StatusCode, res.Header)
	}
	res, _ = e.do("GET", "/products/1", "tok-alice", nil, "Origin", "https://cards.example.com")
	if got := res.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "https://cards.example.com" || res.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("request: %v", res.Header)
	}
	// A refusal is readable by the card too, so that it can say why; and
	// still by no other origin.
	for _, tc := range []struct {
		tok    string
		status int
	}{{"tok-bob", 403}, {"not-a-token", 401}} {
		res, _ = e.do("GET", "/products/1", tc.tok, nil, "Origin", "https://cards.example.com")
		if res.StatusCode != tc.status || res.Header.Get("Access-Control-Allow-Origin") != "https://cards.example.com" {
			t.Errorf("refused (%s): %d, Access-Control-Allow-Origin %q; want %d readable by the card", tc.tok, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"), tc.status)
		}
		res, _ = e.do("GET", "/products/1", tc.tok, nil, "Origin", "https://evil.example")
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("refused (%s) answer readable by another origin", tc.tok)
		}
	}
}

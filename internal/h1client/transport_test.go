package h1client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawUpstream is an upstream on loopback that answers in whatever bytes a
// test writes, to play the servers that close kept-alive connections,
// answer twice or send too much. serve runs once per connection, which it
// is given with the requests read from it; the connection is closed when
// serve returns.
type rawUpstream struct {
	addr  string
	conns atomic.Int32 // connections accepted
	reqs  atomic.Int32 // requests read, on all connections
	ended atomic.Int32 // connections that failed a read: closed, or reset
}

func newRawUpstream(t *testing.T, serve func(n int, c net.Conn, next func() *http.Request)) *rawUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUpstream{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := int(u.conns.Add(1))
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				next := func() *http.Request {
					req, err := http.ReadRequest(br)
					if err != nil {
						u.ended.Add(1)
						return nil
					}
					io.Copy(io.Discard, req.Body)
					u.reqs.Add(1)
					return req
				}
				serve(n, c, next)
			}()
		}
	}()
	return u
}

// newTo returns a Transport for a plain-HTTP upstream at addr, with a
// header timeout, as the adapter makes one.
func newTo(t *testing.T, addr string, headerTimeout time.Duration) *Transport {
	t.Helper()
	tr := tuned()
	tr.ResponseHeaderTimeout = headerTimeout
	it, ok := New(tr, "http", addr).(*Transport)
	if !ok {
		t.Fatalf("an http:// upstream without a proxy got no inline transport")
	}
	t.Cleanup(it.CloseIdleConnections)
	return it
}

// tuned is an http.Transport as the adapter tunes it for an upstream.
func tuned() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
	}
}

// waitFor polls cond until it holds, failing the test after 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get sends a GET for path and returns the response with its body read.
func (it *Transport) get(t *testing.T, path string) (*http.Response, string, error) {
	t.Helper()
	return it.getCtx(context.Background(), t, path)
}

func (it *Transport) getCtx(ctx context.Context, t *testing.T, path string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+it.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := it.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b), err
}

func (it *Transport) idleConns() int {
	it.mu.Lock()
	defer it.mu.Unlock()
	return len(it.idle)
}

// Sequential requests share one connection, whatever framing their
// responses use: a length, chunks with trailers, none (HEAD, 204, 304).
func TestInlineKeepsConnectionsAlive(t *testing.T) {
	var conns atomic.Int32
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			w.Header().Set("Trailer", "X-Sum")
			io.WriteString(w, "part one, ")
			w.(http.Flusher).Flush()
			io.WriteString(w, "part two")
			w.Header().Set("X-Sum", "42")
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/same":
			w.WriteHeader(http.StatusNotModified)
		default:
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		}
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	defer up.Close()
	it := newTo(t, strings.TrimPrefix(up.URL, "http://"), 0)

	for i := 0; i < 3; i++ {
		for _, path := range []string{"/", "/chunked", "/empty", "/same"} {
			res, body, err := it.get(t, path)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			switch path {
			case "/":
				if body != "hello" {
					t.Errorf("GET /: %q", body)
				}
			case "/chunked":
				if body != "part one, part two" || res.Trailer.Get("X-Sum") != "42" {
					t.Errorf("GET /chunked: %q, trailer %q", body, res.Trailer.Get("X-Sum"))
				}
			}
		}
		req, _ := http.NewRequest("HEAD", up.URL+"/", nil)
		res, err := it.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.ContentLength != 5 {
			t.Errorf("HEAD: Content-Length %d, want 5", res.ContentLength)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("15 requests one after another took %d connections, want 1", n)
	}
	if n := it.idleConns(); n != 1 {
		t.Errorf("%d idle connections kept, want 1", n)
	}
}

// A kept-alive connection that the upstream closed while it sat idle is
// found only when used: the request goes again, on a new connection. One
// that fails on a new connection is not sent again.
func TestInlineRetriesOnStaleConnection(t *testing.T) {
	up := newRawUpstream(t, func(n int, c net.Conn, next func() *http.Request) {
		if next() == nil {
			return
		}
		if n == 3 {
			return // a fresh connection that closes without an answer
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n%d", n)
		if n == 1 {
			next() // the second request: read, then the connection closes
		}
	})
	it := newTo(t, up.addr, 0)
	if _, body, err := it.get(t, "/"); err != nil || body != "1" {
		t.Fatalf("first: %q %v", body, err)
	}
	_, body, err := it.get(t, "/")
	if err != nil || body != "2" {
		t.Fatalf("on a connection the upstream closed: %q %v, want the answer from a new connection", body, err)
	}
	if it.idleConns() != 1 {
		t.Fatalf("%d idle, want 1", it.idleConns())
	}
	it.CloseIdleConnections()
	if _, _, err := it.get(t, "/"); err == nil {
		t.Fatal("a new connection closed without an answer: no error")
	}
	if n := up.conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3: the failure on a new connection was sent again", n)
	}
}

// Some servers say 408 on a kept-alive connection they close for being
// idle: on a reused connection it is taken as such and the request goes
// again; on a new one it is the answer.
func TestInline408OnReusedConnection(t *testing.T) {
	up := newRawUpstream(t, func(n int, c net.Conn, next func() *http.Request) {
		if next() == nil {
			return
		}
		if n == 3 {
			io.WriteString(c, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n%d", n)
		if n == 1 && next() != nil {
			io.WriteString(c, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
		}
	})
	it := newTo(t, up.addr, 0)
	it.get(t, "/")
	res, body, err := it.get(t, "/")
	if err != nil || res.StatusCode != 200 || body != "2" {
		t.Fatalf("after a 408 on a kept-alive connection: %v %q %v, want 200 from a new connection", res, body, err)
	}
	it.CloseIdleConnections()
	res, _, err = it.get(t, "/")
	if err != nil || res.StatusCode != 408 {
		t.Fatalf("a 408 on a new connection: %v %v, want the 408", res, err)
	}
}

// A response that does not let its connection be used again closes it,
// and the next request gets its own answer on a new one: Connection:
// close, HTTP/1.0, a body that ends when the connection does, and bytes
// after the response (an answer to nothing that would otherwise be read
// as the next request's).
func TestInlineDoesNotReuseWhatItMustNot(t *testing.T) {
	cases := map[string]string{
		"close":    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
		"http/1.0": "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"unframed": "HTTP/1.1 200 OK\r\n\r\nok",
		"extra":    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nforged",
	}
	for name, first := range cases {
		t.Run(name, func(t *testing.T) {
			up := newRawUpstream(t, func(n int, c net.Conn, next func() *http.Request) {
				for next() != nil {
					if n == 1 {
						io.WriteString(c, first)
						if name == "unframed" {
							return
						}
						continue
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")
				}
			})
			it := newTo(t, up.addr, 0)
			if _, body, err := it.get(t, "/"); err != nil || body != "ok" {
				t.Fatalf("first: %q %v", body, err)
			}
			if n := it.idleConns(); n != 0 {
				t.Errorf("the connection was kept (%d idle)", n)
			}
			if _, body, err := it.get(t, "/"); err != nil || body != "second" {
				t.Fatalf("second: %q %v, want its own answer", body, err)
			}
			if n := up.conns.Load(); n != 2 {
				t.Errorf("%d connections, want 2", n)
			}
		})
	}
}

// Bytes an upstream sends on a connection while it sits idle answer no
// request: the connection is not used again, so they are not read as the
// next request's response.
func TestInlineDropsConnectionThatSpokeWhileIdle(t *testing.T) {
	read, forged := make(chan struct{}), make(chan struct{})
	up := newRawUpstream(t, func(n int, c net.Conn, next func() *http.Request) {
		for i := 0; next() != nil; i++ {
			if n == 1 && i == 0 {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				<-read
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged")
				close(forged) // on loopback, in the client's socket once written
				continue
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")
		}
	})
	it := newTo(t, up.addr, 0)
	if _, body, err := it.get(t, "/"); err != nil || body != "ok" {
		t.Fatalf("first: %q %v", body, err)
	}
	close(read)
	<-forged
	if _, body, err := it.get(t, "/"); err != nil || body != "second" {
		t.Fatalf("second: %q %v, want its own answer", body, err)
	}
}

// A body closed before its end closes its connection (the rest would be
// read as the next response), and so does a client that goes away while
// the upstream has not answered.
func TestInlineClosesConnectionsLeftMidway(t *testing.T) {
	release, more := make(chan struct{}), make(chan struct{})
	defer close(release)
	up := newRawUpstream(t, func(n int, c net.Conn, next func() *http.Request) {
		for req := next(); req != nil; req = next() {
			if req.URL.Path == "/never" {
				<-release
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nfirst half")
			<-more
			io.WriteString(c, "secondhalf")
		}
	})
	it := newTo(t, up.addr, 0)
	req, _ := http.NewRequest("GET", "http://"+up.addr+"/", nil)
	res, err := it.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(res.Body, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	close(more)
	if it.idleConns() != 0 {
		t.Error("a connection whose body was closed midway was kept")
	}
	waitFor(t, "the upstream to see the connection closed", func() bool { return up.ended.Load() == 1 })

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := it.getCtx(ctx, t, "/never")
		errc <- err
	}()
	waitFor(t, "the request to reach the upstream", func() bool { return up.reqs.Load() == 2 })
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("a client gone: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a client gone: the request still waits for the upstream")
	}
}

// The header timeout, oversize headers, too many informational responses
// and an unasked-for 101 each fail the exchange, and none leaves the
// connection for another request.
func TestInlineFailures(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	up := newRawUpstream(t, func(n int, c net.Conn, next func() *http.Request) {
		for req := next(); req != nil; req = next() {
			switch req.URL.Path {
			case "/slow":
				<-release
				return
			case "/big":
				io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("a", 4096)+"\r\nContent-Length: 0\r\n\r\n")
			case "/hints":
				io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			case "/chatty":
				io.WriteString(c, strings.Repeat("HTTP/1.1 103 Early Hints\r\n\r\n", 6)+"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			case "/switch":
				io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			}
		}
	})
	it := newTo(t, up.addr, 100*time.Millisecond)
	it.maxHeaderBytes = 1024

	_, _, err := it.get(t, "/slow")
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("/slow: %v, want a header timeout", err)
	}
	if _, _, err := it.get(t, "/big"); !errors.Is(err, ErrHeadersTooLarge) {
		t.Errorf("/big: %v, want %v", err, ErrHeadersTooLarge)
	}
	if res, body, err := it.get(t, "/hints"); err != nil || res.StatusCode != 200 || body != "ok" {
		t.Errorf("/hints: %v %q %v, want the 200 after the informational responses", res, body, err)
	}
	if _, _, err := it.get(t, "/chatty"); !errors.Is(err, ErrTooManyInformational) {
		t.Errorf("/chatty: %v, want %v", err, ErrTooManyInformational)
	}
	if res, _, err := it.get(t, "/switch"); err != nil || res.StatusCode != 101 {
		t.Fatalf("/switch: %v %v", res, err)
	}
	if n := it.idleConns(); n != 0 {
		t.Errorf("%d connections kept after the failures, want none", n)
	}
	// /slow, /big, /hints and /chatty (one connection: /hints's was kept),
	// /switch.
	if n := up.conns.Load(); n != 4 {
		t.Errorf("%d connections, want 4", n)
	}
}

// Idle connections are closed after the idle timeout, and no more are
// kept than the pool's size.
func TestInlineIdleConnectionsBounded(t *testing.T) {
	var inFlight sync.WaitGroup
	gate := make(chan struct{})
	up := newRawUpstream(t, func(n int, c net.Conn, next func() *http.Request) {
		for req := next(); req != nil; req = next() {
			if req.URL.Path == "/gate" {
				inFlight.Done()
				<-gate
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	it := newTo(t, up.addr, 0)
	it.maxIdle = 2
	inFlight.Add(4)
	var done sync.WaitGroup
	for i := 0; i < 4; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			if _, _, err := it.get(t, "/gate"); err != nil {
				t.Error(err)
			}
		}()
	}
	inFlight.Wait()
	close(gate)
	done.Wait()
	if n := it.idleConns(); n != 2 {
		t.Errorf("%d idle connections after 4 at once, want the pool's 2", n)
	}
	waitFor(t, "the upstream to see 2 connections closed", func() bool { return up.ended.Load() == 2 })

	short := newTo(t, up.addr, 0)
	short.idleTimeout = 50 * time.Millisecond
	short.get(t, "/")
	if short.idleConns() != 1 {
		t.Fatal("the connection was not kept")
	}
	waitFor(t, "the idle connection to be closed", func() bool { return short.idleConns() == 0 })
	waitFor(t, "the upstream to see it closed", func() bool { return up.ended.Load() == 3 })
}

// What a Transport does not send inline goes to http.Transport: requests
// with a body, upgrades, https and upstreams behind a proxy. A header
// that would change the request's framing is refused, as http.Transport
// refuses it, before anything is sent.
func TestInlineLeavesTheRestToHTTPTransport(t *testing.T) {
	var bodies atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			bodies.Add(1)
		}
		io.WriteString(w, "ok")
	}))
	defer up.Close()
	it := newTo(t, strings.TrimPrefix(up.URL, "http://"), 0)
	req, _ := http.NewRequest("POST", up.URL, strings.NewReader("data"))
	res, err := it.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if bodies.Load() != 1 || it.idleConns() != 0 {
		t.Errorf("POST: upstream saw %d bodies, %d inline idle: want it sent by http.Transport", bodies.Load(), it.idleConns())
	}

	req, _ = http.NewRequest("GET", up.URL, nil)
	req.Header["X-Evil"] = []string{"a\r\nX-Injected: 1"}
	if _, err := it.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "invalid header field value") {
		t.Errorf("a header value with CR LF: %v, want it refused", err)
	}

	if _, ok := New(tuned(), "https", "example.com").(*http.Transport); !ok {
		t.Error("https went inline")
	}
	proxied := tuned()
	proxied.Proxy = http.ProxyURL(&url.URL{Scheme: "http", Host: "proxy.example:3128"})
	if _, ok := New(proxied, "http", "example.com").(*http.Transport); !ok {
		t.Error("an upstream behind a proxy went inline")
	}
	if got := New(tuned(), "http", "example.com").(*Transport).addr; got != "example.com:80" {
		t.Errorf("http://example.com dials %q, want example.com:80", got)
	}
	for _, r := range []*http.Request{
		{Method: "GET", Header: http.Header{"Upgrade": {"websocket"}}},
		{Method: "DELETE"},
		{Method: "GET", Close: true},
		{Method: "GET", Body: io.NopCloser(strings.NewReader("x"))},
	} {
		if inline(r) {
			t.Errorf("%s %v close=%v body=%v went inline", r.Method, r.Header, r.Close, r.Body != nil)
		}
	}
}

// A Transport takes its limits from the http.Transport it wraps, as that
// one means them: no idle timeout is none, no per-host maximum is
// net/http's default, and DisableKeepAlives keeps nothing.
func TestInlineTakesTheFallbacksLimits(t *testing.T) {
	up := newRawUpstream(t, func(n int, c net.Conn, next func() *http.Request) {
		for next() != nil {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("a", 2048)+"\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	plain := New(&http.Transport{}, "http", up.addr).(*Transport)
	if plain.maxIdle != http.DefaultMaxIdleConnsPerHost || plain.idleTimeout != 0 || plain.maxHeaderBytes != 10<<20 {
		t.Errorf("defaults: %d idle, %v, %d header bytes", plain.maxIdle, plain.idleTimeout, plain.maxHeaderBytes)
	}
	plain.get(t, "/")
	time.Sleep(20 * time.Millisecond)
	if _, _, err := plain.get(t, "/"); err != nil || up.conns.Load() != 1 {
		t.Errorf("no idle timeout: %v, %d connections, want the first one reused", err, up.conns.Load())
	}
	plain.CloseIdleConnections()

	closing := New(&http.Transport{DisableKeepAlives: true}, "http", up.addr).(*Transport)
	closing.get(t, "/")
	if n := closing.idleConns(); n != 0 {
		t.Errorf("DisableKeepAlives: %d connections kept", n)
	}
	small := New(&http.Transport{MaxResponseHeaderBytes: 1024}, "http", up.addr).(*Transport)
	if _, _, err := small.get(t, "/"); !errors.Is(err, ErrHeadersTooLarge) {
		t.Errorf("MaxResponseHeaderBytes 1024, 2 KiB of headers: %v", err)
	}
}

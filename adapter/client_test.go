package adapter

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Tests of clients that fail: too slow, too big, malformed, gone. Each is
// the client's fault, gets the client's status, and is never counted as
// an upstream error.

// recorder is an upstream that records what reached it.
type recorder struct {
	mu       sync.Mutex
	started  int      // requests whose headers arrived
	complete []string // bodies read whole
	broken   int      // requests whose body could not be read whole
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.started++
	rec.mu.Unlock()
	b, err := io.ReadAll(r.Body)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if err != nil {
		rec.broken++
		return
	}
	rec.complete = append(rec.complete, fmt.Sprintf("%s %s CL=%d TE=%v %s", r.Method, r.URL.Path, r.ContentLength, r.TransferEncoding, b))
}

func (rec *recorder) counts() (started int, complete []string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.started, append([]string(nil), rec.complete...)
}

func newRecorder(t *testing.T) (*recorder, string) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv.URL
}

// clientConfig has one route, /in, for POST bodies, with the upstream at
// url and the server's body timeout at 300ms.
func clientConfig(url, extra string) string {
	return `
issuer: {url: "http://127.0.0.1:1"}
server: {readTimeout: 300ms}
limits: {maxBodyBytes: 1024}
routes:
  - name: in
    match: POST /in
    policy: {packages: ["*"]}
    upstream: {url: "` + url + `", timeout: 100ms}
` + extra
}

// metric returns the sum of the values of the metric name whose labels
// include every one of want ("route=in").
func (e *env) metric(name string, want ...string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			l := labels(m)
			for _, w := range want {
				if !strings.Contains(l, w) {
					continue next
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// conn is a raw client connection to the adapter, with a deadline on
// every read, so that a server that never answers fails the test instead
// of hanging it.
type conn struct {
	t *testing.T
	net.Conn
	br *bufio.Reader
}

func (e *env) dial() *conn {
	e.t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return &conn{t: e.t, Conn: c, br: bufio.NewReader(c)}
}

func (c *conn) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// response reads one response within wait.
func (c *conn) response(wait time.Duration) (*http.Response, string) {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatalf("no response within %v: %v", wait, err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

// closed reports whether the server closes the connection within wait
// (with nothing more to read).
func (c *conn) closed(wait time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(wait))
	b, err := c.br.ReadByte()
	if err == nil {
		c.t.Errorf("unexpected byte %q after the response", b)
		return false
	}
	return err == io.EOF
}

const post = "POST /in HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-alice\r\n"

func TestMalformedChunkedBodyReachesNothing(t *testing.T) {
	rec, url := newRecorder(t)
	e := newEnv(t, clientConfig(url, ""))
	for name, body := range map[string]string{
		"bad size":      "5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n",
		"bare LF":       "5\r\nhello\r\n5\nworld\r\n0\r\n\r\n",
		"data too long": "5\r\nhelloworld\r\n0\r\n\r\n",
	} {
		c := e.dial()
		c.send(post + "Transfer-Encoding: chunked\r\n\r\n" + body)
		res, b := c.response(3 * time.Second)
		if res.StatusCode != 400 || errorCode(b) != "InvalidRequest" {
			t.Errorf("%s: %d %s, want 400 InvalidRequest", name, res.StatusCode, b)
		}
		if res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: Content-Type %q", name, res.Header.Get("Content-Type"))
		}
		if !res.Close || !c.closed(3*time.Second) {
			t.Errorf("%s: connection left open", name)
		}
	}
	// Over the limit (1024 bytes) on the way: 413, and nothing forwarded.
	c := e.dial()
	c.send(post + "Transfer-Encoding: chunked\r\n\r\n" + strings.Repeat("100\r\n"+strings.Repeat("x", 256)+"\r\n", 5) + "0\r\n\r\n")
	if res, b := c.response(3 * time.Second); res.StatusCode != 413 || errorCode(b) != "TooLarge" || !res.Close || !c.closed(3*time.Second) {
		t.Errorf("chunked over the limit: %d %s close=%v, want 413 and the connection closed", res.StatusCode, b, res.Close)
	}
	// A chunked body cut off by the client: nothing reaches the upstream
	// either.
	c = e.dial()
	c.send(post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
	c.Close()
	// A good chunked body is forwarded whole, with its length.
	c = e.dial()
	c.send(post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
	if res, b := c.response(3 * time.Second); res.StatusCode != 200 {
		t.Fatalf("good chunked body: %d %s", res.StatusCode, b)
	}
	waitFor(t, "the audit record of the cut-off request", func() bool { return len(e.audit.all()) == 6 })
	started, complete := rec.counts()
	if started != 1 || len(complete) != 1 || complete[0] != "POST /in CL=11 TE=[] hello world" {
		t.Errorf("the upstream saw %d requests, these complete: %q; want only the good one, with a Content-Length", started, complete)
	}
	if n := e.metric("cardgate_adapter_upstream_errors_total"); n != 0 {
		t.Errorf("%v upstream errors counted for the client's mistakes", n)
	}
	if n := e.metric("cardgate_adapter_requests_total", "route=in", "code=400"); n != 3 {
		t.Errorf("requests_total{code=400} = %v, want 3", n)
	}
	if n := e.metric("cardgate_adapter_requests_total", "route=in", "code=499"); n != 1 {
		t.Errorf("requests_total{code=499} = %v, want 1", n)
	}
}

func TestSlowBodyIs408(t *testing.T) {
	rec, url := newRecorder(t)
	e := newEnv(t, clientConfig(url, ""))
	// The route's upstream timeout (100ms) is shorter than the body's
	// (300ms): the upstream's clock starts once it has the whole request.
	for name, head := range map[string]string{
		"content-length": "Content-Length: 10\r\n\r\nab",
		"chunked":        "Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
	} {
		c := e.dial()
		c.send(post + head)
		res, b := c.response(5 * time.Second)
		if res.StatusCode != 408 || errorCode(b) != "RequestTimeout" {
			t.Errorf("%s: %d %s, want 408 RequestTimeout", name, res.StatusCode, b)
		}
		if !res.Close || !c.closed(5*time.Second) {
			t.Errorf("%s: the connection stays open after a body timeout", name)
		}
	}
	// Expect: 100-continue, then no body after the 100: 408 too.
	c := e.dial()
	c.send(post + "Content-Length: 10\r\nExpect: 100-continue\r\n\r\n")
	if res, _ := c.response(5 * time.Second); res.StatusCode != 100 {
		t.Fatalf("Expect: 100-continue: %d, want 100", res.StatusCode)
	}
	res, b := c.response(5 * time.Second)
	// The upstream's own 100 Continue may be passed on too (ReverseProxy
	// forwards 1xx answers); a client skips any number of them (RFC 9110,
	// 15.2).
	for res.StatusCode == http.StatusContinue {
		res, b = c.response(5 * time.Second)
	}
	if res.StatusCode != 408 {
		t.Errorf("no body after 100 Continue: %d %s, want 408", res.StatusCode, b)
	}
	if n := e.metric("cardgate_adapter_upstream_errors_total"); n != 0 {
		t.Errorf("%v upstream errors counted for a slow client", n)
	}
	if n := e.metric("cardgate_adapter_requests_total", "route=in", "code=408"); n != 3 {
		t.Errorf("requests_total{code=408} = %v, want 3", n)
	}
	// The streamed bodies never completed upstream; the chunked one never
	// left the adapter.
	if started, complete := rec.counts(); started > 2 || len(complete) != 0 {
		t.Errorf("the upstream saw %d requests, complete: %q", started, complete)
	}
	// A body that takes its time but arrives within the limit passes.
	c = e.dial()
	c.send(post + "Content-Length: 4\r\n\r\nab")
	time.Sleep(150 * time.Millisecond) // longer than the upstream timeout
	c.send("cd")
	if res, b := c.response(3 * time.Second); res.StatusCode != 200 {
		t.Errorf("slow but in time: %d %s", res.StatusCode, b)
	}
}

func TestTooLargeAnsweredAtOnce(t *testing.T) {
	rec, url := newRecorder(t)
	e := newEnv(t, clientConfig(url, ""))
	// The client sends its headers and waits for the answer before
	// sending a body (2000 bytes: small enough that net/http would read
	// it all, waiting, before answering, unless told otherwise).
	for _, head := range []string{
		post + "Content-Length: 2000\r\n\r\n",
		post + "Content-Length: 2000\r\nExpect: 100-continue\r\n\r\n",
		post + "Content-Length: 104857600\r\n\r\n",
	} {
		c := e.dial()
		c.send(head)
		res, b := c.response(3 * time.Second)
		if res.StatusCode != 413 || errorCode(b) != "TooLarge" {
			t.Errorf("%q: %d %s, want 413", head, res.StatusCode, b)
		}
		if !res.Close || !c.closed(3*time.Second) {
			t.Errorf("%q: connection left open", head)
		}
	}
	// A refusal before the body is read (no token) is answered at once
	// too, and the body it never wanted is not waited for.
	c := e.dial()
	c.send("POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n")
	if res, _ := c.response(3 * time.Second); res.StatusCode != 401 || !res.Close {
		t.Errorf("no token: %d, close %v", res.StatusCode, res.Close)
	}
	// Expect: 100-continue within the limit: 100, then the answer.
	c = e.dial()
	c.send(post + "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	if res, _ := c.response(3 * time.Second); res.StatusCode != 100 {
		t.Fatalf("Expect: 100-continue: %d, want 100 first", res.StatusCode)
	}
	c.send("hello")
	if res, b := c.response(3 * time.Second); res.StatusCode != 200 {
		t.Errorf("after 100-continue: %d %s", res.StatusCode, b)
	}
	if started, complete := rec.counts(); started != 1 || len(complete) != 1 {
		t.Errorf("the upstream saw %d requests, complete %q", started, complete)
	}
	if n := e.metric("cardgate_adapter_upstream_errors_total"); n != 0 {
		t.Errorf("%v upstream errors", n)
	}
	// Refused before the token is checked: no route is named.
	if n := e.metric("cardgate_adapter_unrouted_requests_total", "code=413"); n != 3 {
		t.Errorf("unrouted_requests_total{code=413} = %v, want 3", n)
	}
}

func TestReadTimeoutDoesNotCutResponses(t *testing.T) {
	// The upstream takes the body, then streams for longer than the
	// body's timeout (300ms): the response is not cut.
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		for i := range 6 {
			fmt.Fprintf(w, "tick %d\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
	}))
	defer up.Close()
	e := newEnv(t, clientConfig(up.URL, ""))
	res, body := e.do("POST", "/in", "tok-alice", strings.NewReader("hello"))
	if res.StatusCode != 200 || strings.Count(body, "tick") != 6 {
		t.Fatalf("%d %q, want 6 ticks", res.StatusCode, body)
	}
}

func TestServerSettingsNeedRestart(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, clientConfig(up.URL, ""))
	e.write(strings.Replace(clientConfig(up.URL, ""), "server: {readTimeout: 300ms}", "server: {readTimeout: 5s, maxHeaderBytes: 1000}", 1))
	if err := e.a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.a.Config().Server.ReadTimeout != 5*time.Second {
		t.Fatal("the new file was not loaded")
	}
	if srv := e.a.HTTPServer(); srv.MaxHeaderBytes != DefaultMaxHeaderBytes {
		t.Errorf("after a reload the server has MaxHeaderBytes %d, want the one it started with", srv.MaxHeaderBytes)
	}
	// The body timeout is still the one the adapter started with.
	c := e.dial()
	c.send(post + "Content-Length: 10\r\n\r\nab")
	if res, _ := c.response(3 * time.Second); res.StatusCode != 408 {
		t.Errorf("slow body after a reload: %d, want 408 at the first readTimeout", res.StatusCode)
	}
}

func TestClientGoneMidBody(t *testing.T) {
	rec, url := newRecorder(t)
	e := newEnv(t, clientConfig(url, ""))
	c := e.dial()
	c.send(post + "Content-Length: 100\r\n\r\n0123456789")
	time.Sleep(50 * time.Millisecond) // let the request reach the upstream
	c.Close()
	waitFor(t, "the audit record", func() bool { return len(e.audit.all()) == 1 })
	if r := e.audit.all()[0]; r.Status != 499 || r.Route != "in" {
		t.Errorf("audit record %+v, want status 499", r)
	}
	if n := e.metric("cardgate_adapter_upstream_errors_total"); n != 0 {
		t.Errorf("%v upstream errors counted for a client that left", n)
	}
	waitFor(t, "the upstream to see the broken request", func() bool {
		started, _ := rec.counts()
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return started == 0 || rec.broken == 1
	})
	if _, complete := rec.counts(); len(complete) != 0 {
		t.Errorf("the upstream took a cut-off body as complete: %q", complete)
	}
	// A client that half-closes mid-body gets nothing, not an empty 200.
	c = e.dial()
	c.send(post + "Content-Length: 100\r\n\r\n0123456789")
	c.Conn.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if res, err := http.ReadResponse(c.br, nil); err == nil {
		t.Errorf("half-closed client got %d", res.StatusCode)
	}
}

func TestUpstreamNotTakingBodyIs504(t *testing.T) {
	// The upstream does not take the body, or takes it too slowly: the
	// adapter cannot pass it on in time, which is the upstream's fault, not
	// the client's.
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("slow") {
			buf := make([]byte, 64<<10)
			for {
				if _, err := io.ReadFull(r.Body, buf); err != nil {
					return
				}
				time.Sleep(2 * time.Millisecond)
			}
		}
		<-release
	}))
	defer up.Close()
	defer close(release)
	e := newEnv(t, clientConfig(up.URL, "    limits: {maxBodyBytes: 134217728}\n"))
	for i, path := range []string{"/in", "/in?slow"} {
		c := e.dial()
		const size = 64 << 20 // more than the sockets on the way can hold
		c.send(strings.Replace(post, "/in", path, 1) + fmt.Sprintf("Content-Length: %d\r\n\r\n", size))
		go func() {
			buf := make([]byte, 64<<10)
			for n := 0; n < size; n += len(buf) {
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
		res, b := c.response(10 * time.Second)
		if res.StatusCode != 504 || errorCode(b) != "UpstreamTimeout" {
			t.Errorf("%s: %d %s, want 504", path, res.StatusCode, b)
		}
		if n := e.metric("cardgate_adapter_upstream_errors_total", "route=in", "reason=timeout"); n != float64(i+1) {
			t.Errorf("%s: upstream_errors_total{reason=timeout} = %v, want %d", path, n, i+1)
		}
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

// With token.bodyField, a request whose header token is refused gets its
// 401 at once: its body is not asked for (no 100 Continue), not waited
// for, and not read. Only a request without a header token has its body
// read to look for one.
func TestBodyFieldBadHeaderTokenAnsweredAtOnce(t *testing.T) {
	rec, url := newRecorder(t)
	e := newEnv(t, clientConfig(url, "token: {bodyField: integrationToken}\n"))
	for _, head := range []string{
		"POST /in HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer junk\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n",
		"POST /in HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer junk\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
		"POST /nothing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer junk\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n",
	} {
		c := e.dial()
		c.send(head)
		// Well under server.readTimeout (300 ms), which a wait for the
		// body would end in.
		res, b := c.response(200 * time.Millisecond)
		if res.StatusCode != 401 || errorCode(b) != "InvalidToken" {
			t.Errorf("%q: %d %s, want 401 first", head, res.StatusCode, b)
		}
	}
	// A good header token: the body is asked for, read, and loses the field.
	c := e.dial()
	body := `{"integrationToken":"tok-alice","n":1}`
	c.send(post + "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	if res, _ := c.response(3 * time.Second); res.StatusCode != 100 {
		t.Fatalf("a good header token with Expect: 100-continue: %d, want 100 first", res.StatusCode)
	}
	c.send(body)
	if res, b := c.response(3 * time.Second); res.StatusCode != 200 {
		t.Errorf("after 100-continue: %d %s", res.StatusCode, b)
	}
	if started, complete := rec.counts(); started != 1 || len(complete) != 1 || strings.Contains(complete[0], "integrationToken") {
		t.Errorf("the upstream saw %d requests, complete %q", started, complete)
	}
}

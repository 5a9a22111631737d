// Package h1client is an HTTP/1.1 client transport for a proxy's
// upstream that sends a request and reads its response on the caller's
// goroutine, over connections it keeps alive itself. What it does not
// send (bodies, upgrades, TLS, proxies) goes to the http.Transport it
// wraps.
package h1client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
)

// Transport sends a request without a body to a plain-HTTP upstream and
// reads the response on the caller's goroutine, over connections it keeps
// alive itself; everything else goes to the http.Transport it wraps.
//
// net/http's Transport gives each connection a goroutine that writes and
// one that reads, and passes every request and response between them and
// the caller: three hand-offs a request, each of which may have to wake a
// sleeping thread. At low concurrency that is most of what a proxy adds to
// a request's time (docs/BENCHMARKS.md, "The adapter's own transport"). The
// parsing and writing are net/http's own (Request.Write, ReadResponse);
// this type only keeps the connections.
//
// Requests with a body stay on http.Transport: it writes the body while it
// waits for the response, so an upstream that answers early, or stops
// reading, is seen at once. So do upgrades (the response body must be the
// connection), TLS (HTTP/2) and upstreams reached through a proxy.
type Transport struct {
	fallback *http.Transport
	addr     string // host:port to dial

	dial           func(ctx context.Context, network, addr string) (net.Conn, error)
	headerTimeout  time.Duration // zero: none
	idleTimeout    time.Duration // zero: none
	maxIdle        int           // zero: no connection is kept
	maxHeaderBytes int64

	mu      sync.Mutex
	idle    []*h1Conn // the most recently used last
	reaping bool      // a reap is scheduled
}

// New returns a Transport for the upstream at scheme://host that sends
// what it cannot take to fallback. It takes fallback's dialer and limits
// as they mean there: ResponseHeaderTimeout, IdleConnTimeout,
// MaxIdleConnsPerHost (zero: http.DefaultMaxIdleConnsPerHost),
// DisableKeepAlives and MaxResponseHeaderBytes (zero: 10 MiB). It returns
// fallback itself when the upstream cannot be served inline: not
// http://, or reached through a proxy (fallback.Proxy).
func New(fallback *http.Transport, scheme, host string) RoundTripCloser {
	if scheme != "http" || host == "" {
		return fallback
	}
	probe := &http.Request{URL: &url.URL{Scheme: scheme, Host: host}}
	if fallback.Proxy != nil {
		if p, err := fallback.Proxy(probe); err != nil || p != nil {
			return fallback
		}
	}
	addr := host
	if _, _, err := net.SplitHostPort(host); err != nil {
		addr = net.JoinHostPort(probe.URL.Hostname(), "80")
	}
	dial := fallback.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	maxIdle := fallback.MaxIdleConnsPerHost
	switch {
	case fallback.DisableKeepAlives || maxIdle < 0:
		maxIdle = 0
	case maxIdle == 0:
		maxIdle = http.DefaultMaxIdleConnsPerHost
	}
	maxHeaderBytes := fallback.MaxResponseHeaderBytes
	if maxHeaderBytes <= 0 {
		maxHeaderBytes = 10 << 20 // http.Transport's default
	}
	return &Transport{
		fallback:       fallback,
		addr:           addr,
		dial:           dial,
		headerTimeout:  fallback.ResponseHeaderTimeout,
		idleTimeout:    fallback.IdleConnTimeout,
		maxIdle:        maxIdle,
		maxHeaderBytes: maxHeaderBytes,
	}
}

// RoundTripCloser is a transport whose idle connections can be closed:
// a Transport, or the *http.Transport New returns in its place.
type RoundTripCloser interface {
	http.RoundTripper
	CloseIdleConnections()
}

// h1Conn is one kept-alive connection to the upstream.
type h1Conn struct {
	nc     net.Conn
	lim    limitReader // between nc and br: bounds the response headers
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
}

// limitReader refuses to read more than left bytes, and counts what it has
// read since count was last cleared.
type limitReader struct {
	r     io.Reader
	left  int64
	count int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, ErrHeadersTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	l.count += int64(n)
	return n, err
}

// The upstream's response broke a limit.
var (
	ErrHeadersTooLarge      = errors.New("h1client: the upstream's response headers are too large")
	ErrTooManyInformational = errors.New("h1client: the upstream sent too many informational (1xx) responses")
)

// headerTimeoutError is the upstream's response headers not arriving in
// time. Like net/http's own error for ResponseHeaderTimeout, it matches
// context.DeadlineExceeded, and it is a net.Error whose Timeout is true.
type headerTimeoutError struct{}

func (headerTimeoutError) Error() string   { return "h1client: timeout awaiting response headers" }
func (headerTimeoutError) Timeout() bool   { return true }
func (headerTimeoutError) Temporary() bool { return true } // net.Error's, as net/http's
func (headerTimeoutError) Is(t error) bool { return t == context.DeadlineExceeded }

// inline reports whether req can go inline: no body, a method that may be
// sent again (a kept-alive connection the upstream has just closed is only
// found by using it), and no protocol upgrade.
func inline(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return false
	}
	return (req.Body == nil || req.Body == http.NoBody) && !req.Close && req.Header["Upgrade"] == nil
}

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !inline(req) {
		return t.fallback.RoundTrip(req)
	}
	if err := validHeaders(req.Header); err != nil {
		return nil, err
	}
	ctx := req.Context()
	for {
		c, reused, err := t.conn(ctx)
		if err != nil {
			return nil, err
		}
		res, err := t.send(ctx, c, req, reused)
		if err == nil {
			return res, nil
		}
		// A kept-alive connection the upstream closed while it sat idle
		// fails when it is next used. The request has no body and may be
		// sent again (RFC 9110, 9.2.2), so it goes on another connection;
		// a fresh one is not retried.
		var stale staleError
		if !reused || !errors.As(err, &stale) || ctx.Err() != nil {
			return nil, err
		}
	}
}

// staleError is a failure on a kept-alive connection that the upstream
// appears to have closed before it saw the request.
type staleError struct{ err error }

func (e staleError) Error() string { return e.err.Error() }
func (e staleError) Unwrap() error { return e.err }

// send writes req on c and reads the response headers. The response body
// keeps c until it is read to its end (c goes back to the pool) or closed
// (c is closed).
func (t *Transport) send(ctx context.Context, c *h1Conn, req *http.Request, reused bool) (*http.Response, error) {
	// A client that goes away takes the upstream's connection with it,
	// whatever the exchange is waiting for.
	stop := context.AfterFunc(ctx, func() { c.nc.Close() })
	fail := func(err error) (*http.Response, error) {
		stop()
		c.nc.Close()
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	err := req.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	if err != nil {
		return fail(staleError{err})
	}
	if t.headerTimeout > 0 {
		c.nc.SetReadDeadline(time.Now().Add(t.headerTimeout))
	}
	c.lim.count = 0
	var res *http.Response
	for n := 0; ; n++ {
		c.lim.left = t.maxHeaderBytes
		res, err = http.ReadResponse(c.br, req)
		if err != nil {
			var ne net.Error
			switch {
			case c.lim.left <= 0:
				err = ErrHeadersTooLarge
			case t.headerTimeout > 0 && errors.As(err, &ne) && ne.Timeout():
				err = headerTimeoutError{}
			case c.lim.count == 0:
				err = staleError{err} // closed before a byte of an answer
			}
			return fail(err)
		}
		// Informational responses are not passed on (the adapter drops
		// them: exchange.WriteHeader); a 101 is the final answer to an
		// upgrade, which never comes here, and is the caller's to refuse.
		if res.StatusCode < 100 || res.StatusCode > 199 || res.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		if n == 5 {
			return fail(ErrTooManyInformational)
		}
	}
	if reused && res.StatusCode == http.StatusRequestTimeout {
		// Some servers say 408 on a connection they close for being idle;
		// net/http's Transport treats it as such, and so does this one.
		return fail(staleError{errors.New("h1client: the upstream closed an idle connection with 408")})
	}
	c.lim.left = math.MaxInt64
	if t.headerTimeout > 0 {
		c.nc.SetReadDeadline(time.Time{})
	}
	body := &connBody{rc: res.Body, t: t, c: c, stop: stop,
		keep: !res.Close && res.StatusCode != http.StatusSwitchingProtocols}
	res.Body = body
	return res, nil
}

// connBody is a response body that gives its connection back when it is
// read to its end, and closes it when it is closed before that.
type connBody struct {
	rc   io.ReadCloser
	t    *Transport
	c    *h1Conn
	stop func() bool
	keep bool // the response lets the connection be used again
	done bool
}

func (b *connBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err != nil {
		b.finish(err == io.EOF)
	}
	return n, err
}

func (b *connBody) Close() error {
	b.finish(false)
	return nil
}

// finish releases the connection: to the pool after a whole response on
// a connection that may be kept (and that the client's going away has not
// closed), else closed. Bytes after the response are an answer nobody
// asked for: the connection is not used again.
func (b *connBody) finish(eof bool) {
	if b.done {
		return
	}
	b.done = true
	if b.stop() && eof && b.keep && b.c.br.Buffered() == 0 {
		b.t.put(b.c)
		return
	}
	b.c.nc.Close()
}

// conn returns a kept-alive connection, the most recently used, or a new
// one; reused says which.
func (t *Transport) conn(ctx context.Context) (c *h1Conn, reused bool, err error) {
	now := time.Now()
	t.mu.Lock()
	for n := len(t.idle); n > 0; n = len(t.idle) {
		c = t.idle[n-1]
		t.idle[n-1] = nil
		t.idle = t.idle[:n-1]
		if t.expired(c, now) {
			c.nc.Close()
			break // the rest are older still: reap closes them
		}
		t.mu.Unlock()
		if stillIdle(c.nc) {
			return c, true, nil
		}
		c.nc.Close()
		t.mu.Lock()
	}
	t.mu.Unlock()
	nc, err := t.dial(ctx, "tcp", t.addr)
	if err != nil {
		return nil, false, err
	}
	c = &h1Conn{nc: nc}
	c.lim.r = nc
	c.br = bufio.NewReader(&c.lim)
	c.bw = bufio.NewWriter(nc)
	return c, false, nil
}

// put keeps c for the next request, unless the pool is full.
func (t *Transport) put(c *h1Conn) {
	c.idleAt = time.Now()
	t.mu.Lock()
	if len(t.idle) >= t.maxIdle {
		t.mu.Unlock()
		c.nc.Close()
		return
	}
	t.idle = append(t.idle, c)
	if !t.reaping && t.idleTimeout > 0 {
		t.reaping = true
		time.AfterFunc(t.idleTimeout, t.reap)
	}
	t.mu.Unlock()
}

// expired reports whether c has been idle too long to be used.
func (t *Transport) expired(c *h1Conn, now time.Time) bool {
	return t.idleTimeout > 0 && now.Sub(c.idleAt) >= t.idleTimeout
}

// reap closes the connections idle for idleTimeout or more (the oldest
// are first in the pool) and comes back when the next one will be.
func (t *Transport) reap() {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for n < len(t.idle) && t.expired(t.idle[n], now) {
		t.idle[n].nc.Close()
		n++
	}
	t.idle = append(t.idle[:0], t.idle[n:]...)
	clear(t.idle[len(t.idle):cap(t.idle)])
	if len(t.idle) == 0 {
		t.reaping = false
		return
	}
	time.AfterFunc(t.idle[0].idleAt.Add(t.idleTimeout).Sub(now), t.reap)
}

// CloseIdleConnections closes the kept-alive connections of both paths.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	for _, c := range t.idle {
		c.nc.Close()
	}
	clear(t.idle)
	t.idle = t.idle[:0]
	t.mu.Unlock()
	t.fallback.CloseIdleConnections()
}

// validHeaders refuses what http.Transport refuses to send: a header name
// or value that would change the request's framing.
func validHeaders(h http.Header) error {
	for k, vv := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("h1client: invalid header field name %q", k)
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("h1client: invalid header field value for %q", k)
			}
		}
	}
	return nil
}

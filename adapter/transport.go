package adapter

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cardgate/cardgate/internal/h1client"
)

// transportPool keeps one transport per upstream (scheme and host) and
// response header timeout, shared by every route to it with that timeout
// and kept across reloads, so that connections are reused instead of
// dialled anew under load. An upstream's transport is a tuned
// http.Transport, inside an h1client.Transport when the upstream is plain
// HTTP (requests without a body then go on the caller's goroutine); a
// token endpoint's (a "token:" key) is the http.Transport alone.
type transportPool struct {
	mu sync.Mutex
	m  map[string]h1client.RoundTripCloser
	// fixed, when set, answers for every upstream instead (tests and
	// benchmarks that leave the network out).
	fixed http.RoundTripper
}

// newTransportPool returns an empty pool; fixed, when not nil, answers
// for every upstream.
func newTransportPool(fixed http.RoundTripper) *transportPool {
	return &transportPool{m: make(map[string]h1client.RoundTripCloser), fixed: fixed}
}

// get returns the transport for an upstream (scheme and host) and a
// response header timeout (zero: none), and the key it is kept under,
// which retain takes.
func (p *transportPool) get(upstream string, headerTimeout time.Duration) (http.RoundTripper, string) {
	key := upstream
	if headerTimeout != 0 {
		key += " " + headerTimeout.String()
	}
	if p.fixed != nil {
		return p.fixed, key
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.m[key]; ok {
		return t, key
	}
	t := newTransport()
	t.ResponseHeaderTimeout = headerTimeout
	// "token:http" is no scheme h1client takes.
	scheme, host, _ := strings.Cut(upstream, "://")
	rt := h1client.New(t, scheme, host)
	p.m[key] = rt
	return rt, key
}

// retain drops the transports whose keys are not in keep, closing their
// idle connections; requests running on them finish normally.
func (p *transportPool) retain(keep map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, t := range p.m {
		if !keep[k] {
			t.CloseIdleConnections()
			delete(p.m, k)
		}
	}
}

// newTransport returns a transport tuned for one upstream taking a
// gateway's load: http.DefaultTransport keeps only 2 idle connections per
// host, so under load nearly every request would dial. It has no
// ExpectContinueTimeout: the adapter never passes Expect on
// (compileRoute), so no request waits for a 100 Continue.
func newTransport() *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         d.DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		// A proxy passes bodies through as they are: no transparent gzip.
		DisableCompression: true,
	}
}

// retryTransport sends an idempotent request without a body a second time
// when the first attempt could not connect. A failed dial sent nothing, so
// the retry cannot repeat an effect; other failures are not retried,
// because the upstream may have acted on the request.
type retryTransport struct {
	base http.RoundTripper
}

func (t retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err != nil && isDialError(err) && idempotent(req.Method) &&
		(req.Body == nil || req.Body == http.NoBody) && req.Context().Err() == nil {
		res, err = t.base.RoundTrip(req)
	}
	return res, err
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// bufferPool lends ReverseProxy its copy buffers, which it otherwise
// allocates (32 KiB) for every response. A sync.Pool holds pointers, and
// ReverseProxy hands back the slice alone: the emptied pointers wait in
// holders for the next Put, so that lending allocates nothing.
type bufferPool struct{ bufs, holders sync.Pool }

func (b *bufferPool) Get() []byte {
	v, ok := b.bufs.Get().(*[]byte)
	if !ok {
		return make([]byte, 32<<10)
	}
	buf := *v
	*v = nil
	b.holders.Put(v)
	return buf
}

func (b *bufferPool) Put(buf []byte) {
	v, ok := b.holders.Get().(*[]byte)
	if !ok {
		v = new([]byte)
	}
	*v = buf
	b.bufs.Put(v)
}

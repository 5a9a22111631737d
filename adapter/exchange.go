package adapter

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/cardgate/cardgate"
)

// exchange is one request's state: what the checks found, what the
// upstream answered, and the counts the audit record needs. It wraps the
// ResponseWriter (counting the status and bytes out) and the request body
// (counting bytes in), so that one allocation serves all three.
type exchange struct {
	http.ResponseWriter
	status   int
	bytesOut int64

	body    io.ReadCloser
	bytesIn int64

	route          *route
	id             *cardgate.Identity
	upPath         string
	upRawPath      string
	upstreamStatus int
	code           string // cardgate error code of a refused request
	timer          *time.Timer
	upgrade        bool      // a WebSocket upgrade was allowed
	resBody        scrubBody // the response body, when trailers are scrubbed
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// WriteHeader records the status and writes it.
func (e *exchange) WriteHeader(code int) {
	if e.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		e.status = code
	}
	e.ResponseWriter.WriteHeader(code)
}

// Write counts the bytes written.
func (e *exchange) Write(b []byte) (int, error) {
	if e.status == 0 {
		e.status = http.StatusOK
	}
	n, err := e.ResponseWriter.Write(b)
	e.bytesOut += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack, which
// streaming and protocol upgrades need.
func (e *exchange) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// Read reads the request body, counting.
func (e *exchange) Read(b []byte) (int, error) {
	n, err := e.body.Read(b)
	e.bytesIn += int64(n)
	return n, err
}

// Close closes the request body.
func (e *exchange) Close() error { return e.body.Close() }

// stopTimer stops the upstream timeout: the answer has started.
func (e *exchange) stopTimer() {
	if e.timer != nil {
		e.timer.Stop()
	}
}

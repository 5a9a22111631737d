package adapter

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/cardgate/cardgate"
)

// exchange is one request's state: what the checks found, what the
// upstream answered, and the counts the audit record needs. It wraps the
// ResponseWriter (counting the status and bytes out) and the request body
// (counting bytes in, and noting how reading it ended), so that one
// allocation serves all three.
type exchange struct {
	http.ResponseWriter
	status   int
	bytesOut int64

	body    io.ReadCloser
	bytesIn int64
	// deadline is when the client must have sent its whole body (zero:
	// none); forwarding is set once the body goes to the upstream. Both
	// are set before the transport's goroutine reads the body.
	deadline   time.Time
	forwarding bool

	route          *route
	id             *cardgate.Identity
	upPath         string
	upRawPath      string
	upstreamStatus int
	sized          bool      // the upstream's response declared its length
	code           string    // cardgate error code of a refused request
	upgrade        bool      // a WebSocket upgrade was allowed
	resBody        scrubBody // the response body, when trailers are scrubbed

	// mu guards what the transport's goroutine, which reads the body,
	// shares with the handler's.
	mu       sync.Mutex
	bodyDone bool        // the body was read to its end
	bodyErr  error       // why reading the body failed
	timer    *time.Timer // the upstream's timeout
	timeout  time.Duration
	answered bool // the upstream's headers arrived
}

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// WriteHeader records the status and writes it. An upstream's
// informational responses (103 Early Hints, a 100 nobody asked for) are
// not passed on: ReverseProxy would copy their headers to the client as
// they came, past modifyResponse's scrubbing of secrets and mapping of
// Location. The client's own 100 Continue is net/http's, not written here.
func (e *exchange) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		return
	}
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

// errBodyNotTaken is a body read that came after the client's time for the
// body was up because the upstream was slow to take what came before.
var errBodyNotTaken = errors.New("adapter: the upstream did not take the request body in time")

// Read reads the request body, counting, and notes how it ends.
func (e *exchange) Read(b []byte) (int, error) {
	if e.forwarding && !e.deadline.IsZero() && !e.ended() && !time.Now().Before(e.deadline) {
		// The client may have sent it all, but the adapter could not
		// pass it on in time: the upstream's fault, not the client's.
		e.bodyEnded(errBodyNotTaken)
		return 0, errBodyNotTaken
	}
	n, err := e.body.Read(b)
	e.bytesIn += int64(n)
	if err != nil {
		e.bodyEnded(err)
	}
	return n, err
}

// Close closes the request body.
func (e *exchange) Close() error { return e.body.Close() }

// limitBodyTime gives the client d to send its body: a read deadline on
// its connection. net/http lifts it once the body has been read, so that
// it never cuts a response.
func (e *exchange) limitBodyTime(w http.ResponseWriter, d time.Duration) {
	dl := time.Now().Add(d)
	if http.NewResponseController(w).SetReadDeadline(dl) == nil {
		e.deadline = dl
	}
}

func (e *exchange) ended() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.bodyDone || e.bodyErr != nil
}

// bodyEnded notes how reading the body ended; at its end, the upstream's
// clock starts.
func (e *exchange) bodyEnded(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != io.EOF {
		if e.bodyErr == nil {
			e.bodyErr = err
		}
		return
	}
	e.bodyDone = true
	if e.timer != nil && !e.answered {
		e.timer.Reset(e.timeout)
	}
}

// startTimer starts the upstream's timeout d, which runs f: from now if
// the client has sent its whole request, else from the end of the body.
// Until then the client's deadline applies, and the timer is only a
// backstop that fires d after it, for an upstream that stops taking the
// body.
func (e *exchange) startTimer(d time.Duration, f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.timeout = d
	if e.body != nil && !e.bodyDone && !e.deadline.IsZero() {
		d += time.Until(e.deadline)
	}
	e.forwarding = true
	e.timer = time.AfterFunc(d, f)
}

// stopTimer stops the upstream's timeout: the answer has started, or the
// request is over.
func (e *exchange) stopTimer() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.answered = true
	if e.timer != nil {
		e.timer.Stop()
	}
}

// unread reports whether r came with a body that was not read to its end.
func (e *exchange) unread(r *http.Request) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return r.ContentLength != 0 && !e.bodyDone
}

// refuseBody closes the connection after the answer instead of reading
// the rest of the body first, which net/http would otherwise do (up to
// 256 KiB, waiting for a client that may be waiting for the answer).
func (e *exchange) refuseBody() {
	e.Header().Set("Connection", "close")
	http.NewResponseController(e.ResponseWriter).SetReadDeadline(time.Now())
}

// errClientGone is a client that closed its connection (or its sending
// half) before its request was complete: nobody is left to answer.
var errClientGone = errors.New("adapter: the client closed the connection")

// bodyError is the answer to a request whose body could not be read, or
// nil if it could: 413 over the limit, 408 too slow, 400 malformed
// (chunked encoding), errClientGone cut off, and 504 when the upstream
// would not take it.
func (e *exchange) bodyError() error {
	e.mu.Lock()
	err := e.bodyErr
	e.mu.Unlock()
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &mbe):
		return tooLarge(mbe.Limit)
	case errors.Is(err, errBodyNotTaken):
		return cardgate.WrapError(cardgate.EUPSTREAMTIMEOUT, "upstream did not take the request in time", err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return cardgate.Errorf(cardgate.ETIMEOUT, "body: not received in time")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &ne), errors.Is(err, net.ErrClosed):
		return errClientGone
	}
	return cardgate.WrapError(cardgate.EINVALID, "body: malformed", err)
}

// readWhole reads a body of unknown length (chunked) to its end before
// anything is forwarded, so that a body that is malformed, cut off, too
// large or too slow never reaches the upstream as a partial request. The
// upstream gets it with a Content-Length; trailers are dropped. It costs
// up to the route's maxBodyBytes of memory while the request runs; a body
// sent with a Content-Length streams instead.
func readWhole(r *http.Request) error {
	if r.ContentLength != -1 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	r.TransferEncoding = nil
	r.Trailer = nil
	return nil
}

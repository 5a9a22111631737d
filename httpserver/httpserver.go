// Package httpserver makes the http.Server every cardgate listener uses,
// with timeouts and limits that keep slow or greedy clients from holding
// connections or memory (security invariant 7).
package httpserver

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
)

// MaxHeaderBytes bounds request headers; larger ones get 431.
const MaxHeaderBytes = 16 << 10

// The issuer's other limits.
const (
	// ReadHeaderTimeout is how long a client may take to send its
	// headers; a slower one has its connection closed, unanswered.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout is how long a client may take to send a whole request,
	// headers and body; a body still coming then gets 408.
	ReadTimeout = 30 * time.Second
	// IdleTimeout closes keep-alive connections left idle this long.
	IdleTimeout = 2 * time.Minute
)

// New returns a server for h with cardgate's limits. WriteTimeout is left
// to the caller (0 here); the issuer sets one. The adapter, which streams,
// makes its own (adapter.Config.HTTPServer).
func New(addr string, h http.Handler, log *slog.Logger) *http.Server {
	s := &http.Server{
		Addr:              addr,
		Handler:           LimitHeaders(h, MaxHeaderBytes),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
	if log != nil {
		s.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return s
}

// LimitHeaders answers 431, with a JSON error, a request whose request
// line and header lines (HeaderSize) come to more than max bytes. Give
// the server the same MaxHeaderBytes: net/http alone is not exact, since
// it lets up to 4 KiB more through (its read buffer), and it answers what
// is larger still in plain text before any handler runs.
func LimitHeaders(h http.Handler, max int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if HeaderSize(r) > max {
			httpjson.RefuseBody(w) // a body, if one follows, is not wanted
			httpjson.Error(w, cardgate.Errorf(cardgate.EHEADERTOOLARGE, "request headers larger than %d bytes", max))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// HeaderSize is the size of r's request line and header lines as a client
// sends them without extra spaces: "METHOD URI PROTO\r\n", "Name: value\r\n"
// for each value (Host and Transfer-Encoding included), and the blank line.
func HeaderSize(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for _, te := range r.TransferEncoding {
		n += len("Transfer-Encoding: ") + len(te) + 2
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n + 2
}

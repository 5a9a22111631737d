// Package httpserver makes the http.Server every cardgate listener uses,
// with timeouts and limits that keep slow or greedy clients from holding
// connections or memory (security invariant 7).
package httpserver

import (
	"log/slog"
	"net/http"
	"time"
)

// MaxHeaderBytes bounds request headers; larger ones get 431.
const MaxHeaderBytes = 16 << 10

// New returns a server for h with cardgate's limits. WriteTimeout is left
// to the caller (0 here) because the adapter streams long responses; the
// issuer sets one.
func New(addr string, h http.Handler, log *slog.Logger) *http.Server {
	s := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
	if log != nil {
		s.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return s
}

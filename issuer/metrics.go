package issuer

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
	"github.com/cardgate/cardgate/token"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Integration Service's Prometheus metrics. Labels are
// routes and outcomes, never user IDs or tokens, so cardinality is fixed.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	checks   *prometheus.CounterVec
	minted   prometheus.Counter
	revoked  *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardgate_issuer_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cardgate_issuer_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"route"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardgate_issuer_token_checks_total", Help: "Token checks by result.",
		}, []string{"result"}),
		minted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cardgate_issuer_tokens_minted_total", Help: "Tokens minted.",
		}),
		revoked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardgate_issuer_revocations_total", Help: "Revocations by kind.",
		}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.checks, m.minted, m.revoked)
	}
	return m
}

func (m *metrics) check(result string) { m.checks.WithLabelValues(result).Inc() }

// checkResult names the outcome of a token check for the metrics.
func checkResult(err error) string {
	switch {
	case err == nil:
		return "valid"
	case errors.Is(err, token.ErrExpired):
		return "expired"
	case errors.Is(err, ErrRejected):
		return "revoked_or_disabled"
	case cardgate.ErrorCode(err) == cardgate.EINVALIDTOKEN:
		return "invalid"
	}
	return "error"
}

// observe logs and measures every request, and turns a panic into a 500.
// It logs the method, route and path (never the query, which might carry a
// token a careless client put there, and never headers).
func (h *handler) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.log.Error("panic serving request", slog.String("path", r.URL.Path), slog.Any("panic", v))
				if !sw.wrote {
					httpjson.Error(sw, cardgate.Errorf(cardgate.EINTERNAL, "internal error"))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			h.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
			h.metrics.latency.WithLabelValues(route).Observe(d.Seconds())
			h.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Duration("duration", d))
		}()
		next.ServeHTTP(sw, r)
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

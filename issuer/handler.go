package issuer

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// HandlerOptions configures the HTTP API.
type HandlerOptions struct {
	// Metrics, if set, receives the API's metrics and is served at
	// /metrics. Leave it nil to serve /metrics elsewhere (or nowhere).
	Metrics *prometheus.Registry
	// IntrospectionRate limits each resource server's introspection calls
	// per second, so the endpoint cannot be used to fish for valid tokens;
	// 0 means 100. IntrospectionBurst is the bucket size; 0 means 200.
	IntrospectionRate  rate.Limit
	IntrospectionBurst int
	// Logger receives request logs; nil means the Service's logger.
	Logger *slog.Logger
}

type handler struct {
	svc     *Service
	opts    HandlerOptions
	log     *slog.Logger
	metrics *metrics
	limits  *limiters
}

// NewHandler returns the Integration Service's HTTP API.
func NewHandler(svc *Service, opts HandlerOptions) http.Handler {
	if opts.IntrospectionRate == 0 {
		opts.IntrospectionRate = 100
	}
	if opts.IntrospectionBurst == 0 {
		opts.IntrospectionBurst = 200
	}
	if opts.Logger == nil {
		opts.Logger = svc.log
	}
	h := &handler{
		svc:     svc,
		opts:    opts,
		log:     opts.Logger,
		metrics: newMetrics(opts.Metrics),
		limits:  newLimiters(opts.IntrospectionRate, opts.IntrospectionBurst, 10_000),
	}
	mux := http.NewServeMux()
	h.routes(mux)
	return h.observe(jsonErrors(mux))
}

// error writes err as DESIGN.md's JSON error, and logs the cause of server
// failures. Client errors are not logged at warning level: they are the
// client's business and would let anyone fill the log.
func (h *handler) error(w http.ResponseWriter, r *http.Request, err error) {
	code := cardgate.ErrorCode(err)
	if s := httpjson.Status(code); s >= 500 {
		h.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("code", code), slog.Any("err", err))
	} else {
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "request refused",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("code", code), slog.Any("err", err))
	}
	httpjson.Error(w, err)
}

// bearer returns the credential in "Authorization: Bearer", or "".
func bearer(r *http.Request) string {
	v := r.Header.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return ""
}

// jsonErrors makes the mux's own 404 and 405 answers JSON like every other
// error, keeping the Allow header the mux sets on a 405.
func jsonErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r) // not h: the mux must set r's path values
			return
		}
		status, hdr := httpjson.MuxMiss(h, r)
		switch status {
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", hdr.Get("Allow"))
			httpjson.Error(w, cardgate.Errorf(cardgate.EMETHOD, "method %s is not allowed here; allowed: %s", r.Method, hdr.Get("Allow")))
		case http.StatusNotFound:
			httpjson.Error(w, cardgate.Errorf(cardgate.ENOTFOUND, "no endpoint at %s", r.URL.Path))
		default: // a redirect that cleans up the path, say
			for k, v := range hdr {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
		}
	})
}

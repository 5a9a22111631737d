package issuer

import (
	"context"
	"net/http"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// zeroTime is the zero time, for calls that take "unknown".
var zeroTime time.Time

type status struct {
	Status string `json:"status"`
}

// healthz says the process is alive; it checks nothing else.
func (h *handler) healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, status{"ok"})
	})
}

// readyz says whether the store answers within two seconds.
func (h *handler) readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := h.svc.store.Ping(ctx); err != nil {
			h.error(w, r, cardgate.WrapError(cardgate.EUNAVAILABLE, "store is not reachable", err))
			return
		}
		httpjson.Write(w, http.StatusOK, status{"ready"})
	})
}

func (h *handler) metricsHandler() http.Handler {
	return promhttp.HandlerFor(h.opts.Metrics, promhttp.HandlerOpts{})
}

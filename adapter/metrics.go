package adapter

import (
	"fmt"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cardgate/cardgate"
)

// metrics are the adapter's Prometheus metrics. Labels hold route names,
// statuses and reasons only: never a user, a package or anything secret.
type metrics struct {
	requests        *prometheus.CounterVec
	unrouted        *prometheus.CounterVec
	unroutedCodes   *statusCounters
	latency         *prometheus.HistogramVec
	upstreamErrors  *prometheus.CounterVec
	authResults     *prometheus.CounterVec
	authOK          prometheus.Counter
	authInvalid     prometheus.Counter
	authUnavailable prometheus.Counter
	rateLimited     *prometheus.CounterVec
	rateLimitErrors prometheus.Counter
	reloads         *prometheus.CounterVec
}

// dropCounter is an AuditSink that counts the records it had to drop.
type dropCounter interface{ Dropped() uint64 }

func newMetrics(reg prometheus.Registerer, audit AuditSink) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardgate_adapter_requests_total", Help: "Requests by route and status.",
		}, []string{"route", "code"}),
		unrouted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardgate_adapter_unrouted_requests_total", Help: "Requests that matched no route (or never got that far), by status.",
		}, []string{"code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cardgate_adapter_request_duration_seconds", Help: "Time from request to the end of the response, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardgate_adapter_upstream_errors_total", Help: "Upstream failures by route and reason (timeout, unreachable, failed).",
		}, []string{"route", "reason"}),
		authResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardgate_adapter_auth_total", Help: "Token checks by result (ok, invalid, unavailable).",
		}, []string{"result"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardgate_adapter_rate_limited_total", Help: "Requests refused by a rate limit, by route and scope (user, package).",
		}, []string{"route", "scope"}),
		rateLimitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cardgate_adapter_rate_limiter_errors_total", Help: "Rate limiter failures (such as Redis unreachable).",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardgate_adapter_config_reloads_total", Help: "Configuration loads by result (ok, error).",
		}, []string{"result"}),
	}
	m.unroutedCodes = newStatusCounters(m.unrouted)
	m.authOK = m.authResults.WithLabelValues("ok")
	m.authInvalid = m.authResults.WithLabelValues("invalid")
	m.authUnavailable = m.authResults.WithLabelValues("unavailable")
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.requests, m.unrouted, m.latency, m.upstreamErrors, m.authResults, m.rateLimited, m.rateLimitErrors, m.reloads}
	if dc, ok := audit.(dropCounter); ok {
		cs = append(cs, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cardgate_adapter_audit_dropped_total", Help: "Audit records dropped because the store could not keep up (the buffer was full).",
		}, func() float64 { return float64(dc.Dropped()) }))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("adapter: register metrics: %w", err)
		}
	}
	return m, nil
}

// statusCounters is a counter vector's children by status, looked up once
// each: WithLabelValues on a curried vector allocates and hashes on every
// call, which the request path should not pay.
type statusCounters struct {
	vec   *prometheus.CounterVec
	codes [600]atomic.Pointer[prometheus.Counter]
}

func newStatusCounters(vec *prometheus.CounterVec) *statusCounters {
	return &statusCounters{vec: vec}
}

// inc counts one request with status code.
func (s *statusCounters) inc(code int) {
	if code < 0 || code >= len(s.codes) {
		s.vec.WithLabelValues(statusText(code)).Inc()
		return
	}
	c := s.codes[code].Load()
	if c == nil {
		n := s.vec.WithLabelValues(statusText(code))
		c = &n
		s.codes[code].Store(c)
	}
	(*c).Inc()
}

func (m *metrics) auth(err error) {
	switch {
	case err == nil:
		m.authOK.Inc()
	case cardgate.ErrorCode(err) == cardgate.EINVALIDTOKEN:
		m.authInvalid.Inc()
	default:
		m.authUnavailable.Inc()
	}
}

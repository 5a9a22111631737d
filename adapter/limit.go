package adapter

import (
	"context"
	"log/slog"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/ratelimit"
)

// rateLimitError is a 429 that knows when to come back.
type rateLimitError struct {
	scope      string
	retryAfter time.Duration
}

func (e *rateLimitError) Error() string { return "adapter: rate limited per " + e.scope }

func (e *rateLimitError) Unwrap() error {
	return cardgate.Errorf(cardgate.ERATELIMITED, "too many requests for this %s on this route; retry later", e.scope)
}

// take asks the limiter for one request under key. A limiter failure lets
// the request through (logged and counted) unless rateLimit.failClosed is
// set: rate limits protect upstreams, they do not authorize.
func (a *Adapter) take(ctx context.Context, t *table, rt *route, scope, key string, l ratelimit.Limit) error {
	d, err := t.limiter.Allow(ctx, key, l)
	if err != nil {
		a.metrics.rateLimitErrors.Inc()
		a.log.LogAttrs(ctx, slog.LevelError, "adapter: rate limiter failed", slog.String("route", rt.name), slog.String("error", err.Error()))
		if t.failClosed {
			return cardgate.WrapError(cardgate.EUNAVAILABLE, "rate limiter unavailable", err)
		}
		return nil
	}
	if !d.Allowed {
		a.metrics.rateLimited.WithLabelValues(rt.name, scope).Inc()
		return &rateLimitError{scope: scope, retryAfter: d.RetryAfter}
	}
	return nil
}

package adapter

import (
	"context"
	"fmt"
)

// Ping reports whether the dependencies of the running configuration
// answer, for a readiness probe: today the Redis server of the redis
// rate-limit backend, when failClosed is set and a route has a rate limit
// (then Redis down means 503 for those routes; without failClosed requests
// pass unlimited, and the adapter is still serving). The token check and
// the audit store are the caller's to probe (`cardgate adapter`'s /readyz
// does).
func (a *Adapter) Ping(ctx context.Context) error {
	t := a.table.Load()
	if t.redis == nil || !t.failClosed || !t.rateLimited() {
		return nil
	}
	if err := t.redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("rate-limit redis at %s: %w", t.cfg.RateLimit.Redis.Addr, err)
	}
	return nil
}

// rateLimited reports whether any route has a rate limit.
func (t *table) rateLimited() bool {
	for _, rt := range t.routes {
		if rt.perUser != nil || rt.perPackage != nil {
			return true
		}
	}
	return false
}

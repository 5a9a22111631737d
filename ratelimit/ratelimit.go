// Package ratelimit limits how often a key (a user, an action package) may
// make requests, with token buckets: in memory for one node (Memory), or in
// Redis for several nodes sharing one limit (Redis).
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Limit is a token bucket: Rate tokens are added per second, up to Burst;
// each request takes one.
type Limit struct {
	// Rate is the sustained rate, in requests per second.
	Rate float64
	// Burst is the most requests allowed at once, and the bucket's size.
	Burst int
}

// Per returns the Limit of n requests per period with the given burst. A
// burst below 1 means n (but at least 1).
func Per(n int, period time.Duration, burst int) Limit {
	if burst < 1 {
		burst = max(n, 1)
	}
	return Limit{Rate: float64(n) / period.Seconds(), Burst: burst}
}

// Decision is a limiter's answer for one request.
type Decision struct {
	// Allowed reports whether the request may go ahead.
	Allowed bool
	// RetryAfter is, when not Allowed, how long until a token is available.
	RetryAfter time.Duration
	// Remaining is how many whole tokens are left after this request.
	Remaining int
}

// Limiter decides whether a request under key may go ahead under limit.
// Each key has its own bucket; a key's limit may change between calls (after
// a configuration reload), and the new limit applies from then on.
type Limiter interface {
	Allow(ctx context.Context, key string, limit Limit) (Decision, error)
}

// Valid reports an error for a limit that cannot be enforced.
func (l Limit) Valid() error {
	if !(l.Rate > 0) || math.IsInf(l.Rate, 0) || l.Burst < 1 {
		return fmt.Errorf("ratelimit: invalid limit: rate %v/s, burst %d", l.Rate, l.Burst)
	}
	return nil
}

// take refills a bucket holding tokens, last refilled at last, to now under
// l, and takes one token if it can. It is the one token bucket both limiters
// implement (the Redis script mirrors it).
func take(tokens float64, last, now time.Time, l Limit) (float64, Decision) {
	if el := now.Sub(last).Seconds(); el > 0 {
		tokens += el * l.Rate
	}
	if b := float64(l.Burst); tokens > b {
		tokens = b
	}
	if tokens >= 1 {
		tokens--
		return tokens, Decision{Allowed: true, Remaining: int(tokens)}
	}
	wait := time.Duration((1 - tokens) / l.Rate * float64(time.Second))
	return tokens, Decision{RetryAfter: wait}
}

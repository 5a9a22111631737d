package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Memory is a Limiter that keeps its buckets in this process. Buckets that
// have refilled completely are dropped, so memory stays proportional to the
// keys active within about one bucket's refill time.
type Memory struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
	full   time.Time // when the bucket will be full again
}

// sweepEvery is how often Allow drops full buckets.
const sweepEvery = time.Minute

// Allow takes a token from key's bucket under limit. It fails only for an
// invalid limit.
func (m *Memory) Allow(_ context.Context, key string, limit Limit) (Decision, error) {
	if err := limit.Valid(); err != nil {
		return Decision{}, err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buckets == nil {
		m.buckets = make(map[string]*bucket)
		m.lastSweep = now
	}
	if now.Sub(m.lastSweep) > sweepEvery {
		m.sweep(now)
	}
	b, ok := m.buckets[key]
	if !ok {
		b = &bucket{tokens: float64(limit.Burst), last: now}
		m.buckets[key] = b
	}
	var d Decision
	b.tokens, d = take(b.tokens, b.last, now, limit)
	if now.After(b.last) {
		b.last = now
	}
	missing := float64(limit.Burst) - b.tokens
	b.full = now.Add(time.Duration(missing / limit.Rate * float64(time.Second)))
	return d, nil
}

// Len returns the number of buckets held, for tests and metrics.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.buckets)
}

func (m *Memory) sweep(now time.Time) {
	for k, b := range m.buckets {
		if !now.Before(b.full) {
			// A full bucket is the same as no bucket.
			delete(m.buckets, k)
		}
	}
	m.lastSweep = now
}

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

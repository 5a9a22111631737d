package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// testLimiter runs the behaviour every Limiter must have.
func testLimiter(t *testing.T, l Limiter, clk *clock) {
	ctx := context.Background()
	lim := Per(2, time.Second, 3) // 2/s, burst 3
	for i := range 3 {
		d, err := l.Allow(ctx, "u1", lim)
		if err != nil || !d.Allowed || d.Remaining != 2-i {
			t.Fatalf("request %d: %+v, %v", i, d, err)
		}
	}
	d, err := l.Allow(ctx, "u1", lim)
	if err != nil || d.Allowed {
		t.Fatalf("4th request allowed: %+v, %v", d, err)
	}
	if d.RetryAfter <= 0 || d.RetryAfter > 500*time.Millisecond {
		t.Fatalf("RetryAfter = %v, want (0, 500ms]", d.RetryAfter)
	}
	// Another key has its own bucket.
	if d, _ := l.Allow(ctx, "u2", lim); !d.Allowed {
		t.Fatal("u2 limited by u1's bucket")
	}
	clk.Add(500 * time.Millisecond) // one token back
	if d, _ := l.Allow(ctx, "u1", lim); !d.Allowed {
		t.Fatal("refill did not happen")
	}
	if d, _ := l.Allow(ctx, "u1", lim); d.Allowed {
		t.Fatal("refilled more than one token")
	}
	clk.Add(time.Hour) // never more than the burst
	n := 0
	for range 10 {
		if d, _ := l.Allow(ctx, "u1", lim); d.Allowed {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("after a long pause %d allowed, want burst 3", n)
	}
	if _, err := l.Allow(ctx, "u1", Limit{}); err == nil {
		t.Fatal("zero limit accepted")
	}
}

func TestMemory(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	m := &Memory{Now: clk.Now}
	testLimiter(t, m, clk)
	clk.Add(2 * sweepEvery)
	m.Allow(context.Background(), "u3", Per(1, time.Second, 1))
	if n := m.Len(); n != 1 {
		t.Fatalf("%d buckets after sweep, want 1", n)
	}
}

// redisClient connects to the Redis at 127.0.0.1:6379, skipping the test if
// there is none (failing it when CI=true).
func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DialTimeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis at 127.0.0.1:6379 is required in CI: %v", err)
		}
		t.Skipf("no redis at 127.0.0.1:6379 (%v); start one to run this test", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func randomPrefix(t *testing.T) string {
	b := make([]byte, 8)
	rand.Read(b)
	return "cardgate-test:" + hex.EncodeToString(b) + ":"
}

func TestRedis(t *testing.T) {
	c := redisClient(t)
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	prefix := randomPrefix(t)
	t.Cleanup(func() {
		keys, _ := c.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			c.Del(context.Background(), keys...)
		}
	})
	testLimiter(t, &Redis{Client: c, Prefix: prefix, Now: clk.Now}, clk)
	ttl, err := c.PTTL(context.Background(), prefix+"u1").Result()
	if err != nil || ttl <= 0 || ttl > 2*time.Second {
		t.Fatalf("bucket TTL = %v, %v; want it to expire once full", ttl, err)
	}
}

// TestRedisSharedAcrossNodes checks that two limiters (two adapter nodes)
// share one bucket, and that concurrent calls never over-admit.
func TestRedisSharedAcrossNodes(t *testing.T) {
	c := redisClient(t)
	prefix := randomPrefix(t)
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	nodes := []Limiter{&Redis{Client: c, Prefix: prefix, Now: clk.Now}, &Redis{Client: c, Prefix: prefix, Now: clk.Now}}
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := nodes[i%2].Allow(context.Background(), "pkg", Per(1, time.Minute, 10))
			if err != nil {
				t.Error(err)
			}
			if d.Allowed {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	c.Del(context.Background(), prefix+"pkg")
	if n := allowed.Load(); n != 10 {
		t.Fatalf("%d of 40 concurrent requests allowed across two nodes, want burst 10", n)
	}
}

package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Limiter whose buckets live in Redis, so that every adapter node
// shares one limit per key. Each decision is one atomic script call.
type Redis struct {
	// Client runs the script: a *redis.Client, *redis.ClusterClient or
	// *redis.Ring.
	Client redis.Scripter
	// Prefix starts every key, such as "cardgate:rl:".
	Prefix string
	// Now returns the current time; nil means time.Now. Nodes sharing a
	// limit should have synchronized clocks; a clock behind the others only
	// refills more slowly, never faster.
	Now func() time.Time
}

// bucketScript is take() in Lua: the bucket is a hash {t: tokens, ts: last
// refill in ms}, expiring once it would be full anyway.
var bucketScript = redis.NewScript(`
local rate = tonumber(ARGV[1]) -- tokens per millisecond
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(v[1])
local last = tonumber(v[2])
if tokens == nil or last == nil then
  tokens = burst
  last = now
end
if now > last then
  tokens = tokens + (now - last) * rate
  last = now
end
if tokens > burst then tokens = burst end
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(last))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((burst - tokens) / rate)))
return {allowed, wait, math.floor(tokens)}
`)

// Allow takes a token from key's bucket in Redis. A Redis failure is
// returned as an error; the caller decides whether to fail open or closed.
func (l *Redis) Allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	if err := limit.Valid(); err != nil {
		return Decision{}, err
	}
	ms := now().UnixMilli()
	perMs := limit.Rate / 1000
	res, err := bucketScript.Run(ctx, l.Client, []string{l.Prefix + key},
		strconv.FormatFloat(perMs, 'g', -1, 64), limit.Burst, ms).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 3 {
		return Decision{}, fmt.Errorf("ratelimit: redis: script returned %d values", len(res))
	}
	return Decision{
		Allowed:    res[0] == 1,
		RetryAfter: time.Duration(res[1]) * time.Millisecond,
		Remaining:  int(res[2]),
	}, nil
}

package issuer

import (
	"math"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// limiters holds one token bucket per key (a client ID), in a bounded LRU so
// that many keys cannot grow memory without bound.
type limiters struct {
	r     rate.Limit
	burst int
	cache *lru.Cache[string, *rate.Limiter]
}

func newLimiters(r rate.Limit, burst, size int) *limiters {
	c, _ := lru.New[string, *rate.Limiter](size) // only fails for size <= 0
	return &limiters{r: r, burst: burst, cache: c}
}

// allow reports whether key may make a request now, and if not, how many
// whole seconds to wait.
func (l *limiters) allow(key string) (ok bool, retryAfter int) {
	lim, found := l.cache.Get(key)
	if !found {
		lim = rate.NewLimiter(l.r, l.burst)
		if prev, ok, _ := l.cache.PeekOrAdd(key, lim); ok {
			lim = prev
		}
	}
	res := lim.Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		return false, int(math.Ceil(max(d, time.Second).Seconds()))
	}
	return true, 0
}

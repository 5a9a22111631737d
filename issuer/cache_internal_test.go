package issuer

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	lru "github.com/hashicorp/golang-lru/v2"
)

// TestSmallCacheEntrySize measures the mint path's caches per entry, built
// as Mint and Authenticate build them: the figures Config states.
func TestSmallCacheEntrySize(t *testing.T) {
	const n = 20_000
	now := time.Now()
	for _, tc := range []struct {
		name  string
		limit float64
		fill  func(s *Service, i int)
	}{
		{"user and package pairs", 300, func(s *Service, i int) {
			// Both IDs come from the request's JSON, a string each.
			s.mintCache.Add(mintKey{fmt.Sprintf("6f1c2a9e-3b7d-4c1e-9a5f-%012x", i), string([]byte("com.contoso.orders"))},
				stateStamp{1, now})
		}},
		{"API keys", 420, func(s *Service, i int) {
			// As the store returns a client.
			c := &cardgate.Client{ID: fmt.Sprintf("0b9d7c2e-8f3a-4d1b-a6e5-%012x", i), Name: string([]byte("bench-host")),
				Role: cardgate.RoleHost, KeyHash: make([]byte, sha256.Size), CreatedAt: now}
			s.clients.Add(sha256.Sum256([]byte(c.ID)), clientEntry{c: c, stateStamp: stateStamp{1, now}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Service{}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			s.mintCache, _ = lru.New[mintKey, stateStamp](n)
			s.clients, _ = lru.New[[sha256.Size]byte, clientEntry](n)
			for i := range n {
				tc.fill(s, i)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
			t.Logf("%.0f bytes per entry", per)
			if per > tc.limit {
				t.Errorf("%.0f bytes per entry, want at most %.0f", per, tc.limit)
			}
			runtime.KeepAlive(s)
		})
	}
}

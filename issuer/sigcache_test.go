package issuer

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/token"
	lru "github.com/hashicorp/golang-lru/v2"
)

const testIss = "https://id.example.com"

func testClaims(i int) *token.Claims {
	now := time.Unix(1_790_000_000, 0).UTC()
	var jti [16]byte
	binary.BigEndian.PutUint64(jti[:], uint64(i))
	return &token.Claims{Issuer: testIss, UserID: fmt.Sprintf("6f1c2a9e-3b7d-4c1e-9a5f-%012x", i),
		ActionPackageID: "com.contoso.orders", ID: fmt.Sprintf("jti%018dA", i),
		IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(30 * time.Minute)}
}

func testHash(i int) [sha256.Size]byte { return sha256.Sum256([]byte(fmt.Sprint("token ", i))) }

// The claims come back as they went in.
func TestSigCacheRoundTrip(t *testing.T) {
	c := newSigCache(10)
	want := testClaims(7)
	h := testHash(7)
	c.add(&h, want)
	got, ok := c.get(&h, testIss)
	if !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("get = %+v, %v; want %+v", got, ok, want)
	}
	other := testHash(8)
	if got, ok := c.get(&other, testIss); ok {
		t.Errorf("a token never added was found: %+v", got)
	}
}

// When the cache is full the oldest token leaves, and only it.
func TestSigCacheOldestLeaves(t *testing.T) {
	const size = 5
	c := newSigCache(size)
	for i := range 3*size + 2 {
		h := testHash(i)
		c.add(&h, testClaims(i))
		for j := range i + 1 {
			hj := testHash(j)
			_, ok := c.get(&hj, testIss)
			if want := j > i-size; ok != want {
				t.Fatalf("after adding %d tokens, token %d cached: %v, want %v", i+1, j, ok, want)
			}
		}
		if n := c.len(); n != min(i+1, size) {
			t.Fatalf("after adding %d tokens, len = %d", i+1, n)
		}
	}
}

// Two tokens whose hashes share the 8 bytes of the index never answer
// for each other.
func TestSigCacheSharedIndexKey(t *testing.T) {
	c := newSigCache(10)
	a, b := testHash(1), testHash(1)
	b[31] ^= 1
	c.add(&a, testClaims(1))
	if _, ok := c.get(&b, testIss); ok {
		t.Fatal("a token was found under another token's hash")
	}
	c.add(&b, testClaims(2))
	if got, ok := c.get(&b, testIss); !ok || got.ID != testClaims(2).ID {
		t.Errorf("get(b) = %+v, %v", got, ok)
	}
	if got, ok := c.get(&a, testIss); ok {
		t.Errorf("get(a) answered after b took its index: %+v", got)
	}
	c.remove(&a) // not cached any more: removes nothing
	if _, ok := c.get(&b, testIss); !ok {
		t.Error("removing a removed b")
	}
	c.remove(&b)
	if _, ok := c.get(&b, testIss); ok || c.len() != 0 {
		t.Errorf("b still cached after remove, len %d", c.len())
	}
}

// Claims that would not come back the same are not cached.
func TestSigCacheSkipsWhatItCannotPack(t *testing.T) {
	for name, change := range map[string]func(*token.Claims){
		"upper-case user":    func(c *token.Claims) { c.UserID = "6F1C2A9E-3B7D-4C1E-9A5F-2D8E7B6C4A10" },
		"user not a GUID":    func(c *token.Claims) { c.UserID = "alice" },
		"short jti":          func(c *token.Claims) { c.ID = "abc" },
		"jti not base64url":  func(c *token.Claims) { c.ID = "!!!!!!!!!!!!!!!!!!!!!!" },
		"jti with pad bits":  func(c *token.Claims) { c.ID = "AAAAAAAAAAAAAAAAAAAAAB" },
		"fractional seconds": func(c *token.Claims) { c.ExpiresAt = c.ExpiresAt.Add(time.Millisecond) },
		"before 1970":        func(c *token.Claims) { c.IssuedAt = time.Unix(-1, 0) },
		"after 2106":         func(c *token.Claims) { c.ExpiresAt = time.Unix(1<<32, 0) },
		"no package":         func(c *token.Claims) { c.ActionPackageID = "" },
	} {
		cl := testClaims(1)
		change(cl)
		c := newSigCache(10)
		h := testHash(1)
		c.add(&h, cl)
		if got, ok := c.get(&h, testIss); ok {
			t.Errorf("%s: cached as %+v", name, got)
		}
	}
}

// Package IDs are kept once each, and at most maxPackages of them: the
// cache starts over rather than grow.
func TestSigCachePackagesBounded(t *testing.T) {
	c := newSigCache(2 * maxPackages)
	for i := range maxPackages + 1 {
		cl := testClaims(i)
		cl.ActionPackageID = fmt.Sprintf("com.example.p%d", i)
		h := testHash(i)
		c.add(&h, cl)
	}
	if len(c.pkgIDs) > maxPackages || len(c.pkgs) != len(c.pkgIDs) {
		t.Fatalf("%d package IDs kept, want at most %d", len(c.pkgIDs), maxPackages)
	}
	last := testHash(maxPackages)
	if got, ok := c.get(&last, testIss); !ok || got.ActionPackageID != fmt.Sprintf("com.example.p%d", maxPackages) {
		t.Errorf("the token that started the cache over: %+v, %v", got, ok)
	}
	if n := c.len(); n != 1 {
		t.Errorf("len = %d after starting over, want 1", n)
	}
}

// TestSigCacheEntrySize measures the heap a full cache costs per token,
// beyond the 32 bytes of the token's hash, with 100,000 distinct users:
// the figure docs/security.md and --token-cache-size state.
func TestSigCacheEntrySize(t *testing.T) {
	const n = 100_000
	claims := make([]*token.Claims, n)
	hashes := make([][sha256.Size]byte, n)
	for i := range claims {
		claims[i], hashes[i] = testClaims(i), testHash(i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := newSigCache(n)
	for i := range claims {
		c.add(&hashes[i], claims[i])
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(claims)
	runtime.KeepAlive(hashes)
	if c.len() != n {
		t.Fatalf("len = %d, want %d", c.len(), n)
	}
	per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n - sha256.Size
	t.Logf("%.0f bytes per cached token beyond its hash", per)
	if per > 100 {
		t.Errorf("%.0f bytes per cached token beyond its hash, want at most 100", per)
	}
	runtime.KeepAlive(c)
}

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

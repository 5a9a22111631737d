package verify

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/cardgate/cardgate/internal/claimcache"
	"github.com/cardgate/cardgate/token"
)

// heapPerEntry fills a cache with n entries through add and returns the
// heap each costs, beyond the 32 bytes of the token's hash.
func heapPerEntry(t *testing.T, n int, add func(i int, key [sha256.Size]byte)) float64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		var key [sha256.Size]byte
		binary.BigEndian.PutUint64(key[:], uint64(i)+1)
		add(i, key)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	return float64(after.HeapAlloc-before.HeapAlloc)/float64(n) - sha256.Size
}

// testConversation is a conversation ID, as the issuer mints them.
const testConversation = "0b8f6c1e-2d4a-4f3b-8c9d-1e2f3a4b5c6d"

// TestRemoteCacheEntrySize: a cached identity costs at most 300 bytes
// beyond its hash, with a conversation or without.
func TestRemoteCacheEntrySize(t *testing.T) {
	for _, conv := range []string{"", testConversation} {
		const n = 50_000
		r, err := NewRemote(RemoteConfig{UserinfoURL: "http://127.0.0.1:1/v1/users/me", CacheSize: n})
		if err != nil {
			t.Fatal(err)
		}
		until := time.Now().Add(time.Hour)
		answer := []byte(`{"id":"6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10","name":"Alice Example","phoneNumber":"+14155550101","actionPackageId":"com.contoso.orders"}`)
		per := heapPerEntry(t, n, func(i int, key [sha256.Size]byte) {
			// As ask makes an entry from the issuer's answer.
			var id Identity
			if err := json.Unmarshal(answer, &id); err != nil {
				t.Fatal(err)
			}
			id.ConversationID = string([]byte(conv)) // from the header, its own allocation
			id.ExpiresAt = until
			p, ok := packIdentity(&id)
			if !ok {
				t.Fatal("not packed")
			}
			r.cache.Add(key, remoteEntry{id: p, until: until.UnixNano()})
		})
		t.Logf("conversation %q: %.0f bytes per cached identity beyond its hash", conv, per)
		if per > 300 {
			t.Errorf("conversation %q: %.0f bytes per cached identity beyond its hash, want at most 300", conv, per)
		}
		runtime.KeepAlive(r)
	}
}

func TestLocalCacheEntrySize(t *testing.T) {
	const n = 50_000
	now := time.Now().Truncate(time.Second)
	for _, conv := range []string{"", testConversation} {
		cache := claimcache.New(n)
		per := heapPerEntry(t, n, func(i int, key [sha256.Size]byte) {
			// As the verifier makes claims: each string its own allocation.
			c := &token.Claims{Issuer: string([]byte("https://id.example.com")), UserID: string([]byte("6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10")),
				ActionPackageID: string([]byte("com.contoso.orders")), ConversationID: string([]byte(conv)), ID: string([]byte("u8J3kq0bX2mZr5TtYw1v9A")),
				IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(30 * time.Minute)}
			if !cache.Add(&key, c) {
				t.Fatal("not cached")
			}
		})
		if cache.Len() != n {
			t.Fatalf("%d tokens cached, want %d", cache.Len(), n)
		}
		per += float64(cache.OffHeapBytes()) / n // the slots, outside the Go heap
		t.Logf("conversation %q: %.0f bytes per cached token beyond its hash", conv, per)
		if per > 100 {
			t.Errorf("conversation %q: %.0f bytes per cached token beyond its hash, want at most 100", conv, per)
		}
		runtime.KeepAlive(cache)
	}
}

// TestRemoteNegativeCacheEntrySize: a remembered rejection holds no
// identity, only the shared rejection and its end, so a full negative
// cache (10,000 by default) costs about 2 MB.
func TestRemoteNegativeCacheEntrySize(t *testing.T) {
	const n = 50_000
	r, err := NewRemote(RemoteConfig{UserinfoURL: "http://127.0.0.1:1/v1/users/me", NegativeCacheSize: n})
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(5 * time.Second).UnixNano()
	per := heapPerEntry(t, n, func(i int, key [sha256.Size]byte) {
		r.reject.Add(key, remoteEntry{reject: rejectInvalid, until: until}) // as ask makes it
	})
	t.Logf("%.0f bytes per remembered rejection beyond its hash", per)
	if per > 200 {
		t.Errorf("%.0f bytes per remembered rejection beyond its hash, want at most 200", per)
	}
	runtime.KeepAlive(r)
}

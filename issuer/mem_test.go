package issuer_test

import (
	"context"
	"runtime"
	"testing"
)

// TestCheckCacheEntrySize measures the heap a checked token costs the
// issuer's cache (claims and identity), beyond the 32 bytes of its hash:
// about 350 bytes for Alice, whose identity has a picture URL (it was 700
// with pointers to a Claims and an Identity). The budget of 300 is met by
// the adapter's caches (verify: TestRemoteCacheEntrySize,
// TestLocalCacheEntrySize), not yet here.
func TestCheckCacheEntrySize(t *testing.T) {
	if testing.Short() {
		t.Skip("mints and checks 5,000 tokens")
	}
	const n = 5_000
	e := newEnvWith(t, envOptions{quiet: true})
	ctx := context.Background()
	toks := make([]string, n)
	for i := range toks {
		tok, _, err := e.svc.Mint(ctx, alice, ordersPkg)
		if err != nil {
			t.Fatal(err)
		}
		toks[i] = tok
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, tok := range toks {
		if _, _, err := e.svc.Check(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n - 32
	t.Logf("%.0f bytes per checked token beyond its hash", per)
	if per > 400 {
		t.Errorf("%.0f bytes per checked token beyond its hash, want at most 400", per)
	}
	runtime.KeepAlive(toks)
}

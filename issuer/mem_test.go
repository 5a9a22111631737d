package issuer_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/cardgate/cardgate/issuer"
)

// TestCheckCacheEntrySize measures the heap a checked token costs the
// issuer beyond the 32 bytes of its hash: its signature's entry, which
// lives until the token expires, at most 300 bytes (it was 700 with
// pointers to a Claims and an Identity); and, while the token was checked
// within StateCacheTTL (1 s), its identity's entry too, which expired
// entries leave as new ones come. A token minted in a conversation costs
// no more (its GUID is kept in 16 bytes).
func TestCheckCacheEntrySize(t *testing.T) {
	if testing.Short() {
		t.Skip("mints and checks 5,000 tokens")
	}
	for _, tc := range []struct {
		name  string
		ttl   time.Duration
		limit float64
		conv  string
	}{{"signature", -1, 300, ""}, {"signature and identity", 0, 550, ""},
		{"signature, in a conversation", -1, 300, conversation}, {"signature and identity, in a conversation", 0, 550, conversation}} {
		t.Run(tc.name, func(t *testing.T) {
			per := checkedBytes(t, newEnvWith(t, envOptions{quiet: true, stateTTL: tc.ttl}), tc.conv)
			t.Logf("%.0f bytes per checked token beyond its hash", per)
			if per > tc.limit {
				t.Errorf("%.0f bytes per checked token beyond its hash, want at most %.0f", per, tc.limit)
			}
		})
	}
}

func checkedBytes(t *testing.T, e *env, conv string) float64 {
	const n = 5_000
	ctx := context.Background()
	toks := make([]string, n)
	for i := range toks {
		tok, _, err := e.svc.MintIn(ctx, alice, ordersPkg, conv)
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
	runtime.KeepAlive(toks)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n - 32
}

// Identities checked more than StateCacheTTL ago leave the cache as new
// tokens are checked: what stays is their signatures.
func TestCheckStatesExpire(t *testing.T) {
	e := newEnvWith(t, envOptions{quiet: true})
	ctx := context.Background()
	check := func(n int) {
		for range n {
			tok, _, err := e.svc.Mint(ctx, alice, ordersPkg)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := e.svc.Check(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
	}
	check(50)
	e.clock.Advance(issuer.DefaultStateCacheTTL)
	check(30)
	if sig, st := e.svc.CacheLens(); sig != 80 || st != 30 {
		t.Errorf("%d signatures and %d identities cached, want 80 and 30", sig, st)
	}
}

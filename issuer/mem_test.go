package issuer_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/issuer"
)

// TestCheckCacheEntrySize measures the heap a checked token costs the
// issuer beyond the 32 bytes of its hash: its signature's entry, which
// stays until newer tokens push it out, at most 100 bytes (it was 270 in a
// general LRU of strings, 700 with pointers to a Claims and an Identity);
// and, while the token was checked within StateCacheTTL (1 s), its
// identity's entry too, which expired entries leave as new ones come. A
// token minted in a conversation costs no more than 36 bytes more (its
// GUID is kept in 16 bytes in the signature's slot, as text in the
// identity's entry).
func TestCheckCacheEntrySize(t *testing.T) {
	if testing.Short() {
		t.Skip("mints and checks 5,000 tokens")
	}
	for _, tc := range []struct {
		name  string
		ttl   time.Duration
		limit float64
		conv  string
	}{{"signature", -1, 100, ""}, {"signature and identity", 0, 450, ""},
		{"signature, in a conversation", -1, 100, conversation}, {"signature and identity, in a conversation", 0, 490, conversation}} {
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
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc) + int64(e.svc.SignatureCacheOffHeap())
	return float64(heap)/n - 32
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

// junkTokens returns n distinct tokens of each kind a flood may send,
// made from a valid token: malformed, a wrong signature, an unknown kid,
// and a well-formed token with an unknown jti (its signature, the
// original's, is then wrong too).
func junkTokens(t *testing.T, model string, n int) map[string][]string {
	parts := strings.Split(model, ".")
	if len(parts) != 3 {
		t.Fatalf("model token has %d parts", len(parts))
	}
	enc := base64.RawURLEncoding
	decode := func(s string) map[string]any {
		b, err := enc.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	encode := func(m map[string]any) string {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return enc.EncodeToString(b)
	}
	header, payload := decode(parts[0]), decode(parts[1])
	junk := map[string][]string{}
	for i := range n {
		sum := sha256.Sum256([]byte(strconv.Itoa(i)))
		junk["malformed"] = append(junk["malformed"], "junk"+enc.EncodeToString(sum[:]))
		junk["bad signature"] = append(junk["bad signature"], parts[0]+"."+parts[1]+"."+enc.EncodeToString(append(sum[:], sum[:]...)))
		header["kid"] = "k" + strconv.Itoa(i)
		junk["unknown kid"] = append(junk["unknown kid"], encode(header)+"."+parts[1]+"."+parts[2])
		payload["jti"] = enc.EncodeToString(sum[:16])
		junk["unknown jti"] = append(junk["unknown jti"], parts[0]+"."+encode(payload)+"."+parts[2])
	}
	return junk
}

// Junk costs no memory: tokens that fail their check, API keys that match
// no client and mints for unknown users add no entry to any cache.
func TestJunkAddsNoCacheEntries(t *testing.T) {
	e := newEnvWith(t, envOptions{quiet: true})
	ctx := context.Background()
	model, _, err := e.svc.Mint(ctx, alice, ordersPkg)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Check(ctx, model); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, e.hostKey, cardgate.RoleHost); err != nil {
		t.Fatal(err)
	}
	sig, ids := e.svc.CacheLens()
	mint, clients := e.svc.SmallCacheLens()
	if sig != 1 || ids != 1 || mint != 1 || clients != 1 {
		t.Fatalf("after one mint and check: %d signatures, %d identities, %d pairs, %d keys cached; want 1 each", sig, ids, mint, clients)
	}
	for kind, toks := range junkTokens(t, model, 500) {
		for _, tok := range toks {
			if _, _, err := e.svc.Check(ctx, tok); cardgate.ErrorCode(err) != cardgate.EINVALIDTOKEN {
				t.Fatalf("%s token: %v, want EINVALIDTOKEN", kind, err)
			}
		}
	}
	for i := range 500 {
		if _, err := e.svc.Authenticate(ctx, "junk-key-"+strconv.Itoa(i), cardgate.RoleHost); cardgate.ErrorCode(err) != cardgate.EUNAUTHORIZED {
			t.Fatalf("junk API key: %v, want EUNAUTHORIZED", err)
		}
		user := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		if _, _, err := e.svc.Mint(ctx, user, ordersPkg); cardgate.ErrorCode(err) != cardgate.ENOTFOUND {
			t.Fatalf("mint for an unknown user: %v, want ENOTFOUND", err)
		}
	}
	sig2, ids2 := e.svc.CacheLens()
	mint2, clients2 := e.svc.SmallCacheLens()
	if sig2 != sig || ids2 != ids || mint2 != mint || clients2 != clients {
		t.Errorf("after the junk: %d signatures, %d identities, %d pairs, %d keys cached; want %d, %d, %d, %d",
			sig2, ids2, mint2, clients2, sig, ids, mint, clients)
	}
}

// A cached check allocates only the identity and the claims it returns:
// the identity's entry carries the token's user ID and jti, so nothing
// is formatted from the compact signature entry.
func TestCachedCheckAllocs(t *testing.T) {
	e := newEnvWith(t, envOptions{quiet: true})
	ctx := context.Background()
	tok, _, err := e.svc.Mint(ctx, alice, ordersPkg)
	if err != nil {
		t.Fatal(err)
	}
	id, c, err := e.svc.Check(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	id2, c2, err := e.svc.Check(ctx, tok) // from the caches
	if err != nil || *id2 != *id || *c2 != *c {
		t.Fatalf("cached check: %+v %+v %v; want %+v %+v", id2, c2, err, id, c)
	}
	if n := testing.AllocsPerRun(100, func() { e.svc.Check(ctx, tok) }); n > 2 {
		t.Errorf("a cached check makes %.0f allocations, want at most 2", n)
	}
}

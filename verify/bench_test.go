package verify_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/verify"
)

// Read these as ratios within one run (docs/BENCHMARKS.md): the cached
// checks against the 2 µs budget, LocalUncached against RawEd25519Verify.

func BenchmarkRemoteCached(b *testing.B) {
	e := newIssuer(b)
	r := e.remote(b, verify.RemoteConfig{TTL: verify.MaxRemoteTTL}) // the cached path, however long the run
	tok := e.mint(b, alice, orders)
	ctx := context.Background()
	r.Verify(ctx, tok)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLocalCached(b *testing.B) {
	e := newIssuer(b)
	l := e.local(b, verify.LocalConfig{})
	tok := e.mint(b, alice, orders)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLocalUncached alternates two tokens through a one-entry cache,
// so every check verifies Ed25519.
func BenchmarkLocalUncached(b *testing.B) {
	e := newIssuer(b)
	l := e.local(b, verify.LocalConfig{CacheSize: 1})
	toks := []string{e.mint(b, alice, orders), e.mint(b, bob, orders)}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := l.Verify(ctx, toks[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawEd25519Verify(b *testing.B) {
	e := newIssuer(b)
	tok := e.mint(b, alice, orders)
	pub, _ := e.svc.Keys().PublicKey(e.svc.Keys().Signer().KeyID())
	i := strings.LastIndexByte(tok, '.')
	msg := []byte(tok[:i])
	sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("bad signature")
		}
	}
}

// BenchmarkRemoteJunk sends distinct junk tokens through a capped cache and
// reports the entries and live heap at the end: both stay flat however
// large b.N grows.
func BenchmarkRemoteJunk(b *testing.B) {
	e := newIssuer(b)
	r := e.remote(b, verify.RemoteConfig{CacheSize: 1000})
	ctx := context.Background()
	n := 0
	for b.Loop() {
		n++
		r.Verify(ctx, "junk-"+strconv.Itoa(n))
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(r.Len()), "entries")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB")
}

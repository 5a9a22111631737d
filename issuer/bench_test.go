package issuer_test

import (
	"context"
	"crypto/ed25519"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
	"github.com/cardgate/cardgate/internal/cpuclock"
)

// The benchmarks below are meant to be read as ratios within one run:
// BenchmarkUsersMe against BenchmarkBareJSONHandler (the same JSON from a
// bare net/http handler, over the same loopback client), and the Check
// variants against each other. See docs/BENCHMARKS.md.

// BenchmarkEd25519Sign is the baseline of BenchmarkMint: one raw
// signature over a message the size of a token's header and claims. The
// budget is a mint at most twice this, in CPU (cpu-ns/op).
func BenchmarkEd25519Sign(b *testing.B) {
	_, key, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 330)
	b.ReportAllocs()
	cpu := cpuclock.Start(b)
	for b.Loop() {
		ed25519.Sign(key, msg)
	}
	cpu.Report()
}

// BenchmarkMint is Service.Mint: the state of the user and the package
// (cached, as a host minting for the same card again finds them), the
// claims, the signature, the log line at level info.
func BenchmarkMint(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	b.ReportAllocs()
	cpu := cpuclock.Start(b)
	for b.Loop() {
		if _, _, err := e.svc.Mint(ctx, alice, ordersPkg); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report()
}

// BenchmarkMintHTTP is POST /v1/tokens over loopback, the host's API key
// checked on every request; its CPU includes the client's.
func BenchmarkMintHTTP(b *testing.B) {
	e := newBenchEnv(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	body := `{"userId":"` + alice + `","actionPackageId":"` + ordersPkg + `"}`
	b.ReportAllocs()
	cpu := cpuclock.Start(b)
	for b.Loop() {
		req, _ := http.NewRequest("POST", e.srv.URL+"/v1/tokens", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.hostKey)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	cpu.Report()
}

// BenchmarkCheck is the whole check behind /v1/users/me, without HTTP:
// "cached" reuses the identity (the default), "store" skips Ed25519 but
// reads the store every time (StateCacheTTL < 0), "uncached" does both
// every time.
func BenchmarkCheck(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts envOptions
	}{
		{"cached", envOptions{quiet: true}},
		{"store", envOptions{quiet: true, stateTTL: -1}},
		{"uncached", envOptions{quiet: true, cacheSize: -1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnvWith(b, bc.opts)
			ctx := context.Background()
			tok, _, err := e.svc.Mint(ctx, alice, ordersPkg)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := e.svc.Check(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUsersMe is GET /v1/users/me over loopback, with the default
// caches and with the store read on every request.
func BenchmarkUsersMe(b *testing.B) {
	for _, bc := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", 0}, {"store", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnvWith(b, envOptions{quiet: true, stateTTL: bc.ttl})
			tok, _, err := e.svc.Mint(context.Background(), alice, ordersPkg)
			if err != nil {
				b.Fatal(err)
			}
			benchGET(b, e.srv.URL+"/v1/users/me", tok)
		})
	}
}

// BenchmarkBareJSONHandler is the baseline for BenchmarkUsersMe: a bare
// handler writing the same identity, served and called the same way.
func BenchmarkBareJSONHandler(b *testing.B) {
	id := &cardgate.Identity{UserID: alice, Name: "Alice", PhoneNumber: "+14155550101",
		PictureURL: "https://pics.example/alice.png", ActionPackageID: ordersPkg}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, id)
	}))
	defer srv.Close()
	benchGET(b, srv.URL, "token")
}

func benchGET(b *testing.B, url, tok string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("accessToken", tok)
		for pb.Next() {
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			var buf [512]byte
			for {
				if _, err := res.Body.Read(buf[:]); err != nil {
					break
				}
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}

// newBenchEnv is newEnv for benchmarks: a logger at info level (as in
// production) that writes nowhere.
func newBenchEnv(b *testing.B) *env { return newEnvWith(b, envOptions{quiet: true}) }

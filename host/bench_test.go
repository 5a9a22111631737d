package host_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/internal/cpuclock"
)

// BenchmarkHostMint is the card host's POST /host/api/tokens for a
// signed-in viewer, over loopback: session lookup, the card's manifest,
// the mint. BenchmarkIssuerMint is the issuer's own mint in the same run,
// the part of it that signs: the ratio is what the host adds.
func BenchmarkHostMint(b *testing.B) {
	e := newEnv(b, false)
	c := e.browser(b)
	c.signIn()
	body := `{"actionPackageId":"` + orders + `"}`
	b.ReportAllocs()
	cpu := cpuclock.Start(b)
	for b.Loop() {
		req, _ := http.NewRequest("POST", e.srv.URL+"/host/api/tokens", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range c.hdr {
			req.Header.Set(k, v)
		}
		res, err := c.c.Do(req)
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

func BenchmarkIssuerMint(b *testing.B) {
	e := newEnv(b, false)
	ctx := context.Background()
	b.ReportAllocs()
	cpu := cpuclock.Start(b)
	for b.Loop() {
		if _, _, err := e.svc.Mint(ctx, alice, orders); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report()
}

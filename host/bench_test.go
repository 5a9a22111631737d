package host_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
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
	cpu0 := processCPU()
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
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

func BenchmarkIssuerMint(b *testing.B) {
	e := newEnv(b, false)
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		if _, _, err := e.svc.Mint(ctx, alice, orders); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is the process's CPU time (user and system), which other
// processes on a busy machine do not inflate as they do wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

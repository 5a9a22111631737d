package adapter

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	rtmetrics "runtime/metrics"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cardgate/cardgate/internal/cpuclock"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

// BenchmarkAdapterVsReverseProxy compares a request through the adapter
// (token answered from memory, credential and identity headers, audit to a
// discarded log) with the same request through a bare httputil.ReverseProxy
// with an equally tuned transport, over loopback to the same upstream.
func BenchmarkAdapterVsReverseProxy(b *testing.B) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":42,"name":"Widget","price":9.5}`)
	}))
	defer up.Close()
	target, _ := url.Parse(up.URL)

	bare := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() },
		Transport: newTransport(),
	})
	defer bare.Close()
	// The same with a buffer pool, as the adapter has: the difference to
	// the adapter is then only the adapter's own work.
	bareTuned := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() },
		Transport:  newTransport(),
		BufferPool: &bufferPool{},
	})
	defer bareTuned.Close()

	path := filepath.Join(b.TempDir(), "adapter.yaml")
	os.WriteFile(path, []byte(config(up.URL, "")), 0o600)
	a, err := New(context.Background(), path, Options{
		Authenticator: testAuth,
		LookupEnv:     func(n string) (string, bool) { v, ok := testSecrets[n]; return v, ok },
		Secrets:       mapStore{"basic-pw": "x"},
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	adapted := httptest.NewUnstartedServer(nil)
	adapted.Config = a.HTTPServer() // the server the binary runs
	adapted.Start()
	defer adapted.Close()

	// The adapter as `cardgate adapter` runs it by default: audit to a
	// SQLite store, a JSON log at level info to a file, metrics registered.
	logf, err := os.Create(filepath.Join(b.TempDir(), "adapter.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logf.Close()
	jsonLog := slog.New(slog.NewJSONHandler(logf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	audit := NewAuditLog(sqlitetest.Open(b), jsonLog, 0)
	defer audit.Close()
	d, err := New(context.Background(), path, Options{
		Authenticator: testAuth,
		LookupEnv:     func(n string) (string, bool) { v, ok := testSecrets[n]; return v, ok },
		Secrets:       mapStore{"basic-pw": "x"},
		Logger:        jsonLog,
		Audit:         audit,
		Metrics:       prometheus.NewRegistry(),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	defaulted := httptest.NewUnstartedServer(nil)
	defaulted.Config = d.HTTPServer()
	defaulted.Start()
	defer defaulted.Close()

	for _, bc := range []struct {
		name, url string
	}{
		{"adapter", adapted.URL + "/products/42"},
		{"adapter-default", defaulted.URL + "/products/42"},
		{"bare", bare.URL + "/api/items/42"},
		{"bare-pooled", bareTuned.URL + "/api/items/42"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			defer client.CloseIdleConnections()
			var (
				mu  sync.Mutex
				all []time.Duration
			)
			b.ReportAllocs()
			b.ResetTimer()
			cpu, g0 := cpuclock.Start(b), goroutinesCreated()
			b.RunParallel(func(pb *testing.PB) {
				var lat []time.Duration
				for pb.Next() {
					start := time.Now()
					req, _ := http.NewRequest("GET", bc.url, nil)
					req.Header.Set("Authorization", "Bearer tok-alice")
					res, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					lat = append(lat, time.Since(start))
					if res.StatusCode != 200 {
						b.Fatalf("status %d", res.StatusCode)
					}
				}
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			})
			b.StopTimer()
			// The process's CPU per request: client, proxy and upstream
			// together, the same in every case but the proxy.
			cpu.Report()
			// Goroutines started per request, in the same three parts: a
			// goroutine is a possible thread wake-up on the request's path.
			b.ReportMetric(float64(goroutinesCreated()-g0)/float64(b.N), "goroutines/op")
			reportPercentiles(b, all)
		})
	}
}

// goroutinesCreated is how many goroutines the process has started.
func goroutinesCreated() uint64 {
	s := []rtmetrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

// reportPercentiles adds the p50 and p99 request latency to a benchmark's
// output, so that the latency a layer adds is read from the same run.
func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

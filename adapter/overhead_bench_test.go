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
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cardgate/cardgate/internal/cpuclock"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

// BenchmarkOverhead is the adapter's own work per request, without the
// network: the adapter's handler, as `cardgate adapter` serves it (audit
// to a SQLite store, JSON log at info, metrics), and a bare
// httputil.ReverseProxy with the adapter's buffer pool, each called
// directly with the same request and each answered by the same canned
// upstream. The difference is what the adapter adds to a request, and
// adapter-no-audit shows what of it the audit log costs (its writer runs
// on its own goroutine, but on the same cores). cpu-ns/op is the whole
// process's CPU, and the least noisy figure. Read them as ratios within
// one run; the token check is a map lookup here, and BenchmarkRemoteCached
// (verify) is the real one.
func BenchmarkOverhead(b *testing.B) {
	// The upstream's answer, the same small JSON object every time.
	const body = `{"id":42,"name":"Widget","price":9.5}`
	up := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:        http.Header{"Content-Type": {"application/json"}},
			Body:          io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)),
			Request:       r,
		}, nil
	})
	target, _ := url.Parse("http://upstream.internal/api/items")
	bare := &httputil.ReverseProxy{
		Rewrite:    func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() },
		Transport:  up,
		BufferPool: &bufferPool{},
	}

	path := filepath.Join(b.TempDir(), "adapter.yaml")
	os.WriteFile(path, []byte(config(target.Scheme+"://"+target.Host, "")), 0o600)
	logf, err := os.Create(filepath.Join(b.TempDir(), "adapter.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logf.Close()
	log := slog.New(slog.NewJSONHandler(logf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// adapter builds an adapter on the canned upstream, with or without
	// the audit log to SQLite, and returns it with what to call once the
	// requests are done: closing the audit log writes the records still
	// waiting, so that all of an arm's audit work is counted in that arm.
	adapter := func(b *testing.B, audit bool) (http.Handler, func()) {
		opts := Options{
			Authenticator: testAuth,
			LookupEnv:     func(n string) (string, bool) { v, ok := testSecrets[n]; return v, ok },
			Secrets:       mapStore{"basic-pw": "x"},
			Logger:        log,
			Metrics:       prometheus.NewRegistry(),
			upstream:      up,
		}
		done := func() {}
		if audit {
			l := NewAuditLog(sqlitetest.Open(b), log, 0)
			opts.Audit, done = l, func() { l.Close() }
		}
		a, err := New(context.Background(), path, opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { a.Close() })
		return a.HTTPServer().Handler, done
	}

	for _, bc := range []struct {
		name  string
		path  string
		setup func(*testing.B) (http.Handler, func())
	}{
		{"bare", "/api/items/42", func(*testing.B) (http.Handler, func()) { return bare, func() {} }},
		{"adapter-no-audit", "/products/42", func(b *testing.B) (http.Handler, func()) { return adapter(b, false) }},
		{"adapter", "/products/42", func(b *testing.B) (http.Handler, func()) { return adapter(b, true) }}, // as `cardgate adapter` runs
	} {
		b.Run(bc.name, func(b *testing.B) {
			h, done := bc.setup(b)
			tmpl := httptest.NewRequest("GET", "http://adapter.example"+bc.path, nil)
			tmpl.Header.Set("Authorization", "Bearer tok-alice")
			tmpl.Header.Set("Accept", "application/json")
			tmpl.Header.Set("User-Agent", "Mozilla/5.0 (card)")
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			cpu := cpuclock.Start(b)
			for b.Loop() {
				clear(w.h)
				w.code = 0
				h.ServeHTTP(w, tmpl.Clone(context.Background()))
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
			done()
			// The process's CPU per request, the audit writer's and the
			// garbage collector's included.
			cpu.Report()
		})
	}
}

// discardWriter is a ResponseWriter that keeps only the status. It can
// flush, as net/http's can: a writer that could not would cost the adapter
// an error value per request that the server never does.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return len(b), nil
}

func (w *discardWriter) Flush() {}

// BenchmarkHeaderToken takes a token of an integration service token's
// length (about 600 bytes) from "Authorization: Bearer", as every request
// through the adapter does; the check for blanks inside it used to read it
// a byte at a time (docs/BENCHMARKS.md).
func BenchmarkHeaderToken(b *testing.B) {
	t := &table{tokenHeaders: []tokenHeader{{name: "Accesstoken"}, {name: "Authorization", bearer: true}}}
	tok := strings.Repeat("eyJhbGciOiJFZERTQSJ9", 30)
	h := http.Header{"Authorization": {"Bearer " + tok}}
	for b.Loop() {
		if got, err := t.headerToken(h); err != nil || got != tok {
			b.Fatalf("headerToken = %q, %v", got, err)
		}
	}
}

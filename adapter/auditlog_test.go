package adapter_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/adapter"
	"github.com/cardgate/cardgate/internal/syncbuf"
	"github.com/cardgate/cardgate/postgres/pgtest"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

func TestAuditLogWritesEveryRecordToTheStore(t *testing.T) {
	store := sqlitetest.Open(t)
	l := adapter.NewAuditLog(store, nil, 0)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				l.Record(context.Background(), adapter.AuditRecord{Time: time.Now(), Method: "GET", Status: 200,
					Route: "products", UserID: "u", BytesOut: int64(g*1000 + i)})
			}
		}()
	}
	wg.Wait()
	l.Close()
	recs, err := store.Audit(context.Background(), cardgate.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 600 {
		t.Fatalf("%d records in the store, want 600", len(recs))
	}
}

// blockingStore holds every write until released, to fill the buffer.
type blockingStore struct{ release chan struct{} }

func (b blockingStore) AppendAudit(ctx context.Context, recs []*cardgate.AuditRecord) error {
	<-b.release
	return nil
}

func TestAuditLogDropsRatherThanBlocks(t *testing.T) {
	var logs bytes.Buffer
	store := blockingStore{release: make(chan struct{})}
	l := adapter.NewAuditLog(store, slog.New(slog.NewTextHandler(&logs, nil)), 4)
	done := make(chan struct{})
	go func() {
		for range 1000 {
			l.Record(context.Background(), adapter.AuditRecord{Method: "GET"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Record blocked on a stuck store")
	}
	close(store.release)
	l.Close()
	if !strings.Contains(logs.String(), "records dropped") {
		t.Errorf("drops not reported: %s", logs.String())
	}
}

// TestAuditNeverBlocksARequest runs requests through an adapter whose
// audit store never answers: every request must still be answered, at
// once, and the drops counted in the log and in the metrics.
func TestAuditNeverBlocksARequest(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer up.Close()
	path := filepath.Join(t.TempDir(), "adapter.yaml")
	os.WriteFile(path, []byte(`
issuer: {url: "http://127.0.0.1:1"}
routes:
  - name: items
    match: GET /items/
    policy: {packages: ["*"]}
    upstream: {url: "`+up.URL+`"}
`), 0o600)
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	store := blockingStore{release: make(chan struct{})}
	audit := adapter.NewAuditLog(store, log, 8)
	reg := prometheus.NewRegistry()
	a, err := adapter.New(context.Background(), path, adapter.Options{
		Authenticator: oneToken{}, Audit: audit, Logger: log, Metrics: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	done := make(chan error, 1)
	go func() {
		for range 1200 { // more than the buffer and the batch the writer holds
			req, _ := http.NewRequest("GET", srv.URL+"/items/1", nil)
			req.Header.Set("Authorization", "Bearer tok")
			res, err := srv.Client().Do(req)
			if err != nil {
				done <- err
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				done <- fmt.Errorf("status %d", res.StatusCode)
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("requests blocked on a stuck audit store")
	}
	if got := counterValue(t, reg, "cardgate_adapter_audit_dropped_total"); got < 1200-8-1024 {
		// The writer takes one batch (1024) and is stuck writing it; the
		// buffer (8) fills; the rest is dropped.
		t.Errorf("cardgate_adapter_audit_dropped_total = %v", got)
	}
	close(store.release)
	a.Close()
	audit.Close()
	if !strings.Contains(logs.String(), "records dropped") {
		t.Errorf("drops not reported in the log: %s", logs.String())
	}
	// The audit record is the per-request record; the log line is at
	// level debug, so that the default (info) does not pay for it.
	if strings.Contains(logs.String(), "adapter: request") {
		t.Errorf("per-request log line at level info: %s", logs.String())
	}
}

type oneToken struct{}

func (oneToken) Authenticate(_ context.Context, tok string) (*cardgate.Identity, error) {
	if tok != "tok" {
		return nil, cardgate.Errorf(cardgate.EINVALIDTOKEN, "token is not valid")
	}
	return &cardgate.Identity{UserID: "u1", ActionPackageID: "com.example.a"}, nil
}

// counterValue is the value of the counter of that name in reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestAuditLogRetention fills a store with records past the retention (by
// age, and beyond the record limit), then writes new records while the
// writer prunes: the old ones go, the new ones and the recent ones stay,
// and nothing is dropped.
func TestAuditLogRetention(t *testing.T) {
	for name, open := range map[string]func(testing.TB) cardgate.Store{
		"sqlite":   func(t testing.TB) cardgate.Store { return sqlitetest.Open(t) },
		"postgres": func(t testing.TB) cardgate.Store { return pgtest.Open(t) },
	} {
		t.Run(name, func(t *testing.T) {
			store := open(t)
			ctx := context.Background()
			now := time.Now()
			var old []*cardgate.AuditRecord
			for i := range 5000 { // more than two prune chunks
				old = append(old, &cardgate.AuditRecord{Time: now.Add(-40*24*time.Hour + time.Duration(i)*time.Millisecond),
					Method: "GET", Status: 200, Route: "old"})
			}
			recent := make([]*cardgate.AuditRecord, 30)
			for i := range recent {
				recent[i] = &cardgate.AuditRecord{Time: now.Add(-time.Hour), Method: "GET", Status: 200, Route: "recent"}
			}
			if err := store.AppendAudit(ctx, old); err != nil {
				t.Fatal(err)
			}
			if err := store.AppendAudit(ctx, recent); err != nil {
				t.Fatal(err)
			}
			l := adapter.NewRetainingAuditLog(store, nil, 0, adapter.AuditConfig{MaxAge: 30 * 24 * time.Hour, MaxRecords: 1020})
			for range 1000 {
				l.Record(ctx, adapter.AuditRecord{Time: time.Now(), Method: "GET", Status: 200, Route: "new"})
			}
			count := func() map[string]int {
				recs, err := store.Audit(ctx, cardgate.AuditQuery{Limit: 10_000})
				if err != nil {
					t.Fatal(err)
				}
				n := map[string]int{}
				for _, r := range recs {
					n[r.Route]++
				}
				return n
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				n := count()
				// The age removes all old ones; the limit of 1,020 the
				// oldest 10 of the recent ones once the new ones are in.
				if n["old"] == 0 && n["new"] == 1000 && n["recent"] == 20 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("records left: %v", n)
				}
				time.Sleep(20 * time.Millisecond)
			}
			l.Close()
			if l.Dropped() != 0 {
				t.Errorf("%d records dropped while pruning", l.Dropped())
			}
		})
	}
}

// batchCounter records the size of every write.
type batchCounter struct {
	adapter.AuditAppender
	mu    sync.Mutex
	sizes []int
}

func (b *batchCounter) AppendAudit(ctx context.Context, recs []*cardgate.AuditRecord) error {
	b.mu.Lock()
	b.sizes = append(b.sizes, len(recs))
	b.mu.Unlock()
	return b.AuditAppender.AppendAudit(ctx, recs)
}

// Records reach the store while the adapter runs, not only at Close, in
// writes of at most 1,024, each record once and unchanged.
func TestAuditLogWritesWhileRunning(t *testing.T) {
	store := sqlitetest.Open(t)
	counter := &batchCounter{AuditAppender: store}
	l := adapter.NewAuditLog(counter, nil, 0)
	defer l.Close()
	const n = 2500
	for i := range n {
		l.Record(context.Background(), adapter.AuditRecord{Time: time.Now(), Method: "GET", Status: 200, Route: "products", BytesOut: int64(i)})
	}
	deadline := time.Now().Add(20 * time.Second)
	var recs []*cardgate.AuditRecord
	for {
		var err error
		if recs, err = store.Audit(context.Background(), cardgate.AuditQuery{Limit: 2 * n}); err != nil {
			t.Fatal(err)
		}
		if len(recs) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(recs) != n {
		t.Fatalf("%d records in the store while running, want %d", len(recs), n)
	}
	seen := make(map[int64]bool)
	for _, r := range recs {
		seen[r.BytesOut] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct records of %d", len(seen), n)
	}
	counter.mu.Lock()
	defer counter.mu.Unlock()
	for _, size := range counter.sizes {
		if size > 1024 {
			t.Errorf("a write of %d records, want at most 1,024 (writes: %v)", size, counter.sizes)
		}
	}
}

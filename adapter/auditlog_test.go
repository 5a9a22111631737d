package adapter_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/adapter"
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

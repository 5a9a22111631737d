package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/sqlite"
	"github.com/cardgate/cardgate/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (cardgate.Store, func() cardgate.Store) {
		path := filepath.Join(t.TempDir(), "cardgate.db")
		open := func() *sqlite.DB {
			db, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		db := open()
		return db, func() cardgate.Store { db.Close(); return open() }
	})
}

func TestOpenRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	db, err := sqlite.Open(context.Background(), good)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	data, _ := os.ReadFile(good)

	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, []byte(strings.Repeat("this is not a database ", 300)), 0o600)
	truncated := filepath.Join(dir, "truncated.db")
	os.WriteFile(truncated, data[:len(data)/3], 0o600)

	for name, path := range map[string]string{"garbage": garbage, "truncated": truncated} {
		t.Run(name, func(t *testing.T) {
			before, _ := os.ReadFile(path)
			_, err := sqlite.Open(context.Background(), path)
			if err == nil {
				t.Fatal("Open accepted a damaged file")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "backup") {
				t.Errorf("error %q should name the file and say what to do", err)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Error("Open changed the damaged file")
			}
		})
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cardgate.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sqlOpen(path)
	if err != nil {
		t.Fatal(err)
	}
	raw.Exec("INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)")
	raw.Close()
	if _, err := sqlite.Open(context.Background(), path); err == nil || !strings.Contains(err.Error(), "upgrade cardgate") {
		t.Fatalf("err = %v, want a newer-schema error", err)
	}
}

func BenchmarkTokenState(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "cardgate.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	db.CreateUser(ctx, &cardgate.User{ID: "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", Name: "A", PhoneNumber: "+14155550101", CreatedAt: now, UpdatedAt: now})
	db.CreatePackage(ctx, &cardgate.ActionPackage{ID: "com.contoso.orders", DisplayName: "O", CreatedAt: now, UpdatedAt: now})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.TokenState(ctx, "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", "com.contoso.orders", "jti"); err != nil {
			b.Fatal(err)
		}
	}
}

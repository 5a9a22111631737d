package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/postgres"
	"github.com/cardgate/cardgate/postgres/pgtest"
	"github.com/cardgate/cardgate/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (cardgate.Store, func() cardgate.Store) {
		url := pgtest.URL(t)
		open := func() *postgres.DB {
			db, err := postgres.Open(context.Background(), url)
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

func TestOpenErrorsHideTheURL(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://admin:s3cret-pw@127.0.0.1:1/db?connect_timeout=1")
	if err == nil {
		t.Fatal("Open succeeded on a closed port")
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("error %q contains the password", err)
	}
	if _, err := postgres.Open(context.Background(), "postgres://%zz"); err == nil || strings.Contains(err.Error(), "%zz") {
		t.Errorf("bad URL: err = %v", err)
	}
}

func TestMigrationsAreIdempotentAcrossNodes(t *testing.T) {
	url := pgtest.URL(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db, err := postgres.Open(context.Background(), url)
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
}

func BenchmarkTokenState(b *testing.B) {
	ctx := context.Background()
	db := pgtest.Open(b)
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

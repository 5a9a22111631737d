// Package sqlitetest opens throwaway SQLite stores for tests.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cardgate/cardgate/sqlite"
)

// Open returns a store in a fresh file under t.TempDir, closed at cleanup.
func Open(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cardgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

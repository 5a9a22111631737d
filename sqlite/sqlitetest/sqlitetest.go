// Package sqlitetest opens throwaway SQLite stores for tests, in the
// manner of net/http/httptest: a real database, on a file in the test's
// temporary directory.
package sqlitetest

import (
	"path/filepath"
	"testing"

	"github.com/cardgate/cardgate/sqlite"
)

// Open returns a store in a fresh file under t.TempDir(), closed when the
// test ends. It fails the test if the store cannot be opened.
func Open(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cardgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("sqlitetest: close: %v", err)
		}
	})
	return db
}

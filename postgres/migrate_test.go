package postgres

import (
	"github.com/cardgate/cardgate/migration"
	"os"
	"testing"
)

func TestEmbeddedMigrations(t *testing.T) {
	ms, err := migration.Load(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Name != "0001_init.sql" {
		t.Fatalf("migrations = %v, want 0001_init.sql first", ms)
	}
	// The two stores move version for version: the same names in both.
	lite, err := os.ReadDir("../sqlite/migrations")
	if err != nil {
		t.Skip("no sqlite migrations beside this package")
	}
	if len(lite) != len(ms) {
		t.Fatalf("postgres has %d migrations, sqlite %d: add the missing one", len(ms), len(lite))
	}
	for i, e := range lite {
		if e.Name() != ms[i].Name {
			t.Errorf("migration %d: postgres %s, sqlite %s", i+1, ms[i].Name, e.Name())
		}
	}
}

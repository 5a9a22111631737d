package postgres

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbeddedMigrations(t *testing.T) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].name != "0001_init.sql" {
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
		if e.Name() != ms[i].name {
			t.Errorf("migration %d: postgres %s, sqlite %s", i+1, ms[i].name, e.Name())
		}
	}
}

func TestLoadMigrationsRefusesBadNumbering(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("SELECT 1;")}
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"gap", []string{"0001_a.sql", "0003_c.sql"}, "version 3, want 2"},
		{"starts at two", []string{"0002_b.sql"}, "version 2, want 1"},
		{"duplicate", []string{"0001_a.sql", "0001_b.sql"}, "version 1, want 2"},
		{"no number", []string{"init.sql"}, "4-digit version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["migrations/"+f] = file
			}
			_, err := loadMigrations(fsys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

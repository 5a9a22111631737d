package migration_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cardgate/cardgate/migration"
)

func TestLoad(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("SELECT 1;")}
	ms, err := migration.Load(fstest.MapFS{"m/0002_b.sql": file, "m/0001_a.sql": file, "m/README": file}, "m")
	if err != nil || len(ms) != 2 || ms[0].Name != "0001_a.sql" || ms[1].Version != 2 || ms[1].SQL != "SELECT 1;" {
		t.Fatalf("Load = %+v, %v", ms, err)
	}
}

func TestLoadRefusesBadNumbering(t *testing.T) {
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
		{"short number", []string{"1_init.sql"}, "4-digit version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys["migrations/"+f] = file
			}
			_, err := migration.Load(fsys, "migrations")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

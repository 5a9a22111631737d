// Package migration reads a store's schema migrations: files named
// NNNN_what.sql, numbered from 1 without gaps, one per schema version. Each
// store applies them in its own dialect and transaction; this package only
// finds, orders and checks them, so both stores follow the same rules.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// Migration is one schema version.
type Migration struct {
	Version int
	Name    string // the file's base name
	SQL     string
}

// Load reads the files matching dir/*.sql from fsys in version order and
// checks that they are numbered 1, 2, 3... with four digits.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var ms []Migration
	for _, name := range names { // Glob sorts, and the numbers are zero-padded
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || len(num) != 4 {
			return nil, fmt.Errorf("migration %s: name must start with a 4-digit version, like 0001_init.sql", base)
		}
		if v != len(ms)+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d (versions go 1, 2, 3 without gaps)", base, v, len(ms)+1)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", base, err)
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(body)})
	}
	return ms, nil
}

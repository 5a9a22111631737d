package sqlite_test

import "database/sql"

// sqlOpen opens a file with the bare driver, to tamper with it.
func sqlOpen(path string) (*sql.DB, error) { return sql.Open("sqlite", path) }

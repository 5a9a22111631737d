package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/sqlite"
)

func TestSecretsSetFromStdin(t *testing.T) {
	env := map[string]string{"CARDGATE_DATA": t.TempDir()}
	const value = "erp-api-key-4f9a1c"
	out, errOut, err := runIn(t, env, value+"\n", "secrets", "set", "erp-key")
	if err != nil {
		t.Fatal(err, errOut)
	}
	if strings.Contains(out+errOut, value) {
		t.Error("secrets set echoed the value")
	}
	if !strings.Contains(out, "store:erp-key") {
		t.Errorf("secrets set said %q", out)
	}
	if out := mustRun(t, env, "secrets", "list"); strings.TrimSpace(out) != "erp-key" {
		t.Errorf("secrets list = %q", out)
	}
	// On disk the value is sealed.
	db, err := os.ReadFile(filepath.Join(env["CARDGATE_DATA"], "cardgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(env["CARDGATE_DATA"], "cardgate.db-wal"))
	if strings.Contains(string(db)+string(wal), value) {
		t.Error("the database file holds the secret in the clear")
	}
	if _, _, err := runIn(t, env, "", "secrets", "set", "empty"); err == nil {
		t.Error("an empty value was stored")
	}
	if _, _, err := runIn(t, env, "x", "secrets", "set", "../evil"); err == nil {
		t.Error("a bad name was accepted")
	}
}

func TestAuditQuery(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CARDGATE_DATA": dir}
	mustRun(t, env, "users", "list") // creates the store
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "cardgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	store.AppendAudit(context.Background(), []*cardgate.AuditRecord{
		{Time: now.Add(-2 * time.Hour), UserID: alice, PackageID: "com.contoso.orders", Route: "products", Method: "GET", Status: 200},
		{Time: now.Add(-time.Minute), UserID: alice, PackageID: "com.contoso.survey", Route: "products", Method: "GET", Status: 403, ErrorCode: "Forbidden"},
		{Time: now, Method: "GET", Status: 401, ErrorCode: "InvalidToken"},
	})
	store.Close()

	lines := func(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }
	if got := lines(mustRun(t, env, "audit", "query")); len(got) != 3 {
		t.Errorf("all: %v", got)
	}
	if got := lines(mustRun(t, env, "audit", "query", "--since", "1h", "--user", alice)); len(got) != 1 || !strings.Contains(got[0], "Forbidden") {
		t.Errorf("--since 1h --user: %v", got)
	}
	out := mustRun(t, env, "audit", "query", "--package", "com.contoso.orders", "--json")
	var rec map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &rec); err != nil || rec["status"] != 200.0 || rec["route"] != "products" {
		t.Errorf("--package --json: %q (%v)", out, err)
	}
	if _, _, err := run(t, env, "audit", "query", "--since", "yesterday"); err == nil {
		t.Error("bad --since accepted")
	}
}

func TestPackagesImport(t *testing.T) {
	env := map[string]string{"CARDGATE_DATA": t.TempDir()}
	out := mustRun(t, env, "packages", "import", "../actionpkg/testdata/orders")
	if !strings.Contains(out, "imported package com.contoso.orders (Order products) version 1.0.0, 3 files") {
		t.Errorf("import said %q", out)
	}
	// Importing again replaces the content (with --replace, see
	// packages_test.go) and keeps one package.
	mustRun(t, env, "packages", "import", "--replace", "../actionpkg/testdata/orders")
	var ps []map[string]any
	json.Unmarshal([]byte(mustRun(t, env, "packages", "list", "--json")), &ps)
	if len(ps) != 1 || ps[0]["displayName"] != "Order products" {
		t.Errorf("packages = %v", ps)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "package.json"), []byte(`{"id":"orders"}`), 0o600)
	if _, _, err := run(t, env, "packages", "import", bad); err == nil || !strings.Contains(err.Error(), "id: must be in reverse-DNS form") {
		t.Errorf("bad manifest: %v", err)
	}
}

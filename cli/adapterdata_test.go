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
	env := newInstall(t)
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
	if out := mustRun(t, env, "secrets", "list"); !strings.HasPrefix(out, "NAME") || !strings.Contains(out, "\nerp-key ") {
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
	mustRun(t, env, "init")
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "cardgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	const conv = "11111111-1111-4111-8111-111111111111"
	store.AppendAudit(context.Background(), []*cardgate.AuditRecord{
		{Time: now.Add(-2 * time.Hour), UserID: alice, PackageID: "com.contoso.orders", Route: "products", Method: "GET", Status: 200},
		{Time: now.Add(-time.Minute), UserID: alice, PackageID: "com.contoso.survey", ConversationID: conv, Route: "products", Method: "GET", Status: 403, ErrorCode: "Forbidden"},
		{Time: now, Method: "GET", Status: 401, ErrorCode: "InvalidToken"},
	})
	store.Close()

	// A table with a header, then a row a record.
	lines := func(s string) []string { return strings.Split(strings.TrimSpace(s), "\n")[1:] }
	if out := mustRun(t, env, "audit", "query"); !strings.HasPrefix(out, "TIME ") || len(lines(out)) != 3 {
		t.Errorf("all:\n%s", out)
	}
	if got := lines(mustRun(t, env, "audit", "query", "--since", "1h", "--user", alice)); len(got) != 1 || !strings.Contains(got[0], "Forbidden") {
		t.Errorf("--since 1h --user: %v", got)
	}
	// --limit N is the newest N, oldest of them first.
	if got := lines(mustRun(t, env, "audit", "query", "--limit", "2")); len(got) != 2 || !strings.Contains(got[0], "Forbidden") ||
		!strings.Contains(got[1], "InvalidToken") {
		t.Errorf("--limit 2: %v", got)
	}
	out := mustRun(t, env, "audit", "query", "--package", "com.contoso.orders", "--json")
	var recs []map[string]any
	if err := json.Unmarshal([]byte(out), &recs); err != nil || len(recs) != 1 || recs[0]["status"] != 200.0 || recs[0]["route"] != "products" {
		t.Errorf("--package --json: %q (%v)", out, err)
	}
	if _, has := recs[0]["conversationId"]; len(recs) == 1 && has {
		t.Errorf("a token minted outside a conversation: --json has conversationId: %q", out)
	}
	// The conversation: a column of the table, a filter, a field.
	if got := lines(mustRun(t, env, "audit", "query", "--conversation", conv)); len(got) != 1 || !strings.HasSuffix(got[0], "  "+conv) {
		t.Errorf("--conversation: %q", got)
	}
	if got := lines(mustRun(t, env, "audit", "query", "--user", alice)); len(got) != 2 || !strings.HasSuffix(got[0], "  -") {
		t.Errorf("a record without a conversation ends its row with %q: %q", "-", got)
	}
	out = mustRun(t, env, "audit", "query", "--conversation", conv, "--json")
	if err := json.Unmarshal([]byte(out), &recs); err != nil || len(recs) != 1 || recs[0]["conversationId"] != conv {
		t.Errorf("--conversation --json: %q (%v)", out, err)
	}
	if out := mustRun(t, env, "audit", "query", "--user", "nobody", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("no records --json = %q, want []", out)
	}
	if _, _, err := run(t, env, "audit", "query", "--since", "yesterday"); err == nil {
		t.Error("bad --since accepted")
	}
}

func TestPackagesImport(t *testing.T) {
	env := newInstall(t)
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

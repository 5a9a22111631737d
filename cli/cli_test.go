package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/cards"
	"github.com/cardgate/cardgate/cli"
	"github.com/cardgate/cardgate/postgres/pgtest"
)

// run runs the command line in-process with a fresh environment.
func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return runIn(t, env, "", args...)
}

// runIn is run with stdin.
func runIn(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = cli.Run(context.Background(), append([]string{"cardgate"}, args...), func(k string) string { return env[k] },
		strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

func mustRun(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, env, args...)
	if err != nil {
		t.Fatalf("cardgate %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

const alice = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"

// newInstall makes an installation in a fresh directory with cardgate
// init and its flags, and returns the environment that names it.
func newInstall(t *testing.T, flags ...string) map[string]string {
	t.Helper()
	env := map[string]string{"CARDGATE_DATA": t.TempDir()}
	mustRun(t, env, append([]string{"init"}, flags...)...)
	return env
}

func TestAdminCommands(t *testing.T) {
	env := newInstall(t, "--issuer-url", "https://id.example")
	out := mustRun(t, env, "users", "add", "--id", alice, "--name", "Alice", "--phone", "+14155550101")
	if !strings.Contains(out, "added user "+alice) {
		t.Errorf("users add said %q", out)
	}
	// A number names one person: another user cannot take Alice's, however
	// it is written.
	if _, _, err := run(t, env, "users", "add", "--name", "Mallory", "--phone", "+1 (415) 555-0101"); err == nil ||
		!strings.Contains(err.Error(), "+14155550101 is user "+alice+"'s number already") {
		t.Errorf("users add with Alice's number: %v", err)
	}
	var users []map[string]any
	json.Unmarshal([]byte(mustRun(t, env, "users", "list", "--json")), &users)
	if len(users) != 1 || users[0]["name"] != "Alice" || users[0]["phoneNumber"] != "+14155550101" {
		t.Errorf("users list --json = %v", users)
	}
	mustRun(t, env, "packages", "add", "--id", "com.contoso.orders", "--name", "Orders")
	if out := mustRun(t, env, "packages", "list"); !strings.Contains(out, "com.contoso.orders") || !strings.Contains(out, "enabled") ||
		strings.Contains(out, "ORIGIN") {
		t.Errorf("packages list = %q", out)
	}
	// With the cards URL it also tells each card's origin, for the
	// adapter's cors.origins.
	wantOrigin := "https://" + cards.Label("com.contoso.orders") + ".cards.example.com"
	if out := mustRun(t, env, "packages", "list", "--cards-url", "https://cards.example.com"); !strings.Contains(out, wantOrigin) {
		t.Errorf("packages list --cards-url = %q, want %s", out, wantOrigin)
	}
	if _, _, err := run(t, env, "packages", "list", "--cards-url", "cards.example.com"); err == nil || !strings.Contains(err.Error(), "cards-url") {
		t.Errorf("a bad --cards-url: %v", err)
	}

	// A host key is printed once, with a warning, and works for minting.
	out, errOut, err := run(t, env, "hosts", "add", "web", "--json")
	if err != nil {
		t.Fatal(err, errOut)
	}
	var host map[string]any
	json.Unmarshal([]byte(out), &host)
	if key, _ := host["apiKey"].(string); !strings.HasPrefix(key, "cgk_") || host["role"] != "host" {
		t.Errorf("hosts add --json = %s", out)
	}
	if !strings.Contains(errOut, "cannot be shown again") {
		t.Errorf("no warning that the key is shown once: %q", errOut)
	}
	if out := mustRun(t, env, "hosts", "list"); strings.Contains(out, host["apiKey"].(string)) {
		t.Error("hosts list shows the key")
	}
	mustRun(t, env, "clients", "add", "ops", "--role", "admin")
	if out := mustRun(t, env, "clients", "list"); !strings.Contains(out, "admin") || !strings.Contains(out, "host") {
		t.Errorf("clients list = %q", out)
	}

	tok := strings.TrimSpace(mustRun(t, env, "token", "--user", alice, "--package", "com.contoso.orders"))
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("token printed %q", tok)
	}
	if out := mustRun(t, env, "revoke", "--user", alice); !strings.Contains(out, "revoked user "+alice) {
		t.Errorf("revoke said %q", out)
	}
	mustRun(t, env, "users", "disable", alice)
	if out := mustRun(t, env, "users", "list"); !strings.Contains(out, "disabled") {
		t.Errorf("after disable: %q", out)
	}
	if _, _, err := run(t, env, "token", "--user", alice, "--package", "com.contoso.orders"); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("token for a disabled user: %v", err)
	}
	// A rotation publishes the next key and says when it starts signing;
	// --now makes a key sign at once, and the waiting one never signs.
	if out := mustRun(t, env, "keys", "rotate"); !strings.Contains(out, "published; it signs from ") || !strings.Contains(out, "(in 5m0s)") {
		t.Errorf("keys rotate said %q", out)
	}
	if out := mustRun(t, env, "keys", "list"); !strings.Contains(out, "published, signs from") || !strings.Contains(out, "signing") {
		t.Errorf("keys list after a rotation:\n%s", out)
	}
	if out := mustRun(t, env, "keys", "rotate", "--now"); !strings.Contains(out, "signs now") {
		t.Errorf("keys rotate --now said %q", out)
	}
	if out := mustRun(t, env, "keys", "list"); !strings.Contains(out, "never signed") || strings.Contains(out, "published, signs from") {
		t.Errorf("keys list after an immediate rotation:\n%s", out)
	}
	var keys []map[string]any
	json.Unmarshal([]byte(mustRun(t, env, "keys", "list", "--json")), &keys)
	if len(keys) != 3 || keys[0]["retiredAt"] != nil || keys[1]["retiredAt"] == nil || keys[0]["activatesAt"] == nil {
		t.Errorf("keys list --json = %v", keys)
	}
	if _, _, err := run(t, env, "keys", "rotate", "--delay", "25h"); err == nil || !strings.Contains(err.Error(), "delay: must be from 0s to 24h0m0s") {
		t.Errorf("keys rotate --delay 25h: %v", err)
	}
	// The master key file was made private.
	st, err := os.Stat(filepath.Join(env["CARDGATE_DATA"], "master.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("master.key: %v %v", st, err)
	}
}

func TestBadInput(t *testing.T) {
	env := newInstall(t)
	tests := []struct {
		args  []string
		usage bool
		msg   string
	}{
		{[]string{"frobnicate"}, true, `unknown command "frobnicate"`},
		{[]string{"users", "explode"}, true, `unknown subcommand "explode"`},
		{[]string{"users", "add", "--bogus"}, true, "unknown flag -bogus"},
		{[]string{"users", "add", "--name", "X", "--phone", "555-1234"}, false, "--phone: must be a real phone number in international form"},
		{[]string{"users", "add", "--name", "X", "--phone", "+1415555"}, false, "--phone: must be a real phone number in international form"},
		{[]string{"users", "add", "--name", "X", "--phone", "+14155550123", "--id", "nope"}, false, "--id: must be a lower-case GUID"},
		{[]string{"packages", "add", "--id", "Orders", "--name", "X"}, false, "--id: must be in reverse-DNS form"},
		{[]string{"users", "disable"}, true, "users disable: want ID"},
		{[]string{"revoke"}, true, "exactly one of --jti, --user, --package"},
		{[]string{"clients", "add", "x", "--role", "root"}, false, "--role: must be one of"},
		{[]string{"token", "--user", alice, "--package", "com.nope.x", "--issuer-url", "https://id.example"}, false, "--user: no such user"},
		{[]string{"issuer", "--token-lifetime", "1s"}, false, "tokenLifetime: must be between 1m and 24h"},
		{[]string{"issuer", "--token-cache-size", "-5"}, false, "tokenCacheSize: must be at least 1"},
		{[]string{"issuer", "--mint-cache-size", "-1"}, false, "mintCacheSize: must be at least 1"},
		{[]string{"issuer", "--api-key-cache-size", "-1"}, false, "apiKeyCacheSize: must be at least 1"},
		{[]string{"issuer", "--store", "mysql://x"}, false, "store: must be a postgres:// URL"},
		{[]string{"issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--trusted-proxies", "10.0.0.0/8, proxy"}, false,
			`--trusted-proxies: "proxy" is not an address or CIDR`},
		{[]string{"issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--cards-url", "cards.example.com"}, false,
			"--cards-url: "},
		{[]string{"issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--redis-url", "http://:pw@x"}, false,
			"--redis-url: not a redis:// URL"},
		{[]string{"demo", "--listen", "127.0.0.1:0", "--adapter-listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0",
			"--contoso-listen", "127.0.0.1:0", "--cards-url", "ftp://x"}, false, "--cards-url: "},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := run(t, env, tt.args...)
			if err == nil {
				t.Fatal("succeeded")
			}
			var u *cli.UsageError
			if errors.As(err, &u) != tt.usage {
				t.Errorf("usage error = %v, want %v (%v)", !tt.usage, tt.usage, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.msg)
			}
		})
	}
	// --help is not an error.
	if out, _, err := run(t, env, "users", "add", "--help"); err != nil || !strings.Contains(out, "-phone") {
		t.Errorf("users add --help: %v %q", err, out)
	}
}

func TestConfigFileAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "cardgate.yaml")
	os.WriteFile(cfgFile, []byte("data: "+filepath.Join(dir, "fromfile")+"\n"), 0o600)
	mustRun(t, map[string]string{"CARDGATE_CONFIG": cfgFile}, "init")
	mustRun(t, map[string]string{"CARDGATE_DATA": filepath.Join(dir, "fromflag")}, "init")
	mustRun(t, map[string]string{"CARDGATE_CONFIG": cfgFile}, "packages", "add", "--id", "com.a.b", "--name", "A")
	if _, err := os.Stat(filepath.Join(dir, "fromfile", "cardgate.db")); err != nil {
		t.Errorf("config file's data dir not used: %v", err)
	}
	// A flag beats the environment, which beats the file.
	mustRun(t, map[string]string{"CARDGATE_CONFIG": cfgFile, "CARDGATE_DATA": filepath.Join(dir, "fromenv")},
		"packages", "add", "--id", "com.a.b", "--name", "A", "--data", filepath.Join(dir, "fromflag"))
	if _, err := os.Stat(filepath.Join(dir, "fromflag", "cardgate.db")); err != nil {
		t.Errorf("flag's data dir not used: %v", err)
	}
	os.WriteFile(cfgFile, []byte("datadir: /x\n"), 0o600)
	if _, _, err := run(t, map[string]string{"CARDGATE_CONFIG": cfgFile}, "users", "list"); err == nil || !strings.Contains(err.Error(), "datadir") {
		t.Errorf("unknown config field: %v", err)
	}
	if _, _, err := run(t, map[string]string{"CARDGATE_DATA": filepath.Join(dir, "fromflag"), "CARDGATE_MASTER_KEY": "not-a-key"}, "users", "list"); err == nil ||
		!strings.Contains(err.Error(), "CARDGATE_MASTER_KEY") || strings.Contains(err.Error(), "not-a-key") {
		t.Errorf("bad master key: %v", err)
	}
}

func TestPostgresStore(t *testing.T) {
	url := pgtest.URL(t)
	env := map[string]string{"CARDGATE_DATA": t.TempDir(), "CARDGATE_STORE": url}
	mustRun(t, env, "init")
	mustRun(t, env, "users", "add", "--id", alice, "--name", "Alice", "--phone", "+14155550101")
	if out := mustRun(t, env, "users", "list"); !strings.Contains(out, alice) {
		t.Errorf("users list on PostgreSQL = %q", out)
	}
}

func TestRemoveAndEnable(t *testing.T) {
	env := newInstall(t, "--issuer-url", "https://id.example")
	var admin, host struct{ ID, Role, APIKey string }
	json.Unmarshal([]byte(mustRun(t, env, "clients", "add", "ops", "--role", "admin", "--json")), &admin)
	json.Unmarshal([]byte(mustRun(t, env, "hosts", "add", "web", "--json")), &host)
	if admin.Role != "admin" || host.Role != "host" {
		t.Fatalf("roles: %+v %+v", admin, host)
	}
	// "hosts remove" removes hosts only: a mistyped admin id stays.
	if _, _, err := run(t, env, "hosts", "remove", admin.ID); err == nil || !strings.Contains(err.Error(), "no host client") {
		t.Errorf("hosts remove <admin>: %v", err)
	}
	if out := mustRun(t, env, "hosts", "list"); strings.Contains(out, "ops") || !strings.Contains(out, "web") {
		t.Errorf("hosts list = %q", out)
	}
	// An API key pasted for an id is not echoed.
	if _, _, err := run(t, env, "hosts", "remove", host.APIKey); err == nil || strings.Contains(err.Error(), host.APIKey) {
		t.Errorf("hosts remove <key>: %v", err)
	}
	mustRun(t, env, "hosts", "remove", host.ID)
	mustRun(t, env, "clients", "remove", admin.ID)
	var clients []any
	json.Unmarshal([]byte(mustRun(t, env, "clients", "list", "--json")), &clients)
	if clients == nil || len(clients) != 0 {
		t.Errorf("after removing both: %v", clients)
	}
	if _, _, err := run(t, env, "clients", "remove", admin.ID); err == nil {
		t.Error("removing a removed client succeeded")
	}

	mustRun(t, env, "users", "add", "--id", alice, "--name", "Alice", "--phone", "+14155550101")
	mustRun(t, env, "packages", "add", "--id", "com.contoso.orders", "--name", "Orders", "--json")
	mustRun(t, env, "users", "disable", alice)
	mustRun(t, env, "packages", "disable", "com.contoso.orders")
	if _, _, err := run(t, env, "token", "--user", alice, "--package", "com.contoso.orders"); err == nil {
		t.Error("token minted for a disabled user and package")
	}
	mustRun(t, env, "users", "enable", alice)
	if out := mustRun(t, env, "packages", "enable", "com.contoso.orders"); out != "package com.contoso.orders enabled\n" {
		t.Errorf("packages enable said %q", out)
	}
	var pkgs []struct {
		ID       string `json:"id"`
		Disabled bool   `json:"disabled"`
	}
	json.Unmarshal([]byte(mustRun(t, env, "packages", "list", "--json")), &pkgs)
	if len(pkgs) != 1 || pkgs[0].ID != "com.contoso.orders" || pkgs[0].Disabled {
		t.Errorf("packages list --json = %+v", pkgs)
	}
	var tok struct{ Token, JTI string }
	json.Unmarshal([]byte(mustRun(t, env, "token", "--user", alice, "--package", "com.contoso.orders", "--json")), &tok)
	var rev map[string]any
	json.Unmarshal([]byte(mustRun(t, env, "revoke", "--jti", tok.JTI, "--json")), &rev)
	if rev["subject"] != tok.JTI {
		t.Errorf("revoke --jti --json = %v", rev)
	}
	if out := mustRun(t, env, "revoke", "--package", "com.contoso.orders"); !strings.Contains(out, "com.contoso.orders") {
		t.Errorf("revoke --package said %q", out)
	}
	if _, _, err := run(t, env, "revoke", "--user", alice, "--jti", "x"); err == nil {
		t.Error("revoke with two selectors succeeded")
	}
}

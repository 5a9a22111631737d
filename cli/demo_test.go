package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate/cli"
)

var demoKey = regexp.MustCompile(`(?m)^  (HOST|ADMIN)_KEY=(cgk_[A-Za-z0-9_-]+)$`)

// demoKeys reads the keys the walkthrough prints.
func demoKeys(t *testing.T, walkthrough string) (host, admin string) {
	t.Helper()
	for _, m := range demoKey.FindAllStringSubmatch(walkthrough, -1) {
		if m[1] == "HOST" {
			host = m[2]
		} else {
			admin = m[2]
		}
	}
	if host == "" || admin == "" {
		t.Fatalf("no keys in the walkthrough:\n%s", walkthrough)
	}
	return host, admin
}

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	// The operator's settings must not leak into the demo.
	real := t.TempDir()
	env := map[string]string{"CARDGATE_DATA": real, "CARDGATE_STORE": "postgres://nowhere.invalid/x", "CARDGATE_MASTER_KEY": "bogus"}
	srv := start(t, env, demoArgs(dir)...)
	walk := srv.stdout.String()
	host, admin := demoKeys(t, walk)
	if entries, _ := os.ReadDir(real); len(entries) != 0 {
		t.Errorf("the demo wrote to CARDGATE_DATA: %v", entries)
	}
	st, err := os.Stat(filepath.Join(dir, "demo-keys.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("demo-keys.json: %v %v", st, err)
	}
	tok := mint(t, srv.base, host, cli.DemoAlice, cli.DemoOrders)
	status, body := call(t, "GET", srv.base+"/v1/users/me", map[string]string{"accessToken": tok}, "")
	if status != 200 || !strings.Contains(body, `"name":"Alice Ahmed"`) {
		t.Errorf("/v1/users/me: %d %s", status, body)
	}
	if _, err := exec.LookPath("curl"); err == nil {
		runWalkthrough(t, walk)
	} else {
		t.Log("curl not installed: the walkthrough's commands are not run")
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("demo after shutdown: %v", err)
	}

	// While stopped, someone tries things out: disables a package, removes
	// the admin client.
	denv := map[string]string{"CARDGATE_DATA": dir}
	mustRun(t, denv, "packages", "disable", cli.DemoOrders)
	var clients []struct{ ID, Name string }
	json.Unmarshal([]byte(mustRun(t, denv, "clients", "list", "--json")), &clients)
	for _, c := range clients {
		if c.Name == "demo admin" {
			mustRun(t, denv, "clients", "remove", c.ID)
		}
	}

	// A rerun over the same directory neither fails nor duplicates: the
	// host key is the same, the admin is made anew, the package is enabled.
	srv = start(t, nil, demoArgs(dir)...)
	host2, admin2 := demoKeys(t, srv.stdout.String())
	if host2 != host || admin2 == admin {
		t.Errorf("rerun: host key kept %v, admin key replaced %v", host2 == host, admin2 != admin)
	}
	mint(t, srv.base, host2, cli.DemoBob, cli.DemoOrders)
	srv.stop()

	// A lost keys file gets new clients in place of the old ones.
	os.Remove(filepath.Join(dir, "demo-keys.json"))
	srv = start(t, nil, demoArgs(dir)...)
	host3, _ := demoKeys(t, srv.stdout.String())
	mint(t, srv.base, host3, cli.DemoBob, cli.DemoSurvey)
	srv.stop()
	if host3 == host {
		t.Error("the same host key after the keys file was lost")
	}
	var users, pkgs []any
	json.Unmarshal([]byte(mustRun(t, denv, "users", "list", "--json")), &users)
	json.Unmarshal([]byte(mustRun(t, denv, "packages", "list", "--json")), &pkgs)
	json.Unmarshal([]byte(mustRun(t, denv, "clients", "list", "--json")), &clients)
	if len(users) != 2 || len(pkgs) != 2 || len(clients) != 2 {
		t.Errorf("after three runs: %d users, %d packages, %d clients; want 2 each", len(users), len(pkgs), len(clients))
	}

	// --reset starts over, and refuses a directory that is not a demo's.
	srv = start(t, nil, append(demoArgs(dir), "--reset")...)
	if host4, _ := demoKeys(t, srv.stdout.String()); host4 == host3 {
		t.Error("--reset kept the host key")
	}
	srv.stop()
	notDemo := t.TempDir()
	os.WriteFile(filepath.Join(notDemo, "precious"), []byte("x"), 0o600)
	if _, _, err := run(t, nil, append(demoArgs(notDemo), "--reset")...); err == nil ||
		!strings.Contains(err.Error(), "not a demo data directory") {
		t.Errorf("--reset on a foreign directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(notDemo, "precious")); err != nil {
		t.Error("--reset deleted a foreign directory")
	}
	if _, _, err := run(t, nil, "demo", "--store", "postgres://x/y"); err == nil {
		t.Error("demo took --store")
	}
}

// runWalkthrough runs the walkthrough's command blocks, as printed, in one
// shell, and checks what steps 2 and 3 answer.
func runWalkthrough(t *testing.T, walk string) {
	t.Helper()
	var script strings.Builder
	script.WriteString("set -e\n")
	for _, line := range strings.Split(walk, "\n") {
		if strings.HasPrefix(line, "  ") {
			script.WriteString(strings.TrimPrefix(line, "  ") + "\n")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sh", "-c", script.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("walkthrough: %v\n%s\nscript:\n%s", err, out, script.String())
	}
	// Step 2 prints Alice's identity; step 3 the revocation, then a 401.
	got := string(out)
	want := `{"id":"` + cli.DemoAlice + `","name":"Alice Ahmed","phoneNumber":"+14155550101","pictureUrl":"https://pictures.example/alice.png","actionPackageId":"com.contoso.orders"}`
	if !strings.Contains(got, want) || !strings.Contains(got, `"code":"InvalidToken"`) {
		t.Errorf("walkthrough printed:\n%s\nwant %s, then an InvalidToken error", got, want)
	}
}

// demoArgs runs the demo over dir with all four listeners on free ports, so
// that tests run beside each other and beside a demo someone has open.
func demoArgs(dir string) []string {
	return []string{"demo", "--data", dir, "--listen", "127.0.0.1:0", "--adapter-listen", "127.0.0.1:0",
		"--cards-listen", "127.0.0.1:0", "--contoso-listen", "127.0.0.1:0"}
}

// Each of the demo's four listeners answers only to its own names, so that
// a page that rebinds its DNS name to 127.0.0.1 reaches none of them. The
// host answers to every loopback name of its port, and its page works
// from each (the CSRF check takes those origins, not the request's Host).
func TestDemoChecksHost(t *testing.T) {
	srv := start(t, nil, demoArgs(filepath.Join(t.TempDir(), "demo"))...)
	walk := srv.stdout.String()
	m := regexp.MustCompile(`adapter is on http://(\S+), the cards origin on http://cards\.localhost:([0-9]+),\s+and Contoso, the sample business system, on http://(\S+)\.`).FindStringSubmatch(walk)
	if m == nil {
		t.Fatalf("no listeners in the walkthrough:\n%s", walk)
	}
	issuer := strings.TrimPrefix(srv.base, "http://")
	port := issuer[strings.LastIndex(issuer, ":")+1:]
	adapter, cardsPort, contoso := m[1], m[2], m[3]
	cards := "127.0.0.1:" + cardsPort
	for _, tc := range []struct {
		addr, path, host string
		status           int
	}{
		{issuer, "/", "", 200},
		{issuer, "/", "localhost:" + port, 200},
		{issuer, "/", "[::1]:" + port, 200},
		{issuer, "/", "rebound.evil.example:" + port, 421},
		{issuer, "/host/api/demo/users", "rebound.evil.example:" + port, 421},
		{issuer, "/", "localhost:1", 421},
		{cards, "/sdk/cardgate.js", "cards.localhost:" + cardsPort, 200},
		{cards, "/sdk/cardgate.js", "", 421}, // 127.0.0.1 would be the host's host name
		{cards, "/sdk/cardgate.js", "rebound.evil.example:" + cardsPort, 421},
		{adapter, "/products", "rebound.evil.example", 421},
		{contoso, "/backoffice/orders", "", 200},
		{contoso, "/backoffice/orders", "rebound.evil.example", 421},
	} {
		h := map[string]string{}
		if tc.host != "" {
			h["Host"] = tc.host
		}
		status, body := call(t, "GET", "http://"+tc.addr+tc.path, h, "")
		if status != tc.status || status == 421 && !strings.Contains(body, `"code":"MisdirectedRequest"`) {
			t.Errorf("GET %s%s, Host %q: %d %s, want %d", tc.addr, tc.path, tc.host, status, body, tc.status)
		}
	}
	// The page opened as localhost may sign in; a rebound name may not.
	signin := `{"userId":"` + cli.DemoAlice + `"}`
	if status, body := call(t, "POST", srv.base+"/host/api/demo/signin",
		map[string]string{"Host": "localhost:" + port, "Origin": "http://localhost:" + port}, signin); status != 200 {
		t.Errorf("sign-in from the page at localhost: %d %s", status, body)
	}
	if status, _ := call(t, "POST", srv.base+"/host/api/demo/signin",
		map[string]string{"Host": "localhost:" + port, "Origin": "http://rebound.evil.example:" + port}, signin); status != 403 {
		t.Errorf("sign-in from a rebound page: %d, want 403", status)
	}
	// Cards on the host's own host name are refused.
	_, _, err := run(t, nil, append(demoArgs(filepath.Join(t.TempDir(), "demo")), "--cards-url", "http://127.0.0.1:8082")...)
	if err == nil || !strings.Contains(err.Error(), "own host name") {
		t.Errorf("demo --cards-url http://127.0.0.1:8082: %v", err)
	}
}

// --kaizala names a directory with Kaizala's KASClient.js; without it the
// demo does not start, and says which flag is wrong.
func TestDemoKaizalaNeedsKASClient(t *testing.T) {
	dir := t.TempDir()
	_, _, err := run(t, nil, append(demoArgs(filepath.Join(dir, "demo")), "--kaizala", dir)...)
	if err == nil || !strings.Contains(err.Error(), "--kaizala") || !strings.Contains(err.Error(), "KASClient.js") {
		t.Fatalf("demo --kaizala with no KASClient.js: %v", err)
	}
}

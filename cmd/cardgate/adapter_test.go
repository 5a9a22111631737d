package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cardgate/cardgate/internal/syncbuf"
)

// TestAdapterBinary runs `cardgate adapter` beside `cardgate issuer` as an
// operator would: the upstream's key goes into the store with `secrets
// set`, the config is checked with --check, requests with a token reach
// the upstream with the key and the caller's identity, the audit log
// records them, a new value stored with `secrets set` is used without a
// restart, a broken config on SIGHUP leaves the running one, and
// SIGTERM stops it.
func TestAdapterBinary(t *testing.T) {
	needBinary(t)
	in := newInstall(t)
	data, env, run := in.data, in.env, in.run
	start := func(args ...string) (*exec.Cmd, string) { t.Helper(); return in.start(nil, args...) }

	const secretValue = "upstream-api-key-5f2c81"
	var mu sync.Mutex
	var seen http.Header
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
		io.WriteString(w, `{"products":["P-100"]}`)
	}))
	defer upstream.Close()

	run("", "users", "add", "--id", alice, "--name", "Alice", "--phone", "+14155550101")
	run("", "packages", "add", "--id", orders, "--name", "Order products")
	var host struct{ APIKey string }
	json.Unmarshal([]byte(run("", "hosts", "add", "web", "--json")), &host)
	run(secretValue+"\n", "secrets", "set", "upstream-key")

	_, line := start("issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0")
	issuer := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))

	cfgPath := filepath.Join(t.TempDir(), "adapter.yaml")
	good := `issuer: {url: ` + issuer + `}
routes:
  - name: products
    match: GET /products
    policy: {packages: [` + orders + `]}
    upstream: {url: ` + upstream.URL + `/api}
    credential: {type: header, header: X-Api-Key, value: store:upstream-key}
`
	os.WriteFile(cfgPath, []byte(good), 0o600)
	if out := run("", "adapter", "--config", cfgPath, "--check"); !strings.Contains(out, "ok") {
		t.Errorf("--check said %q", out)
	}
	os.WriteFile(cfgPath+".bad", []byte(strings.Replace(good, "store:upstream-key", "store:missing-key", 1)), 0o600)
	cmd := exec.Command(bin, "adapter", "--config", cfgPath+".bad", "--check", "--data", data)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "missing-key") {
		t.Errorf("--check of a config with a missing secret: %v %s", err, out)
	}

	adapterCmd, line := start("adapter", "--config", cfgPath, "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0")
	m := regexp.MustCompile(`listening on (http://\S+) \(ops on (http://\S+)\)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("adapter said %q", line)
	}
	gate, ops := m[1], m[2]

	req, _ := http.NewRequest("POST", issuer+"/v1/tokens", strings.NewReader(`{"userId":"`+alice+`","actionPackageId":"`+orders+`"}`))
	req.Header.Set("Authorization", "Bearer "+host.APIKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var minted struct{ Token string }
	json.NewDecoder(res.Body).Decode(&minted)
	res.Body.Close()

	get := func(url, tok string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if s, body := get(gate+"/products", minted.Token); s != 200 || !strings.Contains(body, "P-100") {
		t.Fatalf("through the adapter: %d %s", s, body)
	}
	mu.Lock()
	if seen.Get("X-Api-Key") != secretValue || seen.Get("X-Cardgate-User-Id") != alice || seen.Get("Authorization") != "" {
		t.Errorf("upstream saw key %q user %q authorization %q", seen.Get("X-Api-Key"), seen.Get("X-Cardgate-User-Id"), seen.Get("Authorization"))
	}
	mu.Unlock()
	if s, body := get(gate+"/products", ""); s != 401 || strings.Contains(body, secretValue) {
		t.Errorf("no token: %d %s", s, body)
	}
	if s, _ := get(ops+"/healthz", ""); s != 200 {
		t.Errorf("/healthz: %d", s)
	}
	get(gate+"/products", minted.Token) // a second check of the same token: a cache hit
	if s, body := get(ops+"/metrics", ""); s != 200 || !strings.Contains(body, "products") || strings.Contains(body, secretValue) ||
		!strings.Contains(body, "cardgate_adapter_token_cache_hits_total 1") {
		t.Errorf("/metrics: %d, route listed %v, secret absent %v, one cache hit %v", s, strings.Contains(body, "products"),
			!strings.Contains(body, secretValue), strings.Contains(body, "cardgate_adapter_token_cache_hits_total 1"))
	}

	// The audit log reaches the store (written in batches, so poll).
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := run("", "audit", "query", "--user", alice, "--json")
		var recs []struct {
			Route  string
			Status int
		}
		json.Unmarshal([]byte(out), &recs)
		if len(recs) > 0 && recs[0].Route == "products" && recs[0].Status == 200 {
			if strings.Contains(out, secretValue) || strings.Contains(out, minted.Token) {
				t.Error("the audit log holds the secret or the token")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit record for the request: %q", out)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// `secrets set` while the adapter runs: the new value reaches the
	// upstream within the 3 s the command promises, without a restart.
	const newValue = "upstream-api-key-rotated-9d01"
	if out := run(newValue+"\n", "secrets", "set", "upstream-key"); !strings.Contains(out, "within 3 s") {
		t.Errorf("secrets set said %q, want it to say when running adapters use the value", out)
	}
	deadline = time.Now().Add(3 * time.Second)
	for {
		start := time.Now()
		get(gate+"/products", minted.Token)
		mu.Lock()
		key := seen.Get("X-Api-Key")
		mu.Unlock()
		if key == newValue {
			break
		}
		if start.After(deadline) {
			t.Fatalf("3 s after secrets set the upstream still gets the old key")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A broken file on SIGHUP is refused; the adapter keeps serving.
	os.WriteFile(cfgPath, []byte("routes: [this is not a route\n"), 0o600)
	adapterCmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	if s, _ := get(gate+"/products", minted.Token); s != 200 {
		t.Errorf("after a bad reload: %d, want the old config still serving", s)
	}

	adapterCmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- adapterCmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("adapter exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("adapter did not exit within 15 s of SIGTERM")
	}
}

// TestIssuerSurvivesSIGHUP: SIGHUP, which operators send to make a server
// reload, used to kill `cardgate issuer` (Go's default). The issuer has
// nothing to reload: it keeps serving and logs that a restart is needed.
func TestIssuerSurvivesSIGHUP(t *testing.T) {
	needBinary(t)
	in := newInstall(t)
	cmd := exec.Command(bin, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--data", in.data)
	cmd.Env = in.env
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make([]byte, 256)
	n, _ := out.Read(line)
	base := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(string(line[:n]))
	if base == "" {
		t.Fatalf("issuer said %q", line[:n])
	}
	go io.Copy(io.Discard, out)
	cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stderr.String(), "SIGHUP ignored") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning for SIGHUP in the log:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("after SIGHUP: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("after SIGHUP: /healthz %d", res.StatusCode)
	}
}

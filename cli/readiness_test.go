package cli_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardgate/cardgate/cli"
	"github.com/cardgate/cardgate/postgres/pgtest"
)

// opsURL is the ops listener `cardgate adapter` printed.
var opsURL = regexp.MustCompile(`ops on (http://127\.0\.0\.1:[0-9]+)`)

// adapterConfig writes an adapter configuration for the issuer at base,
// with mode remote or local, and returns its path.
func adapterConfig(t *testing.T, base, mode string) string {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(up.Close)
	path := filepath.Join(t.TempDir(), "adapter.yaml")
	os.WriteFile(path, []byte(`issuer: {url: "`+base+`", mode: `+mode+`}
routes:
  - name: any
    match: /any
    policy: {packages: ["*"]}
    upstream: {url: "`+up.URL+`"}
`), 0o600)
	return path
}

// startAdapter runs `cardgate adapter` and returns it and its ops URL.
func startAdapter(t *testing.T, env map[string]string, cfg string) (*server, string) {
	t.Helper()
	a := start(t, env, "adapter", "--config", cfg, "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0")
	m := opsURL.FindStringSubmatch(a.stdout.String())
	if m == nil {
		t.Fatalf("adapter printed %q", a.stdout)
	}
	return a, m[1]
}

// waitStatus polls url until it answers want (and its body holds every
// one of has), for at most 5 s, and returns the body.
func waitStatus(t *testing.T, what, url string, want int, has ...string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, body := call(t, "GET", url, nil, "")
		ok := status == want
		for _, h := range has {
			ok = ok && strings.Contains(body, h)
		}
		if ok {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d %s, want %d with %q", what, status, body, want, has)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAdapterReadiness runs the issuer and an adapter in remote mode, then
// stops the issuer: the adapter's /readyz turns 503 and names the issuer
// (new tokens would get 503 from it), while /healthz, liveness, stays 200.
// `adapter --check --online` reaches the issuer and says what it found,
// or fails naming it; in local mode it also proves the resource-server key.
func TestAdapterReadiness(t *testing.T) {
	env := newInstall(t) // the issuer records its own address
	var rs struct{ APIKey string }
	json.Unmarshal([]byte(mustRun(t, env, "clients", "add", "gate", "--role", "resource-server", "--json")), &rs)
	issuer := start(t, env, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0")
	remote := adapterConfig(t, issuer.base, "remote")
	_, ops := startAdapter(t, env, remote)

	waitStatus(t, "/readyz with the issuer up", ops+"/readyz", 200, `{"status":"ready"}`)
	if out := mustRun(t, env, "adapter", "--config", remote, "--check", "--online"); !strings.Contains(out, "GET /v1/users/me answers") {
		t.Errorf("--check --online, remote: %q", out)
	}
	// --json: the result as an object, and an error as the JSON error shape.
	var checked struct {
		File   string
		OK     bool
		Issuer string
	}
	if err := json.Unmarshal([]byte(mustRun(t, env, "adapter", "--config", remote, "--check", "--online", "--json")), &checked); err != nil ||
		checked.File != remote || !checked.OK || !strings.Contains(checked.Issuer, "GET /v1/users/me answers") {
		t.Errorf("adapter --check --online --json: %+v, %v", checked, err)
	}
	var errOut bytes.Buffer
	_, _, err := run(t, env, "adapter", "--config", remote+".missing", "--check", "--json")
	cli.Report(&errOut, []string{"cardgate", "adapter", "--json"}, err)
	if !json.Valid(errOut.Bytes()) || !strings.HasPrefix(errOut.String(), `{"error":{"code":`) {
		t.Errorf("adapter --check --json of a missing file reported %q", errOut.String())
	}
	local := adapterConfig(t, issuer.base, "local")
	withKey := map[string]string{"CARDGATE_DATA": env["CARDGATE_DATA"], "CARDGATE_ISSUER_API_KEY": rs.APIKey}
	if out := mustRun(t, withKey, "adapter", "--config", local, "--check", "--online"); !strings.Contains(out, "revocation feed") {
		t.Errorf("--check --online, local: %q", out)
	}
	// The local-mode adapter is ready too while its feed is fresh.
	_, localOps := startAdapter(t, withKey, local)
	waitStatus(t, "local /readyz with the issuer up", localOps+"/readyz", 200, `{"status":"ready"}`)
	withKey = map[string]string{"CARDGATE_DATA": env["CARDGATE_DATA"]}
	withKey["CARDGATE_ISSUER_API_KEY"] = "cgk_not-a-key-of-this-issuer"
	if _, _, err := run(t, withKey, "adapter", "--config", local, "--check", "--online"); err == nil || !strings.Contains(err.Error(), "revocation feed") || !strings.Contains(err.Error(), "401") {
		t.Errorf("--check --online, local, a wrong key: %v, want the feed's 401", err)
	}
	if _, _, err := run(t, env, "adapter", "--config", remote, "--online"); err == nil || !strings.Contains(err.Error(), "--check") {
		t.Errorf("--online without --check: %v", err)
	}

	// Redis for rate limits, down, with failClosed: not ready either.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	redisDown := ln.Addr().String()
	ln.Close()
	limited := filepath.Join(t.TempDir(), "limited.yaml")
	b, _ := os.ReadFile(remote)
	os.WriteFile(limited, []byte(strings.Replace(string(b), "routes:", `rateLimit: {backend: redis, failClosed: true, redis: {addr: "`+redisDown+`"}}
limits: {rateLimit: {perUser: {requests: 10}}}
routes:`, 1)), 0o600)
	_, limitedOps := startAdapter(t, env, limited)
	waitStatus(t, "/readyz with the rate-limit Redis down", limitedOps+"/readyz", 503, "rate-limit redis")

	if err := issuer.stop(); err != nil {
		t.Fatal(err)
	}
	body := waitStatus(t, "/readyz with the issuer stopped", ops+"/readyz", 503, `"code":"Unavailable"`, "issuer")
	if strings.Contains(body, "store") {
		t.Errorf("/readyz blames the store: %s", body)
	}
	if status, _ := call(t, "GET", ops+"/healthz", nil, ""); status != 200 {
		t.Errorf("/healthz with the issuer stopped: %d, want 200 (liveness does not follow the issuer)", status)
	}
	_, _, err = run(t, env, "adapter", "--config", remote, "--check", "--online")
	if err == nil || !strings.Contains(err.Error(), issuer.base) || !strings.Contains(err.Error(), "refused") {
		t.Errorf("--check --online with the issuer stopped: %v, want it to name the issuer and the refusal", err)
	}
}

// TestReadinessStoreDown runs the issuer and an adapter on PostgreSQL
// through a relay the test can cut: with the store unreachable both
// /readyz answer 503 (the adapter's naming the store), /healthz stays 200,
// and both are ready again once the store is back.
func TestReadinessStoreDown(t *testing.T) {
	pg := pgtest.URL(t)
	u, _ := url.Parse(pg)
	relay := newRelay(t, u.Host)
	u.Host = relay.addr
	env := map[string]string{"CARDGATE_DATA": t.TempDir(), "CARDGATE_STORE": u.String()}
	mustRun(t, env, "init")
	issuer := start(t, env, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0")
	_, ops := startAdapter(t, env, adapterConfig(t, issuer.base, "remote"))
	waitStatus(t, "issuer /readyz", issuer.base+"/readyz", 200, `{"status":"ready"}`)
	waitStatus(t, "adapter /readyz", ops+"/readyz", 200, `{"status":"ready"}`)

	relay.cut(true)
	waitStatus(t, "issuer /readyz, store down", issuer.base+"/readyz", 503, `"code":"Unavailable"`, "store")
	body := waitStatus(t, "adapter /readyz, store down", ops+"/readyz", 503, `"code":"Unavailable"`, "store")
	if strings.Contains(body, relay.addr) || strings.Contains(body, "postgres") {
		t.Errorf("/readyz shows the store's address or error: %s", body)
	}
	for _, h := range []string{issuer.base + "/healthz", ops + "/healthz"} {
		if status, _ := call(t, "GET", h, nil, ""); status != 200 {
			t.Errorf("%s with the store down: %d, want 200", h, status)
		}
	}
	relay.cut(false)
	waitStatus(t, "issuer /readyz, store back", issuer.base+"/readyz", 200)
	waitStatus(t, "adapter /readyz, store back", ops+"/readyz", 200)
}

// relay forwards TCP connections to a server until cut, which closes every
// connection and refuses new ones, as a server that went down would.
type relay struct {
	addr  string
	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

func newRelay(t *testing.T, target string) *relay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	r := &relay{addr: ln.Addr().String(), conns: map[net.Conn]bool{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			down := r.down
			r.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns[c], r.conns[s] = true, true
			r.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	t.Cleanup(func() { r.cut(true) })
	return r
}

func (r *relay) cut(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
	if down {
		for c := range r.conns {
			c.Close()
		}
		clear(r.conns)
	}
}

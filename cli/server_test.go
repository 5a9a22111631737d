package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cardgate/cardgate/cli"
	"github.com/cardgate/cardgate/internal/syncbuf"
)

// server is a server command running in-process.
type server struct {
	base           string // http://127.0.0.1:port
	stdout, stderr *syncbuf.Buffer
	stop           func() error // cancels the command's context, as SIGTERM does, and returns Run's error
}

var listenURL = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)

// start runs a server command in-process and waits until it prints the
// address it listens on.
func start(t *testing.T, env map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: new(syncbuf.Buffer), stderr: new(syncbuf.Buffer)}
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, append([]string{"cardgate"}, args...), func(k string) string { return env[k] },
			strings.NewReader(""), s.stdout, s.stderr)
	}()
	var once sync.Once
	var runErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(15 * time.Second):
				t.Errorf("cardgate %s: still running 15 s after its context ended", args[0])
			}
		})
		return runErr
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.After(15 * time.Second)
	for {
		out := s.stdout.String()
		// The demo prints its walkthrough after it listens; tests read
		// the whole of it.
		if m := listenURL.FindString(out); m != "" && (args[0] != "demo" || strings.Contains(out, "Press Ctrl-C")) {
			s.base = m
			return s
		}
		select {
		case err := <-done:
			t.Fatalf("cardgate %s ended before listening: %v\n%s", args[0], err, s.stderr)
		case <-deadline:
			t.Fatalf("cardgate %s: no address printed within 15 s\n%s", args[0], s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// call makes an HTTP request and returns the status and the body.
func call(t *testing.T, method, url string, header map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v // Go sends req.Host, not a Host header
		}
		req.Header.Set(k, v)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// mint mints a token for alice in com.contoso.orders with a host key.
func mint(t *testing.T, base, hostKey, user, pkg string) string {
	t.Helper()
	status, body := call(t, "POST", base+"/v1/tokens", map[string]string{"Authorization": "Bearer " + hostKey},
		`{"userId":"`+user+`","actionPackageId":"`+pkg+`"}`)
	var m struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expiresIn"`
	}
	if err := json.Unmarshal([]byte(body), &m); status != 201 || err != nil || m.Token == "" {
		t.Fatalf("POST /v1/tokens: %d %s", status, body)
	}
	return m.Token
}

func TestIssuerInProcess(t *testing.T) {
	env := newInstall(t)
	mustRun(t, env, "users", "add", "--id", alice, "--name", "Alice", "--phone", "+14155550101")
	mustRun(t, env, "packages", "add", "--id", "com.contoso.orders", "--name", "Orders")
	var host struct{ APIKey string }
	json.Unmarshal([]byte(mustRun(t, env, "hosts", "add", "web", "--json")), &host)

	srv := start(t, env, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--log-level", "debug", "--token-lifetime", "10m")
	if !strings.HasPrefix(srv.stdout.String(), "listening on "+srv.base+"\n") {
		t.Errorf("stdout = %q", srv.stdout)
	}
	// The card host is in front of the API, and the cards origin has a
	// listener of its own.
	if status, body := call(t, "GET", srv.base+"/", nil, ""); status != 200 || !strings.Contains(body, `<meta name="cardgate-demo" content="false">`) {
		t.Errorf("GET /: %d %.200s", status, body)
	}
	// By default the cards are on a host name of their own: cards.localhost.
	cards := regexp.MustCompile(`cards origin on (http://\S+) \(http://(cards\.localhost:[0-9]+)\)`).FindStringSubmatch(srv.stdout.String())
	if cards == nil {
		t.Fatalf("no cards origin on cards.localhost in %q", srv.stdout)
	}
	if status, _ := call(t, "GET", cards[1]+"/sdk/cardgate.js", map[string]string{"Host": cards[2]}, ""); status != 200 {
		t.Errorf("the cards origin does not serve the SDK: %d", status)
	}
	tok := mint(t, srv.base, host.APIKey, alice, "com.contoso.orders")
	status, body := call(t, "GET", srv.base+"/v1/users/me", map[string]string{"accessToken": tok}, "")
	if status != 200 || !strings.Contains(body, `"actionPackageId":"com.contoso.orders"`) {
		t.Errorf("/v1/users/me: %d %s", status, body)
	}
	// The token's iss is the address actually listened on, and its lifetime
	// the configured one.
	var disc map[string]any
	_, body = call(t, "GET", srv.base+"/.well-known/openid-configuration", nil, "")
	json.Unmarshal([]byte(body), &disc)
	if disc["issuer"] != srv.base {
		t.Errorf("issuer = %v, want %s", disc["issuer"], srv.base)
	}
	_, body = call(t, "POST", srv.base+"/v1/tokens", map[string]string{"Authorization": "Bearer " + host.APIKey},
		`{"userId":"`+alice+`","actionPackageId":"com.contoso.orders"}`)
	if !strings.Contains(body, `"expiresIn":600`) {
		t.Errorf("--token-lifetime 10m not applied: %s", body)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, _ := call(t, "GET", srv.base+path, nil, ""); status != 200 {
			t.Errorf("%s: %d", path, status)
		}
	}
	if status, body := call(t, "GET", srv.base+"/metrics", nil, ""); status != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics: %d, Go collector missing", status)
	}
	// Bad credentials get logged as failures, never with the secret.
	call(t, "GET", srv.base+"/v1/users/me", map[string]string{"accessToken": tok + "x"}, "")
	call(t, "POST", srv.base+"/v1/tokens", map[string]string{"Authorization": "Bearer " + host.APIKey + "x"}, "{}")

	if err := srv.stop(); err != nil {
		t.Errorf("issuer after shutdown: %v", err)
	}
	logs := srv.stderr.String()
	if strings.Contains(logs, tok[strings.LastIndex(tok, ".")+1:]) || strings.Contains(logs, host.APIKey) {
		t.Error("the log holds a token or an API key")
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
	if !strings.Contains(logs, `"msg":"shutting down"`) {
		t.Errorf("no shutdown in the log:\n%s", logs)
	}
}

func TestIssuerBadStart(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CARDGATE_DATA": dir}
	// A port in use is a clear error, not a hang.
	srv := start(t, env, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0")
	_, _, err := run(t, env, "issuer", "--cards-listen", "127.0.0.1:0", "--listen", strings.TrimPrefix(srv.base, "http://"))
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("second issuer on the same port: %v", err)
	}
	for _, bad := range []string{"8080", "localhost", "127.0.0.1:http-nope"} {
		if _, _, err := run(t, env, "issuer", "--cards-listen", "127.0.0.1:0", "--listen", bad); err == nil || !strings.Contains(err.Error(), "listen: ") {
			t.Errorf("--listen %s: %v", bad, err)
		}
	}
}

// With --redis-url, sign-in's limits hold across nodes: a number that got
// its three codes from one node gets no fourth from another.
func TestIssuerSignInLimitsInRedis(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", DialTimeout: time.Second})
	defer c.Close()
	if err := c.Ping(t.Context()).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis at 127.0.0.1:6379 is required in CI: %v", err)
		}
		t.Skipf("no redis at 127.0.0.1:6379 (%v); start one to run this test", err)
	}
	// Two installations (nodes of one would share an --issuer-url), so
	// that nothing but Redis is shared.
	env := map[string]string{"CARDGATE_DATA": t.TempDir(), "CARDGATE_REDIS_URL": "redis://127.0.0.1:6379/0"}
	env2 := map[string]string{"CARDGATE_DATA": t.TempDir(), "CARDGATE_REDIS_URL": "redis://127.0.0.1:6379/0"}
	a := start(t, env, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0")
	b := start(t, env2, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0")
	// Fresh buckets on every run: a random number, and the loopback
	// address's bucket, which earlier runs spent, emptied first.
	phone := fmt.Sprintf("+141555501%02d", mrand.IntN(100)) // a real number (sign-in refuses others)
	keys := []string{"cardgate:signin:phone:" + phone, "cardgate:signin:client:127.0.0.1"}
	c.Del(t.Context(), keys...)
	t.Cleanup(func() { c.Del(context.Background(), keys...) })
	ask := func(base string) int {
		status, _ := call(t, "POST", base+"/host/api/signin/code", map[string]string{"Origin": base}, `{"phoneNumber":"`+phone+`"}`)
		return status
	}
	for i, base := range []string{a.base, a.base, b.base} {
		if s := ask(base); s != 202 {
			t.Fatalf("code %d: %d", i+1, s)
		}
	}
	if s := ask(b.base); s != 429 {
		t.Fatalf("a fourth code from the other node: %d, want 429", s)
	}
}

// Every listener answers only to its own names: a page that rebinds its DNS
// name to the server's address sends that name in Host, and gets 421.
// Outside the demo the loopback aliases of the issuer's URL are other
// names too; --allowed-hosts adds names; the health checks (/healthz,
// /readyz) answer any Host, /metrics only an allowed one.
func TestIssuerChecksHost(t *testing.T) {
	env := map[string]string{"CARDGATE_DATA": t.TempDir()}
	srv := start(t, env, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--allowed-hosts", "issuer.internal:8080, node-1")
	cards := regexp.MustCompile(`cards origin on (http://\S+) \(http://(cards\.localhost:[0-9]+)\)`).FindStringSubmatch(srv.stdout.String())
	port := srv.base[strings.LastIndex(srv.base, ":")+1:]
	for _, tc := range []struct {
		url, host string
		status    int
	}{
		{srv.base + "/", "", 200},
		{srv.base + "/", "rebound.evil.example:" + port, 421},
		{srv.base + "/host/api/me", "rebound.evil.example:" + port, 421},
		{srv.base + "/.well-known/jwks.json", "localhost:" + port, 421}, // loopback aliases: demo only
		{srv.base + "/.well-known/jwks.json", "issuer.internal:8080", 200},
		{srv.base + "/.well-known/jwks.json", "node-1", 200},
		{srv.base + "/healthz", "10.1.2.3:" + port, 200},
		{srv.base + "/readyz", "10.1.2.3:" + port, 200},
		{srv.base + "/metrics", "10.1.2.3:" + port, 421}, // not a health check: an allowed name only
		{srv.base + "/metrics", "issuer.internal:8080", 200},
		{srv.base + "/host/api/demo/users", "", 404}, // the demo's user picker is the demo's only
		{cards[1] + "/sdk/cardgate.js", cards[2], 200},
		{cards[1] + "/sdk/cardgate.js", "", 421}, // 127.0.0.1:<cards port>, the old default
		{cards[1] + "/sdk/cardgate.js", "rebound.evil.example", 421},
	} {
		h := map[string]string{}
		if tc.host != "" {
			h["Host"] = tc.host
		}
		status, body := call(t, "GET", tc.url, h, "")
		if status != tc.status {
			t.Errorf("GET %s, Host %q: %d, want %d", tc.url, tc.host, status, tc.status)
		}
		if status == 421 && !strings.Contains(body, `"code":"MisdirectedRequest"`) {
			t.Errorf("GET %s, Host %q: %s", tc.url, tc.host, body)
		}
	}
}

// The cards are never on the issuer's host name, whose cookies they could
// set; settings that would put them there are refused, saying what to set.
func TestIssuerRefusesCardsOnItsHostName(t *testing.T) {
	env := map[string]string{"CARDGATE_DATA": t.TempDir()}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--cards-url", "http://127.0.0.1:8082"},
			"cards-url: cards URL http://127.0.0.1:8082 is on the card host's own host name"},
		{[]string{"--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--issuer-url", "http://app.example.com",
			"--cards-url", "http://cards.example.com"}, "shares the domain example.com"},
		{[]string{"--listen", "0.0.0.0:0", "--cards-listen", "127.0.0.1:0"}, "--issuer-url: --listen 0.0.0.0:0 is every interface"},
		{[]string{"--listen", "127.0.0.1:0", "--cards-listen", "0.0.0.0:0"}, "--cards-url: --cards-listen 0.0.0.0:"},
		{[]string{"--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--allowed-hosts", "http://x"}, "allowed-hosts: "},
	} {
		_, _, err := run(t, env, append([]string{"issuer"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("issuer %s: %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardgate/cardgate/adapter/secret"
	"github.com/cardgate/cardgate/internal/syncbuf"
)

func TestReloadUnderLoad(t *testing.T) {
	up, _ := echoUpstream(t)
	cfgA := config(up.URL, "")
	cfgB := strings.Replace(cfgA, "identityHeaders: {userName: X-Cardgate-User-Name}", "identityHeaders: {userId: X-User}", 1)
	e := newEnv(t, cfgA)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()

	ctx, cancel := context.WithCancel(context.Background())
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequest("GET", e.srv.URL+"/products/1", nil)
				req.Header.Set("Authorization", "Bearer tok-alice")
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					t.Error(err)
					continue
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				s := decodeSeen(t, string(b))
				// Each request sees one whole configuration, never a mix.
				if res.StatusCode != 200 || (s.Header.Get("X-Cardgate-User-Id") == "") == (s.Header.Get("X-User") == "") {
					failed.Add(1)
					t.Errorf("status %d, headers %v", res.StatusCode, s.Header)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	for i := range 20 {
		if i%2 == 0 {
			e.write(cfgB)
		} else {
			e.write(cfgA)
		}
		if err := e.a.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			// A bad file in the middle is refused; traffic goes on.
			e.write(cfgA + "  - {name: broken}\n")
			if err := e.a.Reload(context.Background()); err == nil {
				t.Fatal("bad configuration accepted")
			}
		}
		time.Sleep(15 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if failed.Load() != 0 || ok.Load() < 20 {
		t.Fatalf("%d ok, %d failed", ok.Load(), failed.Load())
	}
	t.Logf("%d requests across 21 reloads", ok.Load())
}

func TestBadConfigKeepsOld(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	old := e.a.Config()
	for name, bad := range map[string]string{
		"syntax":         "routes: [",
		"unknown field":  config(up.URL, "bogus: 1\n"),
		"missing secret": strings.Replace(config(up.URL, ""), "env:API_KEY", "env:NOT_SET_ANYWHERE", 1),
		"empty":          "",
	} {
		e.write(bad)
		err := e.a.Reload(context.Background())
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: err = %v, want a *ConfigError", name, err)
		}
		if e.a.Config() != old {
			t.Fatalf("%s: the running configuration changed", name)
		}
		if res, body := e.do("GET", "/products/1", "tok-alice", nil); res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", name, res.StatusCode, body)
		}
	}
	if !strings.Contains(e.logs.String(), "configuration refused") {
		t.Error("refusal not logged")
	}
}

func TestWatch(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.a.Watch(ctx, 10*time.Millisecond) }()
	e.write(config(up.URL, "") + `  - {name: added, match: /added, policy: {packages: ["*"]}, upstream: {url: "` + up.URL + `"}}` + "\n")
	deadline := time.Now().Add(3 * time.Second)
	for len(e.a.Config().Routes) != 4 {
		if time.Now().After(deadline) {
			t.Fatal("Watch did not reload the changed file")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if res, _ := e.do("GET", "/added", "tok-alice", nil); res.StatusCode != 200 {
		t.Fatalf("new route: %d", res.StatusCode)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// A reload applies what it can and warns, naming each one, of the settings
// that need a restart: the listener, its server limits, the issuer and
// the audit retention.
func TestReloadWarnsOfSettingsThatNeedARestart(t *testing.T) {
	up, _ := echoUpstream(t)
	cfg := config(up.URL, "")
	e := newEnv(t, cfg)
	changed := strings.Replace(cfg, `issuer: {url: "http://127.0.0.1:1"}`,
		"listen: 127.0.0.1:9999\nserver: {readTimeout: 5s}\nissuer: {url: \"http://127.0.0.1:2\", cacheSize: 50, negativeCacheSize: 60}\naudit: {maxAge: 1h, maxRecords: 70}", 1) +
		`  - {name: added, match: /added, policy: {packages: ["*"]}, upstream: {url: "` + up.URL + `"}}` + "\n"
	e.write(changed)
	if err := e.a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res, _ := e.do("GET", "/added", "tok-alice", nil); res.StatusCode != 200 {
		t.Errorf("the reload's new route: %d", res.StatusCode)
	}
	if addr := e.a.HTTPServer().Addr; addr != "127.0.0.1:8081" {
		t.Errorf("the server would listen on %s after the reload, want the address it started with", addr)
	}
	var warning struct{ Level, Msg, Settings string }
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, "restart") {
			json.Unmarshal([]byte(line), &warning)
		}
	}
	if warning.Level != "WARN" || warning.Settings != "listen, server.readTimeout, issuer.url, issuer.cacheSize, issuer.negativeCacheSize, audit.maxAge, audit.maxRecords" {
		t.Fatalf("warning %+v in the log:\n%s", warning, e.logs)
	}
	// Back to the settings it runs with: no warning.
	before := strings.Count(e.logs.String(), "restart")
	e.write(cfg)
	if err := e.a.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Count(e.logs.String(), "restart") != before {
		t.Errorf("a warning for settings as they run:\n%s", e.logs)
	}
}

// syncStore is a secret store that a test changes while the adapter runs,
// as `cardgate secrets set` changes cardgate's.
type syncStore struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *syncStore) Secret(_ context.Context, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[name]
	if !ok {
		return nil, secret.ErrNotFound
	}
	return []byte(v), nil
}

func (s *syncStore) set(name, v string) { s.mu.Lock(); s.m[name] = v; s.mu.Unlock() }

// Watch reads store: and file: secrets again every interval: a new value is
// used without a restart, a store that fails keeps the running value (and
// is logged once), and no value reaches the log.
func TestWatchPicksUpChangedSecrets(t *testing.T) {
	up, _ := echoUpstream(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte("file-value-1\n"), 0o600)
	store := &syncStore{m: map[string]string{"api": "store-value-1"}}
	path := filepath.Join(dir, "adapter.yaml")
	os.WriteFile(path, []byte(`
issuer: {url: "http://127.0.0.1:1"}
routes:
  - {name: a, match: /a, policy: {packages: ["*"]}, upstream: {url: "`+up.URL+`"}, credential: {type: header, header: X-Key, value: "store:api"}}
  - {name: b, match: /b, policy: {packages: ["*"]}, upstream: {url: "`+up.URL+`"}, credential: {type: bearer, token: "file:`+keyFile+`"}}
`), 0o600)
	logs := &syncbuf.Buffer{}
	a, err := New(context.Background(), path, Options{Authenticator: testAuth, Secrets: store,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Watch(ctx, 20*time.Millisecond)

	sent := func(path, header string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer tok-alice")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return decodeSeen(t, string(b)).Header.Get(header)
	}
	waitFor := func(path, header, want string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for got := sent(path, header); got != want; got = sent(path, header) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the upstream gets %s %q, want %q", path, header, got, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("/a", "X-Key", "store-value-1")
	waitFor("/b", "Authorization", "Bearer file-value-1")

	store.set("api", "store-value-2")
	waitFor("/a", "X-Key", "store-value-2")
	os.WriteFile(keyFile, []byte("file-value-2\n"), 0o600)
	waitFor("/b", "Authorization", "Bearer file-value-2")

	// A secret that no longer resolves: the running value stays, and the
	// failure is logged once however many intervals it lasts.
	os.Remove(keyFile)
	time.Sleep(200 * time.Millisecond)
	if got := sent("/b", "Authorization"); got != "Bearer file-value-2" {
		t.Errorf("with the secret file gone: %q, want the running value", got)
	}
	if n := strings.Count(logs.String(), "read a secret again"); n != 1 {
		t.Errorf("the failure logged %d times, want once:\n%s", n, logs)
	}
	for _, v := range []string{"store-value", "file-value"} {
		if strings.Contains(logs.String(), v) {
			t.Errorf("the log holds a secret value:\n%s", logs)
		}
	}
	if !strings.Contains(logs.String(), `"refs":"store:api"`) {
		t.Errorf("the reload does not name the changed reference:\n%s", logs)
	}
}

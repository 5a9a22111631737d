package issuer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpserver"
	"github.com/cardgate/cardgate/issuer"
	"github.com/cardgate/cardgate/keyring"
	"github.com/cardgate/cardgate/seal"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	alice     = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"
	bob       = "0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40"
	ordersPkg = "com.contoso.orders"
	surveyPkg = "com.contoso.survey"
)

// clock is a settable time source shared by the service and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is a real Integration Service on loopback over a real SQLite file.
type env struct {
	t        testing.TB
	svc      *issuer.Service
	srv      *httptest.Server
	clock    *clock
	logs     *bytes.Buffer
	hostKey  string
	adminKey string
	rsKey    string
}

func newEnv(t *testing.T) *env { return newEnvWith(t, envOptions{}) }

type envOptions struct {
	cacheSize int           // issuer.Config.CacheSize
	stateTTL  time.Duration // issuer.Config.StateCacheTTL
	quiet     bool          // log at info level to nowhere, as a benchmark wants
}

func newEnvWith(t testing.TB, opts envOptions) *env {
	t.Helper()
	ctx := context.Background()
	store := sqlitetest.Open(t)
	master, err := seal.ParseKey(seal.GenerateText())
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	e := &env{t: t, clock: clk, logs: &bytes.Buffer{}}
	logger := slog.New(slog.NewJSONHandler(lockedWriter{w: e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.quiet {
		logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}

	srv := httptest.NewUnstartedServer(nil)
	iss := "http://" + srv.Listener.Addr().String()
	keys, err := keyring.Open(ctx, keyring.Config{Store: store, Master: master, Issuer: iss, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := issuer.NewService(issuer.Config{Issuer: iss, Store: store, Keys: keys, Logger: logger, Now: clk.Now, CacheSize: opts.cacheSize, StateCacheTTL: opts.stateTTL})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	srv.Config = httpserver.New("", issuer.NewHandler(svc, issuer.HandlerOptions{
		Metrics:            prometheus.NewRegistry(),
		IntrospectionRate:  5,
		IntrospectionBurst: 5,
	}), logger)
	srv.Start()
	t.Cleanup(srv.Close)
	e.srv = srv

	for _, u := range []*cardgate.User{
		{ID: alice, Name: "Alice", PhoneNumber: "+14155550101", PictureURL: "https://pics.example/alice.png"},
		{ID: bob, Name: "Bob", PhoneNumber: "+14155550102"},
	} {
		if err := svc.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*cardgate.ActionPackage{
		{ID: ordersPkg, DisplayName: "Order products"},
		{ID: surveyPkg, DisplayName: "Survey"},
	} {
		if err := svc.CreatePackage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for role, dst := range map[cardgate.Role]*string{
		cardgate.RoleHost: &e.hostKey, cardgate.RoleAdmin: &e.adminKey, cardgate.RoleResourceServer: &e.rsKey,
	} {
		_, key, err := svc.CreateClient(ctx, string(role)+" client", role)
		if err != nil {
			t.Fatal(err)
		}
		*dst = key
	}
	return e
}

type lockedWriter struct{ w *bytes.Buffer }

var logMu sync.Mutex

func (l lockedWriter) Write(b []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return l.w.Write(b)
}

func (e *env) logText() string {
	logMu.Lock()
	defer logMu.Unlock()
	return e.logs.String()
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
	return m
}

// errorCode returns the code of a DESIGN.md JSON error body.
func (r response) errorCode(t testing.TB) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	e, _ := r.json(t)["error"].(map[string]any)
	if e == nil || e["message"] == "" {
		t.Fatalf("body %s is not a JSON error", r.body)
	}
	return e["code"].(string)
}

func (e *env) do(method, path string, header map[string]string, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func bearer(key string) map[string]string { return map[string]string{"Authorization": "Bearer " + key} }

// mint gets a token through the HTTP API with the host key.
func (e *env) mint(user, pkg string) string {
	e.t.Helper()
	res := e.do("POST", "/v1/tokens", bearer(e.hostKey), `{"userId":"`+user+`","actionPackageId":"`+pkg+`"}`)
	if res.status != http.StatusCreated {
		e.t.Fatalf("mint: %d %s", res.status, res.body)
	}
	return res.json(e.t)["token"].(string)
}

func (e *env) usersMe(tok string) response {
	e.t.Helper()
	return e.do("GET", "/v1/users/me", map[string]string{"accessToken": tok}, "")
}

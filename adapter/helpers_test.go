package adapter

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/adapter/secret"
	"github.com/cardgate/cardgate/internal/syncbuf"
)

type mapStore map[string]string

func (m mapStore) Secret(_ context.Context, name string) ([]byte, error) {
	v, ok := m[name]
	if !ok {
		return nil, secret.ErrNotFound
	}
	return []byte(v), nil
}

// Test identities: alice uses card A, bob card B.
var (
	alice = &cardgate.Identity{UserID: "11111111-1111-4111-8111-111111111111", Name: "Alice Ünïcode", ActionPackageID: "com.example.a"}
	bob   = &cardgate.Identity{UserID: "22222222-2222-4222-8222-222222222222", Name: "Bob", ActionPackageID: "com.example.b"}
)

// mapAuth is a real Authenticator over a map of tokens; the token
// "issuer-down" stands for an issuer that cannot be reached.
type mapAuth map[string]*cardgate.Identity

func (m mapAuth) Authenticate(_ context.Context, tok string) (*cardgate.Identity, error) {
	if tok == "issuer-down" {
		return nil, cardgate.WrapError(cardgate.EUNAVAILABLE, "token check unavailable", io.ErrUnexpectedEOF)
	}
	if id, ok := m[tok]; ok {
		return id, nil
	}
	return nil, cardgate.Errorf(cardgate.EINVALIDTOKEN, "token is not valid")
}

// aliceInGeneral and aliceInSales are alice's tokens minted for card A
// opened in a conversation.
var (
	aliceInGeneral = &cardgate.Identity{UserID: alice.UserID, Name: alice.Name, ActionPackageID: alice.ActionPackageID, ConversationID: general}
	aliceInSales   = &cardgate.Identity{UserID: alice.UserID, Name: alice.Name, ActionPackageID: alice.ActionPackageID, ConversationID: sales}
)

const (
	general = "0b8f6c1e-2d4a-4f3b-8c9d-1e2f3a4b5c6d"
	sales   = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"
)

var testAuth = mapAuth{"tok-alice": alice, "tok-bob": bob, "tok-alice-general": aliceInGeneral, "tok-alice-sales": aliceInSales}

// seen is what an echo upstream received.
type seen struct {
	Method  string
	Path    string // escaped
	Query   string
	Host    string
	Header  http.Header
	Body    string
	BodyLen int64
}

// echoUpstream answers every request with a JSON description of it.
func echoUpstream(t *testing.T) (*httptest.Server, *int64) {
	t.Helper()
	var mu sync.Mutex
	var n int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Host, r.Header, string(b), r.ContentLength})
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// env is a running adapter with everything it wrote captured.
type env struct {
	t       *testing.T
	a       *Adapter
	srv     *httptest.Server
	path    string
	logs    *syncbuf.Buffer
	reg     *prometheus.Registry
	audit   *auditLog
	secrets map[string]string
	clock   *clock
}

type auditLog struct {
	mu   sync.Mutex
	recs []AuditRecord
	hold func() // when set, Record calls it first
}

func (l *auditLog) Record(_ context.Context, r AuditRecord) {
	l.mu.Lock()
	hold := l.hold
	l.mu.Unlock()
	if hold != nil {
		hold()
	}
	l.mu.Lock()
	l.recs = append(l.recs, r)
	l.mu.Unlock()
}
func (l *auditLog) all() []AuditRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]AuditRecord(nil), l.recs...)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// testSecrets are the secret values of test configurations; no response,
// log line, metric or audit record may ever hold one.
var testSecrets = map[string]string{
	"API_KEY":       "apikey-9f8e7d6c5b4a",
	"BEARER":        "bearer-0a1b2c3d4e5f",
	"BASIC_PW":      "basicpw-a1a2a3a4",
	"CLIENT_SECRET": "clientsecret-z9y8x7",
}

// newEnv starts an adapter on a loopback server with configuration yaml.
func newEnv(t *testing.T, yaml string) *env {
	t.Helper()
	e := &env{t: t, logs: &syncbuf.Buffer{}, reg: prometheus.NewRegistry(), audit: &auditLog{}, secrets: testSecrets,
		clock: &clock{t: time.Unix(1_700_000_000, 0)}}
	e.path = filepath.Join(t.TempDir(), "adapter.yaml")
	e.write(yaml)
	a, err := New(context.Background(), e.path, Options{
		Authenticator: testAuth,
		LookupEnv:     func(n string) (string, bool) { v, ok := testSecrets[n]; return v, ok },
		Secrets:       mapStore{"basic-pw": testSecrets["BASIC_PW"]},
		Audit:         e.audit,
		Logger:        slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics:       e.reg,
		Now:           e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.a = a
	e.srv = httptest.NewUnstartedServer(a.Handler())
	e.srv.Config = a.HTTPServer() // the server the binary runs, with the server: settings
	e.srv.Start()
	t.Cleanup(func() { e.srv.Close(); a.Close() })
	return e
}

func (e *env) write(yaml string) {
	e.t.Helper()
	if err := os.WriteFile(e.path, []byte(yaml), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// do sends a request with the given token (none if "") and returns the
// response with its body read.
func (e *env) do(method, path, token string, body io.Reader, hdr ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

// decodeSeen parses an echo upstream's answer.
func decodeSeen(t *testing.T, body string) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("upstream answer %q: %v", body, err)
	}
	return s
}

// errorCode returns the code of a JSON error body.
func errorCode(body string) string {
	var e struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal([]byte(body), &e)
	return e.Error.Code
}

// config returns a configuration with routes for the upstream at url.
func config(url string, extra string) string {
	return strings.ReplaceAll(`
issuer: {url: "http://127.0.0.1:1"}
token: {bodyField: integrationToken}
routes:
  - name: products
    match: GET /products/{id...}
    policy: {packages: [com.example.a]}
    upstream: {url: "UPSTREAM/api/items", stripPrefix: /products, timeout: 2s}
    credential: {type: header, header: X-Api-Key, value: env:API_KEY}
    identityHeaders: {userName: X-Cardgate-User-Name}
    cors: {origins: ["https://cards.example.com"]}
  - name: orders
    match: /orders/
    policy: {packages: [com.example.a, com.example.b]}
    upstream: {url: "UPSTREAM/v2?tenant=t1"}
    credential: {type: bearer, token: env:BEARER}
    limits: {maxBodyBytes: 1024}
  - name: reports
    match: POST /reports
    policy: {packages: ["*"], users: ["22222222-2222-4222-8222-222222222222"]}
    upstream: {url: "UPSTREAM/"}
    credential: {type: basic, username: svc, password: store:basic-pw}
`, "UPSTREAM", url) + extra
}

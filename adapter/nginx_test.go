package adapter_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/adapter"
	"github.com/cardgate/cardgate/issuer"
	"github.com/cardgate/cardgate/keyring"
	"github.com/cardgate/cardgate/seal"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

const (
	nAlice  = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"
	nOrders = "com.contoso.orders"
	nSurvey = "com.contoso.survey"
	// nGeneral is a conversation.
	nGeneral = "0b8f6c1e-2d4a-4f3b-8c9d-1e2f3a4b5c6d"
)

// serviceAuth authenticates with an in-process Integration Service: the
// same checks /v1/users/me makes.
type serviceAuth struct{ svc *issuer.Service }

func (a serviceAuth) Authenticate(ctx context.Context, tok string) (*cardgate.Identity, error) {
	id, _, err := a.svc.Check(ctx, tok)
	return id, err
}

func newIssuer(t *testing.T) *issuer.Service {
	t.Helper()
	ctx := context.Background()
	store := sqlitetest.Open(t)
	master, _ := seal.ParseKey(seal.GenerateText())
	keys, err := keyring.Open(ctx, keyring.Config{Store: store, Master: master, Issuer: "http://issuer.test"})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := issuer.NewService(issuer.Config{Issuer: "http://issuer.test", Store: store, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.CreateUser(ctx, &cardgate.User{ID: nAlice, Name: "Alice", PhoneNumber: "+14155550101"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{nOrders, nSurvey} {
		if err := svc.CreatePackage(ctx, &cardgate.ActionPackage{ID: p, DisplayName: p}); err != nil {
			t.Fatal(err)
		}
	}
	return svc
}

// nginxBinary finds nginx, or skips (fails under CI) with how to get it.
func nginxBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	msg := "nginx not found: install it with 'apt-get install nginx-light' to test docs/nginx-forward-auth.conf"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startNginx runs the nginx configuration text (docs/nginx-forward-auth.conf
// or a variant) with its addresses replaced: the adapter at gate, the
// business system at business. It returns nginx's address and a function
// that reads nginx's log.
func startNginx(t *testing.T, text, gate, business string) (string, func() string) {
	t.Helper()
	bin := nginxBinary(t)
	dir := t.TempDir()
	front := freeAddr(t)
	text = strings.NewReplacer(
		"127.0.0.1:8090", front,
		"127.0.0.1:8081", gate,
		"127.0.0.1:9000", business,
		"/tmp/cardgate-nginx", filepath.Join(dir, "nginx"),
	).Replace(text)
	if os.Geteuid() == 0 {
		text = "user root;\n" + text // workers must reach the test's private temp dir
	}
	confPath := filepath.Join(dir, "nginx.conf")
	os.WriteFile(confPath, []byte(text), 0o600)
	logPath := filepath.Join(dir, "nginx.log")
	nginx := exec.Command(bin, "-p", dir, "-c", confPath, "-e", logPath, "-g", "daemon off;")
	// Its own process group, so that stopping it stops its workers too.
	nginx.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := nginx.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-nginx.Process.Pid, syscall.SIGTERM)
		nginx.Wait()
	})
	nginxLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", front); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not start: %s", nginxLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return front, nginxLog
}

// startGate starts an adapter on a loopback listener with the configuration
// yaml and returns its address.
func startGate(t *testing.T, svc *issuer.Service, yaml string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "adapter.yaml")
	os.WriteFile(cfg, []byte(yaml), 0o600)
	a, err := adapter.New(context.Background(), cfg, adapter.Options{Authenticator: serviceAuth{svc}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	gate := httptest.NewServer(a.Handler())
	t.Cleanup(gate.Close)
	return strings.TrimPrefix(gate.URL, "http://")
}

func exampleNginxConf(t *testing.T) string {
	t.Helper()
	conf, err := os.ReadFile("../docs/nginx-forward-auth.conf")
	if err != nil {
		t.Fatal(err)
	}
	return string(conf)
}

// TestNginxForwardAuthExample runs docs/nginx-forward-auth.conf in a real
// nginx in front of a business system, with the adapter's /auth deciding.
func TestNginxForwardAuthExample(t *testing.T) {
	nginxBinary(t)
	svc := newIssuer(t)
	ctx := context.Background()

	var mu sync.Mutex
	var got http.Header
	conns := map[string]bool{} // the business system's client addresses
	business := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		fmt.Fprint(w, `[{"sku":"P-1","name":"Paper"}]`)
	}))
	defer business.Close()

	gate := startGate(t, svc, `issuer: {url: http://issuer.test}
routes:
  - name: products
    match: GET /products
    policy: {packages: [`+nOrders+`]}
    upstream: {url: `+business.URL+`}
`)
	front, nginxLog := startNginx(t, exampleNginxConf(t), gate, strings.TrimPrefix(business.URL, "http://"))

	get := func(tok string, hdr map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+front+"/products", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		for k, v := range hdr {
			req.Header[k] = []string{v} // as written, not canonical
		}
		res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	orders, _, _ := svc.Mint(ctx, nAlice, nOrders)
	survey, _, _ := svc.Mint(ctx, nAlice, nSurvey)

	if s := get("", nil); s != 401 {
		t.Errorf("no token: %d, want 401", s)
	}
	if s := get("forged.token.here", nil); s != 401 {
		t.Errorf("forged token: %d, want 401", s)
	}
	if s := get(survey, nil); s != 403 {
		t.Errorf("token of another package: %d, want 403", s)
	}
	forged := map[string]string{
		"X-Cardgate-User-Id":         "00000000-0000-4000-8000-000000000000",
		"X-Cardgate-User-Name":       "Mallory",
		"X-Cardgate-Route":           "admin",
		"X-Cardgate-Conversation-Id": "forged",
		"X_Cardgate_Conversation_Id": "forged",
		"X_Cardgate_User_Id":         "forged",
		"x_cardgate_package_id":      "forged",
		"X-Cardgate_User-Id":         "forged",
		"x_api_key":                  "forged",
		"X-Forwarded-Host":           "forged.example",
		"X-Original-URL":             "/admin",
		"X-HTTP-Method-Override":     "DELETE",
		"X-Forwarded-For":            "6.6.6.6",
	}
	if s := get(orders, forged); s != 200 {
		t.Fatalf("good token: %d, want 200; nginx: %s", s, nginxLog())
	}
	mu.Lock()
	defer mu.Unlock()
	if got.Get("X-Cardgate-User-Id") != nAlice || got.Get("X-Cardgate-Package-Id") != nOrders || got.Get("X-Cardgate-Route") != "products" {
		t.Errorf("upstream saw identity %q %q %q", got.Get("X-Cardgate-User-Id"), got.Get("X-Cardgate-Package-Id"), got.Get("X-Cardgate-Route"))
	}
	if got.Get("Authorization") != "" {
		t.Error("the token reached the business system")
	}
	for k, v := range got {
		if strings.ContainsAny(k, "_") || strings.Contains(strings.Join(v, ","), "forged") || k == "X-Cardgate-User-Name" ||
			k == "X-Original-Url" || k == "X-Http-Method-Override" {
			t.Errorf("business system got %s: %q", k, v)
		}
	}
	if xff := got.Values("X-Forwarded-For"); len(xff) != 1 || xff[0] != "127.0.0.1" {
		t.Errorf("X-Forwarded-For %q", xff)
	}
	if v, ok := got["X-Cardgate-Conversation-Id"]; ok {
		t.Errorf("a token minted outside a conversation: the business system got X-Cardgate-Conversation-Id %q", v)
	}
	mu.Unlock()

	// A token minted in a conversation: the business system learns the
	// conversation from the adapter, never from the client.
	inGeneral, _, err := svc.MintIn(ctx, nAlice, nOrders, nGeneral)
	if err != nil {
		t.Fatal(err)
	}
	if s := get(inGeneral, forged); s != 200 {
		t.Fatalf("token minted in a conversation: %d; nginx: %s", s, nginxLog())
	}
	mu.Lock()
	if v := got.Values("X-Cardgate-Conversation-Id"); len(v) != 1 || v[0] != nGeneral {
		t.Errorf("token minted in a conversation: the business system got X-Cardgate-Conversation-Id %q, want [%q]", v, nGeneral)
	}
	mu.Unlock()

	// The file keeps connections to the business system open (keepalive):
	// requests one after another share one.
	for range 5 {
		if s := get(orders, nil); s != 200 {
			t.Fatalf("good token: %d", s)
		}
	}
	mu.Lock()
	if len(conns) != 1 {
		t.Errorf("7 requests reached the business system on %d connections, want 1 (keepalive)", len(conns))
	}
}

// TestNginxForwardAuthForgedOriginal: a client that sends its own
// X-Forwarded-Uri/-Method/-Host and X-Original-* to nginx cannot make /auth
// check another request than the one nginx proxies: a token for package A
// never reaches package B's route, nor passes as a request for an any-package
// route. Run against the shipped configuration, and against the old one that
// did not clear X-Forwarded-* (the adapter refuses what it cannot trust).
func TestNginxForwardAuthForgedOriginal(t *testing.T) {
	nginxBinary(t)
	svc := newIssuer(t)
	ctx := context.Background()
	var mu sync.Mutex
	var paths []string
	business := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
	}))
	defer business.Close()
	gate := startGate(t, svc, `issuer: {url: http://issuer.test}
routes:
  - {name: orders, match: GET /orders/, policy: {packages: [`+nOrders+`]}, upstream: {url: `+business.URL+`}}
  - {name: survey, match: /survey/, policy: {packages: [`+nSurvey+`]}, upstream: {url: `+business.URL+`}}
  - {name: public, match: GET /public, policy: {packages: ["*"]}, upstream: {url: `+business.URL+`}}
`)
	shipped := exampleNginxConf(t)
	// The configuration as it was: X-Original-* set, X-Forwarded-* not cleared.
	var old []string
	for _, l := range strings.Split(shipped, "\n") {
		if !strings.Contains(l, `X-Forwarded-Method ""`) && !strings.Contains(l, `X-Forwarded-Uri ""`) && !strings.Contains(l, `X-Forwarded-Host ""`) {
			old = append(old, l)
		}
	}
	orders, _, _ := svc.Mint(ctx, nAlice, nOrders)
	survey, _, _ := svc.Mint(ctx, nAlice, nSurvey)
	for name, conf := range map[string]string{"shipped": shipped, "old": strings.Join(old, "\n")} {
		t.Run(name, func(t *testing.T) {
			front, nginxLog := startNginx(t, conf, gate, strings.TrimPrefix(business.URL, "http://"))
			do := func(method, path, tok string, hdr map[string]string) int {
				t.Helper()
				req, _ := http.NewRequest(method, "http://"+front+path, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				for k, v := range hdr {
					req.Header[k] = []string{v}
				}
				res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			mu.Lock()
			paths = nil
			mu.Unlock()
			for _, target := range []string{"/orders/1", "/public"} {
				for _, hdr := range []map[string]string{
					{"X-Forwarded-Method": "GET", "X-Forwarded-Uri": target, "X-Forwarded-Host": "x"},
					{"X-Original-Method": "GET", "X-Original-Uri": target},
					{"x-original-method": "GET", "x-original-uri": target},
					{"X_Original_Method": "GET", "X_Original_Uri": target, "X_Forwarded_Uri": target},
					{"X-Forwarded-Method": "GET", "X-Forwarded-Uri": target, "X-Original-Method": "GET", "X-Original-Uri": target},
				} {
					s := do("DELETE", "/survey/x", orders, hdr)
					if s == 200 || s == 204 {
						t.Errorf("orders token on survey's route, forging %v: %d", hdr, s)
					}
					// The old file passes the client's X-Forwarded-*: the adapter
					// refuses them (400), which nginx answers with 500.
					if _, forged := hdr["X-Forwarded-Uri"]; forged && name == "old" && s != 500 {
						t.Errorf("old configuration, forging %v: %d, want 500", hdr, s)
					}
				}
			}
			mu.Lock()
			if len(paths) != 0 {
				t.Errorf("the business system got %v; nginx: %s", paths, nginxLog())
			}
			mu.Unlock()
			// The real thing still works.
			if s := do("DELETE", "/survey/x", survey, nil); s != 200 {
				t.Errorf("survey token on survey's route: %d; nginx: %s", s, nginxLog())
			}
			if s := do("GET", "/orders/1", orders, nil); s != 200 {
				t.Errorf("orders token on orders' route: %d", s)
			}
		})
	}
}

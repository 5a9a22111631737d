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

// TestNginxForwardAuthExample runs docs/nginx-forward-auth.conf in a real
// nginx in front of a business system, with the adapter's /auth deciding.
func TestNginxForwardAuthExample(t *testing.T) {
	bin := nginxBinary(t)
	svc := newIssuer(t)
	ctx := context.Background()

	var mu sync.Mutex
	var got http.Header
	business := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		fmt.Fprint(w, `[{"sku":"P-1","name":"Paper"}]`)
	}))
	defer business.Close()

	dir := t.TempDir()
	cfg := filepath.Join(dir, "adapter.yaml")
	os.WriteFile(cfg, []byte(`issuer: {url: http://issuer.test}
routes:
  - name: products
    match: GET /products
    policy: {packages: [`+nOrders+`]}
    upstream: {url: `+business.URL+`}
`), 0o600)
	a, err := adapter.New(ctx, cfg, adapter.Options{Authenticator: serviceAuth{svc}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	gate := httptest.NewServer(a.Handler())
	defer gate.Close()

	conf, err := os.ReadFile("../docs/nginx-forward-auth.conf")
	if err != nil {
		t.Fatal(err)
	}
	front := freeAddr(t)
	text := strings.NewReplacer(
		"127.0.0.1:8090", front,
		"127.0.0.1:8081", strings.TrimPrefix(gate.URL, "http://"),
		"127.0.0.1:9000", strings.TrimPrefix(business.URL, "http://"),
		"/tmp/cardgate-nginx", filepath.Join(dir, "nginx"),
	).Replace(string(conf))
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
	defer func() {
		syscall.Kill(-nginx.Process.Pid, syscall.SIGTERM)
		nginx.Wait()
	}()
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

	get := func(tok string, hdr map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+front+"/products", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
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
	if s := get(orders, map[string]string{"X-Cardgate-User-Id": "00000000-0000-4000-8000-000000000000"}); s != 200 {
		t.Fatalf("good token: %d, want 200; nginx: %s", s, nginxLog())
	}
	mu.Lock()
	defer mu.Unlock()
	if got.Get("X-Cardgate-User-Id") != nAlice || got.Get("X-Cardgate-Package-Id") != nOrders {
		t.Errorf("upstream saw identity %q %q", got.Get("X-Cardgate-User-Id"), got.Get("X-Cardgate-Package-Id"))
	}
	if got.Get("Authorization") != "" {
		t.Error("the token reached the business system")
	}
}

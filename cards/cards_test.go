package cards_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/actionpkg"
	"github.com/cardgate/cardgate/cards"
	"github.com/cardgate/cardgate/issuer"
	"github.com/cardgate/cardgate/keyring"
	"github.com/cardgate/cardgate/seal"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

// withOrdersCard returns a store that holds the testdata orders package,
// imported as `cardgate packages import` does, and the Service over it.
func withOrdersCard(t *testing.T) (cards.Store, *issuer.Service) {
	t.Helper()
	ctx := context.Background()
	store := sqlitetest.Open(t)
	master, _ := seal.ParseKey(seal.GenerateText())
	keys, err := keyring.Open(ctx, keyring.Config{Store: store, Master: master, Issuer: "http://issuer.test"})
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := issuer.NewService(issuer.Config{Issuer: "http://issuer.test", Store: store, Keys: keys, Logger: slog.New(slog.DiscardHandler)})
	pkg, err := actionpkg.Load("../actionpkg/testdata/orders", actionpkg.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ImportPackage(ctx, pkg); err != nil {
		t.Fatal(err)
	}
	return store, svc
}

func TestCardsOrigin(t *testing.T) {
	ctx := context.Background()
	store, svc := withOrdersCard(t)
	srv := httptest.NewServer(cards.NewHandler(store, cards.Options{HostOrigin: "http://127.0.0.1:8080", SDKOrigin: "http://127.0.0.1:8080"}))
	defer srv.Close()

	get := func(path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		res, err := (&http.Transport{}).RoundTrip(req) // no redirects followed, raw path kept
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, body := get("/com.contoso.orders/index.html")
	if res.StatusCode != 200 || !strings.Contains(body, "<title>Order</title>") {
		t.Fatalf("index.html: %d %s", res.StatusCode, body)
	}
	csp := res.Header.Get("Content-Security-Policy")
	// Kaizala's pages run inline code and its SDK evals; framed by their
	// frame page, on their own origin, inside the host.
	for _, want := range []string{"connect-src http://127.0.0.1:8081;", "frame-ancestors 'self' http://127.0.0.1:8080;",
		"default-src 'none'", "script-src 'self' 'unsafe-inline' 'unsafe-eval' http://127.0.0.1:8080;", "form-action 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("Content-Type %q", ct)
	}
	if res, _ := get("/com.contoso.orders/icon.svg"); res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("icon type %q", res.Header.Get("Content-Type"))
	}
	for _, path := range []string{
		"/com.contoso.orders/nope.html",
		"/com.contoso.orders/../../etc/passwd",
		"/com.contoso.orders/%2e%2e/%2e%2e/etc/passwd",
		"/com.contoso.orders/a/..%2fpackage.json",
		"/com.other.card/index.html",
		"/not-a-package/index.html",
		"/",
	} {
		if res, body := get(path); res.StatusCode != 404 || !strings.Contains(body, `"NotFound"`) {
			t.Errorf("%s: %d %s, want a JSON 404", path, res.StatusCode, body)
		}
	}
	// The frame page around the card: the project's own scripts only, the
	// card's connect-src, framed by the host alone.
	res, body = get("/frame/com.contoso.orders/index.html")
	if res.StatusCode != 200 || !strings.Contains(body, `<iframe id="cardgate-card" title="card" src="/com.contoso.orders/index.html">`) ||
		!strings.Contains(body, `<script src="/sdk/web-client.js"></script>`) {
		t.Fatalf("frame page: %d %s", res.StatusCode, body)
	}
	if csp, want := res.Header.Get("Content-Security-Policy"), "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; "+
		"frame-src 'self'; connect-src http://127.0.0.1:8081; frame-ancestors http://127.0.0.1:8080; base-uri 'none'; form-action 'none'"; csp != want {
		t.Errorf("frame page CSP\n%s, want\n%s", csp, want)
	}
	if res, _ := get("/sdk/web-client.js"); res.StatusCode != 200 {
		t.Errorf("web-client.js: %d", res.StatusCode)
	}
	for _, path := range []string{"/frame/com.contoso.orders/nope.html", "/frame/com.other.card/index.html", "/frame/com.contoso.orders/../x",
		"/frame/not-a-package/index.html"} {
		if res, body := get(path); res.StatusCode != 404 || !strings.Contains(body, `"NotFound"`) {
			t.Errorf("%s: %d %s, want a JSON 404", path, res.StatusCode, body)
		}
	}
	// A disabled card is not served, nor its frame page.
	svc.SetPackageDisabled(ctx, "com.contoso.orders", true)
	for _, path := range []string{"/com.contoso.orders/index.html", "/frame/com.contoso.orders/index.html"} {
		if res, _ := get(path); res.StatusCode != 404 {
			t.Errorf("disabled card: %s: %d", path, res.StatusCode)
		}
	}
}

func TestPolicyWithoutExternalURLs(t *testing.T) {
	csp := cards.Policy(&actionpkg.Manifest{}, cards.Options{})
	if !strings.Contains(csp, "connect-src 'none';") || !strings.Contains(csp, "frame-ancestors 'none';") {
		t.Errorf("CSP %q: want connect-src and frame-ancestors 'none'", csp)
	}
}

// A Kaizala page is served with the compatibility script after its SDK;
// the package as stored, and every other file, stay as imported.
func TestKaizalaPageServedWithCompat(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"package.json": `{"id": "com.contoso.kaizala", "schemaVersion": 1, "displayName": "K", "description": "A Kaizala page", "version": "1", "providerName": "Contoso",
			"views": {"CreationView": {"sourceLocation": "page.html"}}}`,
		"page.html":    "<html><head><script type=\"text/javascript\" src=\"KASClient.js\"></script>\r\n<script>x()</script></head><body onload=\"go()\"></body></html>",
		"KASClient.js": "var KASClient; // <script src=\"KASClient.js\"></script>",
		"plain.html":   "<p>no SDK</p>",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	store, svc := withOrdersCard(t)
	pkg, err := actionpkg.Load(dir, actionpkg.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ImportPackage(ctx, pkg); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(cards.NewHandler(store, cards.Options{HostOrigin: "http://127.0.0.1:8080"}))
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	const compat = `<script src="/sdk/kaizala-compat.js"></script>`
	_, page := get("/com.contoso.kaizala/page.html")
	if want := "<html><head><script type=\"text/javascript\" src=\"KASClient.js\"></script>" + compat + "\r\n<script>x()</script></head><body onload=\"go()\"></body></html>"; page != want {
		t.Errorf("served page:\n%s\nwant\n%s", page, want)
	}
	for _, name := range []string{"page.html", "KASClient.js", "plain.html"} {
		stored, err := store.PackageFile(ctx, "com.contoso.kaizala", name)
		if err != nil || string(stored) != string(pkg.Files[name]) {
			t.Errorf("stored %s: %q %v, want the imported bytes", name, stored, err)
		}
	}
	for _, name := range []string{"KASClient.js", "plain.html"} {
		if _, body := get("/com.contoso.kaizala/" + name); body != string(pkg.Files[name]) {
			t.Errorf("%s served as %q, want it as imported", name, body)
		}
	}
	if res, body := get("/sdk/kaizala-compat.js"); res.StatusCode != 200 || !strings.Contains(body, "excecuteCommand") ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("/sdk/kaizala-compat.js: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

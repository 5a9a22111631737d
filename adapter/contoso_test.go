package adapter_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cardgate/cardgate/adapter"
	"github.com/cardgate/cardgate/examples/contoso-products/contoso"
)

// TestAdapterInFrontOfContoso runs the adapter with a real issuer in front
// of the demo's business system: the catalogue with its API key, orders
// with an OAuth 2.0 client-credentials token the adapter fetches once.
func TestAdapterInFrontOfContoso(t *testing.T) {
	ctx := context.Background()
	svc := newIssuer(t)
	sys := contoso.New(contoso.Config{APIKey: "contoso-key-7731", ClientID: "cardgate-adapter", ClientSecret: "contoso-secret-9912"})
	up := httptest.NewServer(sys.Handler())
	defer up.Close()

	dir := t.TempDir()
	cfg := filepath.Join(dir, "adapter.yaml")
	os.WriteFile(cfg, []byte(`issuer: {url: http://issuer.test}
routes:
  - name: products
    match: GET /products
    policy: {packages: [`+nOrders+`]}
    upstream: {url: `+up.URL+`/api}
    credential: {type: header, header: X-Api-Key, value: env:CONTOSO_API_KEY}
  - name: orders
    match: POST /orders
    policy: {packages: [`+nOrders+`]}
    upstream: {url: `+up.URL+`/api}
    credential:
      type: oauth2-client-credentials
      tokenUrl: `+up.URL+`/oauth2/token
      clientId: cardgate-adapter
      clientSecret: env:CONTOSO_CLIENT_SECRET
`), 0o600)
	env := map[string]string{"CONTOSO_API_KEY": "contoso-key-7731", "CONTOSO_CLIENT_SECRET": "contoso-secret-9912"}
	a, err := adapter.New(ctx, cfg, adapter.Options{
		Authenticator: serviceAuth{svc},
		LookupEnv:     func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	gate := httptest.NewServer(a.Handler())
	defer gate.Close()

	tok, _, _ := svc.Mint(ctx, nAlice, nOrders)
	call := func(method, path, body string, hdr map[string]string) (int, string) {
		req, _ := http.NewRequest(method, gate.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if s, body := call("GET", "/products", "", nil); s != 200 || !strings.Contains(body, "P-100") {
		t.Fatalf("products: %d %s", s, body)
	}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A client trying to order as someone else is ignored.
			s, body := call("POST", "/orders", fmt.Sprintf(`{"sku":"P-200","quantity":%d}`, i%5+1),
				map[string]string{"X-Cardgate-User-Id": "00000000-0000-4000-8000-000000000000"})
			if s != 201 {
				t.Errorf("order: %d %s", s, body)
			}
		}()
	}
	wg.Wait()
	if n := sys.TokenCalls(); n != 1 {
		t.Errorf("token endpoint called %d times for 100 orders, want 1", n)
	}
	orders := sys.Orders()
	if len(orders) != 100 {
		t.Fatalf("%d orders recorded, want 100", len(orders))
	}
	for _, o := range orders {
		if o.UserID != nAlice || o.ActionPackageID != nOrders {
			t.Fatalf("order recorded for %s/%s, want %s/%s", o.UserID, o.ActionPackageID, nAlice, nOrders)
		}
	}
}

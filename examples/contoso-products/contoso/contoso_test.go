package contoso_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/examples/contoso-products/contoso"
)

func TestOnlyItsOwnCredentials(t *testing.T) {
	sys := contoso.New(contoso.Config{APIKey: "k-123", ClientID: "cardgate", ClientSecret: "s-456"})
	srv := httptest.NewServer(sys.Handler())
	defer srv.Close()
	do := func(method, path string, hdr map[string]string, body string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := do("GET", "/api/products", nil, ""); s != 401 {
		t.Errorf("no key: %d", s)
	}
	if s := do("GET", "/api/products", map[string]string{"X-Api-Key": "k-999"}, ""); s != 401 {
		t.Errorf("wrong key: %d", s)
	}
	if s := do("GET", "/api/products", map[string]string{"X-Api-Key": "k-123"}, ""); s != 200 {
		t.Errorf("right key: %d", s)
	}
	// The API key is not an order token.
	if s := do("POST", "/api/orders", map[string]string{"Authorization": "Bearer k-123"}, `{"sku":"P-100","quantity":1}`); s != 401 {
		t.Errorf("API key as bearer: %d", s)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"cardgate"}, "client_secret": {"wrong"}}.Encode()
	if s := do("POST", "/oauth2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form); s != 401 {
		t.Errorf("wrong client secret: %d", s)
	}
}

func TestBackOfficeIsOffUnlessAskedFor(t *testing.T) {
	for _, open := range []bool{false, true} {
		srv := httptest.NewServer(contoso.New(contoso.Config{APIKey: "k", ClientID: "c", ClientSecret: "s", OpenBackOffice: open}).Handler())
		res, err := http.Get(srv.URL + "/backoffice/orders")
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if want := map[bool]int{false: 404, true: 200}[open]; res.StatusCode != want {
			t.Errorf("OpenBackOffice %v: GET /backoffice/orders = %d, want %d", open, res.StatusCode, want)
		}
	}
}

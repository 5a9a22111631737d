package cards_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/cards"
)

func TestOrigins(t *testing.T) {
	o, err := cards.ParseOrigins("http://cards.localhost:8082")
	if err != nil {
		t.Fatal(err)
	}
	orders, survey := o.For("com.contoso.orders"), o.For("com.contoso.survey")
	if !strings.HasPrefix(orders, "http://com-contoso-orders-") || !strings.HasSuffix(orders, ".cards.localhost:8082") || orders == survey {
		t.Fatalf("origins %s and %s: want one subdomain per package", orders, survey)
	}
	if o.Sources() != "http://*.cards.localhost:8082" {
		t.Errorf("Sources = %s", o.Sources())
	}
	// IDs that read alike get different origins; every label is one valid
	// DNS label.
	seen := map[string]string{}
	for _, id := range []string{"com.a_b", "com.a-b", "Com.A-B", "com.a.b",
		"com." + strings.Repeat("x", 60), "com." + strings.Repeat("x", 59) + "y"} {
		l := cards.Label(id)
		if len(l) > 63 || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			t.Errorf("Label(%q) = %q: not a DNS label", id, l)
		}
		if other, dup := seen[l]; dup {
			t.Errorf("%q and %q share the label %s", id, other, l)
		}
		seen[l] = id
	}

	shared, err := cards.ParseOrigins("http://127.0.0.1:8082")
	if err != nil || shared.PerPackage() || shared.For("com.contoso.orders") != "http://127.0.0.1:8082" {
		t.Errorf("an IP cards URL: %v %v %s; want one shared origin", err, shared.PerPackage(), shared.For("com.contoso.orders"))
	}
	for _, bad := range []string{"cards.example.com", "ftp://cards.example.com", "https://cards.example.com/path", "https://u:p@cards.example.com"} {
		if _, err := cards.ParseOrigins(bad); err == nil {
			t.Errorf("ParseOrigins(%q) accepted", bad)
		}
	}
}

// Each card answers on its own origin only: one card's page cannot be
// loaded into another card's origin, where it would share its storage.
func TestPerPackageOrigins(t *testing.T) {
	store, _ := withOrdersCard(t)
	origins, _ := cards.ParseOrigins("http://cards.localhost:8082")
	srv := httptest.NewServer(cards.NewHandler(store, cards.Options{HostOrigin: "http://127.0.0.1:8080", Origins: origins}))
	defer srv.Close()
	get := func(host string, path ...string) int {
		p := "/com.contoso.orders/index.html"
		if len(path) > 0 {
			p = path[0]
		}
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	own := strings.TrimPrefix(origins.For("com.contoso.orders"), "http://")
	if s := get(own); s != 200 {
		t.Errorf("on its own origin: %d", s)
	}
	if s := get(own, "/frame/com.contoso.orders/index.html"); s != 200 {
		t.Errorf("frame page on its own origin: %d", s)
	}
	// Nor is its frame page served elsewhere: another card's origin cannot
	// hold this card's frame, nor its bridge.
	for _, host := range []string{strings.TrimPrefix(origins.For("com.contoso.survey"), "http://"), "cards.localhost:8082", "127.0.0.1:8082"} {
		for _, path := range []string{"/com.contoso.orders/index.html", "/frame/com.contoso.orders/index.html"} {
			if s := get(host, path); s != 404 {
				t.Errorf("%s on %s: %d, want 404", path, host, s)
			}
		}
	}
}

func TestCheckApart(t *testing.T) {
	for _, tc := range []struct {
		cards, host string
		secure      bool
		err         string
	}{
		{"http://127.0.0.1:8082", "http://127.0.0.1:8080", false, "own host name, 127.0.0.1: cookies ignore the port"},
		{"https://cards.example.com", "https://cards.example.com:8443", true, "own host name"},
		{"http://cards.localhost:8082", "http://127.0.0.1:8080", false, ""},
		{"http://cards.localhost:8082", "http://localhost:8080", false, ""}, // Chromium refuses Domain=localhost
		{"http://127.0.0.1:8082", "http://localhost:8080", false, ""},
		{"http://cards.example.com", "http://app.example.com", false, "shares the domain example.com"},
		{"http://cards.example.com", "http://example.com", false, "shares the domain example.com"},
		{"http://cards.app.example.com", "http://app.example.com", false, "shares the domain app.example.com"},
		{"https://cards.example.com", "https://app.example.com", true, ""},
		{"https://cards.example.net", "https://app.example.com", false, ""},
	} {
		o, err := cards.ParseOrigins(tc.cards)
		if err != nil {
			t.Fatal(err)
		}
		err = o.CheckApart(tc.host, tc.secure)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("cards %s, host %s: %v; want %q", tc.cards, tc.host, err, tc.err)
		}
	}
}

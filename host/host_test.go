package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/actionpkg"
	"github.com/cardgate/cardgate/cards"
	"github.com/cardgate/cardgate/host"
	"github.com/cardgate/cardgate/issuer"
	"github.com/cardgate/cardgate/keyring"
	"github.com/cardgate/cardgate/ratelimit"
	"github.com/cardgate/cardgate/seal"
	"github.com/cardgate/cardgate/signin"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

const (
	alice       = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"
	alicePhone  = "+14155550101"
	orders      = "com.contoso.orders"
	tokensOnly  = "com.contoso.backend"
	cardsOrigin = "http://127.0.0.2:8082" // never on the host's host name
)

type outbox struct {
	mu    sync.Mutex
	codes map[string]string
}

func (o *outbox) SendCode(_ context.Context, phone, code string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.codes[phone] = code
	return nil
}

type env struct {
	srv    *httptest.Server
	svc    *issuer.Service
	store  cardgate.Store
	out    *outbox
	signin *signin.Service
}

// code is the last code sent to phone, once the background sends are done.
func (e *env) code(phone string) string {
	e.signin.Wait()
	e.out.mu.Lock()
	defer e.out.mu.Unlock()
	return e.out.codes[phone]
}

func newEnv(t testing.TB, demo bool) *env {
	t.Helper()
	return newEnvWith(t, demo, cardsOrigin)
}

func newEnvWith(t testing.TB, demo bool, cardsURL string, tweaks ...func(*host.Config, *signin.Config)) *env {
	t.Helper()
	ctx := context.Background()
	store := sqlitetest.Open(t)
	master, _ := seal.ParseKey(seal.GenerateText())
	srv := httptest.NewUnstartedServer(nil)
	iss := "http://" + srv.Listener.Addr().String()
	keys, err := keyring.Open(ctx, keyring.Config{Store: store, Master: master, Issuer: iss})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := issuer.NewService(issuer.Config{Issuer: iss, Store: store, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.CreateUser(ctx, &cardgate.User{ID: alice, Name: "Alice", PhoneNumber: alicePhone}); err != nil {
		t.Fatal(err)
	}
	p, err := actionpkg.Load("../actionpkg/testdata/orders", actionpkg.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ImportPackage(ctx, p); err != nil {
		t.Fatal(err)
	}
	// A package registered for tokens but never imported is no card.
	if err := svc.CreatePackage(ctx, &cardgate.ActionPackage{ID: tokensOnly, DisplayName: "Backend"}); err != nil {
		t.Fatal(err)
	}
	out := &outbox{codes: map[string]string{}}
	scfg := signin.Config{Store: store, Sender: out, CodeKey: master.Derive("signin codes")}
	origins, err := cards.ParseOrigins(cardsURL)
	if err != nil {
		t.Fatal(err)
	}
	hcfg := host.Config{Store: store, Minter: svc, Cards: origins, Origins: []string{iss}, Demo: demo,
		API: issuer.NewHandler(svc, issuer.HandlerOptions{})}
	for _, tw := range tweaks {
		tw(&hcfg, &scfg)
	}
	si, err := signin.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	hcfg.SignIn = si
	svc.OnInvalidate(si.Invalidate) // as cli does
	h, err := host.NewHandler(hcfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{srv: srv, svc: svc, store: store, out: out, signin: si}
}

// client is a browser: it keeps cookies and sends what the host's page
// sends.
type client struct {
	t   testing.TB
	e   *env
	c   *http.Client
	hdr map[string]string
}

func (e *env) browser(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, e: e, c: &http.Client{Jar: jar}, hdr: map[string]string{"Origin": e.srv.URL, "Sec-Fetch-Site": "same-origin"}}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (a answer) message() string {
	e, _ := a.body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func (c *client) call(method, path string, body any) answer {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.e.srv.URL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.hdr {
		req.Header.Set(k, v)
	}
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header, raw: string(raw)}
	json.Unmarshal(raw, &a.body)
	return a
}

func (c *client) signIn() {
	c.t.Helper()
	if a := c.call("POST", "/host/api/signin/code", map[string]string{"phoneNumber": alicePhone}); a.status != 202 {
		c.t.Fatalf("send code: %d %s", a.status, a.raw)
	}
	code := c.e.code(alicePhone)
	if a := c.call("POST", "/host/api/signin", map[string]string{"phoneNumber": alicePhone, "code": code}); a.status != 200 {
		c.t.Fatalf("sign in: %d %s", a.status, a.raw)
	}
}

func TestSignInAndMint(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser(t)
	if a := b.call("GET", "/host/api/me", nil); a.status != 401 {
		t.Fatalf("me before sign-in: %d", a.status)
	}
	if a := b.call("POST", "/host/api/tokens", map[string]string{"actionPackageId": orders}); a.status != 401 {
		t.Fatalf("mint before sign-in: %d", a.status)
	}
	b.signIn()

	a := b.call("GET", "/host/api/me", nil)
	cards, _ := a.body["cards"].([]any)
	if a.status != 200 || len(cards) != 1 {
		t.Fatalf("me: %d %s; want Alice with one card (the package with no files is no card)", a.status, a.raw)
	}
	card := cards[0].(map[string]any)
	if card["id"] != orders || card["url"] != cardsOrigin+"/frame/"+orders+"/index.html" || card["iconUrl"] != cardsOrigin+"/"+orders+"/icon.svg" ||
		card["origin"] != cardsOrigin {
		t.Errorf("card = %v", card)
	}

	// The token result has the shape the SDK's golden file pins.
	a = b.call("POST", "/host/api/tokens", map[string]string{"actionPackageId": orders})
	if a.status != 201 || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("mint: %d %s", a.status, a.raw)
	}
	golden, err := os.ReadFile("../sdk/js/testdata/wire/token-result.json")
	if err != nil {
		t.Fatal(err)
	}
	var wire struct{ Result map[string]any }
	json.Unmarshal(golden, &wire)
	if got, want := keys(a.body), keys(wire.Result); got != want {
		t.Errorf("token result fields %s, want %s as in token-result.json", got, want)
	}
	id, _, err := e.svc.Check(context.Background(), a.body["token"].(string))
	if err != nil || id.UserID != alice || id.ActionPackageID != orders {
		t.Fatalf("minted token: %+v, %v", id, err)
	}

	for _, tc := range []struct {
		pkg    string
		status int
		msg    string
	}{
		{"not a package", 400, "actionPackageId: must be in reverse-DNS form"},
		{"com.contoso.nothing", 404, "no card com.contoso.nothing is installed"},
		{tokensOnly, 404, "no card " + tokensOnly},
	} {
		if a := b.call("POST", "/host/api/tokens", map[string]string{"actionPackageId": tc.pkg}); a.status != tc.status || !strings.Contains(a.message(), tc.msg) {
			t.Errorf("mint for %q: %d %q, want %d %q", tc.pkg, a.status, a.message(), tc.status, tc.msg)
		}
	}
	if err := e.svc.SetPackageDisabled(context.Background(), orders, true); err != nil {
		t.Fatal(err)
	}
	if a := b.call("POST", "/host/api/tokens", map[string]string{"actionPackageId": orders}); a.status != 403 {
		t.Errorf("mint for a disabled card: %d %s", a.status, a.raw)
	}

	// Signing out ends the session on the server, not just in the browser.
	cookie := sessionCookie(t, b, e)
	if a := b.call("POST", "/host/api/signout", map[string]string{}); a.status != 204 {
		t.Fatalf("sign out: %d", a.status)
	}
	replay := e.browser(t)
	replay.c.Jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{cookie})
	if a := replay.call("GET", "/host/api/me", nil); a.status != 401 {
		t.Fatalf("the signed-out session still works: %d", a.status)
	}
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

func sessionCookie(t *testing.T, b *client, e *env) *http.Cookie {
	t.Helper()
	for _, c := range b.c.Jar.Cookies(mustURL(e.srv.URL)) {
		if c.Name == "cardgate_session" {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func TestSessionCookie(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser(t)
	b.call("POST", "/host/api/signin/code", map[string]string{"phoneNumber": alicePhone})
	a := b.call("POST", "/host/api/signin", map[string]string{"phoneNumber": alicePhone, "code": e.code(alicePhone)})
	set := ownCookie(a.header)
	for _, want := range []string{"cardgate_session=cgs_", "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("Set-Cookie %q: Secure on plain HTTP would be dropped by the browser", set)
	}
	if strings.Contains(a.raw, "cgs_") {
		t.Error("the session token is in the response body, where scripts can read it")
	}

	// Over TLS the cookie is Secure and __Host- prefixed.
	ts := httptest.NewTLSServer(e.srv.Config.Handler)
	defer ts.Close()
	c := ts.Client()
	req, _ := http.NewRequest("POST", ts.URL+"/host/api/demo/signin", strings.NewReader(`{"userId":"`+alice+`"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("demo sign-in outside demo mode: %d, want 404", res.StatusCode)
	}
	req, _ = http.NewRequest("POST", ts.URL+"/host/api/signin/code", strings.NewReader(`{"phoneNumber":"`+alicePhone+`"}`))
	req.Header.Set("Content-Type", "application/json")
	res, _ = c.Do(req)
	res.Body.Close()
	req, _ = http.NewRequest("POST", ts.URL+"/host/api/signin", strings.NewReader(`{"phoneNumber":"`+alicePhone+`","code":"`+e.code(alicePhone)+`"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if set := ownCookie(res.Header); !strings.HasPrefix(set, "__Host-cardgate_session=") || !strings.Contains(set, "Secure") {
		t.Errorf("over TLS: Set-Cookie %q, want a Secure __Host- cookie", set)
	}
}

// ownCookie is the Set-Cookie line of the session itself, on path /, among
// those that clear strays.
func ownCookie(h http.Header) string {
	for _, c := range h.Values("Set-Cookie") {
		if strings.Contains(c, "Path=/;") && !strings.Contains(c, "Domain=") {
			return c
		}
	}
	return ""
}

func TestSignInErrors(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser(t)
	if a := b.call("POST", "/host/api/signin/code", map[string]string{"phoneNumber": "12"}); a.status != 400 || !strings.Contains(a.message(), "phoneNumber") {
		t.Errorf("bad number: %d %q", a.status, a.message())
	}
	// Unknown and known numbers get the same answer.
	unknown := b.call("POST", "/host/api/signin/code", map[string]string{"phoneNumber": "+14155550199"})
	known := b.call("POST", "/host/api/signin/code", map[string]string{"phoneNumber": alicePhone})
	if unknown.status != 202 || unknown.raw != known.raw {
		t.Errorf("unknown number: %d %s; known: %d %s", unknown.status, unknown.raw, known.status, known.raw)
	}
	code := e.code(alicePhone)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 4; i >= 1; i-- {
		a := b.call("POST", "/host/api/signin", map[string]string{"phoneNumber": alicePhone, "code": wrong})
		if a.status != 401 || !strings.Contains(a.message(), "tries left") && !strings.Contains(a.message(), "try left") {
			t.Fatalf("wrong code: %d %q", a.status, a.message())
		}
	}
	b.call("POST", "/host/api/signin", map[string]string{"phoneNumber": alicePhone, "code": wrong})
	a := b.call("POST", "/host/api/signin", map[string]string{"phoneNumber": alicePhone, "code": code})
	if a.status != 429 || !strings.Contains(a.message(), "too many wrong codes") {
		t.Errorf("right code after five wrong ones: %d %q", a.status, a.message())
	}
	// Codes per number are limited: three in ten minutes (one is spent).
	b.call("POST", "/host/api/signin/code", map[string]string{"phoneNumber": alicePhone})
	b.call("POST", "/host/api/signin/code", map[string]string{"phoneNumber": alicePhone})
	a = b.call("POST", "/host/api/signin/code", map[string]string{"phoneNumber": alicePhone})
	if a.status != 429 || a.header.Get("Retry-After") == "" || !strings.Contains(a.message(), "too many codes sent to this number") {
		t.Errorf("fourth code: %d Retry-After %q %q", a.status, a.header.Get("Retry-After"), a.message())
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, true)
	port := mustURL(e.srv.URL).Port()
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		ct   string
	}{
		{"a form post from a card", map[string]string{"Origin": cardsOrigin, "Sec-Fetch-Site": "same-site"}, "application/json"},
		{"another site", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, "application/json"},
		{"an old browser from another origin", map[string]string{"Origin": "https://evil.example"}, "application/json"},
		{"a form", map[string]string{}, "application/x-www-form-urlencoded"},
		// A page whose DNS name was rebound to the host's address: to the
		// browser it is same-origin, and it names itself in Host too.
		{"a rebound DNS name", map[string]string{"Host": "rebound.evil.example:" + port, "Origin": "http://rebound.evil.example:" + port,
			"Sec-Fetch-Site": "same-origin"}, "application/json"},
		{"two Origins", map[string]string{"Origin2": e.srv.URL + ",https://evil.example"}, "application/json"},
		{"two Content-Types", map[string]string{"CT2": "application/json,application/x-www-form-urlencoded"}, "application/json"},
	} {
		req, _ := http.NewRequest("POST", e.srv.URL+"/host/api/demo/signin", strings.NewReader(`{"userId":"`+alice+`"}`))
		req.Header.Set("Content-Type", tc.ct)
		for k, v := range tc.hdr {
			switch k {
			case "Host":
				req.Host = v
			case "Origin2":
				req.Header["Origin"] = strings.Split(v, ",")
			case "CT2":
				req.Header["Content-Type"] = strings.Split(v, ",")
			default:
				req.Header.Set(k, v)
			}
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode/100 != 4 || res.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: %d, Set-Cookie %q; want refused", tc.name, res.StatusCode, res.Header.Get("Set-Cookie"))
		}
	}
	// The host's own page is let through.
	b := e.browser(t)
	if a := b.call("POST", "/host/api/demo/signin", map[string]string{"userId": alice}); a.status != 200 {
		t.Fatalf("demo sign-in from the host page: %d %s", a.status, a.raw)
	}
	// Neither header: not a browser's request (curl, a script), which
	// passes the CSRF check.
	res, err := http.Post(e.srv.URL+"/host/api/signin/code", "application/json", strings.NewReader(`{"phoneNumber":"+14155550199"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Errorf("a request without Origin and Sec-Fetch-Site: %d, want 202", res.StatusCode)
	}
}

func TestPageAndAssets(t *testing.T) {
	e := newEnv(t, true)
	res, err := http.Get(e.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	if res.StatusCode != 200 || !strings.Contains(string(body), `<meta name="cardgate-demo" content="true">`) {
		t.Fatalf("GET /: %d\n%s", res.StatusCode, body)
	}
	// Unchanged by Kaizala's cards, which run inline code on their own
	// origins: the host's page runs none.
	if want := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: " + cardsOrigin + "; frame-src " + cardsOrigin +
		"; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"; csp != want {
		t.Errorf("the page's CSP\n%s, want\n%s", csp, want)
	}
	for path, status := range map[string]int{
		"/host/app.js": 200, "/host/host-bridge.js": 200, "/host/kaizala-host.js": 200, "/sdk/cardgate.js": 200,
		"/host/index.html": 404, "/host/nope.js": 404,
		"/.well-known/jwks.json": 200, // the Integration Service's API shares the origin
	} {
		res, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != status {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, status)
		}
	}
	// The demo's picker lists the users; outside demo mode it is not there.
	b := e.browser(t)
	if a := b.call("GET", "/host/api/demo/users", nil); a.status != 200 || !strings.Contains(a.raw, alice) {
		t.Errorf("demo users: %d %s", a.status, a.raw)
	}
	plain := newEnv(t, false).browser(t)
	if a := plain.call("GET", "/host/api/demo/users", nil); a.status != 404 {
		t.Errorf("demo users outside demo mode: %d", a.status)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, false)
	post := func(body string) answer {
		req, _ := http.NewRequest("POST", e.srv.URL+"/host/api/signin", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		a := answer{status: res.StatusCode, raw: string(raw)}
		json.Unmarshal(raw, &a.body)
		return a
	}
	for _, tc := range []struct {
		body, msg string
		status    int
	}{
		{`{"phoneNumber":`, "body", 400},
		{`{"phoneNumber":"+14155550101","code":"123456","admin":true}`, "admin", 400},
		{`{"phoneNumber":"` + strings.Repeat("1", 4096) + `"}`, "larger than", 413},
		{`{"phoneNumber":"+14155550101","code":"12ab56"}`, "code: must be the 6 digits", 400},
	} {
		if a := post(tc.body); a.status != tc.status || !strings.Contains(a.message(), tc.msg) {
			t.Errorf("%.40s: %d %q, want %d %q", tc.body, a.status, a.message(), tc.status, tc.msg)
		}
	}
}

// With a named cards URL each card has an origin of its own, and the page
// may frame any of them and nothing else.
func TestPerPackageCardOrigins(t *testing.T) {
	e := newEnvWith(t, true, "http://cards.localhost:8082")
	b := e.browser(t)
	if a := b.call("POST", "/host/api/demo/signin", map[string]string{"userId": alice}); a.status != 200 {
		t.Fatal(a.raw)
	}
	a := b.call("GET", "/host/api/me", nil)
	card := a.body["cards"].([]any)[0].(map[string]any)
	want := "http://" + cards.Label(orders) + ".cards.localhost:8082"
	if card["origin"] != want || card["url"] != want+"/frame/"+orders+"/index.html" {
		t.Errorf("card = %v, want it on %s", card, want)
	}
	res, err := http.Get(e.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-src http://*.cards.localhost:8082;") {
		t.Errorf("CSP %q: want frame-src of the cards' subdomains", csp)
	}
}

// Behind a trusted proxy the per-address limit keys on the client the proxy
// names; a client cannot pick its key by writing the header itself.
func TestTrustedProxies(t *testing.T) {
	e := newEnvWith(t, false, cardsOrigin, func(h *host.Config, s *signin.Config) {
		h.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		s.ClientLimit = ratelimit.Per(2, time.Hour, 2)
	})
	send := func(xff string) int {
		b := e.browser(t)
		b.hdr["X-Forwarded-For"] = xff
		return b.call("POST", "/host/api/signin/code", map[string]string{"phoneNumber": "+14155550199"}).status
	}
	// Client A spends its two; the proxy's own address is skipped.
	for range 2 {
		if s := send("198.51.100.7, 127.0.0.1"); s != 202 {
			t.Fatalf("client A: %d", s)
		}
	}
	if s := send("198.51.100.7"); s != 429 {
		t.Fatalf("client A, third time: %d, want 429", s)
	}
	// Client B behind the same proxy has its own bucket, even when it puts
	// client A's address in front (that part it wrote itself).
	if s := send("198.51.100.7, 198.51.100.8"); s != 202 {
		t.Fatalf("client B: %d, want its own limit", s)
	}

	// Without trusted proxies the header is the client's own word: ignored.
	e = newEnvWith(t, false, cardsOrigin, func(h *host.Config, s *signin.Config) {
		s.ClientLimit = ratelimit.Per(2, time.Hour, 2)
	})
	send("198.51.100.1")
	send("198.51.100.2")
	if s := send("198.51.100.3"); s != 429 {
		t.Fatalf("a made-up X-Forwarded-For escaped the limit: %d", s)
	}
}

// The host's sign-in answers, status and body, are the same for a number
// with an account and one without, at every step.
func TestSignInAnswersAlike(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser(t)
	step := func(name, path string, body func(phone string) map[string]string) {
		t.Helper()
		known := b.call("POST", path, body(alicePhone))
		unknown := b.call("POST", path, body("+14155550199"))
		if known.status != unknown.status || known.raw != unknown.raw {
			t.Fatalf("%s: %d %s for a number with an account, %d %s without", name, known.status, known.raw, unknown.status, unknown.raw)
		}
	}
	wrong := func(phone string) map[string]string {
		code := "000000"
		if e.code(alicePhone) == code {
			code = "111111"
		}
		return map[string]string{"phoneNumber": phone, "code": code}
	}
	step("a code before any was sent", "/host/api/signin", wrong)
	step("asking for a code", "/host/api/signin/code", func(p string) map[string]string { return map[string]string{"phoneNumber": p} })
	for i := range 6 {
		step(fmt.Sprintf("wrong code %d", i+1), "/host/api/signin", wrong)
	}
}

// A page on the host's host name (cookies ignore the port) can toss in a
// session cookie of its own on a longer path, which the browser sends
// first. A request with two session cookies is refused, and every copy is
// cleared, so that the viewer never acts as the tosser.
func TestTossedSessionCookie(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	const bob = "0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40"
	if err := e.svc.CreateUser(ctx, &cardgate.User{ID: bob, Name: "Bob", PhoneNumber: "+14155550102"}); err != nil {
		t.Fatal(err)
	}
	attacker, err := e.signin.NewSession(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.signIn()
	own := sessionCookie(t, b, e).Value
	for _, path := range []string{"/host/api/me", "/host/api/tokens"} {
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		if path == "/host/api/tokens" {
			req, _ = http.NewRequest("POST", e.srv.URL+path, strings.NewReader(`{"actionPackageId":"`+orders+`"}`))
			req.Header.Set("Content-Type", "application/json")
		}
		// What the browser sends: the longer path's cookie first.
		req.Header.Set("Cookie", "cardgate_session="+attacker.Token+"; cardgate_session="+own)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 401 || !strings.Contains(string(raw), "more than one session cookie") {
			t.Fatalf("%s with a tossed cookie: %d %s; want 401", path, res.StatusCode, raw)
		}
		cleared := map[string]bool{}
		for _, c := range res.Cookies() {
			if c.Name == "cardgate_session" && c.Value == "" && c.MaxAge < 0 && c.Domain == "" {
				cleared[c.Path] = true
			}
		}
		for _, p := range []string{"/", "/host", "/host/", "/host/api", "/host/api/", "/host/api/me", "/host/api/tokens", "/host/api/signin"} {
			if !cleared[p] {
				t.Errorf("%s: the cookie is not cleared on path %s (cleared: %v)", path, p, cleared)
			}
		}
	}
	// On a host name, the copies a subdomain page could have set for the
	// host's name or a parent domain are cleared too.
	req, _ := http.NewRequest("GET", e.srv.URL+"/host/api/me", nil)
	req.Host = "app.example.com"
	req.Header.Set("Cookie", "cardgate_session="+attacker.Token+"; cardgate_session="+own)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	domains := map[string]bool{}
	for _, c := range res.Cookies() {
		if c.Path == "/host/api" {
			domains[c.Domain] = true
		}
	}
	if res.StatusCode != 401 || !domains[""] || !domains["app.example.com"] || !domains["example.com"] || domains["com"] {
		t.Errorf("on app.example.com: %d, /host/api cleared for domains %v; want host-only, app.example.com and example.com", res.StatusCode, domains)
	}

	// Signing out ends every session the request names.
	b2 := e.browser(t)
	b2.signIn()
	mine := sessionCookie(t, b2, e).Value
	b2.hdr["Cookie"] = "cardgate_session=" + attacker.Token
	if a := b2.call("POST", "/host/api/signout", map[string]string{}); a.status != 204 {
		t.Fatalf("sign out: %d %s", a.status, a.raw)
	}
	for _, tok := range []string{mine, attacker.Token} {
		if _, err := e.signin.Lookup(ctx, tok); err == nil {
			t.Error("a session named by the signed-out request still works")
		}
	}

	// Signing in clears strays on every other path too.
	b.call("POST", "/host/api/signin/code", map[string]string{"phoneNumber": alicePhone})
	a := b.call("POST", "/host/api/signin", map[string]string{"phoneNumber": alicePhone, "code": e.code(alicePhone)})
	var set []string
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		set = append(set, c.Path+"="+c.Value)
	}
	if !slices.Contains(set, "/host/api=") || !slices.ContainsFunc(set, func(s string) bool { return strings.HasPrefix(s, "/=cgs_") }) {
		t.Errorf("sign-in sets %v; want the session on / and every other path cleared", set)
	}
}

// The host refuses cards that could set its cookies: on its own host name
// (whatever the port), or on its site over plain HTTP.
func TestCardsApartFromTheHost(t *testing.T) {
	origins, _ := cards.ParseOrigins("http://127.0.0.1:8082")
	_, err := host.NewHandler(host.Config{Cards: origins, Origins: []string{"http://127.0.0.1:8080"}})
	if err == nil || !strings.Contains(err.Error(), "on the card host's own host name") {
		t.Fatalf("cards on the host's host name: %v", err)
	}
	origins, _ = cards.ParseOrigins("http://cards.example.com")
	_, err = host.NewHandler(host.Config{Cards: origins, Origins: []string{"http://app.example.com"}})
	if err == nil || !strings.Contains(err.Error(), "over plain HTTP") {
		t.Fatalf("cards on the host's site over plain HTTP: %v", err)
	}
	if _, err = host.NewHandler(host.Config{Cards: origins, Origins: []string{"https://app.example.com"}}); err != nil {
		t.Fatalf("over TLS: %v", err)
	}
}

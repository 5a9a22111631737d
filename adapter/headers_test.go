package adapter

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestUnderscoreHeadersDropped: CGI, WSGI, PHP and Rack read "_" and "-"
// alike, so a header named X_Cardgate_User_Id would stand beside (or
// instead of) the adapter's X-Cardgate-User-Id. No header whose name holds
// anything but letters, digits and "-" may reach the upstream.
func TestUnderscoreHeadersDropped(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	status, body := rawRequest(t, addr, "GET /products/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-alice\r\n"+
		"X_Cardgate_User_Id: forged-1\r\n"+
		"x_cardgate_package_id: forged-2\r\n"+
		"X-Cardgate_User-Id: forged-3\r\n"+
		"x_api_key: forged-4\r\n"+
		"access_token: tok-bob\r\n"+
		"Access_Token: tok-bob\r\n"+
		"X.Cardgate.User.Id: forged-5\r\n"+
		"X-Kept: yes\r\n"+
		"Connection: close\r\n\r\n")
	if status != 200 {
		t.Fatalf("status %d %s", status, body)
	}
	s := decodeSeen(t, body)
	for k, v := range s.Header {
		if strings.ContainsAny(k, "_.") {
			t.Errorf("upstream got %s: %q", k, v)
		}
		for _, x := range v {
			if strings.Contains(x, "forged") || strings.Contains(x, "tok-bob") {
				t.Errorf("upstream got %s: %q", k, x)
			}
		}
	}
	if s.Header.Get("X-Kept") != "yes" || s.Header.Get("X-Cardgate-User-Id") != alice.UserID {
		t.Errorf("upstream headers %v", s.Header)
	}
	// A token under an "_" name is not a token: no smuggling it past the
	// check, no accepting it either.
	status, body = rawRequest(t, addr, "GET /products/1 HTTP/1.1\r\nHost: x\r\naccess_token: tok-alice\r\nConnection: close\r\n\r\n")
	if status != 401 {
		t.Fatalf("token in access_token: %d %s", status, body)
	}
}

// TestRoutingOverrideHeadersDropped: headers that make some frameworks and
// proxies change the method, the path or the client's address never reach
// the upstream; X-Forwarded-Host is not rebuilt from the client's Host.
func TestRoutingOverrideHeadersDropped(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	drop := []string{
		"X-Http-Method-Override", "X-Http-Method", "X-Method-Override", "X-Original-Url", "X-Rewrite-Url",
		"X-Original-Method", "X-Original-Uri", "X-Original-Host", "X-Forwarded-Uri", "X-Forwarded-Method",
		"X-Forwarded-Host", "X-Forwarded-Prefix", "X-Forwarded-Port", "X-Forwarded-Server", "X-Host",
		"X-Real-Ip", "True-Client-Ip", "Cf-Connecting-Ip", "X-Client-Ip", "X-Cluster-Client-Ip",
		"Fastly-Client-Ip", "Client-Ip", "Forwarded", "Proxy", "X-Envoy-Original-Path", "X-Middleware-Subrequest",
		"X-Auth-Request-User", "Remote-User", "X-Remote-User", "X-Authenticated-User", "Upgrade",
	}
	var hdr []string
	for _, k := range drop {
		hdr = append(hdr, k, "/admin")
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/products/1", nil)
	req.Host = "public.example"
	req.Header.Set("Authorization", "Bearer tok-alice")
	for i := 0; i < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	s := decodeSeen(t, string(b))
	for _, k := range drop {
		if v, ok := s.Header[k]; ok {
			t.Errorf("upstream got %s: %q", k, v)
		}
	}
	if got := s.Header.Values("X-Forwarded-For"); len(got) != 1 || got[0] != "127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q", got)
	}
	if got := s.Header.Values("X-Forwarded-Proto"); len(got) != 1 || got[0] != "http" {
		t.Errorf("X-Forwarded-Proto = %q", got)
	}
}

// TestRequestTrailersDropped: identity headers cannot come in as trailers
// after a chunked body.
func TestRequestTrailersDropped(t *testing.T) {
	got := make(chan http.Header, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- r.Trailer
	}))
	defer up.Close()
	e := newEnv(t, config(up.URL, ""))
	status, body := rawRequest(t, strings.TrimPrefix(e.srv.URL, "http://"), "POST /orders/1 HTTP/1.1\r\nHost: x\r\n"+
		"Authorization: Bearer tok-alice\r\nTransfer-Encoding: chunked\r\nTrailer: X-Cardgate-User-Id\r\nConnection: close\r\n\r\n"+
		"2\r\nhi\r\n0\r\nX-Cardgate-User-Id: forged\r\nX-Other: forged\r\n\r\n")
	if status != 200 {
		t.Fatalf("status %d %s", status, body)
	}
	if tr := <-got; len(tr) != 0 {
		t.Fatalf("upstream got trailers %v", tr)
	}
}

// TestLocationRewritten: a redirect that names the upstream's own host (or
// its path) is mapped back to the route's public path, or dropped when it
// cannot be; other sites are the upstream's business.
func TestLocationRewritten(t *testing.T) {
	var upURL string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loc := strings.ReplaceAll(r.URL.Query().Get("to"), "UP", upURL)
		w.Header().Set("Location", loc)
		w.Header().Set("Content-Location", loc)
		if rf := r.URL.Query().Get("refresh"); rf != "" {
			w.Header().Set("Refresh", strings.ReplaceAll(rf, "UP", upURL))
		}
		w.WriteHeader(http.StatusFound)
	}))
	defer up.Close()
	upURL = up.URL
	upHost := strings.TrimPrefix(up.URL, "http://")
	_, upPort, _ := strings.Cut(upHost, ":")
	e := newEnv(t, config(up.URL, ""))
	tests := []struct{ to, want string }{
		{"UP/api/items/43?x=1#f", "/products/43?x=1#f"},
		{"UP/api/items", "/products"},
		{"/api/items/44", "/products/44"},
		{"//" + upHost + "/api/items/45", "/products/45"},
		{"HTTP://" + strings.ToUpper(upHost) + "/api/items/46", "/products/46"},
		{"UP/admin", ""},
		{"/admin", ""},
		{"UP/api/items/../../admin", ""},
		{"/api/items/%2e%2e/admin", ""},
		{"/\\evil.example/", ""},
		{"47", "47"},
		{"?page=2", "?page=2"},
		{"http://" + strings.Split(upHost, ":")[0] + ":1/api/items/48", ""},
		{"https://" + upHost + "/api/items/49", ""},
		{"https://login.example.com/sso?back=1", "https://login.example.com/sso?back=1"},
		// Other spellings of the upstream's address, as a browser reads
		// them (docs/adapter.md, "Location and Content-Location never name
		// the upstream"): mapped when they name it, dropped when they
		// cannot be judged.
		{`http:\\` + upHost + `\api\items\43`, ""},  // backslashes are slashes
		{"http:///" + upHost + "/api/items/43", ""}, // extra slashes skipped
		{"http:/" + upHost + "/api/items/43", ""},   // one slash
		{"http:" + upHost + "/api/items/43", ""},    // none
		{"///" + upHost + "/api/items/43", ""},      // scheme-relative, extra slash
		{"http://2130706433:" + upPort + "/api/items/43", "/products/43"},
		{"http://0177.0.0.1:" + upPort + "/api/items/43", "/products/43"},
		{"http://127.1:" + upPort + "/api/items/43", "/products/43"},
		{"http://0x7f.1:" + upPort + "/api/items/43", "/products/43"},
		{"HTTP://0X7F.0.0.1:" + upPort + "/api/items/43", "/products/43"},
		{"http://127.0.0.1.:" + upPort + "/api/items/43", "/products/43"},
		{"http://[::ffff:127.0.0.1]:" + upPort + "/api/items/43", "/products/43"},
		{"http://[::ffff:7f00:1]:" + upPort + "/api/items/43", "/products/43"},
		{"http://x@" + upHost + "/api/items/43", "/products/43"},
		{"http://x@2130706433:" + upPort + "/api/items/43", "/products/43"},
		{"//2130706433:" + upPort + "/api/items/43", "/products/43"},
		{"http://2130706433:1/api/items/43", ""},                   // another port
		{"http://%31%32%37.0.0.1:" + upPort + "/api/items/43", ""}, // Go refuses
		{"http://%EF%BC%91%EF%BC%92%EF%BC%97.0.0.1:" + upPort + "/api/items/43", ""},
		{"http://\uff11\uff12\uff17.0.0.1:" + upPort + "/api/items/43", ""}, // IDNA: 127.0.0.1
		{"http://127.0.0.1..:" + upPort + "/api/items/43", ""},
		{"http://127.0.0.256:" + upPort + "/x", ""}, // browsers refuse it
		{"http://09.0.0.1/x", ""},
		// Other addresses: the adapter cannot tell them from the upstream's.
		{"http://10.0.0.7/x", ""},
		{"http://0:" + upPort + "/x", ""},
		{"http://[::1]:" + upPort + "/x", ""},
		{"//192.168.1.1/x", ""},
		// Other sites named by a DNS name pass unchanged, localhost too
		// (TestRedirectPassedBack).
		{"http://localhost:" + upPort + "/x", "http://localhost:" + upPort + "/x"},
		{"HTTPS://Login.Example.com./x?y=1", "HTTPS://Login.Example.com./x?y=1"},
		{"http://a_b.example.com/x", "http://a_b.example.com/x"},
		{"http://127.0.0.1.example.com/x", "http://127.0.0.1.example.com/x"},
		{"//cdn.example.com/x", "//cdn.example.com/x"},
		{"mailto:ops@example.com", "mailto:ops@example.com"},
	}
	for _, tt := range tests {
		res, _ := e.do("GET", "/products/42?to="+urlQueryEscape(tt.to), "tok-alice", nil)
		if got := res.Header.Get("Location"); got != tt.want {
			t.Errorf("Location %q: got %q, want %q", tt.to, got, tt.want)
		}
		if got := res.Header.Get("Content-Location"); got != tt.want {
			t.Errorf("Content-Location %q: got %q, want %q", tt.to, got, tt.want)
		}
	}
	for _, rf := range []string{"0; url=UP/x", "0; url=http://2130706433:" + upPort + "/x",
		"0;URL='http://127.1:" + upPort + "/x'", "5, http:///" + upHost + "/x", "0; url=/api/items/1"} {
		res, _ := e.do("GET", "/products/42?to=/api/items/1&refresh="+urlQueryEscape(rf), "tok-alice", nil)
		if v := res.Header.Get("Refresh"); v != "" {
			t.Errorf("Refresh naming the upstream passed: %q", v)
		}
	}
	for _, rf := range []string{"5", "0; url=https://login.example.com/", "0; url=47"} {
		res, _ := e.do("GET", "/products/42?to=/api/items/1&refresh="+urlQueryEscape(rf), "tok-alice", nil)
		if v := res.Header.Get("Refresh"); v != rf {
			t.Errorf("Refresh %q: got %q", rf, v)
		}
	}
	// A route without stripPrefix and with a base path of "/".
	res, _ := e.do("POST", "/reports?to="+urlQueryEscape("UP/reports/1"), "tok-bob", nil)
	if got := res.Header.Get("Location"); got != "/reports/1" {
		t.Errorf("reports: Location %q", got)
	}
}

// TestPublicURLUpstreamSpellings: publicURL judges a Location's host as a
// browser would, against an upstream configured by name or by address:
// the upstream by any spelling is mapped, an address that is not the
// upstream's is dropped, and what a browser reads otherwise than Go
// (backslashes, control bytes, a special scheme without a host, hosts
// IDNA would map) is dropped.
func TestPublicURLUpstreamSpellings(t *testing.T) {
	const p = "/products/43"
	tests := []struct {
		upstream string
		cases    [][2]string // Location, want ("" dropped)
	}{
		{"http://orders.internal:9000", [][2]string{
			{"http://orders.internal:9000/api/items/43", p},
			{"http://ORDERS.Internal.:9000/api/items/43", p},
			{"//orders.internal.:9000/api/items/43", p},
			{"http://x@orders.internal:9000/api/items/43", p},
			{`http:\\orders.internal:9000\api\items\43`, ""},
			{`http://orders.internal:9000\api\items\43`, ""},
			{"http:///orders.internal:9000/api/items/43", ""},
			{"http:/orders.internal:9000/api/items/43", ""},
			{"http:orders.internal:9000/api/items/43", ""},
			{"ws:orders.internal:9000/api/items/43", ""},
			{"http://orders.internal:9001/api/items/43", ""},
			{"http://orders.internal..:9000/api/items/43", ""},
			{"http://\uff4frders.internal:9000/api/items/43", ""},
			{"http://%EF%BD%8Frders.internal:9000/api/items/43", ""},
			{"http://orders%2Einternal:9000/api/items/43", ""},
			{"http://orders!.internal:9000/api/items/43", ""},
			{"ht\ttp://orders.internal:9000/api/items/43", ""},
			{"http://orders.inter\tnal:9000/api/items/43", ""},
			{"/\t/orders.internal:9000/api/items/43", ""},
			{"\x01http://orders.internal:9000/api/items/43", ""},
			{" //orders.internal:9000/api/items/43", ""},
			// Any address: the adapter cannot tell the upstream's.
			{"http://127.0.0.1:9000/api/items/43", ""},
			{"http://2130706433:9000/x", ""},
			{"http://[::1]:9000/x", ""},
			{"http://[fe80::1%25eth0]:9000/x", ""},
			{"https://login.example.com/sso", "https://login.example.com/sso"},
			{"http://orders.internal.example.com/x", "http://orders.internal.example.com/x"},
			{"43", "43"},
			{"?page=2", "?page=2"},
			{"#top", "#top"},
		}},
		// Configured as an address: compile canonicalises it.
		{"http://2130706433:9000", [][2]string{
			{"http://127.0.0.1:9000/api/items/43", p},
			{"http://0x7f000001:9000/api/items/43", p},
			{"http://[::ffff:127.0.0.1]:9000/api/items/43", p},
			{"http://127.0.0.2:9000/api/items/43", ""},
		}},
		{"http://[::1]:9000", [][2]string{
			{"http://[0:0::1]:9000/api/items/43", p},
			{"http://[::1%25lo]:9000/api/items/43", ""},
			{"http://127.0.0.1:9000/api/items/43", ""},
		}},
		{"http://localhost:9000", [][2]string{
			{"http://LOCALHOST.:9000/api/items/43", p},
			{"http://127.0.0.1:9000/api/items/43", ""},
			{"http://a.localhost:9000/api/items/43", "http://a.localhost:9000/api/items/43"},
		}},
	}
	for _, tt := range tests {
		e := newEnv(t, config(tt.upstream, ""))
		rt := e.a.table.Load().routes[0] // products: /api/items, stripPrefix /products
		for _, c := range tt.cases {
			got, ok := rt.publicURL(c[0])
			if !ok {
				got = ""
			}
			if got != c[1] {
				t.Errorf("upstream %s: Location %q: got %q (ok %v), want %q", tt.upstream, c[0], got, ok, c[1])
			}
		}
	}
}

func urlQueryEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", "?", "%3F", "+", "%2B", " ", "%20", ";", "%3B")
	return r.Replace(s)
}

// TestResponseHeadersScrubbed: an upstream that echoes request headers
// must not hand the injected credential back to the client, whatever the
// credential's type, in a header or in a trailer.
func TestResponseHeadersScrubbed(t *testing.T) {
	const access = "oauth-access-4b5c6d"
	tokSrv, _ := tokenEndpoint(t, access)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Echo-Trailer")
		for k, v := range r.Header {
			w.Header()["X-Echo-"+k] = v
		}
		// The parts of the credential, as an upstream might repeat them.
		if _, pw, ok := r.BasicAuth(); ok {
			w.Header().Set("X-Echo-Password-Only", "pw="+pw)
		}
		if _, tok, ok := strings.Cut(r.Header.Get("Authorization"), "Bearer "); ok {
			w.Header().Set("X-Echo-Token-Only", "t="+tok+";")
		}
		w.Header().Set("X-Harmless", "ok")
		if strings.HasPrefix(r.URL.Path, "/crm") {
			// Never sent to the upstream, but a secret of the route all the same.
			w.Header().Set("X-Client-Secret", testSecrets["CLIENT_SECRET"])
		}
		io.WriteString(w, "body")
		w.Header().Set("X-Echo-Trailer", r.Header.Get("Authorization")+r.Header.Get("X-Api-Key"))
	}))
	defer up.Close()
	e := newEnv(t, config(up.URL, "")+strings.NewReplacer("UP", up.URL, "TOK", tokSrv.URL).Replace(`
  - name: crm
    match: /crm/
    policy: {packages: ["*"]}
    upstream: {url: "UP"}
    credential: {type: oauth2-client-credentials, tokenUrl: "TOK", clientId: cardgate, clientSecret: env:CLIENT_SECRET}
`))
	secrets := []string{testSecrets["API_KEY"], testSecrets["BEARER"], testSecrets["BASIC_PW"], access,
		base64.StdEncoding.EncodeToString([]byte("svc:" + testSecrets["BASIC_PW"])), testSecrets["CLIENT_SECRET"]}
	for _, c := range []struct{ method, path, tok string }{
		{"GET", "/products/1", "tok-alice"},
		{"GET", "/orders/1", "tok-alice"},
		{"POST", "/reports", "tok-bob"},
		{"GET", "/crm/x", "tok-alice"},
	} {
		res, body := e.do(c.method, c.path, c.tok, nil)
		if res.StatusCode != 200 || body != "body" || res.Header.Get("X-Harmless") != "ok" {
			t.Fatalf("%s: %d %q %v", c.path, res.StatusCode, body, res.Header)
		}
		all := fmt.Sprint(res.Header, res.Trailer)
		for _, s := range secrets {
			if strings.Contains(all, s) {
				t.Errorf("%s: the credential came back: %s", c.path, all)
			}
		}
		if res.Header.Get("X-Echo-X-Cardgate-User-Id") == "" {
			t.Errorf("%s: a harmless echoed header was dropped: %v", c.path, res.Header)
		}
	}
}

// TestBodyFieldTokenAlwaysRemoved: with a token in a header too, the body's
// token field is still removed, and a body naming another token than the
// header's is refused.
func TestBodyFieldTokenAlwaysRemoved(t *testing.T) {
	up, hits := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	for _, in := range []string{
		`{"integrationToken":"tok-alice","a":1}`,
		`{"a":1,"INTEGRATIONTOKEN":"tok-alice"}`,
		`{"a":1,"integration\u0054oken":"tok-alice"}`,
	} {
		res, body := e.do("POST", "/orders/1", "tok-alice", strings.NewReader(in), "Content-Type", "application/json")
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", in, res.StatusCode, body)
		}
		if s := decodeSeen(t, body); s.Body != `{"a":1}` || s.Header.Get("X-Cardgate-User-Id") != alice.UserID {
			t.Errorf("%s: upstream got %q as %s", in, s.Body, s.Header.Get("X-Cardgate-User-Id"))
		}
	}
	before := *hits
	for _, in := range []string{
		`{"integrationToken":"tok-bob"}`,
		`{"integrationtoken":"tok-bob"}`,
	} {
		res, body := e.do("POST", "/orders/1", "tok-alice", strings.NewReader(in), "Content-Type", "application/json")
		if res.StatusCode != 401 || errorCode(body) != "InvalidToken" {
			t.Errorf("%s with another token in the header: %d %s", in, res.StatusCode, body)
		}
	}
	// A case variant beside the field is a second copy, not another field.
	res, body := e.do("POST", "/orders/1", "", strings.NewReader(`{"integrationToken":"tok-alice","IntegrationToken":"tok-bob"}`), "Content-Type", "application/json")
	if res.StatusCode != 400 {
		t.Errorf("two spellings of the field: %d %s", res.StatusCode, body)
	}
	// A body that does not say it is JSON is not read, and passes as it came.
	res, body = e.do("POST", "/orders/1", "tok-alice", strings.NewReader(`{"integrationToken":"tok-alice"}`), "Content-Type", "text/plain")
	if s := decodeSeen(t, body); res.StatusCode != 200 || s.Body != `{"integrationToken":"tok-alice"}` {
		t.Errorf("text/plain: %d, upstream got %q", res.StatusCode, s.Body)
	}
	before = *hits
	// Two Content-Types: which one would the upstream believe?
	res, body = e.do("POST", "/orders/1", "tok-alice", strings.NewReader(`{"integrationToken":"tok-bob"}`), "Content-Type", "text/plain", "Content-Type", "application/json")
	if res.StatusCode != 400 {
		t.Errorf("two Content-Types: %d %s", res.StatusCode, body)
	}
	if *hits != before {
		t.Error("a refused request reached the upstream")
	}
}

// upgradeUpstream answers a WebSocket-style upgrade by echoing upper-cased
// bytes, and counts the requests it gets.
func upgradeUpstream(t *testing.T) (*httptest.Server, *int) {
	n := new(int)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*n++
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n\r\n", r.Header.Get("Upgrade"))
		buf := make([]byte, 4)
		if _, err := io.ReadFull(brw, buf); err == nil {
			c.Write([]byte(strings.ToUpper(string(buf))))
		}
	}))
	t.Cleanup(up.Close)
	return up, n
}

// upgrade sends an upgrade request on a new connection and returns the
// response and the connection's reader.
func upgrade(t *testing.T, addr, method, path, proto string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-alice\r\nConnection: keep-alive, Upgrade\r\nUpgrade: %s\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", method, path, proto)
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res, c, br
}

func TestUpgradeOnlyWebSocketOnOptedRoutes(t *testing.T) {
	up, hits := upgradeUpstream(t)
	e := newEnv(t, config(up.URL, "")+strings.ReplaceAll(`
  - name: live
    match: GET /live/
    policy: {packages: [com.example.a]}
    upstream: {url: "UP"}
    websocket: true
`, "UP", up.URL))
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	for _, tc := range []struct{ name, method, path, proto string }{
		{"h2c", "GET", "/live/x", "h2c"},
		{"h2c on a route without websocket", "GET", "/products/1", "h2c"},
		{"websocket on a route without websocket", "GET", "/products/1", "websocket"},
		{"websocket and another", "GET", "/live/x", "websocket, h2c"},
		{"tls", "GET", "/live/x", "TLS/1.2"},
		{"POST websocket", "POST", "/orders/1", "websocket"},
	} {
		res, _, _ := upgrade(t, addr, tc.method, tc.path, tc.proto)
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 400 || errorCode(string(b)) != "InvalidRequest" {
			t.Errorf("%s: %d %s, want 400", tc.name, res.StatusCode, b)
		}
	}
	if *hits != 0 {
		t.Fatalf("%d refused upgrades reached the upstream", *hits)
	}
	res, c, br := upgrade(t, addr, "GET", "/live/x", "websocket")
	if res.StatusCode != 101 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("websocket on an opted route: %d %s", res.StatusCode, b)
	}
	io.WriteString(c, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "PING" {
		t.Fatalf("echo %q, %v", buf, err)
	}
}

// TestUnrequestedSwitchingProtocols: an upstream that answers 101 to a
// request that asked for no upgrade does not get a tunnel.
func TestUnrequestedSwitchingProtocols(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		time.Sleep(100 * time.Millisecond)
	}))
	defer up.Close()
	e := newEnv(t, config(up.URL, ""))
	res, body := e.do("GET", "/products/1", "tok-alice", nil)
	if res.StatusCode != 502 {
		t.Fatalf("status %d %s", res.StatusCode, body)
	}
	// Nor does one that switches to another protocol than the one asked.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n")
		time.Sleep(100 * time.Millisecond)
	}))
	defer other.Close()
	e = newEnv(t, config(other.URL, "")+"  - {name: live, match: GET /live, policy: {packages: [com.example.a]}, upstream: {url: \""+other.URL+"\"}, websocket: true}\n")
	res, _, _ = upgrade(t, strings.TrimPrefix(e.srv.URL, "http://"), "GET", "/live", "websocket")
	if res.StatusCode != 502 {
		t.Fatalf("101 to h2c for a websocket request: %d", res.StatusCode)
	}
}

// TestForwardedProtoTLS: X-Forwarded-Proto says how the client's connection
// came, https here.
func TestForwardedProtoTLS(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	ts := httptest.NewTLSServer(e.a.Handler())
	defer ts.Close()
	req, _ := http.NewRequest("GET", ts.URL+"/products/1", nil)
	req.Header.Set("Authorization", "Bearer tok-alice")
	req.Header.Set("X-Forwarded-Proto", "http")
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if got := decodeSeen(t, string(b)).Header.Values("X-Forwarded-Proto"); len(got) != 1 || got[0] != "https" {
		t.Fatalf("X-Forwarded-Proto = %q", got)
	}
}

// TestTraceRefused: TRACE would echo the request, credential included, in
// the response body, which is not scrubbed.
func TestTraceRefused(t *testing.T) {
	up, hits := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	res, body := e.do("TRACE", "/orders/1", "tok-alice", nil)
	if res.StatusCode != 405 || errorCode(body) != "MethodNotAllowed" || *hits != 0 {
		t.Fatalf("TRACE: %d %s, upstream hits %d", res.StatusCode, body, *hits)
	}
}

// TestDuplicateFramingHeaders: two Hosts, or two different Content-Lengths,
// are refused by net/http before the adapter runs, and reach nobody.
func TestDuplicateFramingHeaders(t *testing.T) {
	up, hits := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	for name, req := range map[string]string{
		"two Hosts":           "GET /products/1 HTTP/1.1\r\nHost: a\r\nHost: b\r\nAuthorization: Bearer tok-alice\r\n\r\n",
		"two Content-Lengths": "POST /orders/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\nAuthorization: Bearer tok-alice\r\n\r\nxx",
	} {
		if status, body := rawRequest(t, addr, req); status != 400 {
			t.Errorf("%s: %d %s", name, status, body)
		}
	}
	if *hits != 0 {
		t.Fatal("the upstream was called")
	}
}

package cli_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAdapterServerSettings runs `cardgate adapter` and checks that its
// configuration's server: section is what its listener does: headers over
// maxHeaderBytes get 431, slow headers are cut at readHeaderTimeout, a
// slow body gets 408 at readTimeout, idle connections close at
// idleTimeout; and with no server: section, the documented defaults.
func TestAdapterServerSettings(t *testing.T) {
	env := newInstall(t)
	mustRun(t, env, "users", "add", "--id", alice, "--name", "Alice", "--phone", "+14155550101")
	mustRun(t, env, "packages", "add", "--id", "com.contoso.orders", "--name", "Orders")
	var host struct{ APIKey string }
	json.Unmarshal([]byte(mustRun(t, env, "hosts", "add", "web", "--json")), &host)
	issuer := start(t, env, "issuer", "--listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0")
	tok := mint(t, issuer.base, host.APIKey, alice, "com.contoso.orders")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer up.Close()

	adapter := func(server string) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "adapter.yaml")
		os.WriteFile(path, []byte(`issuer: {url: "`+issuer.base+`"}
`+server+`
routes:
  - name: in
    match: /in
    policy: {packages: [com.contoso.orders]}
    upstream: {url: "`+up.URL+`", timeout: 100ms}
`), 0o600)
		return strings.TrimPrefix(start(t, env, "adapter", "--config", path, "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0").base, "http://")
	}
	gate := adapter("server: {maxHeaderBytes: 4096, readHeaderTimeout: 200ms, readTimeout: 300ms, idleTimeout: 300ms}")

	// A request line and headers of exactly maxHeaderBytes pass; one byte
	// more is 431, with a JSON error.
	sized := func(n int) string {
		head := "GET /in HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + "\r\nX-Pad: "
		return head + strings.Repeat("p", n-len(head)-4) + "\r\n\r\n"
	}
	if status, body := raw(t, gate, sized(4096)); status != 200 {
		t.Errorf("headers of 4096 bytes: %d %s", status, body)
	}
	if status, body := raw(t, gate, sized(4097)); status != 431 || !strings.Contains(body, `"code":"HeaderTooLarge"`) {
		t.Errorf("headers of 4097 bytes: %d %s, want 431", status, body)
	}

	// Headers sent too slowly: the connection is closed, unanswered.
	c := dial(t, gate)
	io.WriteString(c, "GET /in HTTP/1.1\r\nHost: x\r\n")
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		t.Errorf("slow headers: read %q, %v; want the connection closed within 3 s", b, err)
	}

	// A body sent too slowly: 408, and the connection closed.
	c = dial(t, gate)
	io.WriteString(c, "POST /in HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+tok+"\r\nContent-Length: 10\r\n\r\nab")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("slow body: %v", err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 408 || !strings.Contains(string(b), `"code":"RequestTimeout"`) || !res.Close {
		t.Errorf("slow body: %d %s close=%v, want 408 and close", res.StatusCode, b, res.Close)
	}

	// An idle keep-alive connection is closed after idleTimeout.
	c = dial(t, gate)
	io.WriteString(c, "GET /in HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+tok+"\r\n\r\n")
	br = bufio.NewReader(c)
	if res, err := http.ReadResponse(br, nil); err != nil || res.StatusCode != 200 || res.Close {
		t.Fatalf("keep-alive request: %v %v", res, err)
	} else {
		io.ReadAll(res.Body)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("idle connection: %v, want it closed within 3 s", err)
	}

	// The defaults: headers up to 64 KiB.
	gate = adapter("")
	if status, body := raw(t, gate, sized(64<<10)); status != 200 {
		t.Errorf("default: headers of 64 KiB: %d %s", status, body)
	}
	if status, _ := raw(t, gate, sized(64<<10+1)); status != 431 {
		t.Errorf("default: headers of 64 KiB + 1: %d, want 431", status)
	}
}

// dial connects to addr with a 3 s deadline on everything.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(3 * time.Second))
	return c
}

// raw sends one request as text and returns the status and body.
func raw(t *testing.T, addr, text string) (int, string) {
	t.Helper()
	c := dial(t, addr)
	if _, err := io.WriteString(c, text); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%.40q: %v", text, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

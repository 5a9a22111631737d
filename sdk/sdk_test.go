package sdk_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/sdk"
)

// TestNode runs the SDK's own unit tests (js/test, Node's built-in runner),
// so that `go test ./...` covers the JavaScript too.
func TestNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed; CI must run the SDK's tests (apt-get install nodejs)")
		}
		t.Skip("node is not installed; install Node.js 20 or later (apt-get install nodejs) to run the SDK's tests")
	}
	cmd := exec.CommandContext(t.Context(), node, "--test", "test/")
	cmd.Dir = "js"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "# fail 0") {
		t.Fatalf("node --test reported failures:\n%s", out)
	}
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/sdk", sdk.Handler()))
	defer srv.Close()
	want, _ := os.ReadFile("js/cardgate.js")
	res, err := http.Get(srv.URL + "/sdk/cardgate.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != string(want) || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("GET cardgate.js: %d %s, %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(body))
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("cardgate.js is served without nosniff")
	}
	for _, p := range []string{"/sdk/", "/sdk/test/cardgate.test.js", "/sdk/nope.js", "/sdk/../sdk.go"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Errorf("GET %s = %d, want 404", p, res.StatusCode)
		}
	}
	res, _ = http.Get(srv.URL + "/sdk/cardgate.d.ts")
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GET cardgate.d.ts = %d", res.StatusCode)
	}
}

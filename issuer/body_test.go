package issuer_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBodyTooLargeAnsweredAtOnce: a client that declares a body over an
// endpoint's limit and waits for the answer before sending it gets 413 at
// once, and the connection is closed rather than held for the body.
func TestBodyTooLargeAnsweredAtOnce(t *testing.T) {
	e := newEnv(t)
	for _, req := range []string{
		"POST /oauth2/introspect HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + e.rsKey + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9000\r\n\r\n",
		"POST /v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + e.hostKey + "\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n",
	} {
		c, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		io.WriteString(c, req)
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%.30q: no answer before the body: %v", req, err)
		}
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 413 || !strings.Contains(string(b), `"code":"TooLarge"`) || !res.Close {
			t.Errorf("%.30q: %d %s close=%v, want 413 and close", req, res.StatusCode, b, res.Close)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("%.30q: connection not closed: %v", req, err)
		}
	}
}

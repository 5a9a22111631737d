package httpserver_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate/httpjson"
	"github.com/cardgate/cardgate/httpserver"
)

// serve runs httpserver.New on loopback with a handler that decodes a
// JSON body of at most 1 KiB, as the issuer's endpoints do, and returns
// its address.
func serve(t *testing.T, readTimeout time.Duration) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := httpjson.Decode(w, r, &v, 1024); err != nil {
			httpjson.Error(w, err)
			return
		}
		httpjson.Write(w, 200, v)
	})
	srv := httpserver.New("", h, nil)
	if readTimeout > 0 {
		srv.ReadTimeout = readTimeout
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// send writes text on a new connection and reads one response, with a
// 3 s deadline on both; closed reports whether the server said it would
// close the connection and did.
func send(t *testing.T, addr, text string) (res *http.Response, body string, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, text)
	br := bufio.NewReader(c)
	res, err = http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%.60q: no response: %v", text, err)
	}
	b, _ := io.ReadAll(res.Body)
	if !res.Close {
		return res, string(b), false
	}
	_, err = br.ReadByte()
	return res, string(b), err == io.EOF
}

func TestHeadersOverTheLimitGet431(t *testing.T) {
	addr := serve(t, 0)
	// A request line and headers of exactly MaxHeaderBytes pass; one byte
	// more gets 431, though net/http alone would let 4 KiB more through.
	sized := func(n int) string {
		head := "GET / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nX-Pad: "
		return head + strings.Repeat("p", n-len(head)-4) + "\r\n\r\n{}"
	}
	if res, body, _ := send(t, addr, sized(httpserver.MaxHeaderBytes)); res.StatusCode != 200 {
		t.Errorf("headers of %d bytes: %d %s", httpserver.MaxHeaderBytes, res.StatusCode, body)
	}
	res, body, closed := send(t, addr, sized(httpserver.MaxHeaderBytes+1))
	if res.StatusCode != 431 || !strings.Contains(body, `"code":"HeaderTooLarge"`) || !closed {
		t.Errorf("headers of %d bytes: %d %s, closed %v; want 431 and the connection closed", httpserver.MaxHeaderBytes+1, res.StatusCode, body, closed)
	}
}

func TestBodyTooLargeAnsweredAtOnce(t *testing.T) {
	addr := serve(t, 0)
	// The client sends its headers and waits for the answer before the
	// body: the 413 comes at once, and the connection is closed rather
	// than held open for a body nobody wants.
	res, body, closed := send(t, addr, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n")
	if res.StatusCode != 413 || !strings.Contains(body, `"code":"TooLarge"`) || !closed {
		t.Errorf("%d %s, closed %v; want 413 and the connection closed", res.StatusCode, body, closed)
	}
}

func TestSlowBodyIs408(t *testing.T) {
	addr := serve(t, 300*time.Millisecond)
	res, body, _ := send(t, addr, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"a\":")
	if res.StatusCode != 408 || !strings.Contains(body, `"code":"RequestTimeout"`) {
		t.Errorf("%d %s, want 408", res.StatusCode, body)
	}
}

func TestDefaults(t *testing.T) {
	srv := httpserver.New("", http.NotFoundHandler(), nil)
	if srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 30*time.Second || srv.IdleTimeout != 2*time.Minute ||
		srv.MaxHeaderBytes != 16<<10 || srv.WriteTimeout != 0 {
		t.Errorf("server %+v", srv)
	}
}

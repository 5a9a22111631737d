package adapter

import (
	"net/http"
	"testing"
	"time"

	"github.com/cardgate/cardgate/internal/h1client"
)

// Plain-HTTP upstreams get the adapter's own transport (with the route's
// header timeout); https upstreams and token endpoints get http.Transport.
func TestTransportPoolChoosesTheTransport(t *testing.T) {
	p := newTransportPool(nil)
	rt, key := p.get("http://127.0.0.1:8080", 2*time.Second)
	if _, ok := rt.(*h1client.Transport); !ok {
		t.Errorf("http:// upstream: %T, want *h1client.Transport", rt)
	}
	if again, _ := p.get("http://127.0.0.1:8080", 2*time.Second); again != rt {
		t.Error("a second route to the same upstream and timeout got another transport")
	}
	if other, _ := p.get("http://127.0.0.1:8080", 0); other == rt {
		t.Error("routes with different timeouts share a transport")
	}
	for _, up := range []string{"https://127.0.0.1:8443", "token:http://127.0.0.1:9000"} {
		if rt, _ := p.get(up, 0); rt == nil {
			t.Errorf("%s: no transport", up)
		} else if _, ok := rt.(*http.Transport); !ok {
			t.Errorf("%s: %T, want *http.Transport", up, rt)
		}
	}
	p.retain(map[string]bool{key: true})
	if len(p.m) != 1 {
		t.Errorf("retain kept %d transports, want 1", len(p.m))
	}
}

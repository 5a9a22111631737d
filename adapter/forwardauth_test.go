package adapter

import (
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func TestForwardAuth(t *testing.T) {
	up, hits := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	tests := []struct {
		name   string
		token  string
		hdr    []string
		status int
	}{
		{"traefik", "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/1?x=y"}, 200},
		{"nginx", "tok-alice", []string{"X-Original-Method", "GET", "X-Original-Uri", "/products/1"}, 200},
		{"accessToken header", "", []string{"accessToken", "tok-alice", "X-Original-Method", "GET", "X-Original-Uri", "/products/1"}, 200},
		{"policy", "tok-bob", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/1"}, 403},
		{"no token", "", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/1"}, 401},
		{"wrong method", "tok-alice", []string{"X-Forwarded-Method", "POST", "X-Forwarded-Uri", "/products/1"}, 405},
		{"no route", "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/nope"}, 404},
		{"no method", "tok-alice", []string{"X-Original-Uri", "/products/1"}, 400},
		{"traversal", "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/%2e%2e/admin"}, 400},
		{"absolute uri", "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "http://evil/products/1"}, 400},
		{"envoy: the request itself", "tok-alice", nil, 404}, // GET /auth is not a route
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := append([]string{"X-Cardgate-User-Id", "forged"}, tt.hdr...)
			res, body := e.do("GET", "/auth", tt.token, nil, hdr...)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d %s, want %d", res.StatusCode, body, tt.status)
			}
			if tt.status == 200 {
				if res.Header.Get("X-Cardgate-User-Id") != alice.UserID || res.Header.Get("X-Cardgate-Package-Id") != alice.ActionPackageID || res.Header.Get("X-Cardgate-Route") != "products" {
					t.Errorf("headers %v", res.Header)
				}
				if res.Header.Get("X-Api-Key") != "" {
					t.Error("forward-auth returned the credential")
				}
			} else if res.Header.Get("X-Cardgate-User-Id") != "" {
				t.Error("identity on a refusal")
			}
		})
	}
	if *hits != 0 {
		t.Fatal("forward-auth called the upstream")
	}
	recs := e.audit.all()
	if len(recs) != len(tests) || !recs[0].ForwardAuth || recs[0].Route != "products" || recs[0].Status != 200 {
		t.Fatalf("audit: %+v", recs)
	}
}

func TestAuditAndMetrics(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	// Each request takes 5ms on the injected clock.
	e.a.now = func() time.Time { e.clock.Add(5 * time.Millisecond); return e.clock.Now() }
	e.do("POST", "/orders/9", "tok-alice", strings.NewReader("0123456789"))
	e.do("GET", "/products/1", "tok-bob", nil)
	e.do("GET", "/nope", "", nil)
	recs := e.audit.all()
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.UserID != alice.UserID || r.PackageID != alice.ActionPackageID || r.Route != "orders" || r.Method != "POST" ||
		r.Status != 200 || r.UpstreamStatus != 200 || r.BytesIn != 10 || r.BytesOut == 0 || r.Latency != 5*time.Millisecond || r.Time.IsZero() {
		t.Errorf("record %+v", r)
	}
	if r := recs[1]; r.Status != 403 || r.ErrorCode != "Forbidden" || r.UpstreamStatus != 0 || r.Route != "products" {
		t.Errorf("refused record %+v", r)
	}
	if r := recs[2]; r.Status != 401 || r.UserID != "" || r.Route != "" {
		t.Errorf("unauthenticated record %+v", r)
	}
	if n := strings.Count(e.logs.String(), `"msg":"adapter: request"`); n != 3 {
		t.Errorf("%d request log lines", n)
	}
	counts := map[string]float64{}
	mfs, _ := e.reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			counts[mf.GetName()+labels(m)] += m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	for k, want := range map[string]float64{
		"cardgate_adapter_requests_total{code=200,route=orders}":   1,
		"cardgate_adapter_requests_total{code=403,route=products}": 1,
		"cardgate_adapter_unrouted_requests_total{code=401}":       1,
		"cardgate_adapter_request_duration_seconds{route=orders}":  1,
		"cardgate_adapter_auth_total{result=ok}":                   2,
		"cardgate_adapter_config_reloads_total{result=ok}":         1,
	} {
		if counts[k] != want {
			t.Errorf("%s = %v, want %v", k, counts[k], want)
		}
	}
}

func labels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return "{" + strings.Join(parts, ",") + "}"
}

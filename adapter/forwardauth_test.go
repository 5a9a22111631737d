package adapter

import (
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func TestForwardAuth(t *testing.T) {
	up, hits := echoUpstream(t)
	envs := map[string]*env{}
	for _, from := range []string{"", FromXForwarded, FromRequest} {
		envs[from] = newEnv(t, config(up.URL, "forwardAuth: {from: "+from+"}\n"))
	}
	const traefik, nginx, envoy = FromXForwarded, "", FromRequest
	tests := []struct {
		name   string
		from   string
		token  string
		hdr    []string
		status int
	}{
		{"traefik", traefik, "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/1?x=y", "X-Forwarded-Host", "any"}, 200},
		{"nginx", nginx, "tok-alice", []string{"X-Original-Method", "GET", "X-Original-Uri", "/products/1"}, 200},
		{"accessToken header", nginx, "", []string{"accessToken", "tok-alice", "X-Original-Method", "GET", "X-Original-Uri", "/products/1"}, 200},
		{"policy", traefik, "tok-bob", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/1", "X-Forwarded-Host", "any"}, 403},
		{"no token", traefik, "", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/1", "X-Forwarded-Host", "any"}, 401},
		{"wrong method", traefik, "tok-alice", []string{"X-Forwarded-Method", "POST", "X-Forwarded-Uri", "/products/1", "X-Forwarded-Host", "any"}, 405},
		{"no route", traefik, "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/nope", "X-Forwarded-Host", "any"}, 404},
		{"no method", nginx, "tok-alice", []string{"X-Original-Uri", "/products/1"}, 400},
		{"no uri", nginx, "tok-alice", nil, 400},
		{"traversal", traefik, "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/%2e%2e/admin", "X-Forwarded-Host", "any"}, 400},
		{"absolute uri", traefik, "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "http://evil/products/1", "X-Forwarded-Host", "any"}, 400},
		{"scheme-relative uri", nginx, "tok-alice", []string{"X-Original-Method", "GET", "X-Original-Uri", "//evil/products/1"}, 400},
		{"envoy: the request itself", envoy, "tok-alice", nil, 404}, // GET /auth is not a route
		// What a client sends through a proxy that sets the other family.
		{"nginx, forged X-Forwarded-Uri", nginx, "tok-alice", []string{"X-Original-Method", "GET", "X-Original-Uri", "/orders/1", "X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/1"}, 400},
		{"traefik, forged X-Original-Uri", traefik, "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/orders/1", "X-Original-Uri", "/products/1", "X-Forwarded-Host", "any"}, 400},
		{"envoy, forged X-Original-Uri", envoy, "tok-alice", []string{"X-Original-Method", "GET", "X-Original-Uri", "/products/1"}, 400},
		{"envoy, forged X-Forwarded-Uri", envoy, "tok-alice", []string{"X-Forwarded-Uri", "/products/1"}, 400},
		{"nginx, two URIs", nginx, "tok-alice", []string{"X-Original-Method", "GET", "X-Original-Uri", "/products/1", "X-Original-Uri", "/orders/1"}, 400},
		{"traefik, two methods", traefik, "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Method", "POST", "X-Forwarded-Uri", "/products/1", "X-Forwarded-Host", "any"}, 400},
		{"traefik, no host", traefik, "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/1"}, 400},
		{"traefik, two hosts", traefik, "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/1", "X-Forwarded-Host", "a", "X-Forwarded-Host", "b"}, 400},
		// Names with "_" that the upstream might read as ours.
		{"identity with _", traefik, "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/1", "X_Cardgate_User_Id", "forged", "X-Forwarded-Host", "any"}, 400},
		{"token with _", traefik, "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/1", "access_token", "tok-bob", "X-Forwarded-Host", "any"}, 400},
		{"forwarded with _", nginx, "tok-alice", []string{"X-Original-Method", "GET", "X-Original-Uri", "/products/1", "X_Forwarded_Uri", "/orders/1"}, 400},
		{"other header with _", traefik, "tok-alice", []string{"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/products/1", "X_Custom", "fine", "X-Forwarded-Host", "any"}, 200},
	}
	// Envoy ext_authz with path_prefix /auth: the original method and path
	// follow /auth.
	envoyEnv := envs[envoy]
	for _, tc := range []struct {
		method, path, token string
		hdr                 []string
		status              int
	}{
		{"GET", "/auth/products/1?x=y", "tok-alice", nil, 200},
		{"POST", "/auth/orders/1", "tok-bob", nil, 200},
		{"GET", "/auth/products/1", "tok-bob", nil, 403},
		{"DELETE", "/auth/products/1", "tok-alice", nil, 405},
		{"GET", "/auth/products/%2e%2e/x", "tok-alice", nil, 400},
		{"GET", "/auth//evil/products/1", "tok-alice", nil, 400},
		{"GET", "/auth/products/1", "tok-alice", []string{"X-Original-Uri", "/orders/1", "X-Original-Method", "GET"}, 400},
		{"GET", "/auth/products/1", "tok-alice", []string{"X_Cardgate_Package_Id", "com.example.b"}, 400},
	} {
		res, body := envoyEnv.do(tc.method, tc.path, tc.token, nil, tc.hdr...)
		if res.StatusCode != tc.status {
			t.Errorf("envoy %s %s: %d %s, want %d", tc.method, tc.path, res.StatusCode, body, tc.status)
		}
		if tc.status == 200 && res.Header.Get("X-Cardgate-Route") == "" {
			t.Errorf("envoy %s %s: headers %v", tc.method, tc.path, res.Header)
		}
	}
	// Outside request mode /auth/... is an ordinary path for the proxy.
	if res, _ := envs[nginx].do("GET", "/auth/products/1", "tok-alice", nil); res.StatusCode != 404 {
		t.Errorf("nginx mode, /auth/products/1: %d", res.StatusCode)
	}
	n := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := envs[tt.from]
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
		if tt.from == nginx {
			n++
		}
	}
	if *hits != 0 {
		t.Fatal("forward-auth called the upstream")
	}
	recs := envs[nginx].audit.all()[1:] // after the /auth/products/1 above
	if len(recs) != n || !recs[0].ForwardAuth || recs[0].Route != "products" || recs[0].Status != 200 {
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

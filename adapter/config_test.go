package adapter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadExample(t *testing.T) {
	cfg, err := Load("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Routes) != 5 || !cfg.Routes[4].WebSocket || cfg.ForwardAuth.From != FromXOriginal || cfg.Routes[0].Upstream.Timeout != 10*time.Second || cfg.Routes[1].Upstream.Timeout != DefaultTimeout {
		t.Fatalf("routes = %+v", cfg.Routes)
	}
	if got := cfg.Routes[1].IdentityHeaders; got.UserID != DefaultUserIDHeader || got.UserName != "X-Crm-User-Name" || got.ConversationID != DefaultConversationIDHeader {
		t.Fatalf("identity headers = %+v", got)
	}
	if cfg.Issuer.CacheTTL != 3*time.Second {
		t.Fatalf("issuer.cacheTTL = %v", cfg.Issuer.CacheTTL)
	}
	if got := cfg.Routes[0].Limits.RateLimit.PerUser; got == nil || got.Requests != 10 {
		t.Fatalf("default rate limit not inherited: %+v", got)
	}
	// Check resolves the secret references too.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "cs"), []byte("x\n"), 0o600)
	text, _ := os.ReadFile("testdata/example.yaml")
	path := filepath.Join(dir, "adapter.yaml")
	os.WriteFile(path, []byte(strings.ReplaceAll(string(text), "/run/secrets/crm-client-secret", filepath.Join(dir, "cs"))), 0o600)
	env := map[string]string{"PRODUCTS_API_KEY": "k", "STOCK_TOKEN": "t"}
	opts := Options{LookupEnv: func(n string) (string, bool) { v, ok := env[n]; return v, ok }, Secrets: mapStore{"reports-password": "p"}}
	if err := Check(context.Background(), path, opts); err != nil {
		t.Fatal(err)
	}
	delete(env, "STOCK_TOKEN")
	err = Check(context.Background(), path, opts)
	if err == nil || !strings.Contains(err.Error(), "adapter.yaml:97: routes[3].credential.token: environment variable STOCK_TOKEN is not set") {
		t.Fatalf("err = %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	const base = `
issuer: {url: "http://127.0.0.1:8080"}
routes:
  - name: r
    match: GET /x/{id}
    policy: {packages: [com.example.card]}
    upstream: {url: "http://127.0.0.1:9000"}
`
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"ok", base, nil},
		{"empty", ``, []string{"file is empty"}},
		{"syntax", "routes: [", []string{"adapter.yaml"}},
		{"unknown top", base + "listn: x\n", []string{"adapter.yaml:8: listn: unknown field"}},
		{"unknown nested", strings.Replace(base, "upstream: {url", "upstream: {timout: 3s, url", 1), []string{"adapter.yaml:7: routes[0].upstream.timout: unknown field (did you mean timeout?)"}},
		{"bad url", strings.Replace(base, `"http://127.0.0.1:9000"`, `"/relative"`, 1), []string{"adapter.yaml:7: routes[0].upstream.url: must be an absolute http(s) URL"}},
		{"userinfo", strings.Replace(base, `"http://127.0.0.1:9000"`, `"http://u:p@h"`, 1), []string{"routes[0].upstream.url: must not hold user info"}},
		{"bad duration", strings.Replace(base, "upstream: {url", "upstream: {timeout: 3 parsecs, url", 1), []string{"adapter.yaml:7: routes[0].upstream.timeout: must be a duration"}},
		{"no packages", strings.Replace(base, "policy: {packages: [com.example.card]}", "policy: {}", 1), []string{"adapter.yaml:6: routes[0].policy.packages: must list"}},
		{"bad package", strings.Replace(base, "com.example.card", "nodots", 1), []string{"routes[0].policy.packages[0]: must be in reverse-DNS form"}},
		{"bad user", strings.Replace(base, "packages: [com.example.card]", "packages: [com.example.card], users: [bob]", 1), []string{"routes[0].policy.users[0]: must be a lower-case GUID"}},
		{"bad pattern", strings.Replace(base, "GET /x/{id}", "GET /x/{id", 1), []string{"adapter.yaml:5: routes[0].match:"}},
		{"conflict", base + `  - name: s
    match: GET /x/{name}
    policy: {packages: ["*"]}
    upstream: {url: "http://127.0.0.1:9000"}
`, []string{"adapter.yaml:9: routes[1].match:", "conflicts"}},
		{"dup name", base + `  - name: r
    match: GET /y
    policy: {packages: ["*"]}
    upstream: {url: "http://127.0.0.1:9000"}
`, []string{"adapter.yaml:8: routes[1].name: is already the name of routes[0]"}},
		{"strip prefix", strings.Replace(base, "upstream: {url", "upstream: {stripPrefix: /xy, url", 1), []string{"routes[0].upstream.stripPrefix: must be a whole-segment prefix"}},
		{"secret value pasted", base + `    credential: {type: header, header: X-Key, value: sk_live_PASTED}
`, []string{"adapter.yaml:8: routes[0].credential.value: must be a secret reference"}},
		{"credential field of other type", base + `    credential: {type: bearer, token: env:T, password: env:P}
`, []string{"routes[0].credential.password: is not used by type bearer"}},
		{"credential missing", base + `    credential: {type: oauth2-client-credentials, clientId: x}
`, []string{"routes[0].credential.tokenUrl: is required", "routes[0].credential.clientSecret: is required"}},
		{"identity header reserved", base + `    identityHeaders: {userId: Host}
`, []string{"routes[0].identityHeaders.userId: must not be Host"}},
		{"header name with _", base + `    identityHeaders: {userId: X_User_Id}
    credential: {type: header, header: x.api.key, value: env:K}
`, []string{"adapter.yaml:8: routes[0].identityHeaders.userId: must be a header name of letters, digits and '-'",
			"adapter.yaml:9: routes[0].credential.header: must be a header name"}},
		{"websocket", base + "    websocket: true\n", nil},
		{"forwardAuth", base + "forwardAuth: {from: x-forwarded-for}\n", []string{"adapter.yaml:8: forwardAuth.from: must be x-original (nginx), x-forwarded (Traefik) or request (Envoy)"}},
		{"websocket not GET", strings.Replace(base, "GET /x/{id}", "POST /x/{id}", 1) + "    websocket: true\n",
			[]string{"adapter.yaml:8: routes[0].websocket: needs a match pattern for GET"}},
		{"websocket not bool", base + "    websocket: yes please\n", []string{"adapter.yaml:8: routes[0].websocket: must be true or false"}},
		{"rate", base + `    limits: {rateLimit: {perUser: {requests: 0, per: fortnight}}}
`, []string{"perUser.requests: must be at least 1", "perUser.per: must be second, minute or hour"}},
		{"type", base + "listen: [a]\n", []string{"adapter.yaml:8: listen: must be a string"}},
		{"long cache TTL", strings.Replace(base, `"http://127.0.0.1:8080"}`, `"http://127.0.0.1:8080", cacheTTL: 31m}`, 1), []string{"issuer.cacheTTL: must be from 0s to 30m0s"}},
		{"cache TTL in local mode", strings.Replace(base, `"http://127.0.0.1:8080"}`, `"http://127.0.0.1:8080", mode: local, cacheTTL: 10s}`, 1), []string{"issuer.cacheTTL: applies to mode remote only"}},
		{"redis", base + "rateLimit: {backend: redis}\n", []string{"rateLimit.redis.addr: is required"}},
		{"cors", base + "    cors: {origins: [https://a.example/path]}\n", []string{"routes[0].cors.origins[0]: must be an origin"}},
		{"no routes", `issuer: {url: "http://127.0.0.1:8080"}`, []string{"routes: must list at least one route"}},
		{"two docs", base + "---\nlisten: x\n", []string{"only one YAML document"}},
		{"negative header limit", base + "server: {maxHeaderBytes: -1}\n", []string{"adapter.yaml:8: server.maxHeaderBytes: must not be negative"}},
		{"negative cache size", strings.Replace(base, `"http://127.0.0.1:8080"}`, `"http://127.0.0.1:8080", cacheSize: -1}`, 1), []string{"issuer.cacheSize: must not be negative"}},
		{"negative cache in local mode", strings.Replace(base, `"http://127.0.0.1:8080"}`, `"http://127.0.0.1:8080", mode: local, negativeCacheSize: 5}`, 1), []string{"issuer.negativeCacheSize: applies to mode remote only"}},
		{"negative audit limit", base + "audit: {maxRecords: -1}\n", []string{"adapter.yaml:8: audit.maxRecords: must not be negative"}},
		{"negative timeout", base + "server: {readTimeout: -1s}\n", []string{"adapter.yaml:8: server.readTimeout: must be a duration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "adapter.yaml")
			os.WriteFile(path, []byte(tt.yaml), 0o600)
			_, err := Load(path)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			msg := strings.ReplaceAll(err.Error(), path, "adapter.yaml")
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\ndoes not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "sk_live") {
				t.Errorf("error repeats the pasted secret: %s", msg)
			}
		})
	}
}

func TestHTTPServer(t *testing.T) {
	cfg, err := Load("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := cfg.HTTPServer(nil)
	if srv.Addr != "127.0.0.1:8081" || srv.MaxHeaderBytes != 65536 || srv.ReadHeaderTimeout != 10*time.Second || srv.IdleTimeout != 2*time.Minute ||
		srv.ReadTimeout != 0 || srv.WriteTimeout != 0 || cfg.Server.ReadTimeout != time.Minute {
		t.Fatalf("server %+v, readTimeout %v", srv, cfg.Server.ReadTimeout)
	}
	// The defaults, with no server: section, are the documented ones.
	path := filepath.Join(t.TempDir(), "adapter.yaml")
	os.WriteFile(path, []byte(`issuer: {url: "http://127.0.0.1:8080"}
routes: [{name: r, match: /x, policy: {packages: ["*"]}, upstream: {url: "http://127.0.0.1:9000"}}]
`), 0o600)
	if cfg, err = Load(path); err != nil {
		t.Fatal(err)
	}
	if s := cfg.Server; cfg.Listen != "127.0.0.1:8081" || s.MaxHeaderBytes != 64<<10 || s.ReadHeaderTimeout != 10*time.Second ||
		s.ReadTimeout != time.Minute || s.IdleTimeout != 2*time.Minute {
		t.Errorf("defaults: listen %s, server %+v", cfg.Listen, s)
	}
	if a := cfg.Audit; a.MaxAge != 30*24*time.Hour || a.MaxRecords != 10_000_000 {
		t.Errorf("audit defaults %+v", a)
	}
	if i := cfg.Issuer; i.CacheSize != 100_000 || i.NegativeCacheSize != 10_000 {
		t.Errorf("token cache defaults %d, %d", i.CacheSize, i.NegativeCacheSize)
	}
}

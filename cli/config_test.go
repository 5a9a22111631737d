package cli_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// claims decodes a token's payload (no check: the test made the token).
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(tok), ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Settings come from the file, then the environment, then flags, the later
// winning.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "cardgate.yaml")
	os.WriteFile(cfgFile, []byte("# the operator's settings\ndata: "+dir+"\nissuerUrl: https://file.example\ntokenLifetime: 45m\n"), 0o600)
	mustRun(t, map[string]string{"CARDGATE_DATA": dir}, "init") // records no issuer URL: the test sets it three ways
	env := map[string]string{"CARDGATE_CONFIG": cfgFile}
	mustRun(t, env, "users", "add", "--id", alice, "--name", "Alice", "--phone", "+14155550101")
	mustRun(t, env, "packages", "add", "--id", "com.contoso.orders", "--name", "Orders")
	mintCLI := func(env map[string]string, extra ...string) map[string]any {
		t.Helper()
		return claims(t, mustRun(t, env, append([]string{"token", "--user", alice, "--package", "com.contoso.orders"}, extra...)...))
	}
	c := mintCLI(env)
	if c["iss"] != "https://file.example" || c["exp"].(float64)-c["iat"].(float64) != (45*time.Minute).Seconds() {
		t.Errorf("from the file: iss %v, lifetime %vs", c["iss"], c["exp"].(float64)-c["iat"].(float64))
	}
	env["CARDGATE_ISSUER_URL"] = "https://env.example/"
	env["CARDGATE_TOKEN_LIFETIME"] = "20m"
	c = mintCLI(env)
	if c["iss"] != "https://env.example" || c["exp"].(float64)-c["iat"].(float64) != (20*time.Minute).Seconds() {
		t.Errorf("from the environment: iss %v, lifetime %vs", c["iss"], c["exp"].(float64)-c["iat"].(float64))
	}
	c = mintCLI(env, "--issuer-url", "https://flag.example", "--token-lifetime", "5m")
	if c["iss"] != "https://flag.example" || c["exp"].(float64)-c["iat"].(float64) != (5*time.Minute).Seconds() {
		t.Errorf("from flags: iss %v, lifetime %vs", c["iss"], c["exp"].(float64)-c["iat"].(float64))
	}
	// --config beats CARDGATE_CONFIG.
	other := filepath.Join(dir, "other.yaml")
	os.WriteFile(other, []byte("data: "+filepath.Join(dir, "other")+"\n"), 0o600)
	if _, _, err := run(t, env, "users", "list", "--config", other); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "other")) {
		t.Errorf("--config not used: %v", err)
	}
}

// Every bad setting is refused with an error that names it.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	file := func(content string) string {
		p := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		msg  string
	}{
		{"unknown setting", map[string]string{"CARDGATE_CONFIG": file("datadir: /x\n")}, nil, `line 1: unknown setting "datadir"; known: apiKeyCacheSize, data,`},
		{"setting twice", map[string]string{"CARDGATE_CONFIG": file("data: a\ndata: b\n")}, nil, "line 2: data is set twice"},
		{"bad duration", map[string]string{"CARDGATE_CONFIG": file("tokenLifetime: soon\n")}, nil, `tokenLifetime: "soon" is not a duration like 30m`},
		{"list for string", map[string]string{"CARDGATE_CONFIG": file("listen:\n  - a\n")}, nil, "line 2: listen: a list is not a string"},
		{"not a mapping", map[string]string{"CARDGATE_CONFIG": file("- data\n")}, nil, "want settings like"},
		{"bad yaml", map[string]string{"CARDGATE_CONFIG": file("data: [\n")}, nil, "config "},
		{"missing file", nil, []string{"--config", filepath.Join(dir, "nope.yaml")}, "no such file"},
		{"lifetime out of range", map[string]string{"CARDGATE_CONFIG": file("tokenLifetime: 48h\n")}, nil, "tokenLifetime: must be between 1m and 24h"},
		{"bad env lifetime", map[string]string{"CARDGATE_TOKEN_LIFETIME": "half an hour"}, nil, "CARDGATE_TOKEN_LIFETIME:"},
		{"bad listen", map[string]string{"CARDGATE_LISTEN": "8080"}, nil, `listen: "8080" is not host:port`},
		{"bad issuer url", map[string]string{"CARDGATE_ISSUER_URL": "id.example"}, nil, "issuerUrl: must be an http:// or https:// URL"},
		{"bad log level", map[string]string{"CARDGATE_CONFIG": file("logLevel: loud\n")}, nil, `logLevel: must be debug, info, warn or error, not "loud"`},
		{"cache size", map[string]string{"CARDGATE_CONFIG": file("tokenCacheSize: 0\n")}, nil, "tokenCacheSize: must be at least 1, not 0"},
		{"cache size not a number", map[string]string{"CARDGATE_CONFIG": file("tokenCacheSize: lots\n")}, nil, `tokenCacheSize: "lots" is not a int`},
		{"mint cache size", map[string]string{"CARDGATE_CONFIG": file("mintCacheSize: 0\n")}, nil, "mintCacheSize: must be at least 1, not 0"},
		{"API key cache size", map[string]string{"CARDGATE_CONFIG": file("apiKeyCacheSize: -3\n")}, nil, "apiKeyCacheSize: must be at least 1, not -3"},
		{"bad store", map[string]string{"CARDGATE_STORE": "mysql://u:hunter2@db/x"}, nil, "store: must be a postgres:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"CARDGATE_DATA": dir}
			for k, v := range tt.env {
				env[k] = v
			}
			_, _, err := run(t, env, append([]string{"users", "list"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want it to contain %q", err, tt.msg)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows a password: %v", err)
			}
		})
	}
}

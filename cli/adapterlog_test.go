package cli_test

import (
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The adapter's log level comes from where the other servers' does:
// --log-level, else CARDGATE_LOG_LEVEL, else the settings file's logLevel,
// else info. The adapter's --config names its adapter.yaml, so its
// settings file is the one CARDGATE_CONFIG names.
func TestAdapterLogLevel(t *testing.T) {
	env := newInstall(t)
	cfg := adapterConfig(t, "http://127.0.0.1:1", "remote")
	settings := func(level string) string {
		path := filepath.Join(t.TempDir(), "cardgate.yaml")
		if err := os.WriteFile(path, []byte("logLevel: "+level+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, tc := range []struct {
		name  string
		env   map[string]string
		flags []string
		info  bool // whether the adapter logs at INFO ("listening", "shutting down")
	}{
		{"default", nil, nil, true},
		{"CARDGATE_LOG_LEVEL", map[string]string{"CARDGATE_LOG_LEVEL": "warn"}, nil, false},
		{"settings file", map[string]string{"CARDGATE_CONFIG": settings("error")}, nil, false},
		{"environment beats the file", map[string]string{"CARDGATE_CONFIG": settings("error"), "CARDGATE_LOG_LEVEL": "info"}, nil, true},
		{"flag beats the environment", map[string]string{"CARDGATE_LOG_LEVEL": "warn"}, []string{"--log-level", "info"}, true},
		{"flag", nil, []string{"--log-level", "error"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := maps.Clone(env)
			maps.Copy(e, tc.env)
			a := start(t, e, append([]string{"adapter", "--config", cfg, "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0"}, tc.flags...)...)
			if err := a.stop(); err != nil {
				t.Fatal(err)
			}
			logged := a.stderr.String()
			if got := strings.Contains(logged, `"level":"INFO"`) && strings.Contains(logged, `"msg":"listening"`); got != tc.info {
				t.Errorf("INFO logged: %v, want %v; stderr:\n%s", got, tc.info, logged)
			}
		})
	}
	// A level that is none is refused, naming every place it may come from.
	e := maps.Clone(env)
	e["CARDGATE_LOG_LEVEL"] = "loud"
	_, _, err := run(t, e, "adapter", "--config", cfg, "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), `--log-level, CARDGATE_LOG_LEVEL or config logLevel: must be debug, info, warn or error, not "loud"`) {
		t.Errorf("CARDGATE_LOG_LEVEL=loud: %v", err)
	}
}

// The adapter listens where its adapter.yaml says (or --listen): neither
// CARDGATE_LISTEN nor the settings file's listen moves it.
func TestAdapterListenFromItsFile(t *testing.T) {
	env := newInstall(t)
	held, err := net.Listen("tcp", "127.0.0.1:0") // taken: an adapter trying it would fail
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	cfg := adapterConfig(t, "http://127.0.0.1:1", "remote")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append([]byte("listen: 127.0.0.1:0\n"), b...), 0o600)
	settings := filepath.Join(t.TempDir(), "cardgate.yaml")
	os.WriteFile(settings, []byte("listen: "+held.Addr().String()+"\n"), 0o600)
	for name, e := range map[string]map[string]string{
		"CARDGATE_LISTEN": {"CARDGATE_LISTEN": held.Addr().String()},
		"settings file":   {"CARDGATE_CONFIG": settings},
	} {
		t.Run(name, func(t *testing.T) {
			e := maps.Clone(e)
			maps.Copy(e, env)
			a := start(t, e, "adapter", "--config", cfg, "--ops-listen", "127.0.0.1:0")
			if a.base == "" || strings.Contains(a.base, held.Addr().String()) {
				t.Errorf("adapter listens on %q", a.base)
			}
		})
	}
}

// go-redis's own lines (here: a Redis that cannot be dialled, met by the
// readiness probe) reach the adapter's JSON log as warnings, not plain
// text beside it.
func TestAdapterLogsRedisInItsLog(t *testing.T) {
	env := newInstall(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	cfg := adapterConfig(t, "http://127.0.0.1:1", "remote")
	b, _ := os.ReadFile(cfg)
	b = []byte(strings.Replace(string(b), "    upstream:", "    limits: {rateLimit: {perUser: {requests: 5}}}\n    upstream:", 1))
	b = append([]byte("rateLimit: {backend: redis, failClosed: true, redis: {addr: \""+down+"\"}}\n"), b...)
	os.WriteFile(cfg, b, 0o600)
	a, ops := startAdapter(t, env, cfg)
	if res, err := http.Get(ops + "/readyz"); err != nil || res.StatusCode != 503 {
		t.Fatalf("/readyz with Redis down: %v %v", res, err)
	}
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	sawRedis := false
	for _, line := range strings.Split(strings.TrimSpace(a.stderr.String()), "\n") {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a line of stderr is not JSON: %q", line)
			continue
		}
		if strings.HasPrefix(rec.Msg, "redis: ") && rec.Level == "WARN" {
			sawRedis = true
		}
	}
	if !sawRedis {
		t.Errorf("no go-redis line in the adapter's log:\n%s", a.stderr.String())
	}
}

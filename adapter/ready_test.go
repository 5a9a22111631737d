package adapter

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// Ping follows Redis only where Redis being down refuses requests: the
// redis backend with failClosed and a rate-limited route.
func TestPingFollowsRedisWhenFailClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close() // nothing listens there now
	up, _ := echoUpstream(t)
	route := `  - {name: r, match: /r, policy: {packages: ["*"]}, upstream: {url: "` + up.URL + `"}LIMIT}` + "\n"
	cfg := func(addr string, failClosed bool, limit string) string {
		fc := "false"
		if failClosed {
			fc = "true"
		}
		return "issuer: {url: \"http://127.0.0.1:1\"}\nrateLimit: {backend: redis, failClosed: " + fc + ", redis: {addr: \"" + addr + "\"}}\nroutes:\n" +
			strings.Replace(route, "LIMIT", limit, 1)
	}
	limited := ", limits: {rateLimit: {perUser: {requests: 5}}}"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name, yaml string
		ready      bool
	}{
		{"failClosed, limited, redis down", cfg(down, true, limited), false},
		{"fail open", cfg(down, false, limited), true},
		{"no route limited", cfg(down, true, ""), true},
	} {
		e := newEnv(t, tc.yaml)
		err := e.a.Ping(ctx)
		if (err == nil) != tc.ready {
			t.Errorf("%s: Ping = %v, want ready %v", tc.name, err, tc.ready)
		}
		if err != nil && !strings.Contains(err.Error(), down) {
			t.Errorf("%s: %v does not name the Redis address", tc.name, err)
		}
	}
	// A Redis that answers.
	if c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis at 127.0.0.1:6379 is required in CI: %v", err)
		}
		t.Skipf("no redis at 127.0.0.1:6379 (%v); start one (redis-server) to run the rest", err)
	} else {
		c.Close()
	}
	if err := newEnv(t, cfg("127.0.0.1:6379", true, limited)).a.Ping(ctx); err != nil {
		t.Errorf("redis up: %v", err)
	}
}

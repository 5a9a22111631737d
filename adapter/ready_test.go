package adapter

import (
	"context"
	"net"
	"os"
	"strings"
	"sync/atomic"
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

// With Redis down, a rate-limited request asks it once: no retries and no
// repeated dials, which took about 1.7 s per request (go-redis's
// defaults: 3 retries, 5 dials each). Fail closed answers 503, fail open
// lets the request through.
func TestRedisDownAskedOncePerRequest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close() // a Redis that hangs up
		}
	}()
	up, _ := echoUpstream(t)
	for _, tc := range []struct {
		failClosed string
		status     int
	}{{"true", 503}, {"false", 200}} {
		e := newEnv(t, "issuer: {url: \"http://127.0.0.1:1\"}\nrateLimit: {backend: redis, failClosed: "+tc.failClosed+
			", redis: {addr: \""+ln.Addr().String()+"\"}}\nroutes:\n"+
			`  - {name: r, match: /r, policy: {packages: ["*"]}, upstream: {url: "`+up.URL+`"}, limits: {rateLimit: {perUser: {requests: 5}}}}`+"\n")
		for range 3 {
			before := accepted.Load()
			if res, body := e.do("GET", "/r", "tok-alice", nil); res.StatusCode != tc.status {
				t.Errorf("failClosed %s: %d %s, want %d", tc.failClosed, res.StatusCode, body, tc.status)
			}
			if n := accepted.Load() - before; n > 1 {
				t.Errorf("failClosed %s: Redis was dialled %d times for one request, want at most 1", tc.failClosed, n)
			}
		}
	}
}

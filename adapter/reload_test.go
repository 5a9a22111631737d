package adapter

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReloadUnderLoad(t *testing.T) {
	up, _ := echoUpstream(t)
	cfgA := config(up.URL, "")
	cfgB := strings.Replace(cfgA, "identityHeaders: {userName: X-Cardgate-User-Name}", "identityHeaders: {userId: X-User}", 1)
	e := newEnv(t, cfgA)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()

	ctx, cancel := context.WithCancel(context.Background())
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequest("GET", e.srv.URL+"/products/1", nil)
				req.Header.Set("Authorization", "Bearer tok-alice")
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					t.Error(err)
					continue
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				s := decodeSeen(t, string(b))
				// Each request sees one whole configuration, never a mix.
				if res.StatusCode != 200 || (s.Header.Get("X-Cardgate-User-Id") == "") == (s.Header.Get("X-User") == "") {
					failed.Add(1)
					t.Errorf("status %d, headers %v", res.StatusCode, s.Header)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	for i := range 20 {
		if i%2 == 0 {
			e.write(cfgB)
		} else {
			e.write(cfgA)
		}
		if err := e.a.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			// A bad file in the middle is refused; traffic goes on.
			e.write(cfgA + "  - {name: broken}\n")
			if err := e.a.Reload(context.Background()); err == nil {
				t.Fatal("bad configuration accepted")
			}
		}
		time.Sleep(15 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if failed.Load() != 0 || ok.Load() < 20 {
		t.Fatalf("%d ok, %d failed", ok.Load(), failed.Load())
	}
	t.Logf("%d requests across 21 reloads", ok.Load())
}

func TestBadConfigKeepsOld(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	old := e.a.Config()
	for name, bad := range map[string]string{
		"syntax":         "routes: [",
		"unknown field":  config(up.URL, "bogus: 1\n"),
		"missing secret": strings.Replace(config(up.URL, ""), "env:API_KEY", "env:NOT_SET_ANYWHERE", 1),
		"empty":          "",
	} {
		e.write(bad)
		err := e.a.Reload(context.Background())
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: err = %v, want a *ConfigError", name, err)
		}
		if e.a.Config() != old {
			t.Fatalf("%s: the running configuration changed", name)
		}
		if res, body := e.do("GET", "/products/1", "tok-alice", nil); res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", name, res.StatusCode, body)
		}
	}
	if !strings.Contains(e.logs.String(), "configuration refused") {
		t.Error("refusal not logged")
	}
}

func TestWatch(t *testing.T) {
	up, _ := echoUpstream(t)
	e := newEnv(t, config(up.URL, ""))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.a.Watch(ctx, 10*time.Millisecond) }()
	e.write(config(up.URL, "") + `  - {name: added, match: /added, policy: {packages: ["*"]}, upstream: {url: "` + up.URL + `"}}` + "\n")
	deadline := time.Now().Add(3 * time.Second)
	for len(e.a.Config().Routes) != 4 {
		if time.Now().After(deadline) {
			t.Fatal("Watch did not reload the changed file")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if res, _ := e.do("GET", "/added", "tok-alice", nil); res.StatusCode != 200 {
		t.Fatalf("new route: %d", res.StatusCode)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

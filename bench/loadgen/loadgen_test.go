package loadgen

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunBounds: the measured window stops at the request bound long
// before the time bound, every request counted carries the header, and
// the warm-up is not counted.
func TestRunBounds(t *testing.T) {
	var served, withHeader atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.Header.Get("Authorization") == "Bearer t" {
			withHeader.Add(1)
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	start := time.Now()
	r, err := Run(context.Background(), Config{URL: srv.URL + "/x", Header: http.Header{"Authorization": {"Bearer t"}},
		Concurrency: 4, Warmup: 50 * time.Millisecond, Duration: time.Minute, MaxRequests: 200,
		Watch: map[string][]int{"self": {os.Getpid()}}})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 30*time.Second {
		t.Error("the request bound did not end the window")
	}
	if r.Requests != 200 || r.Errors != 0 || !r.HitCount {
		t.Errorf("requests %d errors %d hitCount %v, want 200, 0, true", r.Requests, r.Errors, r.HitCount)
	}
	if served.Load() < 200 || withHeader.Load() != served.Load() {
		t.Errorf("served %d, %d with the header", served.Load(), withHeader.Load())
	}
	if r.RPS <= 0 || r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 {
		t.Errorf("rps %v p50 %v p99 %v max %v", r.RPS, r.P50, r.P99, r.Max)
	}
	if _, ok := r.CPU["self"]; !ok {
		t.Errorf("no CPU for the watched group: %v", r.CPU)
	}
}

// TestRunTokens: with Tokens, each request carries the next token, so that
// every token (every user) gets its share of the requests, and the fixed
// Authorization header, if any, gives way to them.
func TestRunTokens(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[strings.Join(r.Header.Values("Authorization"), ",")]++
		mu.Unlock()
	}))
	defer srv.Close()
	r, err := Run(context.Background(), Config{URL: srv.URL, Header: http.Header{"Authorization": {"Bearer fixed"}},
		Tokens: []string{"a", "b", "c"}, Concurrency: 2, Duration: time.Minute, MaxRequests: 300})
	if err != nil || r.Requests != 300 {
		t.Fatalf("%v requests, %v", r, err)
	}
	want := map[string]int{"Bearer a": 100, "Bearer b": 100, "Bearer c": 100}
	if !maps.Equal(seen, want) {
		t.Errorf("Authorization headers seen %v, want %v", seen, want)
	}
}

// TestRunPostsBody: with Body, every request is a POST of that body, whole,
// as JSON.
func TestRunPostsBody(t *testing.T) {
	body := []byte(`{"pad":"` + strings.Repeat("x", 500) + `"}`)
	var posts, whole atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/json" {
			posts.Add(1)
		}
		if bytes.Equal(b, body) && r.ContentLength == int64(len(body)) {
			whole.Add(1)
		}
	}))
	defer srv.Close()
	r, err := Run(context.Background(), Config{URL: srv.URL, Body: body, Concurrency: 2, Duration: time.Minute, MaxRequests: 100})
	if err != nil || r.Requests != 100 {
		t.Fatalf("%v requests, %v", r, err)
	}
	if posts.Load() != 100 || whole.Load() != 100 {
		t.Errorf("%d JSON POSTs, %d with the whole body, of 100 requests", posts.Load(), whole.Load())
	}
}

// TestRunCountsErrors: a status other than 200 is an error, not a request.
func TestRunCountsErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	defer srv.Close()
	r, err := Run(context.Background(), Config{URL: srv.URL, Concurrency: 2, Duration: time.Minute, MaxRequests: 20})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 0 || r.Errors != 20 || r.FirstErr != "status 401" {
		t.Errorf("requests %d errors %d first %q, want 0, 20, status 401", r.Requests, r.Errors, r.FirstErr)
	}
}

// TestLoopbackOnly: the load generator sends nothing off the machine.
func TestLoopbackOnly(t *testing.T) {
	for _, u := range []string{"http://example.com/", "http://10.0.0.1:80/", "https://127.0.0.1/", "http://localhost:80/", "http://[::1]:80/"} {
		if _, err := Run(context.Background(), Config{URL: u, Concurrency: 1, Duration: time.Second, MaxRequests: 1}); err == nil {
			t.Errorf("%s was accepted", u)
		}
	}
}

// TestProcessCPU reads a busy child's CPU time and finds it among this
// process's children.
func TestProcessCPU(t *testing.T) {
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5")
	if err := cmd.Start(); err != nil {
		t.Skip("no sh:", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	kids, err := Children(os.Getpid())
	if err != nil || !slices.Contains(kids, cmd.Process.Pid) {
		t.Errorf("Children = %v, %v; want it to hold %d", kids, err, cmd.Process.Pid)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := ProcessCPU(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if s > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no CPU time seen for a busy process")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := ProcessCPU(1 << 30); err == nil {
		t.Error("a process that does not exist has a CPU time")
	}
}

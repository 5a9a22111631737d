package credential

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardgate/cardgate/adapter/secret"
)

// echo is an upstream that answers with the Authorization and X-Api-Key
// headers it received.
func echo(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s|%s", r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestStaticCredentials(t *testing.T) {
	srv := echo(t)
	key := secret.New([]byte("k3y"))
	tests := []struct {
		name string
		rt   http.RoundTripper
		want string
	}{
		{"header", &Header{Name: "x-api-key", Value: key}, "client|k3y"},
		{"basic", Basic(nil, "svc", secret.New([]byte("pa:ss"))), "Basic " + base64.StdEncoding.EncodeToString([]byte("svc:pa:ss")) + "|forged"},
		{"bearer", Bearer(nil, key), "Bearer k3y|forged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("Authorization", "client")
			req.Header.Set("X-Api-Key", "forged")
			if tt.name == "header" {
				req.Header.Del("X-Api-Key")
				req.Header.Add("X-Api-Key", "forged1")
				req.Header.Add("X-Api-Key", "forged2")
			}
			res, err := (&http.Client{Transport: tt.rt}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(b) != tt.want {
				t.Errorf("upstream saw %q, want %q", b, tt.want)
			}
			if req.Header.Get("Authorization") != "client" {
				t.Error("the caller's request was modified")
			}
			if s := fmt.Sprintf("%+v %#v", tt.rt, tt.rt); strings.Contains(s, "k3y") || strings.Contains(s, "pa:ss") {
				t.Errorf("credential prints its secret: %s", s)
			}
		})
	}
}

func TestClientCredentialsOneFetchPerLifetime(t *testing.T) {
	var calls atomic.Int32
	var expiresIn atomic.Int32
	expiresIn.Store(3600)
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		user, pass, _ := r.BasicAuth()
		if user != "cid" || pass != "csecret" || r.FormValue("grant_type") != "client_credentials" || r.FormValue("scope") != "read write" {
			http.Error(w, `{"error":"invalid_client","error_description":"leaky-detail"}`, http.StatusUnauthorized)
			return
		}
		time.Sleep(20 * time.Millisecond) // let concurrent requests pile up
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("tok%d", n), "token_type": "Bearer", "expires_in": expiresIn.Load()})
	}))
	defer tokenSrv.Close()
	srv := echo(t)
	rt := ClientCredentials(nil, ClientCredentialsConfig{
		TokenURL: tokenSrv.URL, ClientID: "cid", ClientSecret: secret.New([]byte("csecret")),
		Scopes: []string{"read", "write"}, EarlyExpiry: time.Millisecond,
	})
	c := &http.Client{Transport: rt}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Get(srv.URL)
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(b) != "Bearer tok1|" {
				errs <- fmt.Errorf("upstream saw %q", b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("token endpoint called %d times for 200 concurrent requests, want 1", n)
	}
}

func TestClientCredentialsRefreshes(t *testing.T) {
	var calls atomic.Int32
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok%d","token_type":"Bearer","expires_in":1}`, n)
	}))
	defer tokenSrv.Close()
	srv := echo(t)
	c := &http.Client{Transport: ClientCredentials(nil, ClientCredentialsConfig{
		TokenURL: tokenSrv.URL, ClientID: "cid", ClientSecret: secret.New([]byte("x")), EarlyExpiry: 500 * time.Millisecond,
	})}
	get := func() string {
		res, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	if got := get(); got != "Bearer tok1|" {
		t.Fatalf("first = %q", got)
	}
	time.Sleep(600 * time.Millisecond) // inside the early-expiry window
	if got := get(); got != "Bearer tok2|" {
		t.Fatalf("after expiry = %q", got)
	}
}

func TestClientCredentialsErrorHidesBody(t *testing.T) {
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client","error_description":"leaky-detail csecret"}`)
	}))
	defer tokenSrv.Close()
	c := &http.Client{Transport: ClientCredentials(nil, ClientCredentialsConfig{
		TokenURL: tokenSrv.URL, ClientID: "cid", ClientSecret: secret.New([]byte("csecret")),
	})}
	_, err := c.Get("http://127.0.0.1:1/")
	if err == nil || strings.Contains(err.Error(), "leaky") || strings.Contains(err.Error(), "csecret") || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("err = %v", err)
	}
}

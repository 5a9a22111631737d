package verify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/issuer"
	"github.com/cardgate/cardgate/keyring"
	"github.com/cardgate/cardgate/seal"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
	"github.com/cardgate/cardgate/verify"
)

const (
	alice  = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"
	bob    = "0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40"
	orders = "com.contoso.orders"
	survey = "com.contoso.survey"
)

// clock is the issuer's clock: real time plus an offset a test can move,
// to mint tokens that are already expired or not yet valid.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time        { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) Shift(d time.Duration) { c.off.Add(int64(d)) }
func (c *clock) Reset()                { c.off.Store(0) }

// issuerEnv is a real Integration Service on loopback over SQLite, with a
// count of the /v1/users/me calls it answered.
type issuerEnv struct {
	svc     *issuer.Service
	srv     *httptest.Server
	clock   *clock
	rsKey   string
	meCalls atomic.Int64
}

func newIssuer(t testing.TB) *issuerEnv {
	t.Helper()
	ctx := context.Background()
	store := sqlitetest.Open(t)
	master, _ := seal.ParseKey(seal.GenerateText())
	e := &issuerEnv{clock: &clock{}}
	srv := httptest.NewUnstartedServer(nil)
	iss := "http://" + srv.Listener.Addr().String()
	keys, err := keyring.Open(ctx, keyring.Config{Store: store, Master: master, Issuer: iss, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// The state cache is off so that a revocation is visible at once and
	// the tests measure the verifier's own caching.
	svc, err := issuer.NewService(issuer.Config{Issuer: iss, Store: store, Keys: keys, Now: e.clock.Now, StateCacheTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	h := issuer.NewHandler(svc, issuer.HandlerOptions{})
	srv.Config = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/users/me" {
			e.meCalls.Add(1)
		}
		h.ServeHTTP(w, r)
	})}
	srv.Start()
	t.Cleanup(srv.Close)
	e.srv = srv
	for i, u := range []string{alice, bob} {
		if err := svc.CreateUser(ctx, &cardgate.User{ID: u, Name: "User " + u[:4], PhoneNumber: fmt.Sprintf("+1415555010%d", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{orders, survey} {
		if err := svc.CreatePackage(ctx, &cardgate.ActionPackage{ID: p, DisplayName: p}); err != nil {
			t.Fatal(err)
		}
	}
	if _, e.rsKey, err = svc.CreateClient(ctx, "service", cardgate.RoleResourceServer); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *issuerEnv) mint(t testing.TB, user, pkg string) string {
	t.Helper()
	raw, _, err := e.svc.Mint(context.Background(), user, pkg)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (e *issuerEnv) remote(t testing.TB, cfg verify.RemoteConfig) *verify.Remote {
	t.Helper()
	cfg.UserinfoURL = e.srv.URL + "/v1/users/me"
	r, err := verify.NewRemote(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *issuerEnv) local(t testing.TB, cfg verify.LocalConfig) *verify.Local {
	t.Helper()
	cfg.Issuer, cfg.APIKey = e.svc.Issuer(), e.rsKey
	l, err := verify.NewLocal(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// serve runs handler behind the middleware on loopback.
func serve(t testing.TB, v verify.Verifier, opts ...verify.Option) (*httptest.Server, *sync.Map) {
	t.Helper()
	seen := &sync.Map{}
	srv := httptest.NewServer(verify.Middleware(v, opts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := verify.IdentityFrom(r.Context())
		seen.Store(id.UserID, id)
		w.Write([]byte("ok"))
	})))
	t.Cleanup(srv.Close)
	return srv, seen
}

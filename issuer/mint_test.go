package issuer_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/issuer"
	"github.com/cardgate/cardgate/keyring"
	"github.com/cardgate/cardgate/seal"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

// mintStatus is POST /v1/tokens's status with the host's key.
func (e *env) mintStatus(key, user, pkg string) int {
	e.t.Helper()
	return e.do("POST", "/v1/tokens", bearer(key), `{"userId":"`+user+`","actionPackageId":"`+pkg+`"}`).status
}

// A user or package disabled, or a client deleted, through the running
// service gets no token from the next request on; by another process
// (straight to the store, as the CLI does), within StateCacheTTL (1 s).
func TestMintAfterDisable(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		viaSvc    func(e *env) error
		viaStore  func(e *env) error
		refused   int
		user, pkg string
	}{
		{"user", func(e *env) error { return e.svc.SetUserDisabled(ctx, alice, true) },
			func(e *env) error { return e.svc.Store().SetUserDisabled(ctx, alice, true, e.clock.Now()) },
			http.StatusForbidden, alice, ordersPkg},
		{"package", func(e *env) error { return e.svc.SetPackageDisabled(ctx, ordersPkg, true) },
			func(e *env) error { return e.svc.Store().SetPackageDisabled(ctx, ordersPkg, true, e.clock.Now()) },
			http.StatusForbidden, alice, ordersPkg},
		{"client", func(e *env) error { return e.svc.DeleteClient(ctx, hostClientID(t, e)) },
			func(e *env) error { return e.svc.Store().DeleteClient(ctx, hostClientID(t, e)) },
			http.StatusUnauthorized, alice, ordersPkg},
	} {
		t.Run(tc.name+"/service", func(t *testing.T) {
			e := newEnv(t)
			if s := e.mintStatus(e.hostKey, tc.user, tc.pkg); s != http.StatusCreated {
				t.Fatalf("before: %d", s)
			}
			if err := tc.viaSvc(e); err != nil {
				t.Fatal(err)
			}
			if s := e.mintStatus(e.hostKey, tc.user, tc.pkg); s != tc.refused {
				t.Fatalf("right after: %d, want %d", s, tc.refused)
			}
		})
		t.Run(tc.name+"/store", func(t *testing.T) {
			e := newEnv(t)
			if s := e.mintStatus(e.hostKey, tc.user, tc.pkg); s != http.StatusCreated {
				t.Fatalf("before: %d", s)
			}
			if err := tc.viaStore(e); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(issuer.DefaultStateCacheTTL)
			if s := e.mintStatus(e.hostKey, tc.user, tc.pkg); s != tc.refused {
				t.Fatalf("after %v: %d, want %d", issuer.DefaultStateCacheTTL, s, tc.refused)
			}
		})
	}
}

func hostClientID(t *testing.T, e *env) string {
	t.Helper()
	cs, err := e.svc.Store().Clients(context.Background(), cardgate.RoleHost)
	if err != nil || len(cs) != 1 {
		t.Fatalf("host clients %v, %v", cs, err)
	}
	return cs[0].ID
}

// countingStore counts the reads a mint makes.
type countingStore struct {
	cardgate.Store
	users, packages, clients atomic.Int64
}

func (s *countingStore) User(ctx context.Context, id string) (*cardgate.User, error) {
	s.users.Add(1)
	return s.Store.User(ctx, id)
}

func (s *countingStore) Package(ctx context.Context, id string) (*cardgate.ActionPackage, error) {
	s.packages.Add(1)
	return s.Store.Package(ctx, id)
}

func (s *countingStore) ClientByKeyHash(ctx context.Context, h []byte) (*cardgate.Client, error) {
	s.clients.Add(1)
	return s.Store.ClientByKeyHash(ctx, h)
}

// A host minting again for the same user and package, with the same key,
// within StateCacheTTL reads nothing from the store: a mint costs about
// the signature (BenchmarkMint). After the TTL it reads again; a refusal
// or an unknown key is never cached.
func TestMintCachesState(t *testing.T) {
	ctx := context.Background()
	store := &countingStore{Store: sqlitetest.Open(t)}
	master, _ := seal.ParseKey(seal.GenerateText())
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	keys, err := keyring.Open(ctx, keyring.Config{Store: store, Master: master, Issuer: "https://id.example", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := issuer.NewService(issuer.Config{Issuer: "https://id.example", Store: store, Keys: keys, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	mustOK := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustOK(svc.CreateUser(ctx, &cardgate.User{ID: alice, Name: "Alice", PhoneNumber: "+14155550101"}))
	mustOK(svc.CreatePackage(ctx, &cardgate.ActionPackage{ID: ordersPkg, DisplayName: "Orders"}))
	mustOK(svc.CreatePackage(ctx, &cardgate.ActionPackage{ID: surveyPkg, DisplayName: "Survey", Disabled: true}))
	_, key, err := svc.CreateClient(ctx, "host", cardgate.RoleHost)
	mustOK(err)

	for range 3 {
		_, err := svc.Authenticate(ctx, key, cardgate.RoleHost)
		mustOK(err)
		_, _, err = svc.Mint(ctx, alice, ordersPkg)
		mustOK(err)
	}
	if u, p, c := store.users.Load(), store.packages.Load(), store.clients.Load(); u != 1 || p != 1 || c != 1 {
		t.Errorf("3 mints read users %d, packages %d, clients %d times; want 1 each", u, p, c)
	}
	clk.Advance(issuer.DefaultStateCacheTTL)
	_, _, err = svc.Mint(ctx, alice, ordersPkg)
	mustOK(err)
	if u := store.users.Load(); u != 2 {
		t.Errorf("after the TTL: %d user reads, want 2", u)
	}
	for range 2 {
		if _, _, err := svc.Mint(ctx, alice, surveyPkg); cardgate.ErrorCode(err) != cardgate.EFORBIDDEN {
			t.Fatalf("disabled package: %v", err)
		}
		if _, err := svc.Authenticate(ctx, "cgk_junk", cardgate.RoleHost); cardgate.ErrorCode(err) != cardgate.EUNAUTHORIZED {
			t.Fatalf("junk key: %v", err)
		}
	}
	if p, c := store.packages.Load(), store.clients.Load(); p != 2+2 || c != 1+2 {
		t.Errorf("refusals read packages %d, clients %d times; want 4, 3 (never cached)", p, c)
	}
}

// A user or package disabled by another process (straight to the store, as
// the CLI does) can still get tokens from a running issuer for up to
// StateCacheTTL (1 s), from its cache of the enabled state; such a token can
// carry an iat in the second after the disable. /v1/users/me refuses it (it
// reads the disabled flag), and so must the revocation feed's cut-off that
// verify.Local applies, or Local would accept it for its whole life.
func TestMintJustAfterDisableIsRevokedInTheFeed(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		disable func(e *env, at time.Time) error
		kind    string
		subject string
	}{
		{"user", func(e *env, at time.Time) error { return e.svc.Store().SetUserDisabled(ctx, alice, true, at) }, "user", alice},
		{"package", func(e *env, at time.Time) error { return e.svc.Store().SetPackageDisabled(ctx, ordersPkg, true, at) }, "package", ordersPkg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.clock.Advance(500 * time.Millisecond) // x.5
			e.mint(alice, ordersPkg)                // the running issuer caches "enabled" until x+1.5
			if err := tc.disable(e, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
			disabledAt := e.clock.Now()
			e.clock.Advance(900 * time.Millisecond) // x+1.4: the cache is still fresh
			raw, c, err := e.svc.Mint(ctx, alice, ordersPkg)
			if err != nil {
				t.Fatalf("mint within StateCacheTTL of a disable by another process: %v (the test needs the cached state)", err)
			}
			if c.IssuedAt.Unix() != disabledAt.Unix()+1 {
				t.Fatalf("iat %v, want the second after the disable at %v", c.IssuedAt, disabledAt)
			}
			assertRejected(t, e.usersMe(raw), "token is invalid")

			res := e.do("GET", "/v1/revocations?since=0", bearer(e.rsKey), "")
			var page struct{ Revocations []*cardgate.Revocation }
			if err := json.Unmarshal(res.body, &page); err != nil {
				t.Fatalf("%v: %s", err, res.body)
			}
			var cut time.Time
			for _, r := range page.Revocations {
				if string(r.Kind) == tc.kind && r.Subject == tc.subject {
					cut = r.At
				}
			}
			if !cardgate.RevokesIssuedAt(cut, c.IssuedAt) {
				t.Fatalf("the feed's cut-off %v (disable at %v) does not revoke a token issued at %v", cut, disabledAt, c.IssuedAt)
			}
		})
	}
}

// TestConfigLimits: a token lifetime over token.MaxLifetime (which
// verifiers refuse), or a state cache over cardgate.MaxStateCacheTTL (which
// the cut-off of a disable covers), is an error.
func TestConfigLimits(t *testing.T) {
	ctx := context.Background()
	store := sqlitetest.Open(t)
	master, _ := seal.ParseKey(seal.GenerateText())
	keys, err := keyring.Open(ctx, keyring.Config{Store: store, Master: master, Issuer: "https://id.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  issuer.Config
		ok   bool
	}{
		{"defaults", issuer.Config{}, true},
		{"lifetime 24h", issuer.Config{Lifetime: 24 * time.Hour}, true},
		{"lifetime over 24h", issuer.Config{Lifetime: 24*time.Hour + time.Second}, false},
		{"state cache 1s", issuer.Config{StateCacheTTL: time.Second}, true},
		{"state cache off", issuer.Config{StateCacheTTL: -1}, true},
		{"state cache over 1s", issuer.Config{StateCacheTTL: time.Second + time.Millisecond}, false},
	} {
		tc.cfg.Issuer, tc.cfg.Store, tc.cfg.Keys = "https://id.example", store, keys
		if _, err := issuer.NewService(tc.cfg); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

package issuer_test

import (
	"context"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/issuer"
	"github.com/cardgate/cardgate/keyring"
	"github.com/cardgate/cardgate/postgres"
	"github.com/cardgate/cardgate/postgres/pgtest"
	"github.com/cardgate/cardgate/seal"
	"github.com/cardgate/cardgate/sqlite"
)

// A revocation written to the store by another process (the CLI, another
// node) reaches a running service within StateCacheTTL; with the cache off
// it is seen by the very next check.
func TestRevocationByAnotherProcess(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ttl     time.Duration
		stillOK bool // right after the foreign write
	}{
		{"default TTL", 0, true},
		{"cache off", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvWith(t, envOptions{stateTTL: tc.ttl})
			tok := e.mint(alice, ordersPkg)
			if res := e.usersMe(tok); res.status != http.StatusOK {
				t.Fatalf("fresh token: %d", res.status)
			}
			// Straight to the store, not through the Service: as the CLI in
			// another process would.
			err := e.svc.Store().Revoke(context.Background(), &cardgate.Revocation{Kind: cardgate.RevokeUser, Subject: alice, At: e.clock.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.usersMe(tok).status == http.StatusOK; got != tc.stillOK {
				t.Fatalf("right after: passes = %v, want %v", got, tc.stillOK)
			}
			e.clock.Advance(issuer.DefaultStateCacheTTL)
			assertRejected(t, e.usersMe(tok), "token is invalid")
		})
	}
}

// A revocation or disable made through the running service (its admin API,
// the CLI's calls in the same process) clears the state cache: the very next
// check refuses the token, with the default 1 s cache and no time passing.
func TestRevocationThroughTheServiceIsImmediate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	for name, revoke := range map[string]func(tok string) error{
		"jti": func(tok string) error {
			_, c, err := e.svc.Check(ctx, tok)
			if err != nil {
				return err
			}
			_, err = e.svc.RevokeToken(ctx, c.ID, c.ExpiresAt)
			return err
		},
		"user disabled":    func(string) error { return e.svc.SetUserDisabled(ctx, bob, true) },
		"package disabled": func(string) error { return e.svc.SetPackageDisabled(ctx, surveyPkg, true) },
	} {
		user, pkg := alice, ordersPkg
		switch name {
		case "user disabled":
			user = bob
		case "package disabled":
			pkg = surveyPkg
		}
		tok := e.mint(user, pkg)
		if res := e.usersMe(tok); res.status != http.StatusOK {
			t.Fatalf("%s: fresh token: %d", name, res.status)
		}
		if err := revoke(tok); err != nil {
			t.Fatal(err)
		}
		assertRejected(t, e.usersMe(tok), "token is invalid")
	}
}

// TestRotationAcrossNodes runs two issuer nodes on one store, each
// reloading its keys in the background as `cardgate issuer` does, and
// rotates the key on one of them while both mint tokens that the other
// checks. The new key is known to both before it signs, and both switch to
// it at its activation time: not one valid token is refused.
func TestRotationAcrossNodes(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "cardgate.db")
		testRotationAcrossNodes(t, func() cardgate.Store {
			s, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.URL(t)
		testRotationAcrossNodes(t, func() cardgate.Store {
			s, err := postgres.Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}

func testRotationAcrossNodes(t *testing.T, open func() cardgate.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	master, _ := seal.ParseKey(seal.GenerateText())
	const iss = "https://id.example"
	var nodes [2]*issuer.Service
	for i := range nodes {
		store := open()
		t.Cleanup(func() { store.Close() })
		keys, err := keyring.Open(ctx, keyring.Config{Store: store, Master: master, Issuer: iss})
		if err != nil {
			t.Fatal(err)
		}
		if nodes[i], err = issuer.NewService(issuer.Config{Issuer: iss, Store: store, Keys: keys}); err != nil {
			t.Fatal(err)
		}
		go nodes[i].RefreshKeys(ctx, 50*time.Millisecond)
	}
	if err := nodes[0].CreateUser(ctx, &cardgate.User{ID: alice, Name: "Alice", PhoneNumber: "+14155550101"}); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].CreatePackage(ctx, &cardgate.ActionPackage{ID: ordersPkg, DisplayName: "Orders"}); err != nil {
		t.Fatal(err)
	}
	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		n        atomic.Int64
		failures = make(chan error, 10)
		kids     sync.Map
	)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			minter, checker := nodes[g%2], nodes[1-g%2]
			for !stop.Load() {
				raw, _, err := minter.Mint(ctx, alice, ordersPkg)
				if err == nil {
					_, _, err = checker.Check(ctx, raw)
				}
				if err != nil {
					select {
					case failures <- err:
					default:
					}
					continue
				}
				kids.Store(headerKid(t, raw), true)
				n.Add(1)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	k, err := nodes[0].RotateKey(ctx, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(k.Activation()) + 200*time.Millisecond)
	stop.Store(true)
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error("a valid token was refused:", err)
	}
	if _, ok := kids.Load(k.ID); !ok {
		t.Errorf("none of %d tokens was signed by the new key", n.Load())
	}
	for i, node := range nodes {
		if got := node.Keys().Signer().KeyID(); got != k.ID {
			t.Errorf("node %d signs with %s after the activation, want %s", i, got, k.ID)
		}
	}
}

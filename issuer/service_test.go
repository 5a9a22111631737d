package issuer_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/issuer"
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

package verify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/cardgate/cardgate/verify"
)

// A service that trusts cardgate's issuer, in three lines: a verifier,
// the middleware with a policy, and the identity in the handler.
func ExampleMiddleware() {
	v, _ := verify.NewRemote(verify.RemoteConfig{UserinfoURL: "https://id.example.com/v1/users/me"})
	protect := verify.Middleware(v, verify.AllowPackages("com.contoso.orders"))
	http.Handle("/orders", protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := verify.IdentityFrom(r.Context())
		fmt.Fprintf(w, "orders of user %s in card %s\n", id.UserID, id.ActionPackageID)
	})))
}

// Checking a token by hand, and telling the failures apart.
func ExampleRemote_Verify() {
	v, _ := verify.NewRemote(verify.RemoteConfig{UserinfoURL: "http://127.0.0.1:1/v1/users/me"})
	_, err := v.Verify(context.Background(), "a-token-no-issuer-knows")
	switch {
	case errors.Is(err, verify.ErrUnavailable):
		fmt.Println("issuer unreachable: answer 503, never let it pass")
	case errors.Is(err, verify.ErrExpired):
		fmt.Println("expired: the card should fetch a new token")
	case err != nil:
		fmt.Println("rejected")
	}
	// Output: issuer unreachable: answer 503, never let it pass
}

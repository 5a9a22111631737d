package verify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate/verify"
)

// The snippets of docs/verify.md are the bodies of these examples, line for
// line (TestDocSnippetsAreExamples checks it), so every one compiles.

// A service that trusts cardgate's issuer: a verifier, the middleware with a
// policy, and the identity in the handler.
func ExampleMiddleware() {
	v, err := verify.NewRemote(verify.RemoteConfig{UserinfoURL: "https://id.example.com/v1/users/me"})
	if err != nil {
		log.Fatal(err) // only a URL that is not http(s), or a bad TTL
	}
	protect := verify.Middleware(v, verify.AllowPackages("com.contoso.orders"))
	http.Handle("/orders", protect(http.HandlerFunc(ordersHandler)))
}

// ordersHandler is a handler behind verify.Middleware.
func ordersHandler(w http.ResponseWriter, r *http.Request) {
	id, ok := verify.IdentityFrom(r.Context())
	if !ok { // only when the handler is reached without the middleware
		http.Error(w, "no identity", http.StatusInternalServerError)
		return
	}
	// Authorize on id.UserID and id.ActionPackageID together, never on
	// id.Name. Remote mode also fills id.Name, id.PhoneNumber and
	// id.PictureURL; both fill id.ExpiresAt for cardgate's tokens.
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"user": id.UserID, "card": id.ActionPackageID})
}

// Local mode: the signature is checked offline with the issuer's keys, and
// revocations come from the issuer's feed, read with a resource-server key
// (`cardgate clients add NAME --role resource-server`).
func ExampleNewLocal() {
	ctx := context.Background()
	v, err := verify.NewLocal(ctx, verify.LocalConfig{
		Issuer: "https://id.example.com",             // required: the tokens' iss
		APIKey: os.Getenv("CARDGATE_ISSUER_API_KEY"), // required: a resource-server key
	})
	if err != nil {
		log.Fatal(err) // the issuer could not be reached, or refused the key
	}
	defer v.Close() // stops reading the keys and the feed
	protect := verify.Middleware(v, verify.AllowPackages("com.contoso.orders"))
	log.Fatal(http.ListenAndServe("127.0.0.1:8084", protect(http.HandlerFunc(ordersHandler))))
}

// Local's defaults, written out: what NewLocal uses for each zero field.
func ExampleLocalConfig() {
	cfg := verify.LocalConfig{
		Issuer:             "https://id.example.com",
		APIKey:             os.Getenv("CARDGATE_ISSUER_API_KEY"),
		RevocationInterval: 2 * time.Second,  // how often the revocation feed is read
		MaxStaleness:       30 * time.Second, // max(30 s, 3 × RevocationInterval)
		KeyRefreshInterval: time.Minute,      // how often the keys (JWKS) are read; at most 2 min
		Leeway:             30 * time.Second, // clock skew allowed on iat, nbf and exp
		CacheSize:          100_000,          // verified signatures kept
	}
	fmt.Println(cfg.MaxStaleness > cfg.RevocationInterval)
	// Output: true
}

// Local tokens carry no name, phone or picture: Profile asks the issuer
// for them, through a Remote, when a handler needs them.
func ExampleLocal_Profile() {
	ctx := context.Background()
	local, err := verify.NewLocal(ctx, verify.LocalConfig{Issuer: "https://id.example.com", APIKey: os.Getenv("CARDGATE_ISSUER_API_KEY")})
	if err != nil {
		log.Fatal(err)
	}
	defer local.Close()
	remote, err := verify.NewRemote(verify.RemoteConfig{UserinfoURL: "https://id.example.com/v1/users/me"})
	if err != nil {
		log.Fatal(err)
	}
	token := "the token the card sent"
	id, err := local.Verify(ctx, token)
	if err != nil {
		log.Print(err) // see Verify's errors
		return
	}
	if err := local.Profile(ctx, remote, token, id); err != nil {
		log.Print(err) // the issuer was asked, and refused or could not answer
		return
	}
	fmt.Println(id.Name, id.PhoneNumber, id.PictureURL)
}

// Checking a token by hand, and telling the failures apart.
func ExampleRemote_Verify() {
	v, err := verify.NewRemote(verify.RemoteConfig{UserinfoURL: "http://127.0.0.1:1/v1/users/me"})
	if err != nil {
		log.Fatal(err)
	}
	id, err := v.Verify(context.Background(), "a-token-no-issuer-knows")
	switch {
	case errors.Is(err, verify.ErrUnavailable):
		fmt.Println("issuer unreachable: answer 503, never let it pass")
	case errors.Is(err, verify.ErrExpired):
		fmt.Println("expired: the card should fetch a new token")
	case err != nil: // ErrInvalid, or ErrRevoked (Local only)
		fmt.Println("rejected: answer 401")
	default:
		fmt.Println("user", id.UserID, "in card", id.ActionPackageID)
	}
	// Output: issuer unreachable: answer 503, never let it pass
}

// A readiness probe: Ping says whether new tokens can be checked now.
func ExampleRemote_Ping() {
	v, err := verify.NewRemote(verify.RemoteConfig{UserinfoURL: "http://127.0.0.1:1/v1/users/me"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := v.Ping(r.Context()); err != nil {
			http.Error(w, "issuer not answering", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	fmt.Println(errors.Is(v.Ping(context.Background()), verify.ErrUnavailable))
	// Output: true
}

// TestDocSnippetsAreExamples checks that every Go snippet of docs/verify.md
// is, line for line (spacing aside), part of this file, whose examples
// the compiler checks and go test runs.
func TestDocSnippetsAreExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/verify.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	norm := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if l = strings.Join(strings.Fields(l), " "); l != "" {
				out = append(out, l)
			}
		}
		return "\n" + strings.Join(out, "\n") + "\n"
	}
	code := norm(string(src))
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 4 {
		t.Fatalf("docs/verify.md has %d Go snippets", len(blocks))
	}
	for _, b := range blocks {
		if !strings.Contains(code, norm(b[1])) {
			t.Errorf("this snippet of docs/verify.md is not in verify/example_test.go:\n%s", b[1])
		}
	}
}

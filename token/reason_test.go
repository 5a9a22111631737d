package token

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestRejectionSaysWhichClaim: the cause of a rejection (which goes to the
// debug log, never to the client) names the claim that failed and, for
// iss, the URL the token has and the one expected; never the token.
func TestRejectionSaysWhichClaim(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	s, err := NewSigner("k1", priv, "http://127.0.0.1:8080", 30*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := s.Mint("6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", "com.contoso.orders")
	if err != nil {
		t.Fatal(err)
	}
	keys := StaticKeys{"k1": pub}
	v := &Verifier{Issuer: "http://127.0.0.1:9180", Keys: keys}
	_, err = v.Verify(raw)
	if !errors.Is(err, ErrIssuer) {
		t.Fatalf("err = %v, want ErrIssuer", err)
	}
	msg := err.Error()
	for _, want := range []string{"iss", `"http://127.0.0.1:8080"`, `"http://127.0.0.1:9180"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("cause %q does not name %s", msg, want)
		}
	}
	if strings.Contains(msg, raw) || strings.Contains(msg, strings.Split(raw, ".")[2]) {
		t.Errorf("cause %q holds the token", msg)
	}
	// What a client sees (the message before the cause) says nothing of it.
	if !strings.HasPrefix(msg, "cardgate: token is invalid: ") {
		t.Errorf("client message: %q", msg)
	}

	late := &Verifier{Issuer: "http://127.0.0.1:8080", Keys: keys, Now: func() time.Time { return time.Now().Add(time.Hour) }}
	if _, err := late.Verify(raw); !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "exp ") {
		t.Errorf("expired: %v, want it to name exp", err)
	}
	early := &Verifier{Issuer: "http://127.0.0.1:8080", Keys: keys, Now: func() time.Time { return time.Now().Add(-time.Hour) }}
	if _, err := early.Verify(raw); !errors.Is(err, ErrNotYetValid) || !strings.Contains(err.Error(), "nbf ") {
		t.Errorf("not yet valid: %v, want it to name nbf", err)
	}
}

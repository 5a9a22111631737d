package token

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// TestSignMatchesGoJose: the hand-built token is byte for byte the one
// go-jose's jwt builder makes from the same claims (Ed25519 signatures are
// deterministic), including values JSON must escape, with a conversation
// and without one.
func TestSignMatchesGoJose(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	for _, iss := range []string{"https://id.example.com", "http://127.0.0.1:8080/a?b=<c>&d=\"é\"\u2028"} {
		for _, conv := range []string{"", "0b8f6c1e-2d4a-4f3b-8c9d-1e2f3a4b5c6d", "<\"é\u2028>"} {
			s, err := NewSigner("k1-2026", key, iss, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Unix(1_700_000_000, 0).UTC()
			c := &Claims{Issuer: iss, UserID: "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", ActionPackageID: "com.contoso.orders",
				ConversationID: conv, ID: (*IDs)(nil).New(), IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(DefaultLifetime)}
			got, err := s.sign(c)
			if err != nil {
				t.Fatal(err)
			}
			want, err := jwt.Signed(s.signer).Claims(wire{
				Issuer: c.Issuer, Subject: c.UserID, ActionPackageID: c.ActionPackageID, ConversationID: c.ConversationID,
				ID: c.ID, IssuedAt: jwt.NewNumericDate(c.IssuedAt), NotBefore: jwt.NewNumericDate(c.NotBefore),
				Expiry: jwt.NewNumericDate(c.ExpiresAt),
			}).Serialize()
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("sign (conv %q):\n got %s\nwant %s", conv, got, want)
			}
		}
	}
}

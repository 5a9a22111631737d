package token

import (
	"encoding/base64"
	"strings"
	"testing"
)

const testConversation = "0b8f6c1e-2d4a-4f3b-8c9d-1e2f3a4b5c6d"

// payloadOf returns the JSON of a compact JWS's payload.
func payloadOf(t *testing.T, raw string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMintInConversation: a token minted in a conversation carries its id
// in the "conv" claim, and Verify gives it back.
func TestMintInConversation(t *testing.T) {
	f := newFixture(t)
	raw, minted, err := f.signer.MintIn(testUser, testPkg, testConversation)
	if err != nil {
		t.Fatal(err)
	}
	if minted.ConversationID != testConversation {
		t.Errorf("minted claims name conversation %q, want %q", minted.ConversationID, testConversation)
	}
	if p := payloadOf(t, raw); !strings.Contains(p, `"conv":"`+testConversation+`"`) {
		t.Errorf("payload %s lacks the conv claim", p)
	}
	got, err := f.ver.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *minted {
		t.Errorf("claims = %+v, want %+v", got, minted)
	}
}

// TestMintWithoutConversationUnchanged pins the payload of a token minted
// outside a conversation, member by member and in order: no "conv" at all,
// so such a token is the one minted before conversations existed.
func TestMintWithoutConversationUnchanged(t *testing.T) {
	f := newFixture(t)
	f.signer.WithIDs(nil)
	for _, mint := range []func() (string, *Claims, error){
		func() (string, *Claims, error) { return f.signer.Mint(testUser, testPkg) },
		func() (string, *Claims, error) { return f.signer.MintIn(testUser, testPkg, "") },
	} {
		raw, c, err := mint()
		if err != nil {
			t.Fatal(err)
		}
		want := `{"apid":"com.contoso.orders","exp":1795602600,"iat":1795600800,"iss":"https://issuer.test","jti":"` + c.ID +
			`","nbf":1795600800,"sub":"6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"}`
		if got := payloadOf(t, raw); got != want {
			t.Errorf("payload\n got %s\nwant %s", got, want)
		}
		if c.ConversationID != "" {
			t.Errorf("claims name conversation %q", c.ConversationID)
		}
		v, err := f.ver.Verify(raw)
		if err != nil || v.ConversationID != "" {
			t.Errorf("Verify: %+v, %v", v, err)
		}
	}
}

// TestVerifyConversationClaim: a conv claim signed by a trusted key is read
// as it is; an empty one means none. Claims other than conv that a token
// might carry are not conversations.
func TestVerifyConversationClaim(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"set", testConversation, testConversation},
		{"empty", "", ""},
		{"absent", nil, ""},
	} {
		claims := goodClaims(f.now)
		if tc.v != nil {
			claims["conv"] = tc.v
		}
		c, err := f.ver.Verify(sign(t, "EdDSA", f.priv, goodHeaders, claims))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.ConversationID != tc.want {
			t.Errorf("%s: conversation %q, want %q", tc.name, c.ConversationID, tc.want)
		}
	}
	// A conv that is not a string is malformed, like any mistyped claim.
	if _, err := f.ver.Verify(sign(t, "EdDSA", f.priv, goodHeaders, with(goodClaims(f.now), "conv", 42))); err == nil {
		t.Error("accepted a numeric conv claim")
	}
}

// BenchmarkMintInConversation is BenchmarkMint for a token that names a
// conversation.
func BenchmarkMintInConversation(b *testing.B) {
	f := newFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.signer.MintIn(testUser, testPkg, testConversation); err != nil {
			b.Fatal(err)
		}
	}
}

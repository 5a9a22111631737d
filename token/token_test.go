package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	testIssuer = "https://issuer.test"
	testUser   = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"
	testPkg    = "com.contoso.orders"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type fixture struct {
	pub    ed25519.PublicKey
	priv   ed25519.PrivateKey
	signer *Signer
	ver    *Verifier
	now    time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	f := &fixture{pub: pub, priv: priv, now: t0}
	clock := func() time.Time { return f.now }
	s, err := NewSigner("k1", priv, testIssuer, 0, clock)
	if err != nil {
		t.Fatal(err)
	}
	f.signer = s
	f.ver = &Verifier{Issuer: testIssuer, Keys: StaticKeys{"k1": pub}, Now: clock}
	return f
}

// sign makes a JWS with arbitrary headers and claims, for forging.
func sign(t testing.TB, alg jose.SignatureAlgorithm, key any, headers map[jose.HeaderKey]any, claims any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	for k, v := range headers {
		opts.WithHeader(k, v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func goodClaims(now time.Time) map[string]any {
	return map[string]any{
		"iss": testIssuer, "sub": testUser, "apid": testPkg, "jti": "abc",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(30 * time.Minute).Unix(),
	}
}

func with(c map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range c {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

var goodHeaders = map[jose.HeaderKey]any{"kid": "k1", jose.HeaderType: Type}

func TestMintVerifyRoundTrip(t *testing.T) {
	f := newFixture(t)
	raw, minted, err := f.signer.Mint(testUser, testPkg)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(raw, ".") != 2 {
		t.Fatalf("token %q is not a compact JWS", raw)
	}
	got, err := f.ver.Verify(raw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if *got != *minted {
		t.Errorf("claims = %+v, want %+v", got, minted)
	}
	if got.ExpiresAt.Sub(got.IssuedAt) != 30*time.Minute {
		t.Errorf("lifetime = %v, want 30m", got.ExpiresAt.Sub(got.IssuedAt))
	}
	// The header says what the design promises.
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	var h map[string]any
	json.Unmarshal(hdr, &h)
	if h["alg"] != "EdDSA" || h["kid"] != "k1" || h["typ"] != Type {
		t.Errorf("header = %v", h)
	}
	// No personal data in the token.
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
	var p map[string]any
	json.Unmarshal(payload, &p)
	for k := range p {
		switch k {
		case "iss", "sub", "apid", "iat", "nbf", "exp", "jti":
		default:
			t.Errorf("unexpected claim %q in token", k)
		}
	}
	// Two mints never share a jti.
	raw2, c2, _ := f.signer.Mint(testUser, testPkg)
	if raw2 == raw || c2.ID == minted.ID {
		t.Error("two mints produced the same token or jti")
	}
}

func TestVerifyRejects(t *testing.T) {
	f := newFixture(t)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	now := f.now
	valid, _, _ := f.signer.Mint(testUser, testPkg)
	parts := strings.Split(valid, ".")

	// alg none: header and payload of a real token, empty signature.
	noneHdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k1","typ":"` + Type + `"}`))
	// A payload swapped in under the original signature.
	tamperedPayload := base64.RawURLEncoding.EncodeToString(mustJSON(with(goodClaims(now), "apid", "com.evil.pkg")))

	tests := []struct {
		name  string
		raw   string
		want  error
		isExp bool
	}{
		{"empty", "", ErrMalformed, false},
		{"garbage", "not-a-token", ErrMalformed, false},
		{"too long", strings.Repeat("a", MaxLen+1), ErrMalformed, false},
		{"two parts", parts[0] + "." + parts[1], ErrMalformed, false},
		{"alg none", noneHdr + "." + parts[1] + ".", ErrAlgorithm, false},
		{"HMAC with the public key as secret", sign(t, jose.HS256, []byte(f.pub), goodHeaders, goodClaims(now)), ErrAlgorithm, false},
		{"re-signed with another key, same kid", sign(t, jose.EdDSA, otherPriv, goodHeaders, goodClaims(now)), ErrSignature, false},
		{"tampered payload", parts[0] + "." + tamperedPayload + "." + parts[2], ErrSignature, false},
		{"unknown kid", sign(t, jose.EdDSA, f.priv, map[jose.HeaderKey]any{"kid": "k9", jose.HeaderType: Type}, goodClaims(now)), ErrUnknownKey, false},
		{"no kid", sign(t, jose.EdDSA, f.priv, map[jose.HeaderKey]any{jose.HeaderType: Type}, goodClaims(now)), ErrUnknownKey, false},
		{"wrong typ", sign(t, jose.EdDSA, f.priv, map[jose.HeaderKey]any{"kid": "k1", jose.HeaderType: "JWT"}, goodClaims(now)), ErrType, false},
		{"no typ", sign(t, jose.EdDSA, f.priv, map[jose.HeaderKey]any{"kid": "k1"}, goodClaims(now)), ErrType, false},
		{"other issuer", sign(t, jose.EdDSA, f.priv, goodHeaders, with(goodClaims(now), "iss", "https://evil.test")), ErrIssuer, false},
		{"expired", sign(t, jose.EdDSA, f.priv, goodHeaders, with(goodClaims(now.Add(-time.Hour)), "exp", now.Add(-time.Minute).Unix())), ErrExpired, true},
		{"not yet valid", sign(t, jose.EdDSA, f.priv, goodHeaders, with(goodClaims(now), "nbf", now.Add(5*time.Minute).Unix())), ErrNotYetValid, false},
		{"no sub", sign(t, jose.EdDSA, f.priv, goodHeaders, with(goodClaims(now), "sub", nil)), ErrClaims, false},
		{"no apid", sign(t, jose.EdDSA, f.priv, goodHeaders, with(goodClaims(now), "apid", nil)), ErrClaims, false},
		{"no jti", sign(t, jose.EdDSA, f.priv, goodHeaders, with(goodClaims(now), "jti", nil)), ErrClaims, false},
		{"no exp", sign(t, jose.EdDSA, f.priv, goodHeaders, with(goodClaims(now), "exp", nil)), ErrClaims, false},
		{"exp not a number", sign(t, jose.EdDSA, f.priv, goodHeaders, with(goodClaims(now), "exp", "tomorrow")), ErrMalformed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.ver.Verify(tt.raw)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if cardgate.ErrorCode(err) != cardgate.EINVALIDTOKEN {
				t.Errorf("code = %q, want %q", cardgate.ErrorCode(err), cardgate.EINVALIDTOKEN)
			}
			// The client sees one of two messages, never which check failed.
			want := msgInvalid
			if tt.isExp {
				want = msgExpired
			}
			if got := cardgate.ErrorMessage(err); got != want {
				t.Errorf("message = %q, want %q", got, want)
			}
		})
	}
}

func TestVerifyLeeway(t *testing.T) {
	f := newFixture(t)
	raw, c, _ := f.signer.Mint(testUser, testPkg)
	f.now = c.ExpiresAt.Add(DefaultLeeway - time.Second)
	if _, err := f.ver.Verify(raw); err != nil {
		t.Errorf("within leeway after exp: %v", err)
	}
	f.now = c.ExpiresAt.Add(DefaultLeeway)
	if _, err := f.ver.Verify(raw); !errors.Is(err, ErrExpired) {
		t.Errorf("at exp+leeway: err = %v, want ErrExpired", err)
	}
	f.ver.Leeway = -1
	f.now = c.ExpiresAt
	if _, err := f.ver.Verify(raw); !errors.Is(err, ErrExpired) {
		t.Errorf("no leeway, at exp: err = %v, want ErrExpired", err)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzVerify feeds arbitrary strings to the parser: it must never panic, and
// must never accept anything but a token this test's key signed.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	valid, _, _ := fx.signer.Mint(testUser, testPkg)
	f.Add(valid)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := fx.ver.Verify(raw)
		if err == nil && (c.UserID != testUser || c.ActionPackageID != testPkg) {
			t.Fatalf("accepted a token with claims %+v", c)
		}
		if err != nil && cardgate.ErrorCode(err) != cardgate.EINVALIDTOKEN {
			t.Fatalf("error code %q for %q", cardgate.ErrorCode(err), raw)
		}
	})
}

func BenchmarkMint(b *testing.B) {
	f := newFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.signer.Mint(testUser, testPkg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is the uncached check; BenchmarkRawEd25519Verify is its
// floor, run in the same process so their ratio means something on a noisy
// machine.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	raw, _, _ := f.signer.Mint(testUser, testPkg)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.ver.Verify(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawEd25519Verify(b *testing.B) {
	f := newFixture(b)
	raw, _, _ := f.signer.Mint(testUser, testPkg)
	i := strings.LastIndexByte(raw, '.')
	msg := []byte(raw[:i])
	sig, _ := base64.RawURLEncoding.DecodeString(raw[i+1:])
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(f.pub, msg, sig) {
			b.Fatal("bad signature")
		}
	}
}

// TestVerifyRefusesFutureIssuedAt: a token may not say it was issued (iat),
// or becomes valid (nbf), later than now plus the leeway. With a leaked key,
// a token with a future iat would outlive "revoke every token of this
// user", whose cut-off is on iat.
func TestVerifyRefusesFutureIssuedAt(t *testing.T) {
	f := newFixture(t)
	now := f.now
	for _, tc := range []struct {
		name string
		iat  time.Time
		nbf  time.Time
		want error // nil: accepted
	}{
		{"iat now", now, now, nil},
		{"iat within the leeway", now.Add(DefaultLeeway), now, nil},
		{"iat beyond the leeway", now.Add(DefaultLeeway + time.Second), now, ErrClaims},
		{"iat a year ahead", now.AddDate(1, 0, 0), now, ErrClaims},
		{"iat and nbf beyond the leeway", now.Add(time.Hour), now.Add(time.Hour), ErrNotYetValid},
		{"nbf beyond the leeway", now, now.Add(DefaultLeeway + time.Second), ErrNotYetValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := with(with(goodClaims(now), "iat", tc.iat.Unix()), "nbf", tc.nbf.Unix())
			c["exp"] = tc.iat.Add(30 * time.Minute).Unix()
			_, err := f.ver.Verify(sign(t, jose.EdDSA, f.priv, goodHeaders, c))
			if tc.want == nil && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want != nil && cardgate.ErrorMessage(err) != msgInvalid {
				t.Errorf("message = %q, want %q", cardgate.ErrorMessage(err), msgInvalid)
			}
		})
	}
}

// TestVerifyRefusesLongLifetime: exp - iat may not exceed MaxLifetime
// (24 h), the longest lifetime an installation may configure. With a leaked
// key, a token with a far-off exp would otherwise stay in the issuer's and
// verify.Local's caches of good signatures for as long as it says.
func TestVerifyRefusesLongLifetime(t *testing.T) {
	f := newFixture(t)
	now := f.now
	for _, tc := range []struct {
		name string
		life time.Duration
		ok   bool
	}{
		{"30 minutes", 30 * time.Minute, true},
		{"MaxLifetime", MaxLifetime, true},
		{"MaxLifetime and a second", MaxLifetime + time.Second, false},
		{"ten years", 10 * 365 * 24 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.ver.Verify(sign(t, jose.EdDSA, f.priv, goodHeaders, with(goodClaims(now), "exp", now.Add(tc.life).Unix())))
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && (!errors.Is(err, ErrClaims) || !strings.Contains(err.Error(), "exp")) {
				t.Fatalf("err = %v, want ErrClaims naming exp", err)
			}
		})
	}
	// An iat far in the past does not make room for a long exp either.
	old := with(with(goodClaims(now), "iat", now.Add(-MaxLifetime).Unix()), "exp", now.Add(time.Hour).Unix())
	if _, err := f.ver.Verify(sign(t, jose.EdDSA, f.priv, goodHeaders, old)); !errors.Is(err, ErrClaims) {
		t.Errorf("iat 24 h ago, exp in an hour: %v, want ErrClaims", err)
	}
}

// TestSignerRefusesLongLifetime: no signer mints tokens that every
// verifier would refuse.
func TestSignerRefusesLongLifetime(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := NewSigner("k1", priv, testIssuer, MaxLifetime, nil); err != nil {
		t.Errorf("MaxLifetime: %v", err)
	}
	if _, err := NewSigner("k1", priv, testIssuer, MaxLifetime+time.Second, nil); err == nil {
		t.Error("a lifetime over MaxLifetime was accepted")
	}
}

// Package token mints and checks integration service tokens: compact JWS
// signed with Ed25519 (alg "EdDSA"), with a "kid" and a "typ" naming the token
// kind, carrying the claims iss, sub (user id), apid (action package id), iat,
// nbf, exp and jti, and conv (conversation id) for a token minted for a card
// opened in a conversation. Tokens hold no personal data.
//
// JOSE parsing is go-jose's; this package adds the policy: only EdDSA, only
// known kids, only our typ and issuer, times checked with a small leeway.
package token

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Type is the "typ" header of an integration service token.
const Type = "cardgate-ist+jwt"

// DefaultLifetime is how long a token is valid, as in Kaizala.
const DefaultLifetime = 30 * time.Minute

// DefaultLeeway is the clock skew tolerated when checking iat, nbf and exp.
const DefaultLeeway = 30 * time.Second

// MaxLifetime is the longest lifetime a token may have: no Signer (nor
// keyring, issuer or installation: --token-lifetime is 1m to 24h) mints a
// longer one, and Verify refuses any token whose exp is more than
// MaxLifetime after its iat.
const MaxLifetime = 24 * time.Hour

// MaxLen bounds the length of a token accepted for parsing. Real tokens are
// about 400 bytes; anything much longer is junk and is refused before any
// decoding work.
const MaxLen = 2048

// Claims are the contents of a token.
type Claims struct {
	Issuer          string
	UserID          string // sub
	ActionPackageID string // apid
	// ConversationID is the conversation the card was opened in (conv),
	// "" for a token minted outside any conversation.
	ConversationID string
	ID             string // jti
	IssuedAt       time.Time
	NotBefore      time.Time
	ExpiresAt      time.Time
}

// wire is the JSON form of Claims.
type wire struct {
	Issuer          string           `json:"iss"`
	Subject         string           `json:"sub"`
	ActionPackageID string           `json:"apid"`
	ConversationID  string           `json:"conv,omitempty"`
	ID              string           `json:"jti"`
	IssuedAt        *jwt.NumericDate `json:"iat"`
	NotBefore       *jwt.NumericDate `json:"nbf"`
	Expiry          *jwt.NumericDate `json:"exp"`
}

// Signer mints tokens with one key. Make one with NewSigner; it is safe for
// concurrent use.
type Signer struct {
	kid      string
	issuer   string
	lifetime time.Duration
	now      func() time.Time
	signer   jose.Signer
	key      ed25519.PrivateKey
	// header is the token's first segment, the same for every token of
	// the key: go-jose's own, made once.
	header string
	// ids makes the tokens' jti; nil means 128 random bits.
	ids *IDs
}

// WithIDs makes the Signer's tokens carry ids from ids, so that a
// revocation can tell them from ids this installation never minted.
func (s *Signer) WithIDs(ids *IDs) *Signer { s.ids = ids; return s }

// NewSigner returns a Signer that signs with key under key ID kid, for the
// given issuer. A lifetime of 0 means DefaultLifetime, and one longer than
// MaxLifetime is an error; now may be nil for time.Now.
func NewSigner(kid string, key ed25519.PrivateKey, issuer string, lifetime time.Duration, now func() time.Time) (*Signer, error) {
	if lifetime <= 0 {
		lifetime = DefaultLifetime
	}
	if lifetime > MaxLifetime {
		return nil, fmt.Errorf("token: new signer: lifetime %v is longer than %v, which verifiers refuse", lifetime, MaxLifetime)
	}
	if now == nil {
		now = time.Now
	}
	opts := (&jose.SignerOptions{}).WithType(Type).WithHeader(jose.HeaderKey("kid"), kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("token: new signer: %w", err)
	}
	jws, err := s.Sign([]byte("{}"))
	if err != nil {
		return nil, fmt.Errorf("token: new signer: %w", err)
	}
	compact, err := jws.CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("token: new signer: %w", err)
	}
	header, _, _ := strings.Cut(compact, ".")
	return &Signer{kid: kid, issuer: issuer, lifetime: lifetime, now: now, signer: s, key: key, header: header}, nil
}

// KeyID returns the kid the signer puts in its tokens.
func (s *Signer) KeyID() string { return s.kid }

// Mint returns a fresh token for a user and an action package, outside any
// conversation: it has no conv claim.
func (s *Signer) Mint(userID, packageID string) (string, *Claims, error) {
	return s.MintIn(userID, packageID, "")
}

// MintIn returns a fresh token for a user and an action package opened in
// a conversation, whose id it carries in the conv claim. An empty
// conversationID makes the token Mint makes. The signer checks nothing:
// the caller must have made sure the user is a member of the conversation.
func (s *Signer) MintIn(userID, packageID, conversationID string) (string, *Claims, error) {
	now := s.now().UTC().Truncate(time.Second)
	c := &Claims{
		Issuer:          s.issuer,
		UserID:          userID,
		ActionPackageID: packageID,
		ConversationID:  conversationID,
		ID:              s.ids.New(),
		IssuedAt:        now,
		NotBefore:       now,
		ExpiresAt:       now.Add(s.lifetime),
	}
	raw, err := s.sign(c)
	if err != nil {
		return "", nil, fmt.Errorf("token: sign: %w", err)
	}
	return raw, c, nil
}

// sortedWire is the JSON form of Claims with its members in the order
// go-jose's jwt builder writes them (sorted by name), so that a token made
// by sign is byte for byte the one jwt.Signed would make
// (TestSignMatchesGoJose); sign costs a third of the CPU, most of the rest
// being the signature itself. conv is left out when empty, as wire's is, so
// a token minted outside a conversation is the one minted before
// conversations existed.
type sortedWire struct {
	ActionPackageID string `json:"apid"`
	ConversationID  string `json:"conv,omitempty"`
	Expiry          int64  `json:"exp"`
	IssuedAt        int64  `json:"iat"`
	Issuer          string `json:"iss"`
	ID              string `json:"jti"`
	NotBefore       int64  `json:"nbf"`
	Subject         string `json:"sub"`
}

// sign returns the compact JWS of c: header, claims and signature.
func (s *Signer) sign(c *Claims) (string, error) {
	payload, err := json.Marshal(sortedWire{
		ActionPackageID: c.ActionPackageID, ConversationID: c.ConversationID, Expiry: c.ExpiresAt.Unix(), IssuedAt: c.IssuedAt.Unix(),
		Issuer: c.Issuer, ID: c.ID, NotBefore: c.NotBefore.Unix(), Subject: c.UserID,
	})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	b := make([]byte, 0, len(s.header)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(ed25519.SignatureSize))
	b = append(b, s.header...)
	b = append(b, '.')
	b = enc.AppendEncode(b, payload)
	sig := ed25519.Sign(s.key, b)
	b = append(b, '.')
	b = enc.AppendEncode(b, sig)
	return string(b), nil
}

// IDs makes and recognises one installation's token ids (jti): 96 random
// bits and a 32-bit tag of them, HMAC-SHA256 under a key only the
// installation has (derived from its master key), base64url-encoded in 22
// characters. Tokens are not stored, yet a revocation can tell an id this
// installation minted from one it never did, but for one chance in 2³².
type IDs struct {
	// macs holds HMACs keyed with the id key: hmac.New cost 5 of a
	// mint's 14 allocations and two SHA-256 blocks (the padded key),
	// which Reset restores from a saved state instead.
	macs sync.Pool
}

// NewIDs returns the IDs of the installation whose id key is key.
func NewIDs(key []byte) *IDs {
	key = bytes.Clone(key)
	ids := &IDs{}
	ids.macs.New = func() any { return hmac.New(sha256.New, key) }
	return ids
}

// New returns a new token id. A nil *IDs makes 128 random bits, which
// Minted never recognises.
func (ids *IDs) New() string {
	var b [16]byte
	if ids == nil {
		rand.Read(b[:]) // never fails since Go 1.24
		return base64.RawURLEncoding.EncodeToString(b[:])
	}
	rand.Read(b[:12])
	ids.tag(b[12:], b[:12])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Minted reports whether s is an id that New made with this key.
func (ids *IDs) Minted(s string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 16 || ids == nil {
		return false
	}
	var want [4]byte
	ids.tag(want[:], b[:12])
	return hmac.Equal(b[12:], want[:])
}

// tag writes the first len(dst) (at most 32) bytes of random's HMAC to dst.
func (ids *IDs) tag(dst, random []byte) {
	m := ids.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(random)
	var sum [sha256.Size]byte
	copy(dst, m.Sum(sum[:0]))
	ids.macs.Put(m)
}

// ValidJTI reports whether s has the form of a token id: 128 bits,
// base64url without padding (22 characters).
func ValidJTI(s string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == 16
}

// Keys finds the public key for a kid. It is how a Verifier learns which
// keys to trust: the issuer's keyring, or a JWKS fetched by package verify.
type Keys interface {
	PublicKey(kid string) (ed25519.PublicKey, bool)
}

// Reasons a token is rejected. Verify returns them wrapped in a
// *cardgate.Error with code EINVALIDTOKEN; test with errors.Is.
var (
	ErrMalformed   = errors.New("token: malformed")
	ErrAlgorithm   = errors.New("token: algorithm not allowed")
	ErrType        = errors.New("token: wrong typ")
	ErrUnknownKey  = errors.New("token: unknown kid")
	ErrSignature   = errors.New("token: bad signature")
	ErrIssuer      = errors.New("token: wrong issuer (claim iss)")
	ErrClaims      = errors.New("token: missing or malformed claim")
	ErrExpired     = errors.New("token: expired (claim exp)")
	ErrNotYetValid = errors.New("token: not valid yet (claim nbf)")
)

// Client-facing messages. One message covers every reason but expiry, so a
// rejection tells a forger nothing about which check failed; expiry alone is
// worth telling, because a card that sees it knows to fetch a new token.
const (
	msgInvalid = "token is invalid"
	msgExpired = "token has expired"
)

func reject(reason error, detail string) error {
	msg := msgInvalid
	if reason == ErrExpired {
		msg = msgExpired
	}
	if detail != "" {
		reason = fmt.Errorf("%w: %s", reason, detail)
	}
	return cardgate.WrapError(cardgate.EINVALIDTOKEN, msg, reason)
}

// Verifier checks tokens. Its zero value is not usable: set Issuer and Keys.
type Verifier struct {
	// Issuer is the only accepted "iss".
	Issuer string
	// Keys are the trusted public keys.
	Keys Keys
	// Leeway is the clock skew tolerated for iat, nbf and exp; 0 means
	// DefaultLeeway. Use a negative value for none.
	Leeway time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

var allowedAlgs = []jose.SignatureAlgorithm{jose.EdDSA}

// Verify checks raw's signature and claims and returns its claims. It checks,
// in order: size and shape, alg (EdDSA only), typ, kid (must be known), the
// signature, iss, the presence and form of every claim, exp, nbf, then that
// iat is no later than now plus the leeway and exp no more than MaxLifetime
// after iat. Every later check of a cached token (the issuer's and
// verify.Local's caches of good signatures) only needs exp: iat and nbf only
// move into the past, and exp - iat never changes.
func (v *Verifier) Verify(raw string) (*Claims, error) {
	if raw == "" || len(raw) > MaxLen {
		return nil, reject(ErrMalformed, "empty or too long")
	}
	tok, err := jwt.ParseSigned(raw, allowedAlgs)
	if err != nil {
		// go-jose reports a disallowed alg only in its message; the
		// "alg none" and HMAC tests pin this.
		if errors.Is(err, jose.ErrUnsupportedAlgorithm) || strings.Contains(err.Error(), "unexpected signature algorithm") {
			return nil, reject(ErrAlgorithm, "")
		}
		return nil, reject(ErrMalformed, err.Error())
	}
	if len(tok.Headers) != 1 {
		return nil, reject(ErrMalformed, "want one signature")
	}
	h := tok.Headers[0]
	if h.Algorithm != string(jose.EdDSA) {
		return nil, reject(ErrAlgorithm, "")
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != Type {
		return nil, reject(ErrType, fmt.Sprintf("typ is %s, want %q", quoteClaim(typ), Type))
	}
	if h.JSONWebKey != nil {
		// A key embedded in the header would let the token vouch for itself.
		return nil, reject(ErrMalformed, "embedded jwk")
	}
	pub, ok := v.Keys.PublicKey(h.KeyID)
	if !ok {
		return nil, reject(ErrUnknownKey, "")
	}
	var w wire
	if err := tok.Claims(pub, &w); err != nil {
		if errors.Is(err, jose.ErrCryptoFailure) {
			return nil, reject(ErrSignature, "")
		}
		return nil, reject(ErrMalformed, err.Error())
	}
	if w.Issuer != v.Issuer {
		// The operator's clue when a token is minted with one issuer URL
		// and checked against another: both URLs, never the token.
		return nil, reject(ErrIssuer, fmt.Sprintf("iss is %s, want %q", quoteClaim(w.Issuer), v.Issuer))
	}
	if missing := missingClaims(&w); missing != "" {
		return nil, reject(ErrClaims, "missing "+missing)
	}
	c := &Claims{
		Issuer:          w.Issuer,
		UserID:          w.Subject,
		ActionPackageID: w.ActionPackageID,
		ConversationID:  w.ConversationID,
		ID:              w.ID,
		IssuedAt:        w.IssuedAt.Time().UTC(),
		NotBefore:       w.NotBefore.Time().UTC(),
		ExpiresAt:       w.Expiry.Time().UTC(),
	}
	now, leeway := time.Now, v.Leeway
	if v.Now != nil {
		now = v.Now
	}
	if leeway == 0 {
		leeway = DefaultLeeway
	} else if leeway < 0 {
		leeway = 0
	}
	t := now()
	if !t.Before(c.ExpiresAt.Add(leeway)) {
		return nil, reject(ErrExpired, "exp "+c.ExpiresAt.Format(time.RFC3339)+", leeway "+leeway.String())
	}
	if t.Add(leeway).Before(c.NotBefore) {
		return nil, reject(ErrNotYetValid, "nbf "+c.NotBefore.Format(time.RFC3339)+", leeway "+leeway.String())
	}
	// A token is minted with iat = nbf = now, so only a forgery (or a
	// broken clock) has an iat in the future: it would outlive a revocation
	// of its user or package, whose cut-off is on iat.
	if t.Add(leeway).Before(c.IssuedAt) {
		return nil, reject(ErrClaims, "iat "+c.IssuedAt.Format(time.RFC3339)+" is in the future, leeway "+leeway.String())
	}
	// Nor may it live longer than any installation lets a token live: a
	// far-off exp would keep it in the caches of good signatures.
	if c.ExpiresAt.Sub(c.IssuedAt) > MaxLifetime {
		return nil, reject(ErrClaims, "exp "+c.ExpiresAt.Format(time.RFC3339)+" is more than "+MaxLifetime.String()+" after iat "+c.IssuedAt.Format(time.RFC3339))
	}
	return c, nil
}

// missingClaims names the required claims w lacks, or returns "".
func missingClaims(w *wire) string {
	var m []string
	for _, c := range []struct {
		name    string
		missing bool
	}{
		{"sub", w.Subject == ""}, {"apid", w.ActionPackageID == ""}, {"jti", w.ID == ""},
		{"iat", w.IssuedAt == nil}, {"nbf", w.NotBefore == nil}, {"exp", w.Expiry == nil},
	} {
		if c.missing {
			m = append(m, c.name)
		}
	}
	return strings.Join(m, ", ")
}

// quoteClaim quotes a value taken from a token for the log, cut short: the
// token is anyone's to write.
func quoteClaim(s string) string {
	const max = 200
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

// StaticKeys is a fixed set of public keys by kid.
type StaticKeys map[string]ed25519.PublicKey

// PublicKey implements Keys.
func (k StaticKeys) PublicKey(kid string) (ed25519.PublicKey, bool) {
	pub, ok := k[kid]
	return pub, ok
}

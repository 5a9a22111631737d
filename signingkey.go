package cardgate

import (
	"crypto/ed25519"
	"time"
)

// SigningKey is an Ed25519 key pair the Integration Service signs tokens
// with. The private key is stored only sealed with the master key (package
// seal); the store never sees it in the clear.
//
// A key's life: published from CreatedAt (in the JWKS, known to every
// issuer node), signing from ActivatesAt until RetiredAt, then published
// for as long as a token it signed can be valid. A rotation makes the next
// key ahead of time, so that every verifier has it before it signs.
type SigningKey struct {
	// ID is the key's "kid".
	ID        string            `json:"kid"`
	PublicKey ed25519.PublicKey `json:"publicKey"`
	// SealedPrivateKey is the private key encrypted with the master key.
	SealedPrivateKey []byte    `json:"-"`
	CreatedAt        time.Time `json:"createdAt"`
	// ActivatesAt is when this key starts signing new tokens; zero means
	// CreatedAt.
	ActivatesAt time.Time `json:"activatesAt,omitzero"`
	// RetiredAt is when the next key took (or takes) over signing; zero
	// while no newer key is scheduled. A key retired at or before its
	// activation never signs.
	RetiredAt time.Time `json:"retiredAt,omitzero"`
}

// Activation returns when k starts signing: ActivatesAt, or CreatedAt when
// that is zero.
func (k *SigningKey) Activation() time.Time {
	if k.ActivatesAt.IsZero() {
		return k.CreatedAt
	}
	return k.ActivatesAt
}

// SigningAt reports whether k is the key that signs new tokens at now.
func (k *SigningKey) SigningAt(now time.Time) bool {
	return !now.Before(k.Activation()) && (k.RetiredAt.IsZero() || now.Before(k.RetiredAt))
}

// Pending reports whether k is published but will start signing only
// later.
func (k *SigningKey) Pending(now time.Time) bool {
	return now.Before(k.Activation()) && (k.RetiredAt.IsZero() || k.Activation().Before(k.RetiredAt))
}

// PublishedAt reports whether k must be published at now: before and while
// it signs, and after, for as long as a token it signed (lifetime plus
// leeway) can still be valid.
func (k *SigningKey) PublishedAt(now time.Time, lifetime time.Duration) bool {
	return k.RetiredAt.IsZero() || now.Before(k.RetiredAt.Add(lifetime))
}

package cardgate

import (
	"crypto/ed25519"
	"time"
)

// SigningKey is an Ed25519 key pair the Integration Service signs tokens
// with. The private key is stored only sealed with the master key (package
// seal); the store never sees it in the clear.
type SigningKey struct {
	// ID is the key's "kid".
	ID        string            `json:"kid"`
	PublicKey ed25519.PublicKey `json:"publicKey"`
	// SealedPrivateKey is the private key encrypted with the master key.
	SealedPrivateKey []byte    `json:"-"`
	CreatedAt        time.Time `json:"createdAt"`
	// RetiredAt is when a newer key took over signing; zero while this key
	// is the one that signs. A retired key stays published until every
	// token it signed has expired.
	RetiredAt time.Time `json:"retiredAt,omitzero"`
}

// Active reports whether k is the key that signs new tokens.
func (k *SigningKey) Active() bool { return k.RetiredAt.IsZero() }

// PublishedAt reports whether k must still be published at now: while it
// signs, and after, for as long as a token it signed (lifetime plus leeway)
// can still be valid.
func (k *SigningKey) PublishedAt(now time.Time, lifetime time.Duration) bool {
	return k.Active() || now.Before(k.RetiredAt.Add(lifetime))
}

// Package keyring manages the Integration Service's signing keys: it makes
// the first key on first start, seals private keys with the master key before
// they reach the store, rotates, and says which public keys to publish and
// trust. A Keyring is safe for concurrent use.
package keyring

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/seal"
	"github.com/cardgate/cardgate/token"
	"github.com/go-jose/go-jose/v4"
)

// Store is the part of cardgate.Store a Keyring needs.
type Store interface {
	AddSigningKey(ctx context.Context, k *cardgate.SigningKey) error
	SigningKeys(ctx context.Context) ([]*cardgate.SigningKey, error)
}

// Config says how to build a Keyring.
type Config struct {
	Store  Store
	Master *seal.Key
	// Issuer is the "iss" of minted tokens.
	Issuer string
	// Lifetime of minted tokens; 0 means token.DefaultLifetime. A retired
	// key stays published for Lifetime plus Leeway after it retired.
	Lifetime time.Duration
	// Leeway is the verifiers' clock skew allowance; 0 means
	// token.DefaultLeeway.
	Leeway time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Keyring holds the keys in memory. Reload picks up keys another process
// (the CLI's "keys rotate") added to the store.
type Keyring struct {
	cfg Config

	mu     sync.RWMutex
	keys   []*cardgate.SigningKey // newest first, as the store returns them
	public map[string]ed25519.PublicKey
	signer *token.Signer
}

// Open loads the keys from the store, generating the first key if there is
// none, and unseals the active one. A master key that does not open the
// stored key is an error that says so: never a silent new key.
func Open(ctx context.Context, cfg Config) (*Keyring, error) {
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = token.DefaultLifetime
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = token.DefaultLeeway
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	kr := &Keyring{cfg: cfg}
	keys, err := cfg.Store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keyring: load keys: %w", err)
	}
	if len(keys) == 0 {
		if _, err := kr.Rotate(ctx); err != nil {
			return nil, err
		}
		return kr, nil
	}
	if err := kr.install(keys); err != nil {
		return nil, err
	}
	return kr, nil
}

// Rotate makes a new key the one that signs. The old keys stay published
// until every token they signed has expired.
func (kr *Keyring) Rotate(ctx context.Context) (*cardgate.SigningKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("keyring: generate key: %w", err)
	}
	kid, err := Thumbprint(pub)
	if err != nil {
		return nil, err
	}
	k := &cardgate.SigningKey{
		ID:               kid,
		PublicKey:        pub,
		SealedPrivateKey: kr.cfg.Master.Seal(priv.Seed(), sealLabel(kid)),
		CreatedAt:        kr.cfg.Now().UTC(),
	}
	if err := kr.cfg.Store.AddSigningKey(ctx, k); err != nil {
		return nil, fmt.Errorf("keyring: store key: %w", err)
	}
	return k, kr.Reload(ctx)
}

// Reload reads the keys from the store again.
func (kr *Keyring) Reload(ctx context.Context) error {
	keys, err := kr.cfg.Store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("keyring: load keys: %w", err)
	}
	return kr.install(keys)
}

func (kr *Keyring) install(keys []*cardgate.SigningKey) error {
	var active *cardgate.SigningKey
	public := make(map[string]ed25519.PublicKey, len(keys))
	now := kr.cfg.Now()
	for _, k := range keys {
		if k.Active() && active == nil {
			active = k
		}
		if k.PublishedAt(now, kr.cfg.Lifetime+kr.cfg.Leeway) {
			public[k.ID] = k.PublicKey
		}
	}
	if active == nil {
		return fmt.Errorf("keyring: no active signing key in the store (run 'cardgate keys rotate')")
	}
	kr.mu.RLock()
	same := kr.signer != nil && kr.signer.KeyID() == active.ID
	signer := kr.signer
	kr.mu.RUnlock()
	if !same {
		seed, err := kr.cfg.Master.Open(active.SealedPrivateKey, sealLabel(active.ID))
		if err != nil || len(seed) != ed25519.SeedSize {
			return fmt.Errorf("keyring: unseal signing key %s: %w (is CARDGATE_MASTER_KEY or the key file the one this store was made with?)", active.ID, seal.ErrOpen)
		}
		priv := ed25519.NewKeyFromSeed(seed)
		if !priv.Public().(ed25519.PublicKey).Equal(active.PublicKey) {
			return fmt.Errorf("keyring: signing key %s: private key does not match its public key", active.ID)
		}
		signer, err = token.NewSigner(active.ID, priv, kr.cfg.Issuer, kr.cfg.Lifetime, kr.cfg.Now)
		if err != nil {
			return fmt.Errorf("keyring: %w", err)
		}
	}
	kr.mu.Lock()
	kr.keys, kr.public, kr.signer = keys, public, signer
	kr.mu.Unlock()
	return nil
}

// sealLabel binds a sealed private key to its kid, so a sealed key copied to
// another row does not open.
func sealLabel(kid string) string { return "signing-key/" + kid }

// Signer returns the signer of the active key.
func (kr *Keyring) Signer() *token.Signer {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.signer
}

// PublicKey implements token.Keys: the keys that are still published.
func (kr *Keyring) PublicKey(kid string) (ed25519.PublicKey, bool) {
	kr.mu.RLock()
	pub, ok := kr.public[kid]
	kr.mu.RUnlock()
	return pub, ok
}

// Keys returns every key, newest first.
func (kr *Keyring) Keys() []*cardgate.SigningKey {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return append([]*cardgate.SigningKey(nil), kr.keys...)
}

// JWKS returns the published public keys as a JSON Web Key Set.
func (kr *Keyring) JWKS() jose.JSONWebKeySet {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range kr.keys { // newest first, so the signing key leads
		if pub, ok := kr.public[k.ID]; ok {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, KeyID: k.ID, Algorithm: string(jose.EdDSA), Use: "sig"})
		}
	}
	return set
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of an Ed25519 public
// key, base64url-encoded: the kid cardgate gives it.
func Thumbprint(pub ed25519.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("keyring: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

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
	"slices"
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
	// Lifetime of minted tokens; 0 means token.DefaultLifetime, and more
	// than token.MaxLifetime (24 h) is an error. A retired
	// key stays published for Lifetime plus Leeway after it retired.
	Lifetime time.Duration
	// Leeway is the verifiers' clock skew allowance; 0 means
	// token.DefaultLeeway.
	Leeway time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// DefaultRotationDelay is how long Rotate publishes a new key before it
// signs. It must be longer than the time any verifier takes to learn of a
// new key: issuer nodes reload keys every 10 s, verify.Local reads the JWKS
// every minute (at most every 2 minutes), and the JWKS may be cached for
// its max-age of 60 s on the way.
const DefaultRotationDelay = 5 * time.Minute

// MaxRotationDelay bounds a rotation's delay.
const MaxRotationDelay = 24 * time.Hour

// Keyring holds the keys in memory. Reload picks up keys another process
// (the CLI's "keys rotate", another node) added to the store.
type Keyring struct {
	cfg Config
	ids *token.IDs // the installation's token ids, keyed by the master key

	mu      sync.RWMutex
	keys    []*cardgate.SigningKey // newest first, as the store returns them
	public  map[string]ed25519.PublicKey
	signers []scheduled // every key that signs now or will, by activation
}

// scheduled is a key that signs from..until (zero: no end yet).
type scheduled struct {
	from, until time.Time
	signer      *token.Signer
}

// Open loads the keys from the store, generating the first key if there is
// none, and unseals the ones that sign. A master key that does not open a
// stored key is an error that says so: never a silent new key.
func Open(ctx context.Context, cfg Config) (*Keyring, error) {
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = token.DefaultLifetime
	}
	if cfg.Lifetime > token.MaxLifetime {
		return nil, fmt.Errorf("keyring: token lifetime %v is longer than %v, which verifiers refuse", cfg.Lifetime, token.MaxLifetime)
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = token.DefaultLeeway
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	kr := &Keyring{cfg: cfg, ids: token.NewIDs(cfg.Master.Derive("token ids v1"))}
	keys, err := cfg.Store.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keyring: load keys: %w", err)
	}
	if len(keys) == 0 {
		// Nobody can know of a first key: it signs at once.
		if _, err := kr.Rotate(ctx, 0); err != nil {
			return nil, err
		}
		return kr, nil
	}
	if err := kr.install(keys); err != nil {
		return nil, err
	}
	return kr, nil
}

// Rotate makes a new key, published at once, that takes over signing after
// delay (0: at once). Give verifiers time to fetch it first: with
// DefaultRotationDelay none of them ever meets a token of a key it does
// not know. An immediate rotation (a compromised key) is possible, but
// verifiers that have not fetched the new key yet refuse its tokens until
// they do. The old keys stay published until every token they signed has
// expired.
func (kr *Keyring) Rotate(ctx context.Context, delay time.Duration) (*cardgate.SigningKey, error) {
	if delay < 0 || delay > MaxRotationDelay {
		return nil, cardgate.Errorf(cardgate.EINVALID, "delay: must be from 0s to %v", MaxRotationDelay)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("keyring: generate key: %w", err)
	}
	kid, err := Thumbprint(pub)
	if err != nil {
		return nil, err
	}
	now := kr.cfg.Now().UTC()
	k := &cardgate.SigningKey{
		ID:               kid,
		PublicKey:        pub,
		SealedPrivateKey: kr.cfg.Master.Seal(priv.Seed(), sealLabel(kid)),
		CreatedAt:        now,
		ActivatesAt:      now.Add(delay),
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
	public := make(map[string]ed25519.PublicKey, len(keys))
	now := kr.cfg.Now()
	kr.mu.RLock()
	known := make(map[string]*token.Signer, len(kr.signers))
	for _, s := range kr.signers {
		known[s.signer.KeyID()] = s.signer
	}
	kr.mu.RUnlock()
	var signers []scheduled
	for _, k := range keys {
		if k.PublishedAt(now, kr.cfg.Lifetime+kr.cfg.Leeway) {
			public[k.ID] = k.PublicKey
		}
		if !k.SigningAt(now) && !k.Pending(now) {
			continue
		}
		signer := known[k.ID]
		if signer == nil {
			var err error
			if signer, err = kr.unseal(k); err != nil {
				return err
			}
		}
		signers = append(signers, scheduled{from: k.Activation(), until: k.RetiredAt, signer: signer})
	}
	if len(signers) == 0 {
		return fmt.Errorf("keyring: no key in the store signs now or later (run 'cardgate keys rotate --now')")
	}
	slices.SortFunc(signers, byStart)
	kr.mu.Lock()
	kr.keys, kr.public, kr.signers = keys, public, signers
	kr.mu.Unlock()
	return nil
}

func byStart(a, b scheduled) int { return a.from.Compare(b.from) }

func (kr *Keyring) unseal(k *cardgate.SigningKey) (*token.Signer, error) {
	seed, err := kr.cfg.Master.Open(k.SealedPrivateKey, sealLabel(k.ID))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("keyring: unseal signing key %s: %w (is CARDGATE_MASTER_KEY or the key file the one this store was made with?)", k.ID, seal.ErrOpen)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if !priv.Public().(ed25519.PublicKey).Equal(k.PublicKey) {
		return nil, fmt.Errorf("keyring: signing key %s: private key does not match its public key", k.ID)
	}
	signer, err := token.NewSigner(k.ID, priv, kr.cfg.Issuer, kr.cfg.Lifetime, kr.cfg.Now)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return signer.WithIDs(kr.ids), nil
}

// Minted reports whether jti is the id of a token this installation's
// keys minted (any node: they share the master key). Ids of tokens minted
// before cardgate tagged them are not recognised.
func (kr *Keyring) Minted(jti string) bool { return kr.ids.Minted(jti) }

// sealLabel binds a sealed private key to its kid, so a sealed key copied to
// another row does not open.
func sealLabel(kid string) string { return "signing-key/" + kid }

// Signer returns the signer of the key that signs now: the one activated
// last (or, on a node whose clock is behind the one that made the first
// key, the earliest). A pending key takes over at its activation time on
// every node that has loaded it, with no reload needed.
func (kr *Keyring) Signer() *token.Signer {
	now := kr.cfg.Now()
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	cur := kr.signers[0].signer
	for _, s := range kr.signers[1:] {
		if now.Before(s.from) {
			break
		}
		cur = s.signer
	}
	return cur
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
	for _, k := range kr.keys { // newest first: a pending key, then the signing key
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

package keyring_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate/keyring"
	"github.com/cardgate/cardgate/seal"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
	"github.com/cardgate/cardgate/token"
)

func newMaster(t *testing.T) *seal.Key {
	t.Helper()
	k, err := seal.ParseKey(seal.GenerateText())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestFirstStartRotateAndPublish(t *testing.T) {
	ctx := context.Background()
	store := sqlitetest.Open(t)
	master := newMaster(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cfg := keyring.Config{Store: store, Master: master, Issuer: "https://iss", Now: func() time.Time { return now }}

	kr, err := keyring.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := kr.Signer().KeyID()
	if len(kr.Keys()) != 1 || kr.Keys()[0].ID != first || !kr.Keys()[0].SigningAt(now) {
		t.Fatalf("first start: keys = %+v", kr.Keys())
	}
	// The stored private key is sealed: its bytes are not the seed.
	if k := kr.Keys()[0]; len(k.SealedPrivateKey) <= 32 {
		t.Errorf("sealed key is %d bytes; not sealed?", len(k.SealedPrivateKey))
	}
	// A second Open (a restart, or the CLI) finds the same key.
	kr2, err := keyring.Open(ctx, cfg)
	if err != nil || kr2.Signer().KeyID() != first {
		t.Fatalf("reopen: %v, kid %s want %s", err, kr2.Signer().KeyID(), first)
	}
	old, _, _ := kr.Signer().Mint("6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", "com.contoso.orders")

	// A rotation publishes the new key at once, on this node and (after a
	// reload, as a running server does every 10 s) on others, but the old
	// key signs until the delay is over.
	now = now.Add(time.Minute)
	k, err := kr.Rotate(ctx, keyring.DefaultRotationDelay)
	if err != nil {
		t.Fatal(err)
	}
	if k.ID == first || !k.Activation().Equal(now.Add(keyring.DefaultRotationDelay)) {
		t.Fatalf("new key %s activates at %v", k.ID, k.Activation())
	}
	if err := kr2.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*keyring.Keyring{"this node": kr, "another node": kr2} {
		if got := jwksKids(r); got != k.ID+","+first {
			t.Errorf("%s: JWKS kids = %s, want new then old", name, got)
		}
		if r.Signer().KeyID() != first {
			t.Errorf("%s signs with %s before the new key's activation, want %s", name, r.Signer().KeyID(), first)
		}
	}
	// At the activation time both nodes switch, with no reload needed.
	now = now.Add(keyring.DefaultRotationDelay)
	for name, r := range map[string]*keyring.Keyring{"this node": kr, "another node": kr2} {
		if r.Signer().KeyID() != k.ID {
			t.Errorf("%s signs with %s after the activation, want %s", name, r.Signer().KeyID(), k.ID)
		}
	}
	v := &token.Verifier{Issuer: "https://iss", Keys: kr, Now: func() time.Time { return now }}
	if _, err := v.Verify(old); err != nil {
		t.Errorf("token of the retired key: %v", err)
	}

	// The old key is withdrawn once its last token has expired.
	now = now.Add(token.DefaultLifetime + token.DefaultLeeway)
	if err := kr.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jwksKids(kr); got != k.ID {
		t.Errorf("JWKS kids after expiry = %s, want only %s", got, k.ID)
	}
	if _, ok := kr.PublicKey(first); ok {
		t.Error("retired key still trusted after its tokens expired")
	}
}

func jwksKids(kr *keyring.Keyring) string {
	var ids []string
	for _, k := range kr.JWKS().Keys {
		ids = append(ids, k.KeyID)
	}
	return strings.Join(ids, ",")
}

func TestWrongMasterKeyIsAnError(t *testing.T) {
	ctx := context.Background()
	store := sqlitetest.Open(t)
	if _, err := keyring.Open(ctx, keyring.Config{Store: store, Master: newMaster(t), Issuer: "https://iss"}); err != nil {
		t.Fatal(err)
	}
	_, err := keyring.Open(ctx, keyring.Config{Store: store, Master: newMaster(t), Issuer: "https://iss"})
	if !errors.Is(err, seal.ErrOpen) || !strings.Contains(err.Error(), "CARDGATE_MASTER_KEY") {
		t.Fatalf("err = %v, want a seal.ErrOpen that names CARDGATE_MASTER_KEY", err)
	}
	keys, _ := store.SigningKeys(ctx)
	if len(keys) != 1 {
		t.Errorf("a wrong master key changed the stored keys: %d keys", len(keys))
	}
}

// TestImmediateRotation is the rotation for a compromised key: the new key
// signs at once, and a key that was waiting to sign never does.
func TestImmediateRotation(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	kr, err := keyring.Open(ctx, keyring.Config{Store: sqlitetest.Open(t), Master: newMaster(t), Issuer: "https://iss", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	first := kr.Signer().KeyID()
	pending, err := kr.Rotate(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	urgent, err := kr.Rotate(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if kr.Signer().KeyID() != urgent.ID {
		t.Fatalf("signer after an immediate rotation: %s, want %s", kr.Signer().KeyID(), urgent.ID)
	}
	now = now.Add(2 * time.Hour)
	if err := kr.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := kr.Signer().KeyID(); got != urgent.ID || got == pending.ID || got == first {
		t.Errorf("signer once the superseded key's time came: %s, want %s", got, urgent.ID)
	}
	for _, d := range []time.Duration{-time.Second, keyring.MaxRotationDelay + time.Second} {
		if _, err := kr.Rotate(ctx, d); err == nil {
			t.Errorf("Rotate(%v) succeeded", d)
		}
	}
}

// TestClockBehind: a node whose clock is behind the one that made the first
// key still opens the store and signs with that key.
func TestClockBehind(t *testing.T) {
	ctx := context.Background()
	store, master := sqlitetest.Open(t), newMaster(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	first, err := keyring.Open(ctx, keyring.Config{Store: store, Master: master, Issuer: "https://iss", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	behind, err := keyring.Open(ctx, keyring.Config{Store: store, Master: master, Issuer: "https://iss", Now: func() time.Time { return now.Add(-2 * time.Second) }})
	if err != nil || behind.Signer().KeyID() != first.Signer().KeyID() {
		t.Fatalf("open with the clock 2 s behind: %v", err)
	}
}

// TestLifetimeLimit: a keyring mints tokens that live at most
// token.MaxLifetime (24 h), the most a verifier accepts.
func TestLifetimeLimit(t *testing.T) {
	ctx := context.Background()
	if _, err := keyring.Open(ctx, keyring.Config{Store: sqlitetest.Open(t), Master: newMaster(t), Issuer: "https://iss", Lifetime: token.MaxLifetime}); err != nil {
		t.Errorf("MaxLifetime: %v", err)
	}
	if _, err := keyring.Open(ctx, keyring.Config{Store: sqlitetest.Open(t), Master: newMaster(t), Issuer: "https://iss", Lifetime: token.MaxLifetime + time.Second}); err == nil {
		t.Error("a lifetime over token.MaxLifetime was accepted")
	}
}

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
	if len(kr.Keys()) != 1 || kr.Keys()[0].ID != first || !kr.Keys()[0].Active() {
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

	now = now.Add(time.Minute)
	k, err := kr.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if kr.Signer().KeyID() != k.ID || k.ID == first {
		t.Fatalf("after rotate the signer is %s, want the new key %s", kr.Signer().KeyID(), k.ID)
	}
	if got := jwksKids(kr); got != k.ID+","+first {
		t.Errorf("JWKS kids = %s, want new then old", got)
	}
	// kr2 learns of the rotation by reloading, as a running server does.
	if err := kr2.Reload(ctx); err != nil || kr2.Signer().KeyID() != k.ID {
		t.Errorf("other process after reload: %v, signer %s", err, kr2.Signer().KeyID())
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

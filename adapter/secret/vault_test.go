package secret_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cardgate/cardgate/adapter/secret"
	"github.com/cardgate/cardgate/seal"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

func TestVaultOverTheRealStore(t *testing.T) {
	ctx := context.Background()
	store := sqlitetest.Open(t)
	key, _ := seal.ParseKey(seal.GenerateText())
	v := &secret.Vault{Store: store, Key: key}
	value := []byte("erp-api-key-0123456789")

	if err := v.Put(ctx, "erp-key", value); err != nil {
		t.Fatal(err)
	}
	raw, _ := store.SealedSecret(ctx, "erp-key")
	if bytes.Contains(raw, value) {
		t.Fatal("the store holds the value in the clear")
	}
	got, err := v.Secret(ctx, "erp-key")
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Secret = %q, %v", got, err)
	}
	// Resolved through a store: reference, as the adapter config does.
	s, err := (&secret.Resolver{Store: v}).Resolve(ctx, "store:erp-key")
	if err != nil || s.Reveal() != string(value) {
		t.Fatalf("Resolve(store:erp-key) = %v", err)
	}
	if _, err := v.Secret(ctx, "nope"); !errors.Is(err, secret.ErrNotFound) {
		t.Errorf("missing: err = %v, want ErrNotFound", err)
	}
	// A sealed value copied under another name does not open.
	store.PutSealedSecret(ctx, "other", raw, time.Now())
	if _, err := v.Secret(ctx, "other"); !errors.Is(err, seal.ErrOpen) {
		t.Errorf("moved value: err = %v, want seal.ErrOpen", err)
	}
	// Another master key cannot read it.
	k2, _ := seal.ParseKey(seal.GenerateText())
	if _, err := (&secret.Vault{Store: store, Key: k2}).Secret(ctx, "erp-key"); !errors.Is(err, seal.ErrOpen) {
		t.Errorf("wrong master key: err = %v", err)
	}
	for _, bad := range []string{"", "../x", "a b", "-lead", string(make([]byte, 65))} {
		if err := v.Put(ctx, bad, value); err == nil {
			t.Errorf("Put(%q) accepted", bad)
		}
	}
	if err := v.Put(ctx, "empty", nil); err == nil {
		t.Error("empty value accepted")
	}
}

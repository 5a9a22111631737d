package secret

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/seal"
)

// VaultStore is the part of cardgate.Store a Vault keeps its values in.
type VaultStore interface {
	PutSealedSecret(ctx context.Context, name string, sealed []byte, at time.Time) error
	SealedSecret(ctx context.Context, name string) ([]byte, error)
}

// Vault keeps named secrets in cardgate's store, sealed with the master
// key and bound to their name: the store never holds a value in the clear,
// and a sealed value copied under another name does not open. It is the
// Store behind "store:NAME" references.
type Vault struct {
	Store VaultStore
	Key   *seal.Key
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

var _ Store = (*Vault)(nil)

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateName reports whether name can name a stored secret.
func ValidateName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("secret: name %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

func label(name string) string { return "secret/" + name }

// Put seals value and stores it under name, replacing any earlier value.
func (v *Vault) Put(ctx context.Context, name string, value []byte) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if len(value) == 0 {
		return fmt.Errorf("secret: %s: the value is empty", name)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	return v.Store.PutSealedSecret(ctx, name, v.Key.Seal(value, label(name)), now().UTC())
}

// Secret implements Store: the opened value of name, or ErrNotFound.
func (v *Vault) Secret(ctx context.Context, name string) ([]byte, error) {
	sealed, err := v.Store.SealedSecret(ctx, name)
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	b, err := v.Key.Open(sealed, label(name))
	if err != nil {
		return nil, fmt.Errorf("secret: %s: %w", name, err)
	}
	return b, nil
}

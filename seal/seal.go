// Package seal encrypts small secrets at rest (signing keys, upstream
// credentials) with the master key, using AES-256-GCM from the standard
// library. A sealed value is bound to a label (its "additional data"), so a
// sealed value copied from one row to another does not open.
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// KeySize is the length of a master key in bytes.
const KeySize = 32

// version starts every sealed value, so the format can change later.
const version byte = 1

// Key is a master key. Its zero value is not usable; make one with NewKey,
// ParseKey or LoadOrCreateFile.
type Key struct {
	aead cipher.AEAD
	raw  []byte
}

// ErrOpen is returned when a sealed value does not open: the master key is
// wrong, or the value (or its label) was altered.
var ErrOpen = errors.New("seal: cannot decrypt: wrong master key, or the data was altered")

// NewKey makes a Key from KeySize raw bytes.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("seal: master key must be %d bytes, got %d", KeySize, len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Key{aead: aead, raw: bytes.Clone(raw)}, nil
}

// ParseKey makes a Key from its base64 text form (standard or URL alphabet,
// padded or not), as found in CARDGATE_MASTER_KEY or a key file. The error
// never repeats the text.
func ParseKey(text string) (*Key, error) {
	text = strings.TrimRight(strings.TrimSpace(text), "=")
	raw, err := base64.RawStdEncoding.DecodeString(text)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(text)
	}
	if err != nil {
		return nil, errors.New("seal: master key is not valid base64")
	}
	return NewKey(raw)
}

// GenerateText returns a fresh random master key in text form.
func GenerateText() string {
	raw := make([]byte, KeySize)
	rand.Read(raw) // never fails since Go 1.24
	return base64.StdEncoding.EncodeToString(raw)
}

// Seal encrypts plaintext bound to label.
func (k *Key) Seal(plaintext []byte, label string) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	out := make([]byte, 0, 1+len(nonce)+len(plaintext)+k.aead.Overhead())
	out = append(out, version)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, []byte(label))
}

// Open decrypts a value made by Seal with the same label.
func (k *Key) Open(sealed []byte, label string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < 1+n+k.aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	pt, err := k.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(label))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// Derive returns a 32-byte key for one purpose (an HMAC key, say), derived
// from the master key with HKDF-SHA256, so that the master key is never used
// for two things and a derived key reveals nothing of it.
func (k *Key) Derive(purpose string) []byte {
	b, err := hkdf.Key(sha256.New, k.raw, nil, "cardgate "+purpose, KeySize)
	if err != nil { // only for an output longer than HKDF allows
		panic(err)
	}
	return b
}

// LoadOrCreateFile reads the master key from path, creating the file with a
// fresh key and mode 0600 when it does not exist. It refuses a key file that
// others can read, as ssh does.
func LoadOrCreateFile(path string) (*Key, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, werr := f.WriteString(GenerateText() + "\n")
		serr := f.Sync()
		if cerr := f.Close(); werr == nil && serr == nil {
			werr = cerr
		} else if werr == nil {
			werr = serr
		}
		if werr != nil {
			os.Remove(path)
			return nil, fmt.Errorf("seal: create key file %s: %w", path, werr)
		}
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("seal: create key file %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("seal: key file %s is readable by others (mode %v): run chmod 600 on it", path, st.Mode().Perm())
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: read key file: %w", err)
	}
	k, err := ParseKey(string(text))
	if err != nil {
		return nil, fmt.Errorf("seal: key file %s: %w", path, err)
	}
	return k, nil
}

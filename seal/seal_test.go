package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k, err := ParseKey(GenerateText())
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("upstream-api-key-1234")
	sealed := k.Seal(secret, "secret/erp")
	if bytes.Contains(sealed, secret) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := k.Open(sealed, "secret/erp")
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v; want the plaintext", got, err)
	}

	other, _ := ParseKey(GenerateText())
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	for name, open := range map[string]func() ([]byte, error){
		"wrong key":   func() ([]byte, error) { return other.Open(sealed, "secret/erp") },
		"wrong label": func() ([]byte, error) { return k.Open(sealed, "secret/crm") },
		"tampered":    func() ([]byte, error) { return k.Open(tampered, "secret/erp") },
		"truncated":   func() ([]byte, error) { return k.Open(sealed[:10], "secret/erp") },
		"empty":       func() ([]byte, error) { return k.Open(nil, "secret/erp") },
	} {
		if _, err := open(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
}

func TestParseKeyErrorsDoNotEchoInput(t *testing.T) {
	for _, text := range []string{"not base64 !!!", "c2hvcnQ=", ""} {
		_, err := ParseKey(text)
		if err == nil {
			t.Fatalf("ParseKey(%q) succeeded", text)
		}
		if text != "" && strings.Contains(err.Error(), text) {
			t.Errorf("error %q repeats the key text", err)
		}
	}
}

func TestLoadOrCreateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	k1, err := LoadOrCreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", st.Mode().Perm())
	}
	k2, err := LoadOrCreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k2.Open(k1.Seal([]byte("x"), "l"), "l"); err != nil {
		t.Fatalf("reloaded key differs from the created one: %v", err)
	}

	os.Chmod(path, 0o644)
	if _, err := LoadOrCreateFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key file: err = %v, want a chmod hint", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.key")
	os.WriteFile(bad, []byte("garbage!!\n"), 0o600)
	if _, err := LoadOrCreateFile(bad); err == nil {
		t.Error("garbage key file accepted")
	}
}

func TestDerive(t *testing.T) {
	k1, _ := ParseKey(GenerateText())
	k2, _ := ParseKey(GenerateText())
	a, b := k1.Derive("signin codes"), k1.Derive("sessions")
	if len(a) != KeySize || bytes.Equal(a, b) {
		t.Fatalf("two purposes gave the same key, or a short one: %x %x", a, b)
	}
	if !bytes.Equal(a, k1.Derive("signin codes")) {
		t.Fatal("Derive is not deterministic")
	}
	if bytes.Equal(a, k2.Derive("signin codes")) {
		t.Fatal("two master keys derived the same key")
	}
}

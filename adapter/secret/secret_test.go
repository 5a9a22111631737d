package secret

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const val = "s3cr3t-VALUE-do-not-print"

func TestSecretNeverPrints(t *testing.T) {
	s := New([]byte(val))
	type holder struct {
		Exported   Secret
		unexported Secret
		Ptr        *Secret
	}
	h := holder{Exported: s, unexported: s, Ptr: &s}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		out = append(out, fmt.Sprintf(verb, s), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &h))
	}
	out = append(out, fmt.Sprint(s), fmt.Sprintln(h), s.String(), s.GoString())
	j, _ := json.Marshal(h)
	out = append(out, string(j))
	tx, _ := s.MarshalText()
	out = append(out, string(tx))
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "secret", s, "holder", h)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "secret", s, "holder", h)
	out = append(out, buf.String())
	for _, o := range out {
		if strings.Contains(o, val) || strings.Contains(o, fmt.Sprintf("%x", val)) || strings.Contains(o, "115 51 99") {
			t.Errorf("secret leaked: %s", o)
		}
	}
	if s.Reveal() != val {
		t.Fatalf("Reveal = %q", s.Reveal())
	}
}

type mapStore map[string]string

func (m mapStore) Secret(_ context.Context, name string) ([]byte, error) {
	v, ok := m[name]
	if !ok {
		return nil, ErrNotFound
	}
	return []byte(v), nil
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "key")
	if err := os.WriteFile(f, []byte(val+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	r := &Resolver{
		LookupEnv: func(n string) (string, bool) {
			if n == "API_KEY" {
				return val, true
			}
			return "", false
		},
		Store: mapStore{"crm/key": val},
	}
	tests := []struct {
		ref, want, err string
	}{
		{"env:API_KEY", val, ""},
		{"file:" + f, val, ""},
		{"store:crm/key", val, ""},
		{"env:MISSING", "", "environment variable MISSING is not set"},
		{"file:" + filepath.Join(dir, "nope"), "", "no such file"},
		{"file:" + empty, "", "is empty"},
		{"store:other", "", "not in the store"},
		{val, "", "must be a reference"},
		{"env:" + "bad name", "", "must be a reference"},
		{"vault:x", "", "must be a reference"},
		{"", "", "must be a reference"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			s, err := r.Resolve(context.Background(), tt.ref)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), val) {
					t.Fatalf("error leaks the value: %v", err)
				}
				return
			}
			if err != nil || s.Reveal() != tt.want {
				t.Fatalf("Resolve = %v, %v", s, err)
			}
		})
	}
	if _, err := (&Resolver{}).Resolve(context.Background(), "store:x"); err == nil || !strings.Contains(err.Error(), "no secret store") {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(func() error { _, err := ParseRef("x"); return err }(), ErrBadRef) {
		t.Fatal("ParseRef: want ErrBadRef")
	}
}

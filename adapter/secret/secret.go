// Package secret holds secret values that cannot print themselves, and
// resolves them from references: env:NAME, file:PATH and store:NAME.
//
// A Secret formats, marshals and logs as "[redacted]" whatever verb, encoder
// or logger touches it; the value comes out only through Reveal. Even a
// struct that holds a Secret in an unexported field and is printed with %+v
// shows a function address, never the bytes, because the value sits behind a
// closure that reflection cannot look into.
package secret

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
)

// Redacted is what a Secret shows instead of its value.
const Redacted = "[redacted]"

// Secret is a value that must never reach a log, an error, a metric or a
// response. The zero Secret is empty.
type Secret struct {
	// The value sits inside a closure so that printing a struct that holds
	// a Secret in an unexported field (fmt cannot call methods on those, and
	// follows pointers) shows a function address, not the bytes.
	get func() string
}

// New returns a Secret holding a copy of b.
func New(b []byte) Secret {
	v := string(b)
	return Secret{get: func() string { return v }}
}

// Reveal returns the secret value. Call it only where the value is used (to
// build an upstream request header), never to log or show it.
func (s Secret) Reveal() string {
	if s.get == nil {
		return ""
	}
	return s.get()
}

// Empty reports whether the secret has no value.
func (s Secret) Empty() bool { return s.Reveal() == "" }

// String returns "[redacted]".
func (s Secret) String() string { return Redacted }

// GoString returns "[redacted]", for %#v.
func (s Secret) GoString() string { return Redacted }

// Format writes "[redacted]" for every verb and flag.
func (s Secret) Format(f fmt.State, _ rune) { io.WriteString(f, Redacted) }

// MarshalJSON returns the JSON string "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText returns "[redacted]", for encoders that use text marshaling
// (YAML, map keys, flags).
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue returns "[redacted]" for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// Store returns secrets kept by cardgate (encrypted with the master key).
// Secret returns ErrNotFound, wrapped or not, for an unknown name.
type Store interface {
	Secret(ctx context.Context, name string) ([]byte, error)
}

// ErrNotFound is returned by a Store for a name it does not hold.
var ErrNotFound = errors.New("secret: not found")

// Kind is the scheme of a reference.
type Kind string

// The kinds of reference.
const (
	KindEnv   Kind = "env"
	KindFile  Kind = "file"
	KindStore Kind = "store"
)

// Ref is a parsed reference to a secret: where to read it, not the value.
type Ref struct {
	Kind Kind
	// Name is the environment variable, the file path or the store name.
	Name string
}

// String returns the reference in its written form ("env:NAME"). A
// reference is not secret.
func (r Ref) String() string { return string(r.Kind) + ":" + r.Name }

var (
	envName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	storeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$`)
)

// ErrBadRef is returned by ParseRef for text that is not a reference. The
// text itself is never in the error: it may be a secret pasted where a
// reference belongs.
var ErrBadRef = errors.New("secret: must be a reference env:NAME, file:PATH or store:NAME")

// ParseRef parses "env:NAME", "file:PATH" (an absolute or relative path) or
// "store:NAME".
func ParseRef(s string) (Ref, error) {
	kind, name, ok := strings.Cut(s, ":")
	if !ok {
		return Ref{}, ErrBadRef
	}
	switch Kind(kind) {
	case KindEnv:
		if !envName.MatchString(name) {
			return Ref{}, ErrBadRef
		}
	case KindFile:
		if name == "" || strings.ContainsRune(name, 0) {
			return Ref{}, ErrBadRef
		}
	case KindStore:
		if !storeName.MatchString(name) {
			return Ref{}, ErrBadRef
		}
	default:
		return Ref{}, ErrBadRef
	}
	return Ref{Kind: Kind(kind), Name: name}, nil
}

// Resolver reads the secrets references point to. The zero Resolver reads
// the process environment and the file system and has no store.
type Resolver struct {
	// LookupEnv reads an environment variable; nil means os.LookupEnv.
	LookupEnv func(name string) (string, bool)
	// ReadFile reads a file; nil means os.ReadFile.
	ReadFile func(path string) ([]byte, error)
	// Store holds store: secrets; nil makes every store: reference an error.
	Store Store
}

// Resolve parses ref and reads the secret it names. Errors name the
// reference's kind and name but never a value; an empty secret is an error.
func (r *Resolver) Resolve(ctx context.Context, ref string) (Secret, error) {
	p, err := ParseRef(ref)
	if err != nil {
		return Secret{}, err
	}
	var b []byte
	switch p.Kind {
	case KindEnv:
		lookup := r.LookupEnv
		if lookup == nil {
			lookup = os.LookupEnv
		}
		v, ok := lookup(p.Name)
		if !ok {
			return Secret{}, fmt.Errorf("secret: environment variable %s is not set", p.Name)
		}
		b = []byte(v)
	case KindFile:
		read := r.ReadFile
		if read == nil {
			read = os.ReadFile
		}
		b, err = read(p.Name)
		if err != nil {
			// The os error names the path and the failure, never content.
			return Secret{}, fmt.Errorf("secret: read file: %w", err)
		}
		// Files written by editors and `echo` end with a newline that is
		// not part of the secret.
		b = []byte(strings.TrimRight(string(b), "\r\n"))
	case KindStore:
		if r.Store == nil {
			return Secret{}, fmt.Errorf("secret: no secret store configured for %s", p)
		}
		b, err = r.Store.Secret(ctx, p.Name)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return Secret{}, fmt.Errorf("secret: %s: not in the store (set it with `cardgate secrets set %s`)", p, p.Name)
			}
			return Secret{}, fmt.Errorf("secret: read %s from store: %w", p, err)
		}
	}
	if len(b) == 0 {
		return Secret{}, fmt.Errorf("secret: %s is empty", p)
	}
	return New(b), nil
}

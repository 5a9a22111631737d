// Package actionpkg reads action packages: a folder or zip holding a
// Kaizala-style package.json and the card's files. It validates the
// manifest with errors that name the field, and refuses packages that are
// too large or whose paths try to escape the package.
package actionpkg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/cardgate/cardgate"
)

// ManifestFile is the manifest's name inside a package.
const ManifestFile = "package.json"

// Manifest is a package.json.
type Manifest struct {
	ID            string          `json:"id"`
	SchemaVersion json.Number     `json:"schemaVersion"`
	DisplayName   string          `json:"displayName"`
	Version       string          `json:"version"`
	Description   string          `json:"description"`
	ProviderName  string          `json:"providerName"`
	Icon          string          `json:"icon"`
	Views         map[string]View `json:"views"`
	// ExternalUrls are the only URLs the card may reach: the host puts them
	// in the frame's Content-Security-Policy (connect-src).
	ExternalURLs []string `json:"externalUrls"`
}

// View is one page of a card.
type View struct {
	Label          string `json:"label,omitempty"`
	SourceLocation string `json:"sourceLocation"`
}

// ParseManifest reads a package.json strictly: unknown fields, trailing
// data and wrong types are errors that name the field.
func ParseManifest(b []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, manifestError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid("package.json: must hold one JSON object")
	}
	return &m, nil
}

func manifestError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return invalid("package.json: malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return invalid("package.json: %s: must be %s, not %s", typ.Field, typ.Type, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalid("package.json: %s: unknown field", strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	case strings.Contains(err.Error(), "into Number"): // schemaVersion is the only number
		return invalid("package.json: schemaVersion: must be a number like 1")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("package.json: empty or cut short")
	}
	return invalid("package.json: not a valid manifest")
}

func invalid(format string, args ...any) error {
	return cardgate.Errorf(cardgate.EINVALID, format, args...)
}

var (
	semver   = regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,2}([-+][0-9A-Za-z.-]+)?$`)
	viewName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)
)

// Validate checks every field; files says which paths the package holds, so
// that icon and view pages must exist.
func (m *Manifest) Validate(files map[string]bool) error {
	if m.ID == "" {
		return invalid("package.json: id: required")
	}
	if err := cardgate.ValidatePackageID("package.json: id", m.ID); err != nil {
		return err
	}
	switch string(m.SchemaVersion) {
	case "1", "1.0", "2", "2.0":
	case "":
		return invalid("package.json: schemaVersion: required")
	default:
		return invalid("package.json: schemaVersion: %s is not supported; use 1 or 2", m.SchemaVersion)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"displayName", m.DisplayName, 128},
		{"version", m.Version, 64},
		{"providerName", m.ProviderName, 128},
		{"description", m.Description, 1024},
	} {
		if strings.TrimSpace(f.v) == "" {
			return invalid("package.json: %s: required", f.name)
		}
		if len(f.v) > f.max {
			return invalid("package.json: %s: at most %d bytes", f.name, f.max)
		}
	}
	if !semver.MatchString(m.Version) {
		return invalid("package.json: version: %q is not a version like 1.2.0", m.Version)
	}
	if m.Icon != "" {
		if err := m.checkFile("icon", m.Icon, files); err != nil {
			return err
		}
	}
	if len(m.Views) == 0 {
		return invalid("package.json: views: at least one view is required")
	}
	names := make([]string, 0, len(m.Views))
	for n := range m.Views {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !viewName.MatchString(n) {
			return invalid("package.json: views.%s: view names are letters, digits, '-' and '_'", n)
		}
		v := m.Views[n]
		if v.SourceLocation == "" {
			return invalid("package.json: views.%s.sourceLocation: required", n)
		}
		if err := m.checkFile("views."+n+".sourceLocation", v.SourceLocation, files); err != nil {
			return err
		}
		if ext := path.Ext(v.SourceLocation); ext != ".html" && ext != ".htm" {
			return invalid("package.json: views.%s.sourceLocation: must be an .html page", n)
		}
	}
	for i, u := range m.ExternalURLs {
		if err := checkExternalURL(u); err != nil {
			return invalid("package.json: externalUrls[%d]: %v", i, err)
		}
	}
	return nil
}

// checkFile checks that p is a clean relative path the package holds.
func (m *Manifest) checkFile(field, p string, files map[string]bool) error {
	clean, err := CleanPath(p)
	if err != nil {
		return invalid("package.json: %s: %v", field, err)
	}
	if files != nil && !files[clean] {
		return invalid("package.json: %s: %s is not in the package", field, clean)
	}
	return nil
}

// checkExternalURL allows https origins (with an optional path prefix), and
// http only on loopback, as a Content-Security-Policy source.
func checkExternalURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an absolute URL with a host and no query", s)
	}
	if strings.ContainsAny(s, " ;,'\"") || strings.Contains(u.Host, "*") {
		return fmt.Errorf("%q holds characters a Content-Security-Policy source cannot", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("%q: http is allowed only on loopback; use https", s)
		}
	default:
		return fmt.Errorf("%q: the scheme must be https (or http on loopback)", s)
	}
	return nil
}

// CleanPath returns p as a clean, relative, slash-separated path inside a
// package, or an error for anything that could name a file outside it.
func CleanPath(p string) (string, error) {
	switch {
	case p == "":
		return "", errors.New("empty path")
	case strings.ContainsAny(p, "\\\x00"):
		return "", fmt.Errorf("%q: backslashes and NUL are not allowed", p)
	case strings.HasPrefix(p, "/"):
		return "", fmt.Errorf("%q: must be relative", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "", fmt.Errorf("%q: must not contain ..", p)
		}
	}
	clean := path.Clean(p)
	if clean == "." || strings.HasPrefix(clean, "../") || len(clean) > 255 {
		return "", fmt.Errorf("%q: not a file path inside the package", p)
	}
	return clean, nil
}

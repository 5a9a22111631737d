package adapter

import (
	"net/url"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/cardgate/cardgate"
)

// checkPath refuses a request path that could leave the upstream base path
// or mean different things to the adapter and the upstream: dot segments
// (plain, percent-encoded or with ";" parameters, as Tomcat reads "..;"),
// encoded slashes and backslashes, double encoding (any "%25"), backslashes,
// empty segments, control characters and invalid UTF-8. Such paths have no
// legitimate use from a card, so the check is strict rather than clever.
func checkPath(u *url.URL) error {
	raw := u.EscapedPath()
	p := u.Path
	if raw == "" || raw[0] != '/' {
		return errBadPath
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '\\':
			return errBadPath
		case c == '%' && i+2 < len(raw):
			// Encoded "/", "\", "%" and NUL change what a path means
			// depending on who decodes it, and how often.
			switch strings.ToLower(raw[i+1 : i+3]) {
			case "2f", "5c", "25", "00":
				return errBadPath
			}
		}
	}
	if !utf8.ValidString(p) {
		return errBadPath
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return errBadPath
		}
	}
	// Walk the segments after the leading "/"; the last may be empty (a
	// trailing slash), no other may.
	rest := p[1:]
	for rest != "" {
		seg, tail, more := strings.Cut(rest, "/")
		if seg == "" && more {
			return errBadPath
		}
		if name, _, _ := strings.Cut(seg, ";"); name == "." || name == ".." {
			return errBadPath
		}
		rest = tail
	}
	return nil
}

var errBadPath = cardgate.Errorf(cardgate.EINVALID, "path: must not hold dot segments, empty segments, backslashes or encoded slashes, percent signs or NUL")

// upstreamPath maps a checked request path to the upstream's: strip the
// route's prefix, append to the base path. It returns ok false if the
// result would not stay under the base path, which checkPath makes
// impossible; the check here is defence in depth.
func (rt *route) upstreamPath(u *url.URL) (p, raw string, ok bool) {
	rest := u.Path
	if rt.stripPrefix != "" {
		if !segmentPrefix(rest, rt.stripPrefix) {
			return "", "", false
		}
		if rt.stripPrefix != "/" {
			rest = rest[len(rt.stripPrefix):]
		}
	}
	p = joinPath(rt.basePath, rest)
	if c := path.Clean(p); c != rt.cleanBase && !strings.HasPrefix(c, rt.cleanBasePrefix) {
		return "", "", false
	}
	if u.RawPath != "" {
		// Keep the client's escaping (say, "%3B" stays "%3B") when the
		// raw form strips the same way; otherwise let net/url escape p.
		rawRest := u.RawPath
		if rt.stripPrefix != "" && rt.stripPrefix != "/" {
			if !strings.HasPrefix(rawRest, rt.rawStripPrefix) {
				return p, "", true
			}
			rawRest = rawRest[len(rt.rawStripPrefix):]
		}
		raw = joinPath(rt.baseRawPath, rawRest)
	}
	return p, raw, true
}

// joinPath appends rest to base with exactly one slash between them.
func joinPath(base, rest string) string {
	switch {
	case rest == "":
		if base == "" {
			return "/"
		}
		return base
	case base == "":
		return rest
	case strings.HasSuffix(base, "/") && strings.HasPrefix(rest, "/"):
		return base + rest[1:]
	case !strings.HasSuffix(base, "/") && !strings.HasPrefix(rest, "/"):
		return base + "/" + rest
	}
	return base + rest
}

package adapter

import (
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/cardgate/cardgate"
)

// routingHeaders are request headers that make some frameworks, proxies
// and platforms change the method, the path, the host or the client's
// address, or believe a user was authenticated. The client may not set
// them, so they never reach an upstream. Names with the prefixes in
// dropRequestHeader (X-Forwarded-*, X-Original-*, ...) go too.
var routingHeaders = map[string]bool{
	"Forwarded":               true, // RFC 7239
	"X-Real-Ip":               true, // nginx
	"True-Client-Ip":          true, // Akamai, Cloudflare
	"Cf-Connecting-Ip":        true, // Cloudflare
	"Fastly-Client-Ip":        true,
	"X-Client-Ip":             true,
	"X-Cluster-Client-Ip":     true,
	"Client-Ip":               true,
	"X-Host":                  true,
	"X-Http-Method-Override":  true, // method overrides: a GET route must stay GET
	"X-Http-Method":           true,
	"X-Method-Override":       true,
	"X-Rewrite-Url":           true, // IIS URL Rewrite, Symfony
	"X-Middleware-Subrequest": true, // Next.js middleware bypass
	"Proxy":                   true, // httpoxy: CGI turns it into HTTP_PROXY
	"Remote-User":             true, // what other auth proxies set
	"X-Remote-User":           true,
	"X-Authenticated-User":    true,
}

// dropRequestHeader reports whether the canonical request header k must
// not reach the upstream whatever the route: a name with anything but
// letters, digits and "-" (CGI, WSGI, PHP and Rack read "_" as "-", so
// X_Cardgate_User_Id would pass for the identity header; nginx drops such
// names by default too), or a name in a family of forwarding, identity or
// routing headers.
func dropRequestHeader(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return true
		}
	}
	if len(k) > 2 && k[0] == 'X' && k[1] == '-' {
		switch rest := k[2:]; {
		case strings.HasPrefix(rest, "Forwarded-"), strings.HasPrefix(rest, "Cardgate-"),
			strings.HasPrefix(rest, "Original-"), strings.HasPrefix(rest, "Envoy-"),
			strings.HasPrefix(rest, "Auth-Request-"):
			return true
		}
	}
	return false
}

// hasToken reports whether a comma-separated header (Connection) lists
// token, in any case.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for v != "" {
			var f string
			f, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.Trim(f, " \t"), token) {
				return true
			}
		}
	}
	return false
}

var (
	errUpgradeProtocol = cardgate.Errorf(cardgate.EINVALID, "Upgrade: only a GET with \"Upgrade: websocket\" may switch protocols")
	errUnrequested101  = cardgate.Errorf(cardgate.EUPSTREAM, "upstream switched protocols unasked")
)

// checkUpgrade lets a request ask to switch protocols only to a WebSocket,
// with GET, on a route that allows WebSockets, and reports whether it asks.
// After the switch the connection is a tunnel the adapter no longer reads,
// so anything else (h2c, TLS, a list of protocols) is refused rather than
// forwarded. A request that names Upgrade without "Connection: upgrade"
// asks for nothing: the header is hop-by-hop and is dropped.
func (rt *route) checkUpgrade(r *http.Request) (bool, error) {
	up := r.Header["Upgrade"]
	if len(up) == 0 || !hasToken(r.Header["Connection"], "upgrade") {
		return false, nil
	}
	if len(up) != 1 || !strings.EqualFold(strings.Trim(up[0], " \t"), "websocket") || r.Method != http.MethodGet {
		return false, errUpgradeProtocol
	}
	if !rt.websocket {
		return false, cardgate.Errorf(cardgate.EINVALID, "Upgrade: route %s does not allow WebSockets", rt.name)
	}
	return true, nil
}

// leaks reports whether v holds one of the route's secrets, or sent (the
// credential actually sent, when it changes).
func (rt *route) leaks(v, sent string) bool {
	for _, s := range rt.secrets {
		if strings.Contains(v, s) {
			return true
		}
	}
	return sent != "" && strings.Contains(v, sent)
}

// scrub deletes every header of h whose value holds a secret of the route.
func (rt *route) scrub(h http.Header, sent string) {
	for k, vs := range h {
		for _, v := range vs {
			if rt.leaks(v, sent) {
				delete(h, k)
				break
			}
		}
	}
}

// sentSecret returns the credential a changing credential (OAuth 2.0)
// put on req, without its scheme, or "".
func (rt *route) sentSecret(req *http.Request) string {
	if !rt.sentAuth || req == nil {
		return ""
	}
	v := req.Header.Get("Authorization")
	if _, tok, ok := strings.Cut(v, " "); ok {
		v = tok
	}
	return strings.TrimSpace(v)
}

// scrubBody scrubs the response's trailers once the body has been read:
// the transport fills them in at the end of the body.
type scrubBody struct {
	io.ReadCloser
	rt   *route
	res  *http.Response
	sent string
}

func (b *scrubBody) Close() error {
	err := b.ReadCloser.Close()
	b.rt.scrub(b.res.Trailer, b.sent)
	return err
}

// mapLocations rewrites Location and Content-Location values that name the
// upstream (its host by any spelling a browser accepts, or an absolute
// path) to the route's public path, and drops those that cannot be mapped
// or judged: the client must never learn, or be sent to, the upstream's
// internal address. URLs of other sites named by a DNS name are the
// upstream's own business and pass. A Refresh naming the upstream's host,
// or whose URL publicURL would not pass unchanged, is dropped.
func (rt *route) mapLocations(h http.Header) {
	for _, k := range [...]string{"Location", "Content-Location"} {
		vs, ok := h[k]
		if !ok {
			continue
		}
		if len(vs) != 1 {
			delete(h, k)
			continue
		}
		if v, ok := rt.publicURL(vs[0]); !ok {
			delete(h, k)
		} else if v != vs[0] {
			h[k] = []string{v}
		}
	}
	if vs, ok := h["Refresh"]; ok {
		for _, v := range vs {
			if strings.Contains(strings.ToLower(v), rt.upHost) {
				delete(h, "Refresh")
				break
			}
			if u := refreshURL(v); u != "" {
				if p, ok := rt.publicURL(u); !ok || p != u {
					delete(h, "Refresh")
					break
				}
			}
		}
	}
}

// refreshURL returns the URL of a Refresh value ("0; url='/x'"), read
// leniently after the HTML standard, or "" if it has none.
func refreshURL(v string) string {
	const ws = " \t\n\f\r"
	v = strings.TrimLeft(v, ws)
	v = strings.TrimLeft(v, "0123456789.")
	v = strings.TrimLeft(v, ws)
	if v != "" && (v[0] == ';' || v[0] == ',') {
		v = strings.TrimLeft(v[1:], ws)
	}
	if len(v) >= 3 && strings.EqualFold(v[:3], "url") {
		if rest := strings.TrimLeft(v[3:], ws); rest != "" && rest[0] == '=' {
			v = strings.TrimLeft(rest[1:], ws)
		}
	}
	if v != "" && (v[0] == '\'' || v[0] == '"') {
		q := v[0]
		v = v[1:]
		if i := strings.IndexByte(v, q); i >= 0 {
			v = v[:i]
		}
	}
	return strings.TrimRight(v, ws)
}

// specialSchemes are the schemes a browser always reads with a host,
// whatever the slashes: "http:h/x", "http:/h/x" and "http:///h/x" all go
// to host h, where Go sees no host at all.
var specialSchemes = map[string]bool{"http": true, "https": true, "ws": true, "wss": true, "ftp": true}

// publicURL maps loc, a URL reference from the upstream, to what the
// client may see, or reports false if it must be dropped. The host is
// judged as a browser reads it (canonHost); what Go and a browser could
// read differently is dropped rather than guessed at.
func (rt *route) publicURL(loc string) (string, bool) {
	// Browsers read "\" as "/", remove tabs and newlines anywhere and
	// trim spaces and controls at the ends, before parsing; Go does none
	// of it, so a value holding them names a host Go does not see.
	if loc != "" && (loc[0] == ' ' || loc[len(loc)-1] == ' ') {
		return "", false
	}
	for i := 0; i < len(loc); i++ {
		if c := loc[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", false
		}
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", false
	}
	switch {
	case u.Host != "":
		host, isIP, ok := canonHost(u)
		if !ok {
			return "", false
		}
		if host != rt.upHost {
			if isIP {
				// The adapter cannot tell another address from the
				// upstream's (another interface, NAT, 0.0.0.0, a
				// neighbour on the internal network): drop them all.
				return "", false
			}
			return loc, true // another site
		}
		scheme := u.Scheme
		if scheme == "" {
			scheme = rt.upScheme
		}
		if scheme != rt.upScheme || portOf(&url.URL{Scheme: scheme, Host: u.Host}) != rt.upPort {
			return "", false // another service on the upstream's host
		}
	case u.Scheme != "":
		if specialSchemes[u.Scheme] {
			return "", false // a host Go does not see ("http:///h/x")
		}
		return loc, true // mailto:, urn:...
	case !strings.HasPrefix(u.Path, "/"):
		// A relative reference ("43", "?page=2") resolves against the
		// public URL just as against the upstream's.
		return loc, true
	}
	if u.Path == "" {
		u.Path = "/"
	}
	if checkPath(u) != nil {
		return "", false // also "///h/x", which a browser reads as host h
	}
	p := u.EscapedPath()
	rest := p
	if rt.baseRawPrefix != "" {
		if p != rt.baseRawPrefix && !(strings.HasPrefix(p, rt.baseRawPrefix) && p[len(rt.baseRawPrefix)] == '/') {
			return "", false // outside the route's base path
		}
		rest = p[len(rt.baseRawPrefix):]
	}
	out := joinPath(rt.rawStripPrefix, rest)
	if u.ForceQuery || u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		out += "#" + u.EscapedFragment()
	}
	return out, true
}

// canonHost returns u's host as a browser compares it, and whether it
// names an address: lower case, one trailing dot removed; an IPv4 address
// in any spelling of the WHATWG URL Standard (2130706433, 0177.0.0.1,
// 127.1, 0x7f.1) and an IPv6 one (unmapped: [::ffff:127.0.0.1] is
// 127.0.0.1) in netip's form. ok is false for a host that cannot be judged: empty, holding anything
// but [a-z0-9.-_] (non-ASCII, which IDNA may map to ASCII, "%", "!"), an
// empty label, an IPv6 zone, or a number browsers refuse.
func canonHost(u *url.URL) (host string, isIP, ok bool) {
	h := u.Hostname()
	if strings.HasPrefix(u.Host, "[") {
		a, err := netip.ParseAddr(h)
		if err != nil || a.Zone() != "" {
			return "", false, false
		}
		return a.Unmap().String(), true, true
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "" {
		return "", false, false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return "", false, false
		}
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" {
			return "", false, false
		}
	}
	// A host whose last label is a number is an IPv4 address to a browser,
	// or no host at all (127.0.0.256).
	if last := labels[len(labels)-1]; !isDigits(last) && !(strings.HasPrefix(last, "0x") && isHex(last[2:])) {
		return h, false, true
	}
	a, ok := parseIPv4(labels)
	if !ok {
		return "", false, false
	}
	return a.String(), true, true
}

// parseIPv4 parses the labels of a host as the WHATWG URL Standard's IPv4
// parser does: one to four numbers, each decimal, octal (leading 0) or hex
// (0x), the last one filling the bytes the others leave.
func parseIPv4(labels []string) (netip.Addr, bool) {
	if len(labels) > 4 {
		return netip.Addr{}, false
	}
	var addr uint64
	for i, l := range labels {
		base := 10
		switch {
		case strings.HasPrefix(l, "0x"):
			base, l = 16, l[2:]
		case len(l) > 1 && l[0] == '0':
			base, l = 8, l[1:]
		}
		var n uint64
		if l != "" { // "0x" alone is 0
			var err error
			if n, err = strconv.ParseUint(l, base, 32); err != nil {
				return netip.Addr{}, false
			}
		}
		if i < len(labels)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			addr |= n << (8 * (3 - i))
		} else {
			if n >= 1<<(8*(5-len(labels))) {
				return netip.Addr{}, false
			}
			addr |= n
		}
	}
	return netip.AddrFrom4([4]byte{byte(addr >> 24), byte(addr >> 16), byte(addr >> 8), byte(addr)}), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

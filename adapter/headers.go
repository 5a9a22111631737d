package adapter

import (
	"io"
	"net/http"
	"net/url"
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
// upstream (its host, or an absolute path) to the route's public path, and
// drops those that cannot be mapped: the client must never learn, or be
// sent to, the upstream's internal address. URLs of other sites are the
// upstream's own business and pass. A Refresh naming the upstream's host is
// dropped.
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
		}
	}
}

// publicURL maps loc, a URL reference from the upstream, to what the
// client may see, or reports false if it must be dropped.
func (rt *route) publicURL(loc string) (string, bool) {
	u, err := url.Parse(loc)
	if err != nil || strings.ContainsRune(u.Path, '\\') {
		return "", false
	}
	switch {
	case u.Host != "" || u.Scheme != "":
		if !strings.EqualFold(u.Hostname(), rt.upHost) {
			return loc, true // another site
		}
		scheme := u.Scheme
		if scheme == "" {
			scheme = rt.upScheme
		}
		if !strings.EqualFold(scheme, rt.upScheme) || portOf(&url.URL{Scheme: scheme, Host: u.Host}) != rt.upPort {
			return "", false // another service on the upstream's host
		}
	case !strings.HasPrefix(u.Path, "/"):
		// A relative reference ("43", "?page=2") resolves against the
		// public URL just as against the upstream's.
		return loc, true
	}
	if u.Path == "" {
		u.Path = "/"
	}
	if checkPath(u) != nil {
		return "", false
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

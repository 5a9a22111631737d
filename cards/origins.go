package cards

import (
	"crypto/sha256"
	"encoding/base32"
	"net"
	"net/url"
	"strings"

	"github.com/cardgate/cardgate"
)

// Origins says where each card is served from. With a cards URL whose host
// is a name (https://cards.example.com, http://cards.localhost:8082) every
// action package gets an origin of its own, a subdomain of it, so that
// cards are isolated from one another as the host is from them: no shared
// storage, no scripting each other's frames. A cards URL whose host is an IP
// address cannot have subdomains; every card then shares that one origin.
type Origins struct {
	scheme, host, port string
	perPackage         bool
}

// ParseOrigins reads a cards URL: scheme://host[:port], nothing else.
func ParseOrigins(cardsURL string) (Origins, error) {
	u, err := url.Parse(cardsURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return Origins{}, cardgate.Errorf(cardgate.EINVALID, "cards URL %q: must be scheme://host[:port]", cardsURL)
	}
	o := Origins{scheme: u.Scheme, host: strings.ToLower(u.Hostname()), port: u.Port()}
	o.perPackage = net.ParseIP(o.host) == nil
	return o, nil
}

// PerPackage reports whether every package has an origin of its own.
func (o Origins) PerPackage() bool { return o.perPackage }

// For returns the origin the package's card is served from.
func (o Origins) For(pkg string) string {
	if !o.perPackage {
		return o.origin(o.host)
	}
	return o.origin(Label(pkg) + "." + o.host)
}

// Sources is the origins as a CSP source list: the host page may frame
// cards from them.
func (o Origins) Sources() string {
	if !o.perPackage {
		return o.origin(o.host)
	}
	return o.origin("*." + o.host)
}

// serves reports whether a request for pkg's files came to pkg's origin.
func (o Origins) serves(requestHost, pkg string) bool {
	if !o.perPackage {
		return true
	}
	want := Label(pkg) + "." + o.host
	h, _, err := net.SplitHostPort(requestHost)
	if err != nil {
		h = requestHost
	}
	return strings.EqualFold(h, want)
}

func (o Origins) origin(host string) string {
	if o.port == "" {
		return o.scheme + "://" + host
	}
	return o.scheme + "://" + net.JoinHostPort(host, o.port)
}

// Label is the DNS label of a package's origin: its ID made DNS-safe
// (lower case; '.' and '_' become '-'), cut to 40 characters, and 16
// characters of its SHA-256, so that two IDs that read alike ("com.a_b",
// "com.a-b", different case) never share an origin. At most 57 characters:
// one label, so one wildcard certificate covers every card.
func Label(pkg string) string {
	readable := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, pkg)
	if len(readable) > 40 {
		readable = readable[:40]
	}
	sum := sha256.Sum256([]byte(pkg))
	return readable + "-" + strings.ToLower(labelEncoding.EncodeToString(sum[:10]))
}

var labelEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// CheckApart refuses cards that could set the card host's cookies. Cookies
// ignore the port, so a card on the host's own host name (the host on
// 127.0.0.1:8080, cards on 127.0.0.1:8082) can set the host's session
// cookie, and the viewer acts as whoever that session is. Over plain HTTP
// a card on the host's site (cards.example.com beside app.example.com, or
// one below the other) can too, with a Domain cookie; over TLS the host's
// cookie is __Host- prefixed, which no other host can set, so secure (the
// host is https, or marks its cookies Secure behind a proxy) allows that.
// hostOrigin is the host page's origin, scheme://host[:port].
func (o Origins) CheckApart(hostOrigin string, secure bool) error {
	u, err := url.Parse(hostOrigin)
	if err != nil || u.Hostname() == "" {
		return cardgate.Errorf(cardgate.EINVALID, "host origin %q: must be scheme://host[:port]", hostOrigin)
	}
	host := strings.ToLower(u.Hostname())
	fix := "give the cards origin a host name of its own, like http://cards.localhost:<port> on this machine or https://cards.example.com"
	if host == o.host {
		return cardgate.Errorf(cardgate.EINVALID, "cards URL %s is on the card host's own host name, %s: "+
			"cookies ignore the port, so a card could sign the viewer in as someone else; %s", o.origin(o.host), host, fix)
	}
	if !secure {
		if d := sharedDomain(host, o.host); d != "" {
			return cardgate.Errorf(cardgate.EINVALID, "cards URL %s shares the domain %s with the card host (%s): over plain HTTP a card "+
				"could set a cookie for %s and sign the viewer in as someone else; serve the host over https, or %s", o.origin(o.host), d, host, d, fix)
		}
	}
	return nil
}

// sharedDomain is the longest domain of two labels or more that both names
// are, or are under ("example.com" for app.example.com and
// cards.example.com), or "". IP addresses share none. Without the public
// suffix list it cannot tell example.co.uk from co.uk, so it errs towards
// refusing.
func sharedDomain(a, b string) string {
	if net.ParseIP(a) != nil || net.ParseIP(b) != nil {
		return ""
	}
	for d := a; strings.Contains(d, "."); _, d, _ = strings.Cut(d, ".") {
		if b == d || strings.HasSuffix(b, "."+d) {
			return d
		}
	}
	return ""
}

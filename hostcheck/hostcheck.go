// Package hostcheck makes a listener answer only to its public names. A
// page whose DNS name an attacker points at the server's address (DNS
// rebinding) reaches the server with the attacker's name in Host, and its
// requests count as same-origin in the browser; refusing every Host that
// is not one of the server's own names stops that, and lets the rest of the
// server trust r.Host.
package hostcheck

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/cardgate/cardgate/httpjson"
)

// Names is the set of Host values a listener answers to. The zero value
// allows none.
type Names struct {
	names []name
}

type name struct {
	host string // lower case; for a wildcard, the parent ("cards.example.com")
	port string // never empty
	// bare: the port is its scheme's default, so a Host without a port
	// means it too.
	bare bool
	// wildcard: one DNS label and a dot in front of host
	// (<label>.cards.example.com), not host itself.
	wildcard bool
}

// AddURL allows the host and port of an absolute http or https URL; with
// subdomains, also every name one label below it (the cards origin's
// per-package origins).
func (n *Names) AddURL(rawURL string, subdomains bool) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return fmt.Errorf("%q is not an http:// or https:// URL with a host", rawURL)
	}
	def := map[string]string{"http": "80", "https": "443"}[u.Scheme]
	port := u.Port()
	if port == "" {
		port = def
	}
	host := strings.ToLower(u.Hostname())
	n.names = append(n.names, name{host: host, port: port, bare: port == def})
	if subdomains {
		n.names = append(n.names, name{host: host, port: port, bare: port == def, wildcard: true})
	}
	return nil
}

var (
	hostForm = regexp.MustCompile(`^[a-z0-9.:-]+$`)
	portForm = regexp.MustCompile(`^[0-9]{1,5}$`)
)

// AddHost allows a host[:port] as a client writes it in Host; without a
// port it allows the host on every port. It is for the extra names an
// operator lists (an internal service name, say).
func (n *Names) AddHost(hostport string) error {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if !hostForm.MatchString(host) || (port != "" && !portForm.MatchString(port)) {
		return fmt.Errorf("%q is not a host name or host:port", hostport)
	}
	n.names = append(n.names, name{host: host, port: port, bare: port == ""})
	return nil
}

// AddLoopback allows the loopback names a browser on this machine uses
// for a listener on port: 127.0.0.1, localhost and [::1]. Only the demo,
// which runs on loopback alone, allows them all.
func (n *Names) AddLoopback(port string) {
	for _, h := range []string{"127.0.0.1", "localhost", "::1"} {
		n.names = append(n.names, name{host: h, port: port})
	}
}

// Allows reports whether a request's Host is one of the names.
func (n *Names) Allows(hostHeader string) bool {
	host, port, err := net.SplitHostPort(hostHeader)
	if err != nil {
		host, port = hostHeader, ""
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	return slices.ContainsFunc(n.names, func(m name) bool {
		switch {
		case port == "" && !m.bare:
			return false
		case port != "" && m.port != "" && port != m.port:
			return false
		case m.wildcard:
			label, parent, ok := strings.Cut(host, ".")
			return ok && label != "" && parent == m.host
		}
		return host == m.host
	})
}

// String lists the names, for messages: host:port, *.host:port.
func (n *Names) String() string {
	var out []string
	for _, m := range n.names {
		h := m.host
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
		if m.wildcard {
			h = "*." + h
		}
		if m.port != "" {
			h += ":" + m.port
		}
		out = append(out, h)
	}
	return strings.Join(out, ", ")
}

// Handler refuses, with 421 Misdirected Request and a JSON error, a
// request whose Host is not one of names. public, for the message, is the
// server's public URL: the name clients should use. Paths in exempt (exact)
// are served whatever the Host: health checks, which load balancers send to
// a node's own address.
func Handler(names Names, public string, next http.Handler, exempt ...string) http.Handler {
	msg := fmt.Sprintf("this server answers as %s, and the request named another host "+
		"(a proxy in front must pass on the Host its client sent)", public)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !names.Allows(r.Host) && !slices.Contains(exempt, r.URL.Path) {
			w.Header().Set("Cache-Control", "no-store")
			httpjson.Write(w, http.StatusMisdirectedRequest, httpjson.ErrorBody{Error: httpjson.ErrorDetail{
				Code: "MisdirectedRequest", Message: msg}})
			return
		}
		next.ServeHTTP(w, r)
	})
}

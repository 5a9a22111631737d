package cli

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/cards"
	"github.com/cardgate/cardgate/host"
	"github.com/cardgate/cardgate/hostcheck"
	"github.com/cardgate/cardgate/ratelimit"
	"github.com/cardgate/cardgate/signin"
)

// hostOptions are the card host's settings from the command line.
type hostOptions struct {
	cardsURL       string
	demo           bool
	secureCookies  bool
	trustedProxies []netip.Prefix
	// allowedHosts are more names (host[:port]) the issuer's listener
	// answers to besides its public URL's: an internal service name that
	// verifiers and adapters call it by, say.
	allowedHosts []string
	// issuerPort is the port the issuer listens on, for the loopback
	// names the demo also answers to.
	issuerPort string
	// done ends the host's live update streams: the server is stopping.
	done <-chan struct{}
}

// newSignIn makes the card host's sign-in; limiter nil keeps its limits in
// memory.
func newSignIn(sys *system, log *slog.Logger, limiter ratelimit.Limiter, sender signin.Sender) (*signin.Service, error) {
	si, err := signin.New(signin.Config{Store: sys.store, Sender: sender, CodeKey: sys.master.Derive("signin codes"),
		Limiter: limiter, Logger: log})
	if err != nil {
		return nil, err
	}
	sys.svc.OnInvalidate(si.Invalidate) // a user disabled through the issuer is signed out at once
	return si, nil
}

// cardHost builds the two faces of the card host: the handler for the
// issuer's listener (the chat client in front of the Integration Service's
// API) and the cards origin's handler, which serves the cards on a listener
// of their own. Each answers only to its own names (DNS rebinding): the
// issuer to its public URL's host, the --allowed-hosts and, in the demo,
// the loopback names of its port, but never the cards' host name; the cards
// origin to the cards URL's host and its per-card subdomains.
func cardHost(sys *system, log *slog.Logger, o hostOptions, si *signin.Service) (issuerH, cardsH http.Handler, err error) {
	origins, err := cards.ParseOrigins(o.cardsURL)
	if err != nil {
		return nil, nil, fmt.Errorf("--cards-url: %s", cardgate.ErrorMessage(err))
	}
	hostOrigin := origin(sys.svc.Issuer())
	var issuerNames, cardsNames hostcheck.Names
	if err := issuerNames.AddURL(sys.svc.Issuer(), false); err != nil {
		return nil, nil, fmt.Errorf("--issuer-url: %w", err)
	}
	for _, h := range o.allowedHosts {
		if err := issuerNames.AddHost(h); err != nil {
			return nil, nil, fmt.Errorf("--allowed-hosts: %w", err)
		}
	}
	if err := cardsNames.AddURL(o.cardsURL, origins.PerPackage()); err != nil {
		return nil, nil, fmt.Errorf("--cards-url: %w", err)
	}
	pageOrigins := []string{hostOrigin}
	if o.demo {
		// The demo runs on loopback only: a browser on this machine may
		// open the host by any loopback name, except the one the cards
		// use (a card could set that name's cookies).
		cardsHost := mustURL(o.cardsURL).Hostname()
		for _, name := range []string{"127.0.0.1", "localhost", "::1"} {
			if name == cardsHost {
				continue
			}
			u := "http://" + net.JoinHostPort(name, o.issuerPort)
			if !slices.Contains(pageOrigins, u) {
				pageOrigins = append(pageOrigins, u)
			}
			issuerNames.AddHost(net.JoinHostPort(name, o.issuerPort))
		}
	}
	issuerH, err = host.NewHandler(host.Config{Store: sys.store, Minter: sys.svc, SignIn: si, Cards: origins, Origins: pageOrigins,
		Demo: o.demo, SecureCookies: o.secureCookies, TrustedProxies: o.trustedProxies, Logger: log, API: issuerHandler(sys),
		Done: o.done})
	if err != nil { // cards that could set the host's cookies
		return nil, nil, fmt.Errorf("--cards-url: %s", cardgate.ErrorMessage(err))
	}
	cardsH = cards.NewHandler(sys.store, cards.Options{HostOrigin: strings.Join(pageOrigins, " "), SDKOrigin: hostOrigin, Origins: origins})
	return hostcheck.Handler(issuerNames, sys.svc.Issuer(), issuerH, "/healthz", "/readyz"),
		hostcheck.Handler(cardsNames, o.cardsURL, cardsH), nil
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		return &url.URL{}
	}
	return u
}

// origin is the scheme://host[:port] of an absolute URL.
func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Scheme + "://" + p.Host
}

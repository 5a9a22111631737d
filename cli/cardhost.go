package cli

import (
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/cardgate/cardgate/cards"
	"github.com/cardgate/cardgate/host"
	"github.com/cardgate/cardgate/ratelimit"
	"github.com/cardgate/cardgate/signin"
)

// hostOptions are the card host's settings from the command line.
type hostOptions struct {
	cardsURL       string
	demo           bool
	secureCookies  bool
	trustedProxies []netip.Prefix
	limiter        ratelimit.Limiter // nil: in memory
}

// cardHost builds the two faces of the card host: the handler for the
// issuer's listener (the chat client in front of the Integration Service's
// API) and the cards origin's handler, which serves the cards on a listener
// of their own.
func cardHost(sys *system, log *slog.Logger, o hostOptions, sender signin.Sender) (issuerH, cardsH http.Handler, err error) {
	si, err := signin.New(signin.Config{Store: sys.store, Sender: sender, CodeKey: sys.master.Derive("signin codes"),
		Limiter: o.limiter, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	origins, err := cards.ParseOrigins(o.cardsURL)
	if err != nil {
		return nil, nil, err
	}
	hostOrigin := origin(sys.svc.Issuer())
	issuerH, err = host.NewHandler(host.Config{Store: sys.store, Minter: sys.svc, SignIn: si, Cards: origins,
		Demo: o.demo, SecureCookies: o.secureCookies, TrustedProxies: o.trustedProxies, Logger: log, API: issuerHandler(sys)})
	if err != nil {
		return nil, nil, err
	}
	return issuerH, cards.NewHandler(sys.store, cards.Options{HostOrigin: hostOrigin, SDKOrigin: hostOrigin, Origins: origins}), nil
}

// origin is the scheme://host[:port] of an absolute URL.
func origin(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	return p.Scheme + "://" + p.Host
}

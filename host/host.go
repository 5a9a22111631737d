// Package host is the card host: the chat client people sign in to, which
// lists their cards, opens each in a sandboxed frame from the cards origin,
// and answers the cards' SDK over postMessage with tokens it mints through
// the Integration Service. The browser side (web/) identifies a card's
// action package by the frame it opened; this side mints only for the
// signed-in user and a package that is installed and enabled.
package host

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/actionpkg"
	"github.com/cardgate/cardgate/cards"
	"github.com/cardgate/cardgate/httpjson"
	"github.com/cardgate/cardgate/sdk"
	"github.com/cardgate/cardgate/signin"
	"github.com/cardgate/cardgate/token"
)

// Store is what the host reads: the installed cards, the users, and the
// conversations with their forms and responses, which it also writes.
type Store interface {
	cardgate.ConversationStore
	User(ctx context.Context, id string) (*cardgate.User, error)
	Users(ctx context.Context) ([]*cardgate.User, error)
	Packages(ctx context.Context) ([]*cardgate.ActionPackage, error)
	Package(ctx context.Context, id string) (*cardgate.ActionPackage, error)
	PackageManifest(ctx context.Context, id string) ([]byte, error)
	PackageFile(ctx context.Context, id, path string) ([]byte, error)
}

// Minter mints integration service tokens; *issuer.Service is one.
type Minter interface {
	Mint(ctx context.Context, userID, packageID string) (string, *token.Claims, error)
	// MintIn mints for a card opened in a conversation; the host checks
	// first that the user is a member of it.
	MintIn(ctx context.Context, userID, packageID, conversationID string) (string, *token.Claims, error)
}

// Config configures the card host.
type Config struct {
	Store  Store
	Minter Minter
	SignIn *signin.Service
	// Cards says each card's origin (from the cards URL, see
	// cards.ParseOrigins): the only origins the host frames and answers.
	Cards cards.Origins
	// Origins are the origins the host's page is served on
	// (scheme://host[:port]): its public URL's, and in the demo the
	// loopback names'. A state-changing call must come from one of them.
	Origins []string
	// Demo adds a one-click user picker to the sign-in page. Never set it
	// where real people sign in: it signs anyone in as anyone.
	Demo bool
	// SecureCookies marks the session cookie Secure even on plain HTTP
	// requests, for a host behind a proxy that ends TLS. Requests that
	// arrive over TLS always get Secure cookies.
	SecureCookies bool
	// TrustedProxies are the addresses of proxies in front of the host.
	// Sign-in's per-address limits key on the client's address: the TCP
	// peer, or, when the peer is a trusted proxy, the nearest address in
	// X-Forwarded-For that is not one. Without them every client behind
	// a proxy shares the proxy's limit.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	// ManifestCacheTTL is how long a card's parsed manifest (its name, its
	// pages, its externalUrls) is reused without reading the store again:
	// a re-import, by this process or another, is seen within it. Zero
	// means DefaultManifestCacheTTL; a negative value reads the store
	// every time. Whether a package is enabled is never cached here: the
	// Minter decides that on every mint.
	ManifestCacheTTL time.Duration
	// API, if set, serves every request the host does not: the Integration
	// Service's API, which shares the host's origin.
	API http.Handler
	// Done, when closed, ends the live update streams (GET
	// /host/api/events), which otherwise stay open: a server shutting
	// down closes it so that it does not wait for them.
	Done <-chan struct{}
}

//go:embed web
var web embed.FS

var (
	assets, _ = fs.Sub(web, "web")
	index     = template.Must(template.ParseFS(web, "web/index.html"))
)

// DefaultManifestCacheTTL is the issuer's DefaultStateCacheTTL.
const DefaultManifestCacheTTL = time.Second

// manifestCacheSize caps the manifests cached: a host has a few cards;
// past this many the cache starts over.
const manifestCacheSize = 1_000

type handler struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	manifests map[string]cachedManifest // by package ID

	hub  *hub
	done <-chan struct{}
}

// cachedManifest is a parsed manifest and until when it may be reused. It
// is shared: nothing changes it.
type cachedManifest struct {
	m     *actionpkg.Manifest
	until time.Time
}

// NewHandler returns the card host: GET / (the client), its assets under
// /host/, its API under /host/api/, and the SDK under /sdk/. Anything else
// goes to cfg.API.
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.Cards == (cards.Origins{}) {
		return nil, errors.New("host: Config.Cards is required")
	}
	if len(cfg.Origins) == 0 {
		return nil, errors.New("host: Config.Origins is required")
	}
	for _, o := range cfg.Origins {
		if err := cfg.Cards.CheckApart(o, strings.HasPrefix(o, "https://") || cfg.SecureCookies); err != nil {
			return nil, err
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ManifestCacheTTL == 0 {
		cfg.ManifestCacheTTL = DefaultManifestCacheTTL
	}
	h := &handler{cfg: cfg, log: cfg.Logger, manifests: map[string]cachedManifest{}, done: cfg.Done}
	h.hub = newHub(func(ctx context.Context, id string) ([]*cardgate.Member, error) { return h.cfg.Store.Members(ctx, id) }, cfg.Logger)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", h.page())
	mux.Handle("GET /host/{file}", h.asset())
	mux.Handle("GET /sdk/", http.StripPrefix("/sdk", sdk.Handler()))

	mux.Handle("POST /host/api/signin/code", h.csrf(h.sendCode()))
	mux.Handle("POST /host/api/signin", h.csrf(h.signIn()))
	mux.Handle("POST /host/api/signout", h.csrf(h.signOut()))
	mux.Handle("GET /host/api/me", h.session(h.me()))
	mux.Handle("POST /host/api/tokens", h.csrf(h.session(h.mint())))
	mux.Handle("GET /host/api/cards/{pkg}/strings", h.session(h.cardStrings()))

	mux.Handle("GET /host/api/conversations", h.session(h.conversations()))
	mux.Handle("GET /host/api/conversations/{id}", h.session(h.conversation()))
	mux.Handle("GET /host/api/conversations/{id}/cards/{pkg}/draft", h.session(h.draft()))
	mux.Handle("POST /host/api/conversations/{id}/forms", h.csrf(h.session(h.createForm())))
	mux.Handle("GET /host/api/forms/{id}", h.session(h.formState()))
	mux.Handle("POST /host/api/forms/{id}/close", h.csrf(h.session(h.closeForm())))
	mux.Handle("GET /host/api/forms/{id}/responses", h.session(h.responses()))
	mux.Handle("POST /host/api/forms/{id}/responses", h.csrf(h.session(h.respond())))
	mux.Handle("GET /host/api/forms/{id}/summary", h.session(h.summary()))
	mux.Handle("GET /host/api/events", h.session(h.events()))
	if cfg.Demo {
		mux.Handle("GET /host/api/demo/users", h.demoUsers())
		mux.Handle("POST /host/api/demo/signin", h.csrf(h.demoSignIn()))
	}
	if cfg.API != nil {
		mux.Handle("/", cfg.API)
	}
	return mux, nil
}

// page serves the client. Its policy lets it frame only the cards origin,
// and nothing frame it.
func (h *handler) page() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w, h.cfg.Cards.Sources())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		index.Execute(w, map[string]any{"Demo": h.cfg.Demo})
	})
}

func (h *handler) asset() http.Handler {
	files := http.FileServerFS(assets)
	bridge := http.FileServerFS(sdk.FS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w, h.cfg.Cards.Sources())
		w.Header().Set("Cache-Control", "no-cache")
		name := r.PathValue("file")
		r2 := new(http.Request)
		*r2 = *r
		r2.URL = &url.URL{Path: "/" + name}
		switch {
		case name == "host-bridge.js" || name == "kaizala-host.js":
			bridge.ServeHTTP(w, r2)
		case name != "index.html" && exists(assets, name):
			files.ServeHTTP(w, r2)
		default:
			httpjson.Error(w, cardgate.Errorf(cardgate.ENOTFOUND, "no such file"))
		}
	})
}

func exists(fsys fs.FS, name string) bool {
	fi, err := fs.Stat(fsys, name)
	return err == nil && !fi.IsDir()
}

// securityHeaders sets the page's policy: it may frame, and show icons
// from, the cards' origins (cards, a CSP source list) and nothing else.
func securityHeaders(w http.ResponseWriter, cards string) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: "+cards+
		"; frame-src "+cards+"; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
}

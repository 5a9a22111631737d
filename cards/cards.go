// Package cards serves imported action packages from origins of their
// own, never the host's, so that a card's script cannot touch the host's
// cookies or pages (nor, with an origin per package, another card's). Every
// answer carries a Content-Security-Policy built from the package's
// manifest: the card may connect only to the URLs its package declares
// (externalUrls) and may be framed only by the host (through its own
// frame page, see frame.go).
package cards

import (
	"context"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/actionpkg"
	"github.com/cardgate/cardgate/httpjson"
	"github.com/cardgate/cardgate/sdk"
)

// Store is what the cards origin reads.
type Store interface {
	Package(ctx context.Context, id string) (*cardgate.ActionPackage, error)
	PackageManifest(ctx context.Context, id string) ([]byte, error)
	PackageFile(ctx context.Context, id, path string) ([]byte, error)
}

// Options configures the cards origin.
type Options struct {
	// HostOrigin is the card host's origin (scheme://host:port), or
	// several separated by spaces: the only pages allowed to frame a card.
	HostOrigin string
	// SDKOrigin is the origin that serves cardgate.js (the issuer), from
	// which cards may load that script.
	SDKOrigin string
	// Origins, when per package, makes each card answer only on its own
	// origin. The zero value serves every card on any host name.
	Origins Origins
}

// NewHandler serves GET /{package}/{path...}.
func NewHandler(store Store, opts Options) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /{pkg}/{file...}", serveFile(store, opts))
	// The frame page that holds a card and speaks Kaizala's web client to
	// it. "frame" is no package ID (they are reverse-DNS, with a dot).
	mux.Handle("GET /frame/{pkg}/{file...}", serveFrame(store, opts))
	// The SDK, from the cards' own origin, so that a card can load it with
	// script-src 'self' wherever the issuer lives.
	mux.Handle("GET /sdk/{file}", http.StripPrefix("/sdk", sdk.Handler()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Card files have plain names: a path that is not already clean
		// (.., //) or holds any percent-encoding is not a card file. It is
		// refused, not redirected to a tidied path as the mux would.
		if r.URL.Path != path.Clean(r.URL.Path) || strings.Contains(r.URL.EscapedPath(), "%") {
			httpjson.Error(w, errNotFound)
			return
		}
		if h, pattern := mux.Handler(r); pattern == "" {
			status, _ := httpjson.MuxMiss(h, r)
			if status == http.StatusMethodNotAllowed {
				httpjson.Error(w, cardgate.Errorf(cardgate.EMETHOD, "cards are read with GET"))
				return
			}
			httpjson.Error(w, cardgate.Errorf(cardgate.ENOTFOUND, "no card file here"))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

var errNotFound = cardgate.Errorf(cardgate.ENOTFOUND, "no card file here")

func serveFile(store Store, opts Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, b, err := servedFile(r, store, opts)
		if err != nil {
			httpjson.Error(w, err)
			return
		}
		ct := contentType(r.PathValue("file"))
		if strings.HasPrefix(ct, "text/html") {
			b = withKaizalaCompat(b)
		}
		setHeaders(w.Header(), Policy(m, opts), ct)
		w.Write(b)
	})
}

// servedFile checks that the request's package file ({pkg}, {file...}) is
// served here, on the package's own origin, and returns the package's
// manifest and the file.
func servedFile(r *http.Request, store Store, opts Options) (*actionpkg.Manifest, []byte, error) {
	id, file := r.PathValue("pkg"), r.PathValue("file")
	clean, err := actionpkg.CleanPath(file)
	if cardgate.ValidatePackageID("package", id) != nil || err != nil || clean != file ||
		!opts.Origins.serves(r.Host, id) { // another card's origin
		return nil, nil, errNotFound
	}
	ctx := r.Context()
	p, err := store.Package(ctx, id)
	if err != nil || p.Disabled { // a disabled card is not served
		return nil, nil, notFoundOr(err)
	}
	raw, err := store.PackageManifest(ctx, id)
	if err != nil {
		return nil, nil, notFoundOr(err)
	}
	m, err := actionpkg.ParseManifest(raw)
	if err != nil {
		return nil, nil, cardgate.WrapError(cardgate.EINTERNAL, "the stored manifest does not parse", err)
	}
	b, err := store.PackageFile(ctx, id, file)
	if err != nil {
		return nil, nil, notFoundOr(err)
	}
	return m, b, nil
}

func notFoundOr(err error) error {
	if err == nil || cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return errNotFound
	}
	return err
}

// Policy returns the Content-Security-Policy of a card's files. connect-src
// is the package's externalUrls and nothing else ('none' when it declares
// none): that, not the SDK, is what keeps a card's requests to its own
// services. Scripts may be inline and may eval: Kaizala's pages use
// <body onload> and inline <script>, and Kaizala's SDK calls back through
// new Function. The origin holds this package's files alone, so inline
// code can do nothing the package's own script files could not (see
// docs/kaizala.md). A card's page sits in its frame page (FramePolicy), on
// the same origin, inside the host: both are its ancestors.
func Policy(m *actionpkg.Manifest, opts Options) string {
	scripts := "'self' 'unsafe-inline' 'unsafe-eval'"
	if opts.SDKOrigin != "" {
		scripts += " " + opts.SDKOrigin
	}
	ancestors := "'none'"
	if opts.HostOrigin != "" {
		ancestors = "'self' " + opts.HostOrigin
	}
	return "default-src 'none'; script-src " + scripts + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"font-src 'self'; connect-src " + connectSrc(m) + "; frame-ancestors " + ancestors + "; base-uri 'none'; form-action 'none'"
}

// FramePolicy is the policy of the frame page: the project's own code only
// (script-src 'self', nothing inline; its one style inline), the card's connect-src (it performs
// Kaizala's performHTTPRequest for the card), framing only the card's own
// pages and framed only by the host.
func FramePolicy(m *actionpkg.Manifest, opts Options) string {
	ancestors := "'none'"
	if opts.HostOrigin != "" {
		ancestors = opts.HostOrigin
	}
	return "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; " +
		"connect-src " + connectSrc(m) + "; frame-ancestors " + ancestors + "; base-uri 'none'; form-action 'none'"
}

func connectSrc(m *actionpkg.Manifest) string {
	if len(m.ExternalURLs) == 0 {
		return "'none'"
	}
	return strings.Join(m.ExternalURLs, " ")
}

// contentType names a file's type from its extension; unknown types are
// served as bytes, never sniffed.
func contentType(file string) string {
	if t := mime.TypeByExtension(path.Ext(file)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// setHeaders sets what every answer of the cards origin carries: its
// policy, its type (never sniffed), no referrer, and no reuse without
// revalidation.
func setHeaders(h http.Header, policy, contentType string) {
	h.Set("Content-Security-Policy", policy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", contentType)
}

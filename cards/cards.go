// Package cards serves imported action packages from origins of their
// own, never the host's, so that a card's script cannot touch the host's
// cookies or pages (nor, with an origin per package, another card's). Every
// answer carries a Content-Security-Policy built from the package's
// manifest: the card may connect only to the URLs its package declares
// (externalUrls), may be framed only by the host, and may load scripts only
// from itself and the SDK's origin.
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
		id, file := r.PathValue("pkg"), r.PathValue("file")
		clean, err := actionpkg.CleanPath(file)
		if cardgate.ValidatePackageID("package", id) != nil || err != nil || clean != file ||
			!opts.Origins.serves(r.Host, id) { // another card's origin
			httpjson.Error(w, errNotFound)
			return
		}
		ctx := r.Context()
		p, err := store.Package(ctx, id)
		if err != nil || p.Disabled { // a disabled card is not served
			httpjson.Error(w, notFoundOr(err))
			return
		}
		raw, err := store.PackageManifest(ctx, id)
		if err != nil {
			httpjson.Error(w, notFoundOr(err))
			return
		}
		m, err := actionpkg.ParseManifest(raw)
		if err != nil {
			httpjson.Error(w, cardgate.WrapError(cardgate.EINTERNAL, "the stored manifest does not parse", err))
			return
		}
		b, err := store.PackageFile(ctx, id, file)
		if err != nil {
			httpjson.Error(w, notFoundOr(err))
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", Policy(m, opts))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", contentType(file))
		w.Write(b)
	})
}

func notFoundOr(err error) error {
	if err == nil || cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return errNotFound
	}
	return err
}

// Policy returns the Content-Security-Policy of a card. connect-src is the
// package's externalUrls and nothing else ('none' when it declares none):
// that, not the SDK, is what keeps a card's requests to its own services.
func Policy(m *actionpkg.Manifest, opts Options) string {
	connect := "'none'"
	if len(m.ExternalURLs) > 0 {
		connect = strings.Join(m.ExternalURLs, " ")
	}
	scripts := "'self'"
	if opts.SDKOrigin != "" {
		scripts += " " + opts.SDKOrigin
	}
	ancestors := "'none'"
	if opts.HostOrigin != "" {
		ancestors = opts.HostOrigin
	}
	return "default-src 'none'; script-src " + scripts + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"font-src 'self'; connect-src " + connect + "; frame-ancestors " + ancestors + "; base-uri 'none'; form-action 'none'"
}

// contentType names a file's type from its extension; unknown types are
// served as bytes, never sniffed.
func contentType(file string) string {
	if t := mime.TypeByExtension(path.Ext(file)); t != "" {
		return t
	}
	return "application/octet-stream"
}

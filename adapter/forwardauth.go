package adapter

import (
	"net/http"
	"net/url"

	"github.com/cardgate/cardgate"
)

// ForwardAuthPath is where Handler serves the forward-auth endpoint.
const ForwardAuthPath = "/auth"

// Handler returns the adapter's whole HTTP surface: the forward-auth
// endpoint at GET /auth and the proxy for every other path. The path /auth
// is therefore reserved; a route that must use it needs the proxy (the
// Adapter itself) and ForwardAuth on listeners of their own. No ServeMux
// sits in front of the proxy, because one would answer unclean paths with a
// redirect before the adapter could refuse them.
func (a *Adapter) Handler() http.Handler {
	fa := a.ForwardAuth()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == ForwardAuthPath && r.URL.RawPath == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			fa.ServeHTTP(w, r)
			return
		}
		a.ServeHTTP(w, r)
	})
}

// ForwardAuth returns the forward-auth handler for nginx auth_request,
// Traefik ForwardAuth and Envoy ext_authz (HTTP). It runs the proxy's
// checks (path, token, route, policy, rate limits) on the original request
// and answers 200 with the identity headers of the route, or the JSON error
// the proxy would have sent. It never returns a credential.
//
// The original request is read from X-Forwarded-Method and X-Forwarded-Uri
// (Traefik), or X-Original-Method and X-Original-Uri (nginx, set them with
// proxy_set_header), and its host from X-Forwarded-Host. Without those
// headers the request itself is the one checked, as Envoy's ext_authz sends
// it: mount the handler on a listener of its own for Envoy. The token comes
// from the headers only, never from a body.
func (a *Adapter) ForwardAuth() http.Handler {
	return http.HandlerFunc(a.serveForwardAuth)
}

var errForwardAuthMethod = cardgate.Errorf(cardgate.EINVALID, "X-Forwarded-Method or X-Original-Method is required with the URI")

func (a *Adapter) serveForwardAuth(w http.ResponseWriter, r *http.Request) {
	start := a.now()
	t := a.table.Load()
	ex := &exchange{ResponseWriter: w}
	orig := *r // a shallow copy, describing the original request
	orig.Body, orig.ContentLength = http.NoBody, 0
	defer a.finish(ex, &orig, start, true)

	method, uri := r.Header.Get("X-Forwarded-Method"), r.Header.Get("X-Forwarded-Uri")
	if uri == "" {
		method, uri = r.Header.Get("X-Original-Method"), r.Header.Get("X-Original-Uri")
	}
	if uri != "" {
		if method == "" {
			a.fail(ex, &orig, errForwardAuthMethod)
			return
		}
		u, err := url.ParseRequestURI(uri)
		if err != nil || u.IsAbs() {
			a.fail(ex, &orig, cardgate.Errorf(cardgate.EINVALID, "forwarded URI: must be a path with an optional query"))
			return
		}
		orig.Method, orig.URL, orig.RequestURI = method, u, uri
		if h := r.Header.Get("X-Forwarded-Host"); h != "" {
			orig.Host = h
		}
	}
	if err := a.admit(t, ex, &orig, w, false); err != nil {
		a.fail(ex, &orig, err)
		return
	}
	rt, id := ex.route, ex.id
	h := w.Header()
	if rt.userHeader != "" {
		h.Set(rt.userHeader, id.UserID)
	}
	if rt.packageHeader != "" {
		h.Set(rt.packageHeader, id.ActionPackageID)
	}
	if rt.nameHeader != "" {
		h.Set(rt.nameHeader, url.PathEscape(id.Name))
	}
	h.Set("X-Cardgate-Route", rt.name)
	h.Set("Cache-Control", "no-store")
	ex.WriteHeader(http.StatusOK)
}

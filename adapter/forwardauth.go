package adapter

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/cardgate/cardgate"
)

// ForwardAuthPath is where Handler serves the forward-auth endpoint.
const ForwardAuthPath = "/auth"

// Handler returns the adapter's whole HTTP surface: the forward-auth
// endpoint at GET /auth and the proxy for every other path. The path /auth
// is therefore reserved; a route that must use it needs the proxy (the
// Adapter itself) and ForwardAuth on listeners of their own. With
// forwardAuth.from request (Envoy ext_authz, with path_prefix /auth) every
// method on /auth/PATH is forward-auth for PATH, so /auth/ is reserved too.
// No ServeMux sits in front of the proxy, because one would answer unclean
// paths with a redirect before the adapter could refuse them.
func (a *Adapter) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == ForwardAuthPath && r.URL.RawPath == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			a.serveForwardAuth(w, r, false)
			return
		}
		if strings.HasPrefix(r.URL.Path, ForwardAuthPath+"/") && a.table.Load().forwardFrom == FromRequest {
			a.serveForwardAuth(w, r, true)
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
// Where the original request is read depends on forwardAuth.from: the
// proxy's X-Original-Method and X-Original-Uri and the request's Host
// (x-original, nginx), X-Forwarded-Method, X-Forwarded-Uri and
// X-Forwarded-Host (x-forwarded, Traefik), or the request itself (request,
// Envoy: mount the handler on a listener of its own). The proxy in front
// must set the headers it uses and pass none of the client's copies; as a
// second line, a request that carries a method or URI header of the family
// not configured, repeats a header that is read, or carries a token or
// identity header under a name with "_" is refused with 400, since the
// client may have sent it. The token comes from the headers only, never
// from a body.
func (a *Adapter) ForwardAuth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.serveForwardAuth(w, r, false) })
}

// forwardedHeaders are the method and URI headers of both families.
var forwardedHeaders = [...]string{"X-Original-Method", "X-Original-Uri", "X-Forwarded-Method", "X-Forwarded-Uri"}

// serveForwardAuth answers a forward-auth request; prefixed says the
// original request's path follows /auth in r's path (request mode behind
// Handler).
func (a *Adapter) serveForwardAuth(w http.ResponseWriter, r *http.Request, prefixed bool) {
	start := a.now()
	t := a.table.Load()
	ex := &exchange{ResponseWriter: w}
	orig := *r // a shallow copy, describing the original request
	orig.Body, orig.ContentLength = http.NoBody, 0
	defer a.finish(ex, &orig, start, true)

	if err := t.originalRequest(r, &orig, prefixed); err != nil {
		a.fail(ex, &orig, err)
		return
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
	if rt.conversationHeader != "" {
		// Empty for a token minted outside a conversation, not absent: a
		// proxy that copies only the headers present (Envoy) would leave
		// the client's copy in place.
		h.Set(rt.conversationHeader, id.ConversationID)
	}
	h.Set("X-Cardgate-Route", rt.name)
	h.Set("Cache-Control", "no-store")
	ex.WriteHeader(http.StatusOK)
}

// originalRequest sets orig's method, URI and host from the headers of the
// configured family, refusing what a client may have forged.
func (t *table) originalRequest(r *http.Request, orig *http.Request, prefixed bool) error {
	var mh, uh, hh string
	switch t.forwardFrom {
	case FromXOriginal:
		mh, uh = "X-Original-Method", "X-Original-Uri"
	case FromXForwarded:
		mh, uh, hh = "X-Forwarded-Method", "X-Forwarded-Uri", "X-Forwarded-Host"
	}
	for _, k := range forwardedHeaders {
		if k != mh && k != uh && len(r.Header[k]) > 0 {
			return cardgate.Errorf(cardgate.EINVALID, "%s: not read with forwardAuth.from %s, so it came from the client: the proxy in front must not pass it", k, t.forwardFrom)
		}
	}
	for k := range r.Header {
		if strings.IndexByte(k, '_') >= 0 && t.guardedName(k) {
			return cardgate.Errorf(cardgate.EINVALID, "header %q: a token, identity or forwarding header name with '_' is refused: the upstream might read it as the real one", k)
		}
	}
	var method, uri string
	switch {
	case t.forwardFrom != FromRequest:
		ms, us := r.Header[mh], r.Header[uh]
		if len(ms) != 1 || len(us) != 1 {
			return cardgate.Errorf(cardgate.EINVALID, "%s and %s: each must be set once by the proxy in front", mh, uh)
		}
		method, uri = ms[0], us[0]
	case prefixed:
		method, uri = r.Method, strings.TrimPrefix(r.URL.EscapedPath(), ForwardAuthPath)
		if r.URL.RawQuery != "" {
			uri += "?" + r.URL.RawQuery
		}
		uh = "path after " + ForwardAuthPath
	default:
		return nil // the request itself
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil || u.IsAbs() || u.Host != "" {
		return cardgate.Errorf(cardgate.EINVALID, "%s: must be a path with an optional query", uh)
	}
	orig.Method, orig.URL, orig.RequestURI = method, u, uri
	if hh != "" {
		switch hs := r.Header[hh]; len(hs) {
		case 0:
			// The /auth request's own Host names the adapter, not the
			// request the proxy asks about.
			return cardgate.Errorf(cardgate.EINVALID, "%s: must be set by the proxy in front", hh)
		case 1:
			orig.Host = hs[0]
		default:
			return cardgate.Errorf(cardgate.EINVALID, "%s: must be set once by the proxy in front", hh)
		}
	}
	return nil
}

// guardedName reports whether k, read without case, "-" and "_" (so that
// X_Cardgate_User_Id is X-Cardgate-User-Id and access_token is
// accessToken), names a token or identity header, or a forwarding header.
func (t *table) guardedName(k string) bool {
	n := squash(k)
	return t.guarded[n] || strings.HasPrefix(n, "xcardgate") || strings.HasPrefix(n, "xforwarded") || strings.HasPrefix(n, "xoriginal")
}

// squash returns h lower case without "-" and "_".
func squash(h string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == '_':
			return -1
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, h)
}

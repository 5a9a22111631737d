package adapter

import (
	"net/http"
	"strconv"
	"strings"
)

// corsPolicy is a route's compiled CORS configuration.
type corsPolicy struct {
	any     bool
	origins map[string]bool
	maxAge  string
}

func newCORS(c *CORS, pattern string) *corsPolicy {
	p := &corsPolicy{origins: make(map[string]bool), maxAge: strconv.Itoa(int(c.MaxAge.Seconds()))}
	for _, o := range c.Origins {
		if o == "*" {
			p.any = true
		}
		p.origins[strings.ToLower(o)] = true
	}
	return p
}

func (p *corsPolicy) allowed(origin string) bool {
	return p.any || p.origins[strings.ToLower(origin)]
}

// preflight answers a CORS preflight request for a route whose policy
// allows the origin, and reports whether it did. Preflights carry no token
// (browsers send none), so they are answered before authentication, and say
// nothing beyond what the route's CORS policy already publishes.
func (t *table) preflight(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	method := r.Header.Get("Access-Control-Request-Method")
	if r.Method != http.MethodOptions || origin == "" || method == "" {
		return false
	}
	if checkPath(r.URL) != nil {
		return false
	}
	r2 := *r // a shallow copy, to match the method the real request will use
	r2.Method = method
	rt, err := t.match(&r2)
	if err != nil || rt.cors == nil || !rt.cors.allowed(origin) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", method)
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		// Headers are checked where it matters (the token, the body);
		// echoing lets cards send their own.
		h.Set("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", rt.cors.maxAge)
	h.Add("Vary", "Origin")
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	w.WriteHeader(http.StatusNoContent)
	if ex, ok := w.(*exchange); ok {
		ex.route = rt
	}
	return true
}

// allowOrigin lets the request's origin read the answer, if the route's
// policy lists it.
func (rt *route) allowOrigin(h http.Header, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" && rt.cors != nil && rt.cors.allowed(o) {
		h.Set("Access-Control-Allow-Origin", o)
		h.Add("Vary", "Origin")
	}
}

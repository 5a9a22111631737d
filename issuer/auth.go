package issuer

import (
	"context"
	"net/http"

	"github.com/cardgate/cardgate"
)

type clientKey struct{}

// withRole admits a request whose API key (Authorization: Bearer, or the
// password of HTTP Basic, which RFC 7662 clients commonly use) belongs to a
// client of the role, and puts the client in the request context.
func (h *handler) withRole(role cardgate.Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := bearer(r)
		if key == "" {
			if _, pw, ok := r.BasicAuth(); ok {
				key = pw
			}
		}
		c, err := h.svc.Authenticate(r.Context(), key, role)
		if err != nil {
			h.error(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)))
	})
}

func (h *handler) host(next http.Handler) http.Handler {
	return h.withRole(cardgate.RoleHost, next)
}

func (h *handler) resourceServer(next http.Handler) http.Handler {
	return h.withRole(cardgate.RoleResourceServer, next)
}

func (h *handler) admin(next http.Handler) http.Handler {
	return h.withRole(cardgate.RoleAdmin, next)
}

// clientFrom returns the authenticated client of a request.
func clientFrom(ctx context.Context) *cardgate.Client {
	c, _ := ctx.Value(clientKey{}).(*cardgate.Client)
	return c
}

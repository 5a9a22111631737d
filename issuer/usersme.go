package issuer

import (
	"net/http"
	"strings"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
)

// TokenFrom returns the token of a request to /v1/users/me: Kaizala's
// accessToken header, or else Authorization: Bearer.
func TokenFrom(r *http.Request) string {
	if t := strings.TrimSpace(r.Header.Get("accessToken")); t != "" {
		return t
	}
	return bearer(r)
}

var errNoToken = cardgate.Errorf(cardgate.EINVALIDTOKEN, "no token: send it in the accessToken header or as Authorization: Bearer")

// usersMe answers Kaizala's GET /v1/users/me: exactly the five fields of the
// Identity, for a token that passes every check.
func (h *handler) usersMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := TokenFrom(r)
		if raw == "" {
			h.metrics.check("missing")
			h.error(w, r, errNoToken)
			return
		}
		id, _, err := h.svc.Check(r.Context(), raw)
		h.metrics.check(checkResult(err))
		if err != nil {
			h.error(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusOK, id)
	})
}

package issuer

import (
	"net/http"
	"strings"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
)

// TokenFrom returns the token of a request to /v1/users/me: Kaizala's
// accessToken header, or Authorization: Bearer. It refuses what could name
// two callers: a token header sent twice, or two headers with different
// tokens (the same token in both is one token). "" means none was sent.
func TokenFrom(r *http.Request) (string, error) {
	var tok string
	for _, name := range [...]string{"Accesstoken", "Authorization"} {
		vs := r.Header[name]
		if len(vs) > 1 {
			return "", errTwoTokens
		}
		var t string
		switch {
		case len(vs) == 0:
			continue
		case name == "Authorization":
			t = bearer(r)
		default:
			t = strings.TrimSpace(vs[0])
		}
		if t == "" {
			continue
		}
		if tok != "" && t != tok {
			return "", errTwoTokens
		}
		tok = t
	}
	return tok, nil
}

var errTwoTokens = cardgate.Errorf(cardgate.EINVALIDTOKEN, "two tokens: send one, in the accessToken header or as Authorization: Bearer")

var errNoToken = cardgate.Errorf(cardgate.EINVALIDTOKEN, "no token: send it in the accessToken header or as Authorization: Bearer")

// usersMe answers Kaizala's GET /v1/users/me: exactly the five fields of the
// Identity, for a token that passes every check. The conversation of a
// token minted in one goes in cardgate.ConversationHeader, not in the
// body, so that the body stays Kaizala's and a client of Kaizala's
// endpoint, which never sends the header, reads no conversation.
func (h *handler) usersMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := TokenFrom(r)
		if err != nil {
			h.metrics.check("malformed")
			h.error(w, r, err)
			return
		}
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
		if id.ConversationID != "" {
			w.Header().Set(cardgate.ConversationHeader, id.ConversationID)
		}
		httpjson.Write(w, http.StatusOK, id)
	})
}

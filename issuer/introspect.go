package issuer

import (
	"net/http"
	"strconv"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
	"github.com/cardgate/cardgate/token"
)

// Introspection is the RFC 7662 answer. An inactive token gets only
// {"active": false}: nothing that tells why. An active token's claims keep
// their names in the token; conv, the conversation, is there only for a
// token minted in one.
type Introspection struct {
	Active          bool   `json:"active"`
	Subject         string `json:"sub,omitempty"`
	ActionPackageID string `json:"apid,omitempty"`
	ConversationID  string `json:"conv,omitempty"`
	Issuer          string `json:"iss,omitempty"`
	TokenType       string `json:"token_type,omitempty"`
	ExpiresAt       int64  `json:"exp,omitempty"`
	IssuedAt        int64  `json:"iat,omitempty"`
	NotBefore       int64  `json:"nbf,omitempty"`
	JTI             string `json:"jti,omitempty"`
}

// introspect answers RFC 7662 introspection for an authenticated resource
// server, throttled per client. A token is active exactly when
// /v1/users/me would accept it.
func (h *handler) introspect() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := clientFrom(r.Context())
		if ok, retry := h.limits.allow(c.ID); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(retry))
			h.error(w, r, cardgate.Errorf(cardgate.ERATELIMITED, "too many introspection requests; retry after %d s", retry))
			return
		}
		const maxBody = 8 << 10
		if r.ContentLength > maxBody {
			httpjson.RefuseBody(w)
			h.error(w, r, httpjson.BodyError(&http.MaxBytesError{Limit: maxBody}, maxBody))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			if berr := httpjson.BodyError(err, maxBody); berr != nil {
				h.error(w, r, berr)
			} else {
				h.error(w, r, cardgate.Errorf(cardgate.EINVALID, "body: must be a form (application/x-www-form-urlencoded)"))
			}
			return
		}
		raw := r.PostForm.Get("token")
		if raw == "" {
			h.error(w, r, cardgate.Errorf(cardgate.EINVALID, "token: required form field"))
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		_, claims, err := h.svc.Check(r.Context(), raw)
		h.metrics.check(checkResult(err))
		switch cardgate.ErrorCode(err) {
		case "":
		case cardgate.EINVALIDTOKEN:
			httpjson.Write(w, http.StatusOK, Introspection{Active: false})
			return
		default:
			h.error(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusOK, Introspection{
			Active:          true,
			Subject:         claims.UserID,
			ActionPackageID: claims.ActionPackageID,
			ConversationID:  claims.ConversationID,
			Issuer:          claims.Issuer,
			TokenType:       token.Type,
			ExpiresAt:       claims.ExpiresAt.Unix(),
			IssuedAt:        claims.IssuedAt.Unix(),
			NotBefore:       claims.NotBefore.Unix(),
			JTI:             claims.ID,
		})
	})
}

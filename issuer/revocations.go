package issuer

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
	"github.com/cardgate/cardgate/token"
)

type revokeRequest struct {
	JTI             string `json:"jti"`
	Token           string `json:"token"`
	UserID          string `json:"userId"`
	ActionPackageID string `json:"actionPackageId"`
}

// revoke answers POST /v1/revocations: exactly one of jti, token (revokes
// that token's jti), userId (every token the user holds now) or
// actionPackageId (disables the package).
func (h *handler) revoke() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req revokeRequest
		if err := httpjson.Decode(w, r, &req, 8<<10); err != nil {
			h.error(w, r, err)
			return
		}
		n := 0
		for _, v := range []string{req.JTI, req.Token, req.UserID, req.ActionPackageID} {
			if v != "" {
				n++
			}
		}
		if n != 1 {
			h.error(w, r, cardgate.Errorf(cardgate.EINVALID, "body: give exactly one of jti, token, userId, actionPackageId"))
			return
		}
		var (
			rev *cardgate.Revocation
			err error
		)
		ctx := r.Context()
		switch {
		case req.JTI != "":
			rev, err = h.svc.RevokeToken(ctx, req.JTI, zeroTime)
		case req.Token != "":
			var c *token.Claims
			if c, err = h.svc.verifier.Verify(req.Token); errors.Is(err, token.ErrExpired) {
				err = cardgate.Errorf(cardgate.EINVALID, "token: already expired; nothing to revoke")
			} else if err != nil {
				err = cardgate.Errorf(cardgate.EINVALID, "token: not a valid token of this issuer")
			} else {
				rev, err = h.svc.RevokeToken(ctx, c.ID, c.ExpiresAt)
			}
		case req.UserID != "":
			rev, err = h.svc.RevokeUser(ctx, req.UserID)
		default:
			rev, err = h.svc.RevokePackage(ctx, req.ActionPackageID)
		}
		if err != nil {
			h.error(w, r, err)
			return
		}
		h.metrics.revoked.WithLabelValues(string(rev.Kind)).Inc()
		httpjson.Write(w, http.StatusCreated, rev)
	})
}

// FeedPage is one page of the revocation feed.
type FeedPage struct {
	Revocations []*cardgate.Revocation `json:"revocations"`
	// Next is the since= value for the next page: the last Seq returned,
	// or the request's since when nothing is new.
	Next int64 `json:"next"`
}

const maxFeedPage = 1000

// revocationFeed answers GET /v1/revocations?since=N&limit=M, so offline
// verifiers learn of revocations without asking about each token.
func (h *handler) revocationFeed() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		since, err := queryInt(q.Get("since"), 0)
		if err != nil || since < 0 {
			h.error(w, r, cardgate.Errorf(cardgate.EINVALID, "since: must be a non-negative integer"))
			return
		}
		limit, err := queryInt(q.Get("limit"), maxFeedPage)
		if err != nil || limit < 1 || limit > maxFeedPage {
			h.error(w, r, cardgate.Errorf(cardgate.EINVALID, "limit: must be an integer from 1 to %d", maxFeedPage))
			return
		}
		revs, err := h.svc.store.RevocationsSince(r.Context(), since, int(limit))
		if err != nil {
			h.error(w, r, storeError("read revocation feed", err))
			return
		}
		page := FeedPage{Revocations: revs, Next: since}
		if len(revs) > 0 {
			page.Next = revs[len(revs)-1].Seq
		} else {
			page.Revocations = []*cardgate.Revocation{}
		}
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusOK, page)
	})
}

func queryInt(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

package issuer

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/cardgate/cardgate/httpjson"
)

type mintRequest struct {
	UserID          string `json:"userId"`
	ActionPackageID string `json:"actionPackageId"`
}

type mintResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
	ExpiresIn int64     `json:"expiresIn"`
}

// mintToken answers POST /v1/tokens for a chat host: a fresh token for one
// user and one action package.
func (h *handler) mintToken() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req mintRequest
		if err := httpjson.Decode(w, r, &req, 4<<10); err != nil {
			h.error(w, r, err)
			return
		}
		raw, c, err := h.svc.Mint(r.Context(), req.UserID, req.ActionPackageID)
		if err != nil {
			h.error(w, r, err)
			return
		}
		h.metrics.minted.Inc()
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "minted for host", slog.String("host", clientFrom(r.Context()).ID))
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusCreated, mintResponse{
			Token:     raw,
			ExpiresAt: c.ExpiresAt,
			ExpiresIn: int64(c.ExpiresAt.Sub(c.IssuedAt) / time.Second),
		})
	})
}

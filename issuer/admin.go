package issuer

import (
	"net/http"
	"slices"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
	"github.com/cardgate/cardgate/keyring"
)

// The admin API: users, action packages, clients and keys. Each handler
// reads as decode, act, encode; the rules live in Service.

type createUserRequest struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	PhoneNumber string `json:"phoneNumber"`
	PictureURL  string `json:"pictureUrl"`
}

func (h *handler) createUser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req createUserRequest
		if err := httpjson.Decode(w, r, &req, 0); err != nil {
			h.error(w, r, err)
			return
		}
		u := &cardgate.User{ID: req.ID, Name: req.Name, PhoneNumber: req.PhoneNumber, PictureURL: req.PictureURL}
		if err := h.svc.CreateUser(r.Context(), u); err != nil {
			h.error(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusCreated, u)
	})
}

func (h *handler) getUser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := h.svc.store.User(r.Context(), r.PathValue("id"))
		if err != nil {
			h.error(w, r, lookupError("id", "user", err))
			return
		}
		httpjson.Write(w, http.StatusOK, u)
	})
}

func (h *handler) listUsers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		us, err := h.svc.store.Users(r.Context())
		if err != nil {
			h.error(w, r, storeError("list users", err))
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"users": nonNil(us)})
	})
}

func (h *handler) setUserDisabled(disabled bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := h.svc.SetUserDisabled(r.Context(), id, disabled); err != nil {
			h.error(w, r, lookupError("id", "user", err))
			return
		}
		u, err := h.svc.store.User(r.Context(), id)
		if err != nil {
			h.error(w, r, lookupError("id", "user", err))
			return
		}
		httpjson.Write(w, http.StatusOK, u)
	})
}

type createPackageRequest struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

func (h *handler) createPackage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req createPackageRequest
		if err := httpjson.Decode(w, r, &req, 0); err != nil {
			h.error(w, r, err)
			return
		}
		p := &cardgate.ActionPackage{ID: req.ID, DisplayName: req.DisplayName}
		if err := h.svc.CreatePackage(r.Context(), p); err != nil {
			h.error(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusCreated, p)
	})
}

func (h *handler) getPackage() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := h.svc.store.Package(r.Context(), r.PathValue("id"))
		if err != nil {
			h.error(w, r, lookupError("id", "action package", err))
			return
		}
		httpjson.Write(w, http.StatusOK, p)
	})
}

func (h *handler) listPackages() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps, err := h.svc.store.Packages(r.Context())
		if err != nil {
			h.error(w, r, storeError("list packages", err))
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"packages": nonNil(ps)})
	})
}

func (h *handler) setPackageDisabled(disabled bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if err := h.svc.SetPackageDisabled(r.Context(), id, disabled); err != nil {
			h.error(w, r, lookupError("id", "action package", err))
			return
		}
		p, err := h.svc.store.Package(r.Context(), id)
		if err != nil {
			h.error(w, r, lookupError("id", "action package", err))
			return
		}
		httpjson.Write(w, http.StatusOK, p)
	})
}

type createClientRequest struct {
	Name string        `json:"name"`
	Role cardgate.Role `json:"role"`
}

// NewClient is the answer to creating a client: the only time its API key
// is shown.
type NewClient struct {
	*cardgate.Client
	APIKey string `json:"apiKey"`
}

func (h *handler) createClient() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req createClientRequest
		if err := httpjson.Decode(w, r, &req, 0); err != nil {
			h.error(w, r, err)
			return
		}
		c, key, err := h.svc.CreateClient(r.Context(), req.Name, req.Role)
		if err != nil {
			h.error(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		httpjson.Write(w, http.StatusCreated, NewClient{Client: c, APIKey: key})
	})
}

func (h *handler) listClients() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role := cardgate.Role(r.URL.Query().Get("role"))
		if role != "" && !role.Valid() {
			h.error(w, r, cardgate.Errorf(cardgate.EINVALID, "role: must be one of host, resource-server, admin"))
			return
		}
		cs, err := h.svc.store.Clients(r.Context(), role)
		if err != nil {
			h.error(w, r, storeError("list clients", err))
			return
		}
		httpjson.Write(w, http.StatusOK, map[string]any{"clients": nonNil(cs)})
	})
}

func (h *handler) deleteClient() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if c := clientFrom(r.Context()); c != nil && c.ID == id {
			h.error(w, r, cardgate.Errorf(cardgate.EINVALID, "id: an admin cannot remove its own client; use another admin key"))
			return
		}
		if err := h.svc.DeleteClient(r.Context(), id); err != nil {
			h.error(w, r, lookupError("id", "client", err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (h *handler) listKeys() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]any{"keys": nonNil(h.svc.keys.Keys())})
	})
}

// rotateKey answers POST /v1/admin/keys/rotate. An optional body
// {"delaySeconds": N} says when the new key starts signing; without it,
// keyring.DefaultRotationDelay, and 0 is at once (a compromised key).
func (h *handler) rotateKey() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			DelaySeconds *int64 `json:"delaySeconds"`
		}
		if r.ContentLength != 0 {
			if err := httpjson.Decode(w, r, &req, 1<<10); err != nil {
				h.error(w, r, err)
				return
			}
		}
		delay := keyring.DefaultRotationDelay
		if req.DelaySeconds != nil {
			if *req.DelaySeconds < 0 || *req.DelaySeconds > int64(keyring.MaxRotationDelay/time.Second) {
				h.error(w, r, cardgate.Errorf(cardgate.EINVALID, "delaySeconds: must be from 0 to %d", int64(keyring.MaxRotationDelay/time.Second)))
				return
			}
			delay = time.Duration(*req.DelaySeconds) * time.Second
		}
		k, err := h.svc.RotateKey(r.Context(), delay)
		if err != nil {
			h.error(w, r, storeError("rotate key", err))
			return
		}
		httpjson.Write(w, http.StatusCreated, k)
	})
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return slices.Clip(s)
}

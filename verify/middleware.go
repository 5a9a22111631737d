package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/httpjson"
)

type ctxKey struct{}

// IdentityFrom returns the identity Middleware put in the request context.
func IdentityFrom(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(*Identity)
	return id, ok
}

// Option configures Middleware.
type Option func(*options)

type options struct {
	packages  []string
	users     []string
	allow     []func(*Identity) bool
	bodyField string
	maxBody   int64
}

// AllowPackages admits only tokens of these action packages.
func AllowPackages(ids ...string) Option {
	return func(o *options) { o.packages = append(o.packages, ids...) }
}

// AllowUsers admits only these users.
func AllowUsers(ids ...string) Option {
	return func(o *options) { o.users = append(o.users, ids...) }
}

// Allow admits only identities for which f returns true. Decide on
// UserID and ActionPackageID, never on Name.
func Allow(f func(*Identity) bool) Option {
	return func(o *options) { o.allow = append(o.allow, f) }
}

// BodyField also looks for the token in a top-level string field of a JSON
// request body, reading at most maxBytes (0 means 64 KiB; a larger body is
// refused with 413). The handler gets the body exactly as it came.
func BodyField(name string, maxBytes int64) Option {
	return func(o *options) {
		o.bodyField = name
		o.maxBody = maxBytes
		if o.maxBody <= 0 {
			o.maxBody = 64 << 10
		}
	}
}

// Middleware admits requests that carry a valid token (Authorization:
// Bearer, Kaizala's accessToken header, or a body field with BodyField)
// and pass the policy, and puts the Identity in the context. Others get
// DESIGN.md's JSON error: 401 for a missing or bad token, 403 for one the
// policy refuses, 413 for a body too large to search, 503 when the issuer
// cannot say.
func Middleware(v Verifier, opts ...Option) func(http.Handler) http.Handler {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := o.token(w, r)
			if err != nil {
				httpjson.Error(w, err)
				return
			}
			id, err := v.Verify(r.Context(), tok)
			if err != nil {
				httpjson.Error(w, err)
				return
			}
			if !o.admits(id) {
				httpjson.Error(w, cardgate.Errorf(cardgate.EFORBIDDEN, "this card or user may not call this service"))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, id)))
		})
	}
}

func (o *options) admits(id *Identity) bool {
	if len(o.packages) > 0 && !slices.Contains(o.packages, id.ActionPackageID) {
		return false
	}
	if len(o.users) > 0 && !slices.Contains(o.users, id.UserID) {
		return false
	}
	for _, f := range o.allow {
		if !f(id) {
			return false
		}
	}
	return true
}

var errNoToken = cardgate.Errorf(cardgate.EINVALIDTOKEN, "no token: send it in the accessToken header or as Authorization: Bearer")

// token finds the request's token.
func (o *options) token(w http.ResponseWriter, r *http.Request) (string, error) {
	if v := r.Header.Get("Authorization"); len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:]), nil
	}
	if v := strings.TrimSpace(r.Header.Get("accessToken")); v != "" {
		return v, nil
	}
	if o.bodyField == "" || r.Body == nil || r.Body == http.NoBody {
		return "", errNoToken
	}
	if r.ContentLength > o.maxBody {
		return "", cardgate.Errorf(cardgate.ETOOLARGE, "body: larger than %d bytes", o.maxBody)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, o.maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return "", cardgate.Errorf(cardgate.ETOOLARGE, "body: larger than %d bytes", o.maxBody)
	} else if err != nil {
		return "", cardgate.Errorf(cardgate.EINVALID, "body: could not be read")
	}
	r.Body = io.NopCloser(bytes.NewReader(b)) // the handler reads it as it came
	var fields map[string]json.RawMessage
	if json.Unmarshal(b, &fields) != nil {
		return "", errNoToken
	}
	var tok string
	if raw, ok := fields[o.bodyField]; !ok || json.Unmarshal(raw, &tok) != nil || tok == "" {
		return "", errNoToken
	}
	return tok, nil
}

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
	packages      []string
	users         []string
	conversations []string
	allow         []func(*Identity) bool
	bodyField     string
	maxBody       int64
}

// AllowPackages admits only tokens of these action packages.
func AllowPackages(ids ...string) Option {
	return func(o *options) { o.packages = append(o.packages, ids...) }
}

// AllowUsers admits only these users.
func AllowUsers(ids ...string) Option {
	return func(o *options) { o.users = append(o.users, ids...) }
}

// AllowConversations admits only tokens minted for a card opened in one of
// these conversations: the issuer mints one only for a member of the
// conversation, so the service knows the caller was a member when the
// token was minted (up to its 30 minutes ago). A token minted outside any
// conversation is refused.
func AllowConversations(ids ...string) Option {
	return func(o *options) { o.conversations = append(o.conversations, ids...) }
}

// Allow admits only identities for which f returns true. Decide on
// UserID and ActionPackageID, never on Name.
func Allow(f func(*Identity) bool) Option {
	return func(o *options) { o.allow = append(o.allow, f) }
}

// BodyField also looks for the token in a top-level string field of a JSON
// request body, matched in any case as encoding/json matches it. Every
// request body is then read, whether or not a header carries the token, at
// most maxBytes of it (0 means 64 KiB; a larger body is refused with 413):
// a body token that differs from the header's is refused with 401, the
// field twice (in any spellings) or a non-string value with 400. The
// handler gets the body exactly as it came.
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
// DESIGN.md's JSON error: 401 for a missing, bad or ambiguous token (two
// Authorization or accessToken headers, or two different tokens), 403 for
// one the policy refuses, 400 for a body field that is not one string, 413
// for a body too large to search, 503 when the issuer cannot say.
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
			if err := o.admits(id); err != nil {
				httpjson.Error(w, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, id)))
		})
	}
}

var (
	errNotAllowed      = cardgate.Errorf(cardgate.EFORBIDDEN, "this card or user may not call this service")
	errNoConversation  = cardgate.Errorf(cardgate.EFORBIDDEN, "this service is only for cards opened in its conversations: this token was minted outside any conversation")
	errConversationOut = cardgate.Errorf(cardgate.EFORBIDDEN, "this service is only for cards opened in its conversations: this token names another")
)

// admits applies the policy; the error is the 403 to answer.
func (o *options) admits(id *Identity) error {
	if len(o.packages) > 0 && !slices.Contains(o.packages, id.ActionPackageID) {
		return errNotAllowed
	}
	if len(o.users) > 0 && !slices.Contains(o.users, id.UserID) {
		return errNotAllowed
	}
	if len(o.conversations) > 0 {
		switch {
		case id.ConversationID == "":
			return errNoConversation
		case !slices.Contains(o.conversations, id.ConversationID):
			return errConversationOut
		}
	}
	for _, f := range o.allow {
		if !f(id) {
			return errNotAllowed
		}
	}
	return nil
}

var (
	errNoToken   = cardgate.Errorf(cardgate.EINVALIDTOKEN, "no token: send it in the accessToken header or as Authorization: Bearer")
	errMalformed = cardgate.Errorf(cardgate.EINVALIDTOKEN, "malformed token")
	errTwoTokens = cardgate.Errorf(cardgate.EINVALIDTOKEN, "two different tokens: send one, in a header or in the body")
)

// token finds the request's token. A request that offers the handler a
// token other than the one checked is refused: two values of a token
// header, different tokens in Authorization and accessToken, or (with
// BodyField) a body field that differs from the header's token. The
// handler or a library it calls might read the other one.
func (o *options) token(w http.ResponseWriter, r *http.Request) (string, error) {
	// Only these two canonical names are read: access_token and the like
	// are other headers (see docs/verify.md on proxies that fold "_").
	bearer, err := oneHeader(r.Header, "Authorization")
	if err != nil {
		return "", err
	}
	if scheme, rest, _ := strings.Cut(bearer, " "); strings.EqualFold(scheme, "Bearer") {
		if bearer, err = wellFormed(rest); err != nil {
			return "", err
		}
	} else {
		bearer = "" // another scheme, such as Basic, is not ours
	}
	access, err := oneHeader(r.Header, "Accesstoken")
	if err != nil {
		return "", err
	}
	if access = strings.TrimSpace(access); access != "" {
		if access, err = wellFormed(access); err != nil {
			return "", err
		}
	}
	tok := bearer
	switch {
	case tok == "":
		tok = access
	case access != "" && access != tok:
		return "", errTwoTokens
	}
	if o.bodyField == "" || r.Body == nil || r.Body == http.NoBody {
		if tok == "" {
			return "", errNoToken
		}
		return tok, nil
	}
	// The body is read even when a header has the token, to be sure it
	// names no other.
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
	bt, err := bodyToken(b, o.bodyField)
	switch {
	case err != nil:
		return "", err
	case tok == "":
		tok = bt
	case bt != "" && bt != tok:
		return "", errTwoTokens
	}
	if tok == "" {
		return "", errNoToken
	}
	return tok, nil
}

// oneHeader returns the value of the canonical header name, "" if absent;
// two values are refused.
func oneHeader(h http.Header, name string) (string, error) {
	switch vs := h[name]; len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	if name == "Accesstoken" {
		name = "accessToken"
	}
	return "", cardgate.Errorf(cardgate.EINVALIDTOKEN, "malformed token: two %s headers; send one token", name)
}

// wellFormed trims a header token and refuses an empty one or one with
// spaces inside (such as "a, Bearer b").
func wellFormed(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || strings.IndexByte(v, ' ') >= 0 || strings.IndexByte(v, '\t') >= 0 { // not ContainsAny: see adapter/token.go
		return "", errMalformed
	}
	return v, nil
}

// bodyToken returns the top-level string field of the JSON object b, ""
// if b does not start with an object, the object lacks the field, or its
// value is null or "". It matches the field as encoding/json does, in any
// case (strings.EqualFold is its rule), and reads only the first JSON
// value, as a json.Decoder would. The field twice, in any spellings, or a
// value other than a string is an error.
func bodyToken(b []byte, field string) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", nil
	}
	var tok string
	found := false
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return "", nil // not JSON: no decoder reads a field from it
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", nil
		}
		if k, _ := k.(string); !strings.EqualFold(k, field) {
			continue
		}
		if found {
			return "", cardgate.Errorf(cardgate.EINVALID, "body: field %q appears twice (names differing only in case count as one)", field)
		}
		found = true
		if json.Unmarshal(raw, &tok) != nil {
			return "", cardgate.Errorf(cardgate.EINVALID, "body: field %q must be a string", field)
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return "", nil
	}
	return tok, nil
}

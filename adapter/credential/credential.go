// Package credential adds an upstream's credential to outgoing requests. Each
// credential is an http.RoundTripper that decorates a Base transport and, like
// oauth2.Transport, clones the request before changing it: a static header
// (an API key), HTTP basic, a bearer token, or an OAuth 2.0 client
// credentials token that is fetched once, cached and refreshed.
package credential

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/textproto"

	"github.com/cardgate/cardgate/adapter/secret"
)

var _ http.RoundTripper = (*Header)(nil)

// Header is an http.RoundTripper that sets one header to a secret value on
// every request, replacing whatever the request carried under that name.
type Header struct {
	// Base is the transport that sends the request; nil means
	// http.DefaultTransport.
	Base http.RoundTripper
	// Name is the header to set, such as "X-Api-Key".
	Name string
	// Value is the header's value.
	Value secret.Secret
}

// RoundTrip clones req, sets the header and sends the clone with Base.
func (h *Header) RoundTrip(req *http.Request) (*http.Response, error) {
	if h.Name == "" || h.Value.Empty() {
		closeBody(req)
		return nil, errors.New("credential: header credential has no name or value")
	}
	r2 := req.Clone(req.Context())
	r2.Header[textproto.CanonicalMIMEHeaderKey(h.Name)] = []string{h.Value.Reveal()}
	return base(h.Base).RoundTrip(r2)
}

// Basic returns a Header credential that sends HTTP basic authentication
// (RFC 7617) with username and password.
func Basic(base http.RoundTripper, username string, password secret.Secret) *Header {
	v := base64.StdEncoding.EncodeToString([]byte(username + ":" + password.Reveal()))
	return &Header{Base: base, Name: "Authorization", Value: secret.New([]byte("Basic " + v))}
}

// Bearer returns a Header credential that sends token as an RFC 6750 bearer
// token.
func Bearer(base http.RoundTripper, token secret.Secret) *Header {
	return &Header{Base: base, Name: "Authorization", Value: secret.New([]byte("Bearer " + token.Reveal()))}
}

func base(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}

// closeBody closes a request body the RoundTripper will not send, as the
// RoundTripper contract asks.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

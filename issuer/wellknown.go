package issuer

import (
	"net/http"

	"github.com/cardgate/cardgate/httpjson"
)

// jwks serves the published public keys for offline verification. Verifiers
// refetch on an unknown kid, so a short max-age is enough.
func (h *handler) jwks() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		httpjson.Write(w, http.StatusOK, h.svc.keys.JWKS())
	})
}

// Discovery is the document at /.well-known/openid-configuration. The
// cardgate_ fields are cardgate's own; the rest are registered names.
type Discovery struct {
	Issuer                    string   `json:"issuer"`
	JWKSURI                   string   `json:"jwks_uri"`
	IntrospectionEndpoint     string   `json:"introspection_endpoint"`
	UserinfoEndpoint          string   `json:"userinfo_endpoint"`
	RevocationFeedEndpoint    string   `json:"cardgate_revocation_feed_endpoint"`
	TokenEndpoint             string   `json:"cardgate_token_endpoint"`
	SigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
	IntrospectionAuthMethods  []string `json:"introspection_endpoint_auth_methods_supported"`
	TokenType                 string   `json:"cardgate_token_type"`
}

func (h *handler) discovery() http.Handler {
	iss := h.svc.Issuer()
	doc := Discovery{
		Issuer:                    iss,
		JWKSURI:                   iss + "/.well-known/jwks.json",
		IntrospectionEndpoint:     iss + "/oauth2/introspect",
		UserinfoEndpoint:          iss + "/v1/users/me",
		RevocationFeedEndpoint:    iss + "/v1/revocations",
		TokenEndpoint:             iss + "/v1/tokens",
		SigningAlgValuesSupported: []string{"EdDSA"},
		IntrospectionAuthMethods:  []string{"client_secret_basic", "bearer"},
		TokenType:                 "cardgate-ist+jwt",
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		httpjson.Write(w, http.StatusOK, doc)
	})
}

package credential

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/cardgate/cardgate/adapter/secret"
)

// ClientCredentialsConfig describes an OAuth 2.0 client credentials grant
// (RFC 6749 section 4.4).
type ClientCredentialsConfig struct {
	// TokenURL is the authorization server's token endpoint.
	TokenURL string
	// ClientID and ClientSecret authenticate the adapter to it.
	ClientID     string
	ClientSecret secret.Secret
	// Scopes are requested with every token; empty means none.
	Scopes []string
	// Params are extra form parameters for the token request, such as
	// "audience" or "resource".
	Params map[string][]string
	// HTTPClient calls the token endpoint. Nil means a client with a 10
	// second timeout over a transport of its own.
	HTTPClient *http.Client
	// EarlyExpiry is how long before a token's expiry a new one is
	// fetched; zero means 30 seconds.
	EarlyExpiry time.Duration
}

// ClientCredentials returns an http.RoundTripper that adds an OAuth 2.0
// access token, obtained with the client credentials grant, to every request
// sent with base. The token is fetched on first use and reused until shortly
// before it expires: however many requests run at once, the token endpoint
// is called once per token lifetime. Token endpoint errors are reported
// without the endpoint's response body, which is not ours to log.
func ClientCredentials(base http.RoundTripper, cfg ClientCredentialsConfig) http.RoundTripper {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	cc := &clientcredentials.Config{
		ClientID:       cfg.ClientID,
		ClientSecret:   cfg.ClientSecret.Reveal(),
		TokenURL:       cfg.TokenURL,
		Scopes:         cfg.Scopes,
		EndpointParams: cfg.Params,
		// Send credentials in the Authorization header (RFC 6749 2.3.1's
		// preferred form) without auto-detection's extra failed request.
		AuthStyle: oauth2.AuthStyleInHeader,
	}
	early := cfg.EarlyExpiry
	if early == 0 {
		early = 30 * time.Second
	}
	// The context only carries the HTTP client for token requests: it must
	// not be a request's context, which ends with that request.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	// ReuseTokenSource holds a lock while it fetches, so concurrent
	// requests wait for one fetch instead of each making their own.
	src := oauth2.ReuseTokenSourceWithExpiry(nil, quietSource{cc, ctx}, early)
	return &oauth2.Transport{Source: src, Base: base}
}

// quietSource fetches a new token on every call (the caching is
// ReuseTokenSource's job) and drops the token endpoint's response body from
// errors: it may echo request details, and errors end up in logs.
type quietSource struct {
	cc  *clientcredentials.Config
	ctx context.Context
}

func (q quietSource) Token() (*oauth2.Token, error) {
	t, err := q.cc.Token(q.ctx)
	if err == nil {
		return t, nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := "no response"
		if re.Response != nil {
			status = re.Response.Status
		}
		if re.ErrorCode != "" {
			return nil, fmt.Errorf("credential: token endpoint refused the client: %s (%s)", status, re.ErrorCode)
		}
		return nil, fmt.Errorf("credential: token endpoint refused the client: %s", status)
	}
	return nil, fmt.Errorf("credential: fetch token: %w", err)
}

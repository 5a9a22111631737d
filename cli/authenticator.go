package cli

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/cardgate/cardgate/adapter"
	"github.com/cardgate/cardgate/verify"
	"github.com/prometheus/client_golang/prometheus"
)

// verifierAuth lets a verify.Verifier be the adapter's Authenticator.
type verifierAuth struct{ verify.Verifier }

func (a verifierAuth) Authenticate(ctx context.Context, tok string) (*verify.Identity, error) {
	return a.Verify(ctx, tok)
}

// newAuthenticator builds the adapter's token check from its issuer
// section: Remote asks /v1/users/me and reuses an answer for
// issuer.cacheTTL; Local verifies offline and follows the revocation feed
// with the resource-server key in CARDGATE_ISSUER_API_KEY. Either way a
// revocation reaches the adapter within 5 s with the defaults. A change of issuer needs a restart: a reload
// keeps the verifier it started with.
func newAuthenticator(ctx context.Context, ic adapter.IssuerConfig, env *Env, log *slog.Logger, reg *prometheus.Registry) (adapter.Authenticator, func(), error) {
	base := strings.TrimRight(ic.URL, "/")
	switch ic.Mode {
	case "", "remote":
		r, err := verify.NewRemote(verify.RemoteConfig{UserinfoURL: base + "/v1/users/me", TTL: ic.CacheTTL,
			CacheSize: ic.CacheSize, NegativeCacheSize: ic.NegativeCacheSize})
		if err != nil {
			return nil, nil, err
		}
		registerStats(reg, r.Stats)
		return verifierAuth{r}, func() {}, nil
	case "local":
		key := env.Getenv("CARDGATE_ISSUER_API_KEY")
		if key == "" {
			return nil, nil, errors.New("issuer.mode local needs a resource-server API key in CARDGATE_ISSUER_API_KEY (cardgate clients add NAME --role resource-server)")
		}
		l, err := verify.NewLocal(ctx, verify.LocalConfig{Issuer: base, APIKey: key, Logger: log, CacheSize: ic.CacheSize})
		if err != nil {
			return nil, nil, err
		}
		registerStats(reg, l.Stats)
		return verifierAuth{l}, func() { l.Close() }, nil
	}
	return nil, nil, errors.New("issuer.mode: must be remote or local")
}

// registerStats exports the verifier's cache counters.
func registerStats(reg *prometheus.Registry, stats func() verify.Stats) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cardgate_adapter_token_cache_hits_total", Help: "Token checks answered from the verifier's cache.",
		}, func() float64 { return float64(stats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cardgate_adapter_token_cache_misses_total", Help: "Token checks that asked the issuer or verified a signature.",
		}, func() float64 { return float64(stats().Misses) }),
	)
}

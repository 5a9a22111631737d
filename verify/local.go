package verify

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/internal/claimcache"
	"github.com/cardgate/cardgate/token"
	"github.com/cardgate/cardgate/tokenhash"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"
)

// LocalConfig configures a Local verifier. Issuer and APIKey are required.
type LocalConfig struct {
	// Issuer is the issuer's URL: the tokens' iss, and where
	// /.well-known/openid-configuration is found.
	Issuer string
	// APIKey is a resource-server key of the issuer, for its revocation
	// feed.
	APIKey string
	// Client makes the calls; nil means one with a 5 s timeout.
	Client *http.Client
	// RevocationInterval is how often the feed is read; 0 means
	// DefaultRevocationInterval (2 s). A revocation, or a disabled user or
	// package, reaches this verifier within this long plus one feed read.
	RevocationInterval time.Duration
	// MaxStaleness is how long the feed may go unread (the issuer down)
	// before every check fails with ErrUnavailable; 0 means
	// DefaultMaxStaleness (30 s), or 3 intervals if that is longer. Past
	// it, a revoked token could pass unseen, so the verifier fails closed.
	// It must be longer than RevocationInterval.
	MaxStaleness time.Duration
	// KeyRefreshInterval is how often the issuer's keys (JWKS) are read
	// again in the background; 0 means DefaultKeyRefreshInterval (1 min),
	// at most MaxKeyRefreshInterval. cardgate's issuer publishes a new key
	// longer than that before it signs with it (keyring.DefaultRotationDelay),
	// so a rotation never meets an unknown kid here.
	KeyRefreshInterval time.Duration
	// Leeway is the clock skew tolerated for iat, nbf and exp; 0 means 30 s.
	Leeway time.Duration
	// CacheSize caps the cache of verified signatures, the oldest out
	// (about 120 bytes each with the token's hash); 0 means 100,000.
	CacheSize int
	// Logger receives feed and key refresh failures; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Defaults and bounds of LocalConfig.
const (
	DefaultRevocationInterval = 2 * time.Second
	DefaultMaxStaleness       = 30 * time.Second
	DefaultKeyRefreshInterval = time.Minute
	// MaxKeyRefreshInterval keeps every Local verifier's key refresh well
	// inside the issuer's default rotation delay (5 min).
	MaxKeyRefreshInterval = 2 * time.Minute
)

// Local verifies tokens offline: the signature against the issuer's
// published keys (read every KeyRefreshInterval, and when an unknown kid
// appears, at most once per keyRefreshEvery), and revocations from the
// issuer's feed, read in the background. Identities it returns carry UserID, ActionPackageID,
// ConversationID and ExpiresAt; use Profile for name, phone and picture. Close stops it.
type Local struct {
	cfg      LocalConfig
	client   *http.Client
	verifier *token.Verifier
	keys     *remoteKeys
	feedURL  string
	log      *slog.Logger
	now      func() time.Time
	checked  *claimcache.Cache

	mu       sync.RWMutex
	jtis     map[string]time.Time // revoked jti → when the entry stops mattering
	users    map[string]time.Time // tokens issued at or before are revoked
	packages map[string]time.Time
	since    int64
	synced   time.Time

	stop chan struct{}
	done chan struct{}

	hits, misses atomic.Uint64
}

// NewLocal reads the issuer's discovery document and keys, reads the whole
// revocation feed once, and starts following it.
func NewLocal(ctx context.Context, cfg LocalConfig) (*Local, error) {
	if cfg.Issuer == "" || cfg.APIKey == "" {
		return nil, errors.New("verify: LocalConfig needs Issuer and APIKey")
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	if cfg.Client == nil {
		cfg.Client = defaultClient()
	}
	if cfg.RevocationInterval < 0 || cfg.MaxStaleness < 0 || cfg.KeyRefreshInterval < 0 {
		return nil, errors.New("verify: LocalConfig intervals must not be negative")
	}
	if cfg.RevocationInterval == 0 {
		cfg.RevocationInterval = DefaultRevocationInterval
	}
	if cfg.MaxStaleness == 0 {
		cfg.MaxStaleness = max(DefaultMaxStaleness, 3*cfg.RevocationInterval)
	}
	if cfg.MaxStaleness <= cfg.RevocationInterval {
		return nil, fmt.Errorf("verify: LocalConfig.MaxStaleness (%v) must be longer than RevocationInterval (%v)", cfg.MaxStaleness, cfg.RevocationInterval)
	}
	if cfg.KeyRefreshInterval == 0 {
		cfg.KeyRefreshInterval = DefaultKeyRefreshInterval
	}
	if cfg.KeyRefreshInterval > MaxKeyRefreshInterval {
		return nil, fmt.Errorf("verify: LocalConfig.KeyRefreshInterval must be at most %v, inside the issuer's rotation delay", MaxKeyRefreshInterval)
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = token.DefaultLeeway
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 100_000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
		Feed    string `json:"cardgate_revocation_feed_endpoint"`
	}
	if err := getJSON(ctx, cfg.Client, cfg.Issuer+"/.well-known/openid-configuration", "", &disc); err != nil {
		return nil, fmt.Errorf("verify: discovery: %w", err)
	}
	if disc.Issuer != cfg.Issuer || disc.JWKSURI == "" || disc.Feed == "" {
		return nil, fmt.Errorf("verify: discovery at %s names issuer %q (want %q), jwks_uri %q, revocation feed %q",
			cfg.Issuer, disc.Issuer, cfg.Issuer, disc.JWKSURI, disc.Feed)
	}
	cache := claimcache.New(cfg.CacheSize)
	l := &Local{
		cfg: cfg, client: cfg.Client, feedURL: disc.Feed, log: cfg.Logger, now: cfg.Now, checked: cache,
		keys: &remoteKeys{client: cfg.Client, url: disc.JWKSURI, now: cfg.Now, log: cfg.Logger},
		jtis: map[string]time.Time{}, users: map[string]time.Time{}, packages: map[string]time.Time{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	l.verifier = &token.Verifier{Issuer: cfg.Issuer, Keys: l.keys, Leeway: cfg.Leeway, Now: cfg.Now}
	if err := l.keys.refresh(ctx); err != nil {
		return nil, fmt.Errorf("verify: keys: %w", err)
	}
	if err := l.sync(ctx); err != nil {
		return nil, fmt.Errorf("verify: revocation feed: %w", err)
	}
	go l.follow()
	return l, nil
}

// Stats reports cache use.
func (l *Local) Stats() Stats { return Stats{Hits: l.hits.Load(), Misses: l.misses.Load()} }

// Close stops following the revocation feed.
func (l *Local) Close() error {
	close(l.stop)
	<-l.done
	return nil
}

// Verify implements Verifier.
func (l *Local) Verify(ctx context.Context, raw string) (*Identity, error) {
	if raw == "" || len(raw) > maxTokenLen {
		return nil, rejection(ErrInvalid, nil)
	}
	now := l.now()
	l.mu.RLock()
	synced := l.synced
	l.mu.RUnlock()
	if now.Sub(synced) > l.cfg.MaxStaleness {
		return nil, rejection(ErrUnavailable, errors.New("revocation feed not read recently"))
	}
	key := tokenhash.Of(raw)
	var user, pkg, conv string
	var iat, exp time.Time
	var jti []byte // base64url, as the token carries it
	var buf [24]byte
	if e, ok := l.checked.Get(&key); ok {
		l.hits.Add(1)
		exp = e.ExpiresAt()
		if !now.Before(exp.Add(l.cfg.Leeway)) {
			l.checked.Remove(&key)
			return nil, rejection(ErrExpired, nil)
		}
		user, pkg, conv, iat, jti = e.UserID(), e.PackageID(), e.ConversationID(), e.IssuedAt(), e.AppendJTI(buf[:0])
	} else {
		l.misses.Add(1)
		c, err := l.verifier.Verify(raw)
		if err != nil {
			switch {
			case errors.Is(err, token.ErrExpired), errors.Is(err, token.ErrNotYetValid):
				return nil, rejection(ErrExpired, err)
			case errors.Is(err, token.ErrUnknownKey) && l.keys.refreshIfDue(ctx):
				if c, err = l.verifier.Verify(raw); err != nil {
					return nil, rejection(ErrInvalid, err)
				}
			default:
				return nil, rejection(ErrInvalid, err)
			}
		}
		// Only a token that passed every claim check is kept: its iat was
		// no later than now plus the leeway and its exp at most
		// token.MaxLifetime after it, so a hit needs only the exp check.
		if !now.Before(c.NotBefore) {
			l.checked.Add(&key, c)
		}
		user, pkg, conv, iat, exp, jti = c.UserID, c.ActionPackageID, c.ConversationID, c.IssuedAt, c.ExpiresAt, append(buf[:0], c.ID...)
	}
	if l.revoked(user, pkg, jti, iat) {
		return nil, rejection(ErrRevoked, nil)
	}
	return &Identity{UserID: user, ActionPackageID: pkg, ConversationID: conv, ExpiresAt: exp.UTC()}, nil
}

func (l *Local) revoked(user, pkg string, jti []byte, issuedAt time.Time) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if _, ok := l.jtis[string(jti)]; ok { // no allocation
		return true
	}
	return cardgate.RevokesIssuedAt(l.users[user], issuedAt) ||
		cardgate.RevokesIssuedAt(l.packages[pkg], issuedAt)
}

// follow reads the keys every KeyRefreshInterval (in a goroutine of their
// own, so a slow key fetch never delays a revocation) and the feed every
// RevocationInterval, until Close.
func (l *Local) follow() {
	defer close(l.done)
	keysDone := make(chan struct{})
	go func() {
		defer close(keysDone)
		l.every(l.cfg.KeyRefreshInterval, 10*time.Second, "verify: refresh keys", func(ctx context.Context) error {
			_, err, _ := l.keys.group.Do("jwks", func() (any, error) { return nil, l.keys.refresh(ctx) })
			return err
		})
	}()
	defer func() { <-keysDone }()
	l.every(l.cfg.RevocationInterval, l.cfg.RevocationInterval+5*time.Second, "verify: read revocation feed", l.sync)
}

// every runs f every interval, each run bounded by timeout, until Close;
// a failure is logged with msg, and the next tick tries again.
func (l *Local) every(interval, timeout time.Duration, msg string, f func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			if err := f(ctx); err != nil {
				l.log.Warn(msg, slog.Any("err", err))
			}
			cancel()
		}
	}
}

type feedPage struct {
	Revocations []*cardgate.Revocation `json:"revocations"`
	Next        int64                  `json:"next"`
}

// sync reads every feed entry since the last one seen.
func (l *Local) sync(ctx context.Context) error {
	l.mu.RLock()
	since := l.since
	l.mu.RUnlock()
	for {
		var page feedPage
		if err := getJSON(ctx, l.client, l.feedURL+"?since="+strconv.FormatInt(since, 10), l.cfg.APIKey, &page); err != nil {
			return err
		}
		now := l.now()
		l.mu.Lock()
		for _, r := range page.Revocations {
			switch r.Kind {
			case cardgate.RevokeToken:
				l.jtis[r.Subject] = r.Expires
			case cardgate.RevokeUser:
				if r.At.After(l.users[r.Subject]) {
					l.users[r.Subject] = r.At
				}
			case cardgate.RevokePackage:
				if r.At.After(l.packages[r.Subject]) {
					l.packages[r.Subject] = r.At
				}
			}
		}
		for jti, exp := range l.jtis { // entries for expired tokens stop mattering
			if !exp.IsZero() && now.After(exp.Add(l.cfg.Leeway)) {
				delete(l.jtis, jti)
			}
		}
		if page.Next > since {
			since = page.Next
		}
		l.since = since
		if len(page.Revocations) == 0 {
			l.synced = now
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
	}
}

// Ping reports whether Verify can check tokens now, for a readiness probe:
// the revocation feed must have been read within MaxStaleness (past it,
// Verify refuses every token with ErrUnavailable). It makes no call: the
// feed is read in the background every RevocationInterval.
func (l *Local) Ping(context.Context) error {
	l.mu.RLock()
	synced := l.synced
	l.mu.RUnlock()
	if age := l.now().Sub(synced); age > l.cfg.MaxStaleness {
		return fmt.Errorf("%w: the revocation feed was last read %v ago, more than MaxStaleness (%v)",
			ErrUnavailable, age.Round(time.Second), l.cfg.MaxStaleness)
	}
	return nil
}

// Profile fills in the name, phone number and picture of id, which a
// token does not carry, by asking the issuer through r.
func (l *Local) Profile(ctx context.Context, r *Remote, raw string, id *Identity) error {
	full, err := r.Verify(ctx, raw)
	if err != nil {
		return err
	}
	if full.UserID != id.UserID || full.ActionPackageID != id.ActionPackageID {
		return rejection(ErrInvalid, errors.New("issuer and token disagree"))
	}
	id.Name, id.PhoneNumber, id.PictureURL = full.Name, full.PhoneNumber, full.PictureURL
	return nil
}

// remoteKeys is the issuer's JWKS, refetched when an unknown kid appears
// (at most once per keyRefreshEvery, so a flood of made-up kids cannot
// hammer the issuer).
type remoteKeys struct {
	client *http.Client
	url    string
	now    func() time.Time
	log    *slog.Logger
	group  singleflight.Group

	mu      sync.RWMutex
	keys    map[string]ed25519.PublicKey
	fetched time.Time
}

// keyRefreshEvery bounds how often an unknown kid triggers a JWKS fetch.
const keyRefreshEvery = 10 * time.Second

func (k *remoteKeys) PublicKey(kid string) (ed25519.PublicKey, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	pub, ok := k.keys[kid]
	return pub, ok
}

func (k *remoteKeys) refreshIfDue(ctx context.Context) bool {
	k.mu.RLock()
	due := k.now().Sub(k.fetched) >= keyRefreshEvery
	k.mu.RUnlock()
	if !due {
		return false
	}
	_, err, _ := k.group.Do("jwks", func() (any, error) { return nil, k.refresh(context.WithoutCancel(ctx)) })
	if err != nil {
		k.log.Warn("verify: refresh keys", slog.Any("err", err))
		return false
	}
	return true
}

func (k *remoteKeys) refresh(ctx context.Context) error {
	k.mu.Lock()
	k.fetched = k.now() // a failed fetch counts too: it is what the limit is for
	k.mu.Unlock()
	var set jose.JSONWebKeySet
	if err := getJSON(ctx, k.client, k.url, "", &set); err != nil {
		return err
	}
	keys := map[string]ed25519.PublicKey{}
	for _, jwk := range set.Keys {
		if pub, ok := jwk.Key.(ed25519.PublicKey); ok && jwk.KeyID != "" && (jwk.Algorithm == "" || jwk.Algorithm == string(jose.EdDSA)) {
			keys[jwk.KeyID] = pub
		}
	}
	if len(keys) == 0 {
		return errors.New("the JWKS holds no Ed25519 key")
	}
	k.mu.Lock()
	k.keys = keys
	k.mu.Unlock()
	return nil
}

// getJSON GETs url (with a bearer key if given) into v.
func getJSON(ctx context.Context, c *http.Client, url, key string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", req.URL.Redacted(), res.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(v)
}

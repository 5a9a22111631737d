// Package issuer is the Integration Service: the rules for minting, checking
// and revoking integration service tokens (Service), and the HTTP API that
// serves them (NewHandler). The CLI and the HTTP API share Service, so both
// enforce the same rules.
package issuer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/cardgate/cardgate/tokenhash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/internal/claimcache"
	"github.com/cardgate/cardgate/keyring"
	"github.com/cardgate/cardgate/token"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Config configures a Service.
type Config struct {
	// Issuer is the service's public base URL, e.g. "https://id.example.com";
	// it is the "iss" of every token and the base of discovery URLs.
	Issuer string
	Store  cardgate.Store
	// Keys must have been opened with the same Issuer and token lifetime.
	Keys *keyring.Keyring
	// Lifetime of minted tokens; 0 means token.DefaultLifetime, and more
	// than token.MaxLifetime (24 h) is an error. Used to
	// bound how long a revocation of an unseen jti must be kept.
	Lifetime time.Duration
	// Leeway is the clock skew tolerated for nbf and exp; 0 means
	// token.DefaultLeeway.
	Leeway time.Duration
	// CacheSize caps the tokens whose good signature is remembered, the
	// oldest out (about 120 bytes each with the token's hash, 96 of them
	// outside the Go heap, so 12 MB when full at the default: TestEntrySize
	// in internal/claimcache), and the identities read from the store for
	// those checked in the last StateCacheTTL (about 320 bytes more each
	// while they last: TestCheckCacheEntrySize). 0 means DefaultCacheSize
	// and a negative value turns both off (for benchmarks).
	CacheSize int
	// MintCacheSize caps the user and package pairs remembered as enabled
	// at a mint, each for StateCacheTTL (about 280 bytes each:
	// TestSmallCacheEntrySize); 0 means DefaultMintCacheSize.
	MintCacheSize int
	// ClientCacheSize caps the API keys remembered as valid, each for
	// StateCacheTTL (about 400 bytes each: TestSmallCacheEntrySize); 0
	// means DefaultClientCacheSize.
	ClientCacheSize int
	// StateCacheTTL is how long the result of a token check may be reused
	// without reading the store again. Revocations and disables made
	// through this Service take effect at once whatever the TTL; ones made
	// by another process (the CLI, another node) are seen within the TTL.
	// 0 means DefaultStateCacheTTL; a negative value reads the store on
	// every check. More than cardgate.MaxStateCacheTTL (1 s) is an error:
	// the cut-off a disable writes (cardgate.DisableCutoff) covers the
	// tokens minted from this cache after a disable for no longer.
	StateCacheTTL time.Duration
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// DefaultStateCacheTTL bounds how long a revocation made by another process
// takes to reach this one. It is also the most Config.StateCacheTTL may be.
const DefaultStateCacheTTL = cardgate.MaxStateCacheTTL

// stateEntry is an entry of Service.states: the rest of a token's identity
// as the store gave it, and when that was, with the token's user ID and
// jti so that a hit allocates no string. It lives StateCacheTTL, and
// expired entries leave as new ones come, so that the cache holds about
// the tokens checked in the last StateCacheTTL, not every token seen.
type stateEntry struct {
	strs  string    // user ID, jti, conversation ID, name, phone number, picture URL
	lens  [5]uint16 // of all but the picture URL
	gen   uint64    // Service.gen when the store was read
	until int64     // Unix nanoseconds when the store must be read again
}

func packState(c *token.Claims, id *cardgate.Identity, gen uint64, until int64) (stateEntry, bool) {
	fs := [...]string{c.UserID, c.ID, c.ConversationID, id.Name, id.PhoneNumber}
	st := stateEntry{gen: gen, until: until}
	for i, f := range fs {
		if len(f) > 0xffff {
			return stateEntry{}, false
		}
		st.lens[i] = uint16(len(f))
	}
	st.strs = fs[0] + fs[1] + fs[2] + fs[3] + fs[4] + id.PictureURL
	return st, true
}

// unpack puts the token's claims and identity together from st and the
// rest of its claims, e, for the issuer iss.
func (st *stateEntry) unpack(e *claimcache.Entry, iss string) (*cardgate.Identity, *token.Claims) {
	var fs [5]string
	d := st.strs
	for i, n := range st.lens {
		fs[i], d = d[:n], d[n:]
	}
	c := &token.Claims{Issuer: iss, UserID: fs[0], ActionPackageID: e.PackageID(), ConversationID: fs[2], ID: fs[1],
		IssuedAt: e.IssuedAt(), NotBefore: e.NotBefore(), ExpiresAt: e.ExpiresAt()}
	return &cardgate.Identity{UserID: fs[0], ActionPackageID: c.ActionPackageID, Name: fs[3], PhoneNumber: fs[4],
		PictureURL: d, ConversationID: fs[2], ExpiresAt: c.ExpiresAt}, c
}

// Service enforces the Integration Service's rules over a Store.
type Service struct {
	cfg      Config
	store    cardgate.Store
	keys     *keyring.Keyring
	verifier *token.Verifier
	log      *slog.Logger
	now      func() time.Time

	// checked caches tokens whose signature passed, keyed by the token's
	// SHA-256 (never the token). A signature never stops being valid, so
	// a hit skips Ed25519; the identity read from the store is kept apart,
	// in states.
	checked *claimcache.Cache
	// states holds what the store said of a checked token, for
	// StateCacheTTL (see stateEntry); nil when that is off.
	states *lru.Cache[[sha256.Size]byte, stateEntry]
	// gen changes on every write this Service makes that can revoke a
	// token, so cached identities never outlive a local revocation.
	gen atomic.Uint64

	// mintCache caches the user and package pairs found enabled at a mint,
	// and clients the API keys found valid (by the key's hash), each for
	// StateCacheTTL and under gen like checked: a disable or a client's
	// deletion through this Service takes effect at once, one by another
	// process within the TTL. Nothing is cached for refusals, so junk
	// costs a store read and no memory.
	mintCache *lru.Cache[mintKey, stateStamp]
	clients   *lru.Cache[[sha256.Size]byte, clientEntry]

	reloadMu   sync.Mutex
	lastReload time.Time

	onInvalidateMu sync.Mutex
	onInvalidate   []func() // see OnInvalidate
}

// mintKey is a user and an action package that may be minted for.
type mintKey struct{ user, pkg string }

// stateStamp says when a cached state was read: under which generation,
// and until when it may be reused.
type stateStamp struct {
	gen   uint64
	until time.Time
}

func (st stateStamp) fresh(gen uint64, now time.Time) bool {
	return st.gen == gen && now.Before(st.until)
}

type clientEntry struct {
	c *cardgate.Client
	stateStamp
}

// The default cache sizes (see Config): hosts mint for a few cards, and
// there are few clients.
const (
	DefaultCacheSize       = 100_000
	DefaultMintCacheSize   = 10_000
	DefaultClientCacheSize = 1_000
)

// NewService returns a Service.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.Issuer == "" {
		return nil, errors.New("issuer: Config needs Issuer, Store and Keys")
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = token.DefaultLifetime
	}
	if cfg.Lifetime > token.MaxLifetime {
		return nil, fmt.Errorf("issuer: Config.Lifetime %v is longer than %v, which verifiers refuse", cfg.Lifetime, token.MaxLifetime)
	}
	if cfg.StateCacheTTL > cardgate.MaxStateCacheTTL {
		return nil, fmt.Errorf("issuer: Config.StateCacheTTL %v is longer than %v, which the cut-off of a disable covers", cfg.StateCacheTTL, cardgate.MaxStateCacheTTL)
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = token.DefaultLeeway
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.MintCacheSize <= 0 {
		cfg.MintCacheSize = DefaultMintCacheSize
	}
	if cfg.ClientCacheSize <= 0 {
		cfg.ClientCacheSize = DefaultClientCacheSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StateCacheTTL == 0 {
		cfg.StateCacheTTL = DefaultStateCacheTTL
	}
	var cache *claimcache.Cache
	if cfg.CacheSize > 0 {
		cache = claimcache.New(cfg.CacheSize)
	}
	var states *lru.Cache[[sha256.Size]byte, stateEntry]
	if cache != nil && cfg.StateCacheTTL > 0 {
		states, _ = lru.New[[sha256.Size]byte, stateEntry](cfg.CacheSize)
	}
	var mintable *lru.Cache[mintKey, stateStamp]
	var clients *lru.Cache[[sha256.Size]byte, clientEntry]
	if cfg.StateCacheTTL > 0 {
		mintable, _ = lru.New[mintKey, stateStamp](cfg.MintCacheSize)
		clients, _ = lru.New[[sha256.Size]byte, clientEntry](cfg.ClientCacheSize)
	}
	return &Service{
		states:    states,
		mintCache: mintable,
		clients:   clients,
		cfg:       cfg,
		store:     cfg.Store,
		keys:      cfg.Keys,
		verifier:  &token.Verifier{Issuer: cfg.Issuer, Keys: cfg.Keys, Leeway: cfg.Leeway, Now: cfg.Now},
		log:       cfg.Logger,
		now:       cfg.Now,
		checked:   cache,
	}, nil
}

// Issuer returns the service's issuer URL.
func (s *Service) Issuer() string { return s.cfg.Issuer }

// Store returns the service's store, for listings that need no rules.
func (s *Service) Store() cardgate.Store { return s.store }

// Keys returns the service's keyring.
func (s *Service) Keys() *keyring.Keyring { return s.keys }

// CreateUser validates u, gives it an ID if it has none, and stores it.
func (s *Service) CreateUser(ctx context.Context, u *cardgate.User) error {
	if u.ID == "" {
		u.ID = cardgate.NewUserID()
	}
	u.Normalize()
	if err := u.Validate(); err != nil {
		return err
	}
	u.CreatedAt = s.now().UTC()
	u.UpdatedAt = u.CreatedAt
	return s.store.CreateUser(ctx, u)
}

// SetUserDisabled disables or enables a user. Disabling revokes every token
// the user holds, at once, and those issued up to cardgate.DisableCutoff
// (a second or two later) that another issuer node may still mint from
// its cache.
func (s *Service) SetUserDisabled(ctx context.Context, id string, disabled bool) error {
	defer s.invalidate()
	if err := cardgate.ValidateUserID("id", id); err != nil {
		return err
	}
	return s.store.SetUserDisabled(ctx, id, disabled, s.now().UTC())
}

// CreatePackage validates p and stores it.
func (s *Service) CreatePackage(ctx context.Context, p *cardgate.ActionPackage) error {
	p.Normalize()
	if err := p.Validate(); err != nil {
		return err
	}
	p.CreatedAt = s.now().UTC()
	p.UpdatedAt = p.CreatedAt
	return s.store.CreatePackage(ctx, p)
}

// SetPackageDisabled disables or enables an action package. Disabling
// revokes every token of the package, at once, up to
// cardgate.DisableCutoff as SetUserDisabled does.
func (s *Service) SetPackageDisabled(ctx context.Context, id string, disabled bool) error {
	defer s.invalidate()
	if err := cardgate.ValidatePackageID("id", id); err != nil {
		return err
	}
	return s.store.SetPackageDisabled(ctx, id, disabled, s.now().UTC())
}

// CreateClient creates a client with a fresh API key and returns the key,
// which is not stored and cannot be shown again.
func (s *Service) CreateClient(ctx context.Context, name string, role cardgate.Role) (*cardgate.Client, string, error) {
	key, hash := cardgate.NewAPIKey()
	c := &cardgate.Client{ID: cardgate.NewUserID(), Name: name, Role: role, KeyHash: hash, CreatedAt: s.now().UTC()}
	if err := c.Validate(); err != nil {
		return nil, "", err
	}
	if err := s.store.CreateClient(ctx, c); err != nil {
		return nil, "", err
	}
	return c, key, nil
}

// Authenticate finds the client an API key belongs to and checks that it has
// the role (admins have every role). An unknown key is EUNAUTHORIZED; a key
// of the wrong role is EFORBIDDEN.
func (s *Service) Authenticate(ctx context.Context, apiKey string, role cardgate.Role) (*cardgate.Client, error) {
	if apiKey == "" {
		return nil, cardgate.Errorf(cardgate.EUNAUTHORIZED, "an API key is required: send Authorization: Bearer <key>")
	}
	hash := sha256.Sum256([]byte(apiKey)) // cardgate.HashAPIKey
	now, gen := s.now(), s.gen.Load()
	var c *cardgate.Client
	if e, ok := s.cachedClient(hash); ok && e.fresh(gen, now) {
		c = e.c
	} else {
		var err error
		c, err = s.store.ClientByKeyHash(ctx, hash[:])
		if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
			return nil, cardgate.Errorf(cardgate.EUNAUTHORIZED, "API key is not valid")
		} else if err != nil {
			return nil, storeError("find client", err)
		}
		if s.clients != nil {
			s.clients.Add(hash, clientEntry{c: c, stateStamp: stateStamp{gen, now.Add(s.cfg.StateCacheTTL)}})
		}
	}
	if c.Role != role && c.Role != cardgate.RoleAdmin {
		return nil, cardgate.Errorf(cardgate.EFORBIDDEN, "this API key belongs to a %s client and may not do this", c.Role)
	}
	return c, nil
}

func (s *Service) cachedClient(hash [sha256.Size]byte) (clientEntry, bool) {
	if s.clients == nil {
		return clientEntry{}, false
	}
	return s.clients.Get(hash)
}

// DeleteClient deletes a client; its API key stops working at once here,
// and within StateCacheTTL on other nodes.
func (s *Service) DeleteClient(ctx context.Context, id string) error {
	defer s.invalidate()
	return s.store.DeleteClient(ctx, id)
}

// Mint returns a fresh token for an enabled user and an enabled package,
// outside any conversation.
func (s *Service) Mint(ctx context.Context, userID, packageID string) (string, *token.Claims, error) {
	return s.MintIn(ctx, userID, packageID, "")
}

// MintIn is Mint for a card opened in a conversation: the token names
// conversationID in its conv claim, and /v1/users/me, introspection, verify
// and the adapter pass it on. Only the conversation's form is checked here,
// not membership: the caller (the card host) must have checked that the
// user is a member of the conversation, and that the package's card is in
// it, before calling. An empty conversationID is Mint.
func (s *Service) MintIn(ctx context.Context, userID, packageID, conversationID string) (string, *token.Claims, error) {
	if err := cardgate.ValidateUserID("userId", userID); err != nil {
		return "", nil, err
	}
	if err := cardgate.ValidatePackageID("actionPackageId", packageID); err != nil {
		return "", nil, err
	}
	if conversationID != "" {
		if err := cardgate.ValidateUserID("conversationId", conversationID); err != nil {
			return "", nil, err // conversations have GUIDs, as users do
		}
	}
	if err := s.mintable(ctx, userID, packageID); err != nil {
		return "", nil, err
	}
	signer := s.keys.Signer()
	raw, c, err := signer.MintIn(userID, packageID, conversationID)
	if err != nil {
		return "", nil, err
	}
	if conversationID == "" { // two calls, so the attributes stay off the heap
		s.log.LogAttrs(ctx, slog.LevelInfo, "token minted",
			slog.String("user", userID), slog.String("package", packageID), slog.String("jti", c.ID), slog.String("kid", signer.KeyID()))
	} else {
		s.log.LogAttrs(ctx, slog.LevelInfo, "token minted", slog.String("user", userID), slog.String("package", packageID),
			slog.String("conversation", conversationID), slog.String("jti", c.ID), slog.String("kid", signer.KeyID()))
	}
	return raw, c, nil
}

// mintable checks that the user and the package exist and are enabled,
// from the cache when a check of the pair is fresh (see Service.mintCache).
func (s *Service) mintable(ctx context.Context, userID, packageID string) error {
	k := mintKey{userID, packageID}
	now, gen := s.now(), s.gen.Load() // before the read: a write during it makes the entry stale
	if s.mintCache != nil {
		if st, ok := s.mintCache.Get(k); ok && st.fresh(gen, now) {
			return nil
		}
	}
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return lookupError("userId", "user", err)
	}
	p, err := s.store.Package(ctx, packageID)
	if err != nil {
		return lookupError("actionPackageId", "action package", err)
	}
	if u.Disabled {
		return cardgate.Errorf(cardgate.EFORBIDDEN, "user %s is disabled", u.ID)
	}
	if p.Disabled {
		return cardgate.Errorf(cardgate.EFORBIDDEN, "action package %s is disabled", p.ID)
	}
	if s.mintCache != nil {
		s.mintCache.Add(k, stateStamp{gen, now.Add(s.cfg.StateCacheTTL)})
	}
	return nil
}

func lookupError(field, what string, err error) error {
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return cardgate.Errorf(cardgate.ENOTFOUND, "%s: no such %s", field, what)
	}
	return storeError("find "+what, err)
}

// storeError reports a store failure as EUNAVAILABLE, keeping the cause for
// the log: a client learns the store is down, not why.
func storeError(op string, err error) error {
	if cardgate.ErrorCode(err) != cardgate.EINTERNAL {
		return err
	}
	return cardgate.WrapError(cardgate.EUNAVAILABLE, "the token store is unavailable; try again", fmt.Errorf("issuer: %s: %w", op, err))
}

// Check is the whole check behind /v1/users/me and introspection: the
// token's signature and claims, then the user and package (they exist and
// are enabled) and revocations, read from the store (or from the cache, see
// Config.StateCacheTTL). It returns the identity and the claims, or an
// EINVALIDTOKEN error.
func (s *Service) Check(ctx context.Context, raw string) (*cardgate.Identity, *token.Claims, error) {
	if raw == "" || len(raw) > token.MaxLen || s.checked == nil {
		c, err := s.verifyKeys(ctx, raw) // the verifier words any rejection
		if err != nil {
			return nil, nil, err
		}
		id, err := s.checkState(ctx, c)
		return id, c, err
	}
	h := tokenhash.Of(raw)
	now := s.now()
	var c *token.Claims
	e, hit := s.checked.Get(&h)
	if hit {
		if !now.Before(e.ExpiresAt().Add(s.cfg.Leeway)) {
			s.checked.Remove(&h)
			return nil, nil, cardgate.WrapError(cardgate.EINVALIDTOKEN, "token has expired", token.ErrExpired)
		}
		if s.states != nil {
			if st, ok := s.states.Get(h); ok && st.gen == s.gen.Load() && now.UnixNano() < st.until {
				id, c := st.unpack(&e, s.cfg.Issuer)
				return id, c, nil
			}
		}
		c = e.Claims(s.cfg.Issuer)
	} else {
		var err error
		if c, err = s.verifyKeys(ctx, raw); err != nil {
			return nil, nil, err
		}
	}
	gen := s.gen.Load() // before the read: a write during it makes the entry stale
	id, err := s.checkState(ctx, c)
	if !hit && !now.Before(c.NotBefore) {
		// Remember the good signature even when the store refuses the
		// token, so a flood of one revoked token costs a store read
		// each, not an Ed25519 check too. nbf is only ever a few seconds
		// ahead for a good token, so only tokens already valid are kept
		// and a hit needs no nbf check. Nor an iat check nor one of exp -
		// iat: the verifier refused an iat beyond the leeway and a life
		// over token.MaxLifetime, and neither changes with time but for
		// the better.
		if err == nil || cardgate.ErrorCode(err) == cardgate.EINVALIDTOKEN {
			s.checked.Add(&h, c)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if s.states != nil {
		if st, ok := packState(c, id, gen, now.Add(s.cfg.StateCacheTTL).UnixNano()); ok {
			s.sweepStates(now.UnixNano())
			s.states.Add(h, st)
		}
	}
	out := *id
	return &out, c, nil
}

// CacheLens reports how many tokens the cache of signatures and the cache
// of identities hold (for monitoring and tests).
func (s *Service) CacheLens() (signatures, identities int) {
	if s.checked != nil {
		signatures = s.checked.Len()
	}
	if s.states != nil {
		identities = s.states.Len()
	}
	return signatures, identities
}

// sweepStates drops up to two stale entries from the cold end of states
// before an Add (see stateEntry). Another goroutine's sweep between the two
// calls can make one drop a live entry: that costs a store read, never a
// wrong answer.
func (s *Service) sweepStates(now int64) {
	gen := s.gen.Load()
	for range 2 {
		if _, st, ok := s.states.GetOldest(); !ok || (st.gen == gen && now < st.until) {
			return
		}
		s.states.RemoveOldest()
	}
}

// checkState reads the token's subject from the store and applies every
// rule that can change after minting.
func (s *Service) checkState(ctx context.Context, c *token.Claims) (*cardgate.Identity, error) {
	st, err := s.store.TokenState(ctx, c.UserID, c.ActionPackageID, c.ID)
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return nil, invalid("subject unknown")
	} else if err != nil {
		return nil, storeError("read token state", err)
	}
	switch {
	case st.Revoked:
		return nil, invalid("token revoked")
	case st.User.Disabled:
		return nil, invalid("user disabled")
	case st.Package.Disabled:
		return nil, invalid("package disabled")
	case cardgate.RevokesIssuedAt(st.User.RevokedBefore, c.IssuedAt):
		return nil, invalid("user's tokens revoked")
	case cardgate.RevokesIssuedAt(st.Package.RevokedBefore, c.IssuedAt):
		return nil, invalid("package's tokens revoked")
	}
	return &cardgate.Identity{
		UserID:          st.User.ID,
		Name:            st.User.Name,
		PhoneNumber:     st.User.PhoneNumber,
		PictureURL:      st.User.PictureURL,
		ActionPackageID: st.Package.ID,
		ConversationID:  c.ConversationID,
		ExpiresAt:       c.ExpiresAt,
	}, nil
}

// invalidate makes every cached identity stale; each write that can revoke
// a token calls it once the write is done.
func (s *Service) invalidate() {
	s.gen.Add(1)
	s.onInvalidateMu.Lock()
	fs := s.onInvalidate
	s.onInvalidateMu.Unlock()
	for _, f := range fs {
		f()
	}
}

// OnInvalidate has f called after every write through this Service that
// can revoke a token (a user or package disabled, a revocation): the card
// host's sign-in drops its cached sessions with it, so that a user
// disabled here is signed out at once.
func (s *Service) OnInvalidate(f func()) {
	s.onInvalidateMu.Lock()
	defer s.onInvalidateMu.Unlock()
	s.onInvalidate = append(s.onInvalidate, f)
}

// ErrRejected is the cause of a rejection made on the store's state (revoked,
// disabled, unknown subject), as token's sentinels are for the token itself.
var ErrRejected = errors.New("issuer: token rejected")

func invalid(reason string) error {
	return cardgate.WrapError(cardgate.EINVALIDTOKEN, "token is invalid", fmt.Errorf("%w: %s", ErrRejected, reason))
}

// verifyKeys checks a token against the keyring, reloading it once if the
// kid is unknown: another process (the CLI's "keys rotate", another node)
// may have added a key since this one loaded them.
func (s *Service) verifyKeys(ctx context.Context, raw string) (*token.Claims, error) {
	c, err := s.verifier.Verify(raw)
	if errors.Is(err, token.ErrUnknownKey) && s.reloadKeys(ctx) {
		c, err = s.verifier.Verify(raw)
	}
	return c, err
}

// reloadKeys reloads the keyring at most once a second, so that a flood of
// tokens with made-up kids cannot hammer the store. It reports whether it
// reloaded.
func (s *Service) reloadKeys(ctx context.Context) bool {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if now := s.now(); now.Sub(s.lastReload) >= time.Second {
		s.lastReload = now
		if err := s.keys.Reload(ctx); err != nil {
			s.log.Warn("reload signing keys", slog.Any("err", err))
			return false
		}
		return true
	}
	return false
}

// RefreshKeys reloads the keyring every interval until ctx ends, so that a
// key made by another process's rotation is known here before it signs,
// and signs here from its activation. Run it in a goroutine; the interval
// must be well below keyring.DefaultRotationDelay (so the key is known in
// time) and below the leeway (so a key this node still signs with after
// another node retired it stays verifiable).
func (s *Service) RefreshKeys(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.keys.Reload(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("reload signing keys", slog.Any("err", err))
			}
		}
	}
}

// RevokeToken revokes one token by its jti. expires, when known, is the
// token's exp; zero means the longest a token can live from now.
func (s *Service) RevokeToken(ctx context.Context, jti string, expires time.Time) (*cardgate.Revocation, error) {
	defer s.invalidate()
	if !token.ValidJTI(jti) {
		// Not echoed: a whole token pasted by mistake is a credential.
		return nil, cardgate.Errorf(cardgate.EINVALID, "jti: is no id of a token this issuer minted: those are 22 characters of base64url, like 3q2-7wQXxW1sTQ2aY8Jb0g")
	}
	if !s.cfg.Keys.Minted(jti) {
		return nil, cardgate.Errorf(cardgate.ENOTFOUND, "jti: no token of this installation has this id (to end tokens minted before ids were tagged, revoke their user or package)")
	}
	now := s.now().UTC()
	if expires.IsZero() {
		expires = now.Add(s.cfg.Lifetime + s.cfg.Leeway)
	}
	r := &cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: jti, At: now, Expires: expires.UTC()}
	if err := s.store.Revoke(ctx, r); err != nil {
		return nil, storeError("revoke token", err)
	}
	return r, nil
}

// RevokeUser revokes every token a user holds now; tokens minted later work.
func (s *Service) RevokeUser(ctx context.Context, id string) (*cardgate.Revocation, error) {
	defer s.invalidate()
	if err := cardgate.ValidateUserID("userId", id); err != nil {
		return nil, err
	}
	r := &cardgate.Revocation{Kind: cardgate.RevokeUser, Subject: id, At: s.now().UTC()}
	if err := s.store.Revoke(ctx, r); err != nil {
		return nil, lookupError("userId", "user", err)
	}
	return r, nil
}

// RevokePackage disables an action package, which revokes all its tokens
// and stops new ones being minted until it is enabled again.
func (s *Service) RevokePackage(ctx context.Context, id string) (*cardgate.Revocation, error) {
	defer s.invalidate()
	if err := cardgate.ValidatePackageID("actionPackageId", id); err != nil {
		return nil, err
	}
	at := s.now().UTC()
	if err := s.store.SetPackageDisabled(ctx, id, true, at); err != nil {
		return nil, lookupError("actionPackageId", "action package", err)
	}
	// The feed entry's At, which the store set: see SetPackageDisabled.
	return &cardgate.Revocation{Kind: cardgate.RevokePackage, Subject: id, At: cardgate.DisableCutoff(at)}, nil
}

// RotateKey makes a new signing key, published at once, that signs from
// delay later (keyring.DefaultRotationDelay lets every verifier fetch it
// first; 0 is at once, for a compromised key). Old keys stay published
// until their tokens expire.
func (s *Service) RotateKey(ctx context.Context, delay time.Duration) (*cardgate.SigningKey, error) {
	k, err := s.keys.Rotate(ctx, delay)
	if err != nil {
		return nil, err
	}
	s.log.Info("signing key rotated", slog.String("kid", k.ID), slog.Time("activatesAt", k.Activation()))
	return k, nil
}

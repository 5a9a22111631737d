package verify

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/cardgate/cardgate/tokenhash"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/internal/guidpack"
)

// RemoteConfig configures a Remote verifier. Only UserinfoURL is required.
type RemoteConfig struct {
	// UserinfoURL is the issuer's users/me endpoint, e.g.
	// "https://id.example.com/v1/users/me".
	UserinfoURL string
	// Client makes the calls; nil means a client with a 5 s timeout and
	// a transport that keeps connections to the issuer open.
	Client *http.Client
	// TTL is how long a positive answer is reused; 0 means DefaultRemoteTTL
	// (3 s). Entries never outlive the token's exp. A revocation reaches
	// this verifier within TTL of the issuer seeing it (cardgate's issuer
	// sees one made by another process within its own 1 s state cache), so
	// the default keeps the whole delay within DESIGN's 5 s. A longer TTL
	// saves calls to the issuer at the cost of a revoked token passing for
	// that long; at most MaxRemoteTTL.
	TTL time.Duration
	// NegativeTTL is how long a rejection is remembered; 0 means 5 s, at
	// most MaxRemoteTTL.
	NegativeTTL time.Duration
	// CacheSize caps the accepted tokens remembered (least recently used
	// go first); 0 means 100,000. An entry costs about 290 bytes with a
	// typical identity and the token's hash (TestRemoteCacheEntrySize),
	// so the default about 29 MB when full.
	CacheSize int
	// NegativeCacheSize caps the rejected tokens remembered, apart from
	// the accepted ones so that a flood of junk never pushes them out;
	// 0 means 10,000 (about 210 bytes each, 2 MB:
	// TestRemoteNegativeCacheEntrySize).
	NegativeCacheSize int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// DefaultRemoteTTL is how long Remote reuses an accepted token by default:
// with the issuer's 1 s state cache, a revocation reaches a Remote verifier
// within 4 s.
const DefaultRemoteTTL = 3 * time.Second

// MaxRemoteTTL bounds RemoteConfig.TTL and NegativeTTL: no cached answer
// outlives a default token's 30 minutes anyway.
const MaxRemoteTTL = 30 * time.Minute

// Remote verifies tokens by asking the issuer's /v1/users/me, with a cache
// keyed by the token's SHA-256 (the token itself is never kept).
// Concurrent checks of one token make one call. When the issuer cannot be
// reached, cached identities keep working until their entries end and
// unknown tokens get ErrUnavailable, never a pass.
type Remote struct {
	cfg    RemoteConfig
	client *http.Client
	cache  *lru.Cache[[sha256.Size]byte, remoteEntry] // accepted tokens
	reject *lru.Cache[[sha256.Size]byte, remoteEntry] // rejected tokens
	calls  singleflight.Group
	now    func() time.Time

	// refreshing holds the keys of the tokens being asked about again
	// ahead of their entries' end (a map under a mutex: sync.Map would box
	// each key, an allocation per check), and slots bounds how many such
	// calls run at once (see Verify).
	mu         sync.Mutex
	refreshing map[[sha256.Size]byte]struct{}
	slots      chan struct{}

	hits, misses atomic.Uint64
}

// refreshSlots bounds the calls to the issuer that renew entries ahead of
// their end: a slow issuer holds at most this many goroutines, and when
// they are all busy an entry simply ends, and its next check waits for
// the issuer as before.
const refreshSlots = 32

// remoteEntry is an answer of the issuer, as small as it can be: the
// identity's strings in one (see packIdentity), times as Unix numbers.
type remoteEntry struct {
	id     packedIdentity
	until  int64 // Unix nanoseconds
	reject error // the rejection, for a rejected token (shared, never allocated per entry)
}

// packedIdentity is an Identity in one string, its fields' lengths apart:
// a cached identity is one allocation, not six. The conversation ID (see
// guidpack) follows the package ID, and the string's last byte says how
// long it is, so that an identity without one costs a byte, not two more
// lengths that would push every entry into a larger size class.
type packedIdentity struct {
	data string
	lens [4]uint16 // UserID, Name, PhoneNumber, PictureURL; then ActionPackageID, ConversationID, its length
	exp  int64     // ExpiresAt, Unix seconds (0: none)
}

// convPacked is the last byte of a packedIdentity's data for a
// conversation ID packed into 16 bytes; any other value is the length of
// one kept as it is.
const convPacked = 0xff

// packIdentity packs id; ok is false if a field is too long to pack (the
// issuer bounds every field far below), and such an answer is not cached.
func packIdentity(id *Identity) (packedIdentity, bool) {
	conv, cn, ok := guidpack.Pack(id.ConversationID)
	tail := byte(len(conv))
	switch {
	case !ok || (cn&guidpack.Flag == 0 && len(conv) >= convPacked):
		return packedIdentity{}, false
	case cn&guidpack.Flag != 0:
		tail = convPacked
	}
	fs := [...]string{id.UserID, id.Name, id.PhoneNumber, id.PictureURL}
	var p packedIdentity
	n := len(id.ActionPackageID) + len(conv) + 1
	for i, f := range fs {
		if len(f) > 0xffff {
			return packedIdentity{}, false
		}
		p.lens[i] = uint16(len(f))
		n += len(f)
	}
	b := make([]byte, 0, n)
	for _, f := range fs {
		b = append(b, f...)
	}
	b = append(append(b, id.ActionPackageID...), conv...)
	p.data = string(append(b, tail))
	if !id.ExpiresAt.IsZero() {
		p.exp = id.ExpiresAt.Unix()
	}
	return p, true
}

// identity unpacks p into a new Identity whose strings share p's.
func (p packedIdentity) identity() *Identity {
	var fs [4]string
	d := p.data[:len(p.data)-1]
	cl, cn := int(p.data[len(p.data)-1]), uint16(p.data[len(p.data)-1])
	if cn == convPacked {
		cl, cn = 16, 16|guidpack.Flag
	}
	conv := guidpack.Unpack(d[len(d)-cl:], cn)
	d = d[:len(d)-cl]
	for i, n := range p.lens {
		fs[i], d = d[:n], d[n:]
	}
	id := &Identity{UserID: fs[0], Name: fs[1], PhoneNumber: fs[2], PictureURL: fs[3], ActionPackageID: d, ConversationID: conv}
	if p.exp != 0 {
		id.ExpiresAt = time.Unix(p.exp, 0).UTC()
	}
	return id
}

// The rejections a remoteEntry holds: made once, shared by every entry.
var (
	rejectInvalid = rejection(ErrInvalid, nil)
	rejectExpired = rejection(ErrExpired, nil)
)

// NewRemote returns a Remote verifier.
func NewRemote(cfg RemoteConfig) (*Remote, error) {
	if u, err := url.Parse(cfg.UserinfoURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("verify: RemoteConfig.UserinfoURL must be an absolute http(s) URL with a host")
	}
	if cfg.TTL < 0 || cfg.TTL > MaxRemoteTTL || cfg.NegativeTTL < 0 || cfg.NegativeTTL > MaxRemoteTTL {
		return nil, fmt.Errorf("verify: RemoteConfig.TTL and NegativeTTL must be from 0 (the default) to %v", MaxRemoteTTL)
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultRemoteTTL
	}
	if cfg.NegativeTTL == 0 {
		cfg.NegativeTTL = 5 * time.Second
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 100_000
	}
	if cfg.NegativeCacheSize <= 0 {
		cfg.NegativeCacheSize = 10_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Client == nil {
		cfg.Client = defaultClient()
	}
	cache, err := lru.New[[sha256.Size]byte, remoteEntry](cfg.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	reject, err := lru.New[[sha256.Size]byte, remoteEntry](cfg.NegativeCacheSize)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return &Remote{cfg: cfg, client: cfg.Client, cache: cache, reject: reject, now: cfg.Now,
		refreshing: make(map[[sha256.Size]byte]struct{}), slots: make(chan struct{}, refreshSlots)}, nil
}

// defaultClient has a timeout on every call and keeps enough idle
// connections to the issuer that a busy service does not dial per check.
func defaultClient() *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        100,
			MaxIdleConnsPerHost: 32,
			IdleConnTimeout:     90 * time.Second,
		},
		// The issuer answers; it never redirects a token elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Verify implements Verifier.
func (r *Remote) Verify(ctx context.Context, token string) (*Identity, error) {
	if token == "" || len(token) > maxTokenLen {
		return nil, rejection(ErrInvalid, nil)
	}
	key := tokenhash.Of(token)
	now := r.now().UnixNano()
	if e, ok := r.cache.Get(key); ok && now < e.until {
		r.hits.Add(1)
		if e.until-now < int64(r.cfg.TTL)/3 && (e.id.exp == 0 || e.id.exp*int64(time.Second) > e.until) {
			// In the last third of its entry, a token still in use is asked
			// about again in the background, so that its requests do not
			// wait for the issuer when the entry ends. The answer given now
			// is still within TTL of the issuer's, so a revocation takes no
			// longer to arrive; it often arrives sooner. A token whose
			// entry ends with its life is not asked again.
			r.refresh(key, token)
		}
		return e.result()
	}
	if e, ok := r.reject.Get(key); ok && now < e.until {
		r.hits.Add(1)
		return e.result()
	}
	r.misses.Add(1)
	// The call runs on its own context, so one caller giving up does not
	// fail the others waiting for it; the client's timeout bounds it.
	e, err := r.fetch(context.WithoutCancel(ctx), key, token)
	if err != nil {
		return nil, err
	}
	return e.result()
}

// fetch asks the issuer about token and caches the answer: one call per
// token however many requests (and renewals) want it at once.
func (r *Remote) fetch(ctx context.Context, key [sha256.Size]byte, token string) (remoteEntry, error) {
	v, err, _ := r.calls.Do(string(key[:]), func() (any, error) {
		e, err := r.ask(ctx, token)
		now := r.now().UnixNano()
		switch {
		case err != nil:
			return nil, err // the issuer is unavailable: nothing cached
		case e.reject != nil:
			sweep(r.reject, now)
			r.reject.Add(key, e)
			r.cache.Remove(key)
		default:
			sweep(r.cache, now)
			r.cache.Add(key, e)
			r.reject.Remove(key)
		}
		return e, nil
	})
	if err != nil {
		return remoteEntry{}, err
	}
	return v.(remoteEntry), nil
}

// refresh asks the issuer about token again in the background, unless it
// is already being asked or every refresh slot is taken. A failed call
// changes nothing: the entry ends when it would have.
func (r *Remote) refresh(key [sha256.Size]byte, token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, busy := r.refreshing[key]; busy {
		return
	}
	select {
	case r.slots <- struct{}{}:
	default:
		return
	}
	r.refreshing[key] = struct{}{}
	go func() {
		r.fetch(context.Background(), key, token)
		r.mu.Lock()
		delete(r.refreshing, key)
		r.mu.Unlock()
		<-r.slots
	}()
}

// sweep drops up to two expired entries from the cold end of c before an
// Add, so that a cache whose entries live seconds holds about what arrived
// in those seconds, not CacheSize entries long dead: 100,000 distinct
// tokens in a minute leave a few thousand entries, not 100,000. Another
// goroutine's sweep between the two calls can make one drop a live entry:
// that costs an issuer call, never a wrong answer.
func sweep(c *lru.Cache[[sha256.Size]byte, remoteEntry], now int64) {
	for range 2 {
		if _, e, ok := c.GetOldest(); !ok || now < e.until {
			return
		}
		c.RemoveOldest()
	}
}

func (e remoteEntry) result() (*Identity, error) {
	if e.reject != nil {
		return nil, e.reject
	}
	return e.id.identity(), nil
}

// ask calls the issuer once and turns its answer into a cache entry.
func (r *Remote) ask(ctx context.Context, token string) (remoteEntry, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.UserinfoURL, nil)
	if err != nil {
		return remoteEntry{}, rejection(ErrUnavailable, err)
	}
	req.Header.Set("accessToken", token)
	req.Header.Set("Accept", "application/json")
	res, err := r.client.Do(req)
	if err != nil {
		return remoteEntry{}, rejection(ErrUnavailable, errors.New("call the issuer failed")) // the error may hold the URL; not the token
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return remoteEntry{}, rejection(ErrUnavailable, errors.New("read the issuer's answer failed"))
	}
	now := r.now()
	switch {
	case res.StatusCode == http.StatusOK:
		var id Identity
		if err := json.Unmarshal(body, &id); err != nil || id.UserID == "" || id.ActionPackageID == "" {
			return remoteEntry{}, rejection(ErrUnavailable, errors.New("the issuer's answer is not an identity"))
		}
		// cardgate's issuer names the token's conversation in a header,
		// the body being Kaizala's five fields; Kaizala sends none.
		switch conv := res.Header.Values(cardgate.ConversationHeader); len(conv) {
		case 0:
		case 1:
			id.ConversationID = conv[0]
		default:
			return remoteEntry{}, rejection(ErrUnavailable, fmt.Errorf("the issuer's answer has %d %s headers", len(conv), cardgate.ConversationHeader))
		}
		until := now.Add(r.cfg.TTL)
		if exp, ok := unverifiedExpiry(token); ok {
			id.ExpiresAt = exp
			if exp.Before(until) {
				until = exp // never trust a cached answer past the token's life
			}
		}
		p, ok := packIdentity(&id)
		if !ok {
			return remoteEntry{}, rejection(ErrUnavailable, errors.New("the issuer's answer is not an identity"))
		}
		return remoteEntry{id: p, until: until.UnixNano()}, nil
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		rej := rejectInvalid
		if strings.Contains(string(body), "expired") {
			rej = rejectExpired
		}
		return remoteEntry{reject: rej, until: now.Add(r.cfg.NegativeTTL).UnixNano()}, nil
	}
	return remoteEntry{}, rejection(ErrUnavailable, fmt.Errorf("the issuer answered %d", res.StatusCode))
}

// unverifiedExpiry reads exp from a JWT's payload without checking
// anything: it is used only to shorten a cache entry, never to accept a
// token. An opaque (non-JWT) token has none.
func unverifiedExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil || c.Exp <= 0 {
		return time.Time{}, false
	}
	return time.Unix(c.Exp, 0).UTC(), true
}

// Stats reports cache use.
func (r *Remote) Stats() Stats { return Stats{Hits: r.hits.Load(), Misses: r.misses.Load()} }

// Len reports how many entries the caches hold, accepted and rejected
// tokens together (for monitoring and tests).
func (r *Remote) Len() int { return r.cache.Len() + r.reject.Len() }

// Ping reports whether the issuer's /v1/users/me answers, for a readiness
// probe: it asks without a token, which a live issuer refuses with 401 at
// no cost (no signature check, no store read). An error wraps
// ErrUnavailable when the issuer cannot be reached or answers 5xx, and
// names any other answer, such as a 404 from a URL that is no issuer's.
// Nothing is cached.
func (r *Remote) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cfg.UserinfoURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	res, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err) // a *url.Error: the URL and the failure
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		// Not 403: a proxy or firewall that refuses everything would pass
		// for a live issuer, and every token would then be refused.
		return nil
	case res.StatusCode >= 500:
		return fmt.Errorf("%w: GET %s answered %d", ErrUnavailable, req.URL.Redacted(), res.StatusCode)
	}
	return fmt.Errorf("verify: GET %s answered %d without a token, where an issuer answers 401: is it an issuer's /v1/users/me?", req.URL.Redacted(), res.StatusCode)
}

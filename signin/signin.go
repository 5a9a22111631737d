// Package signin signs people in to the card host: a one-time code sent to
// their phone number, entered within minutes and a few tries, opens a
// session held by a cookie. Codes and session IDs are stored only as keyed
// or plain hashes; guesses are counted in the store, so that every node of
// a cluster counts them together.
package signin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/ratelimit"
)

// Store is what sign-in keeps its state in; cardgate.Store is one.
type Store interface {
	User(ctx context.Context, id string) (*cardgate.User, error)
	UserByPhone(ctx context.Context, phone string) (*cardgate.User, error)
	PutLoginCode(ctx context.Context, c *cardgate.LoginCode) error
	AttemptLoginCode(ctx context.Context, phone string) (*cardgate.LoginCode, error)
	DeleteLoginCode(ctx context.Context, phone string, hash []byte) (bool, error)
	CreateSession(ctx context.Context, s *cardgate.Session) error
	Session(ctx context.Context, idHash []byte) (*cardgate.Session, error)
	DeleteSession(ctx context.Context, idHash []byte) error
}

// Defaults, as the card host's users expect from sign-in by SMS.
const (
	DefaultCodeTTL     = 10 * time.Minute
	DefaultMaxAttempts = 5
	DefaultSessionTTL  = 12 * time.Hour
	// DefaultSessionCacheTTL is the issuer's DefaultStateCacheTTL: how
	// long a session ended by another process may still be honoured here.
	DefaultSessionCacheTTL = time.Second
)

// sessionCacheSize caps the cache of sessions found valid (a few hundred
// bytes an entry with its user): only the sessions used in the last
// SessionCacheTTL need to be in it.
const sessionCacheSize = 10_000

// Default limits, token buckets (see ratelimit.Per): a bucket holds up to
// Burst calls and refills at the rate, so the most a window of length W
// allows is Burst + W×rate, not the rate alone.
//
// A number may be sent 3 codes at once and then one every 200 s: at most 6
// in any 10 minutes and 21 in any hour, so with 5 tries per code a guesser
// gets at most 105 tries in a million at one number per hour. A client
// address (an office behind one NAT, say) may make 20 sign-in calls (codes
// asked for and codes tried) at once and then one every 10 s: at most 80 in
// any 10 minutes and 380 in any hour. TestLimitsWorstCase counts these.
var (
	DefaultPhoneLimit  = ratelimit.Per(3, 10*time.Minute, 3)
	DefaultClientLimit = ratelimit.Per(60, 10*time.Minute, 20)
)

// Config configures a Service.
type Config struct {
	Store  Store
	Sender Sender
	// CodeKey keys the hash of stored codes (32 random bytes, the same on
	// every node): a 6-digit code hashed without a key is found again by
	// trying all million.
	CodeKey []byte
	// Limiter counts sign-in calls; nil means in this process's memory.
	// Several nodes share limits through ratelimit.Redis.
	Limiter     ratelimit.Limiter
	PhoneLimit  ratelimit.Limit // zero means DefaultPhoneLimit
	ClientLimit ratelimit.Limit // zero means DefaultClientLimit
	CodeTTL     time.Duration   // zero means DefaultCodeTTL
	MaxAttempts int             // zero means DefaultMaxAttempts
	SessionTTL  time.Duration   // zero means DefaultSessionTTL
	// SessionCacheTTL is how long a session found valid, and its user,
	// may be reused without reading the store again. Sign-out and
	// Invalidate through this Service take effect at once whatever the
	// TTL; a session ended or a user disabled by another process (the
	// CLI, another node) is seen within it. Zero means
	// DefaultSessionCacheTTL; a negative value reads the store on every
	// request.
	SessionCacheTTL time.Duration
	Logger          *slog.Logger
	Now             func() time.Time
}

// Service is sign-in. It is safe for concurrent use.
type Service struct {
	cfg     Config
	log     *slog.Logger
	sending sync.WaitGroup // codes being sent in the background

	// sessions caches sessions that Lookup found valid, keyed by the
	// session ID's SHA-256 (never the ID), for SessionCacheTTL and under
	// gen; nil when the cache is off. Nothing is cached for a refusal.
	sessions *lru.Cache[[sha256.Size]byte, cachedSession]
	// gen changes on every sign-out and Invalidate, so that no cached
	// session outlives an end made through this Service.
	gen atomic.Uint64
}

// cachedSession is what Lookup found for a session, and until when, under
// which generation, it may be reused.
type cachedSession struct {
	user    *cardgate.User // not to be changed: callers share it
	expires time.Time      // the session's own end
	until   time.Time
	gen     uint64
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Sender == nil {
		return nil, errors.New("signin: Store and Sender are required")
	}
	if len(cfg.CodeKey) < 32 {
		return nil, errors.New("signin: CodeKey must be at least 32 bytes")
	}
	if cfg.Limiter == nil {
		cfg.Limiter = &ratelimit.Memory{Now: cfg.Now}
	}
	if cfg.PhoneLimit == (ratelimit.Limit{}) {
		cfg.PhoneLimit = DefaultPhoneLimit
	}
	if cfg.ClientLimit == (ratelimit.Limit{}) {
		cfg.ClientLimit = DefaultClientLimit
	}
	if cfg.CodeTTL == 0 {
		cfg.CodeTTL = DefaultCodeTTL
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.SessionCacheTTL == 0 {
		cfg.SessionCacheTTL = DefaultSessionCacheTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, log: log}
	if cfg.SessionCacheTTL > 0 {
		s.sessions, _ = lru.New[[sha256.Size]byte, cachedSession](sessionCacheSize) // only fails for a size ≤ 0
	}
	return s, nil
}

// NormalizePhone accepts a phone number as people type it ("+1 415-555
// 0123") and returns it in E.164 form, or an EINVALID error naming the field
// in a sentence a person understands. Only real numbers pass (see
// cardgate.NormalizePhone); the answer depends on the number alone, never
// on whether anyone has it, so it tells nothing about accounts.
func NormalizePhone(s string) (string, error) {
	p, err := cardgate.NormalizePhone(s)
	if err != nil {
		return "", cardgate.Errorf(cardgate.EINVALID, "phoneNumber: enter the number in international form, with + and the country code, like +14155550123")
	}
	return p, nil
}

// Start sends a sign-in code to phone, from the client at address client
// (the rate limit's key). It answers the same, and does the same work,
// whether or not the number belongs to an enabled user of its own, so that
// sign-in does not tell who has an account: a code is made, hashed and
// stored for every number (with no user for a number without an account,
// so that the tries at it are counted and answered alike), and the code is
// sent in the background, so that a slow or failing SMS gateway shows
// neither in the answer nor in its time. A failed send is logged.
func (s *Service) Start(ctx context.Context, phone, client string) error {
	phone, err := NormalizePhone(phone)
	if err != nil {
		return err
	}
	if err := s.limit(ctx, "client:"+client, s.cfg.ClientLimit, "sign-in attempts from this address"); err != nil {
		return err
	}
	if err := s.limit(ctx, "phone:"+phone, s.cfg.PhoneLimit, "codes sent to this number"); err != nil {
		return err
	}
	u, err := s.cfg.Store.UserByPhone(ctx, phone)
	switch cardgate.ErrorCode(err) {
	case "":
		if u.Disabled {
			s.log.LogAttrs(ctx, slog.LevelInfo, "sign-in code not sent: user is disabled", slog.String("user", u.ID))
			u = nil
		}
	case cardgate.ENOTFOUND:
		s.log.LogAttrs(ctx, slog.LevelInfo, "sign-in code not sent: no user has the number")
	case cardgate.ECONFLICT:
		s.log.LogAttrs(ctx, slog.LevelWarn, "sign-in code not sent: several users share the number (added before numbers had to be unique); it signs none of them in")
	default:
		return err
	}
	userID := ""
	if err == nil && u != nil {
		userID = u.ID
	}
	code := newCode()
	now := s.cfg.Now()
	if err := s.cfg.Store.PutLoginCode(ctx, &cardgate.LoginCode{PhoneNumber: phone, Hash: s.hash(phone, code),
		UserID: userID, ExpiresAt: now.Add(s.cfg.CodeTTL), CreatedAt: now}); err != nil {
		return err
	}
	if userID != "" {
		s.send(ctx, phone, code, userID)
	}
	return nil
}

// sendTimeout bounds a background send: a gateway that has not answered by
// then will not be waited for.
const sendTimeout = 30 * time.Second

// send delivers a code in the background, outliving the request.
func (s *Service) send(ctx context.Context, phone, code, userID string) {
	s.sending.Add(1)
	go func() {
		defer s.sending.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		defer cancel()
		if err := s.cfg.Sender.SendCode(ctx, phone, code); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "sign-in code could not be sent", slog.String("user", userID), slog.Any("err", err))
			return
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "sign-in code sent", slog.String("user", userID))
	}()
}

// Wait waits for the codes being sent in the background: for tests, and
// for a server that shuts down.
func (s *Service) Wait() { s.sending.Wait() }

var codeForm = regexp.MustCompile(`^[0-9]{6}$`)

// Verify checks a code sent to phone and, if it is right, opens a session
// for its user. Each call counts as one of the code's attempts.
func (s *Service) Verify(ctx context.Context, phone, code, client string) (*Session, error) {
	phone, err := NormalizePhone(phone)
	if err != nil {
		return nil, err
	}
	code = strings.TrimSpace(code)
	if !codeForm.MatchString(code) {
		return nil, cardgate.Errorf(cardgate.EINVALID, "code: must be the 6 digits sent to you")
	}
	if err := s.limit(ctx, "client:"+client, s.cfg.ClientLimit, "sign-in attempts from this address"); err != nil {
		return nil, err
	}
	c, err := s.cfg.Store.AttemptLoginCode(ctx, phone)
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return nil, cardgate.Errorf(cardgate.EUNAUTHORIZED, "no sign-in code is waiting for this number; ask for a new one")
	} else if err != nil {
		return nil, err
	}
	switch {
	case !s.cfg.Now().Before(c.ExpiresAt):
		s.cfg.Store.DeleteLoginCode(ctx, phone, c.Hash)
		return nil, cardgate.Errorf(cardgate.EUNAUTHORIZED, "the code has expired; ask for a new one")
	case c.Attempts > s.cfg.MaxAttempts:
		return nil, cardgate.Errorf(cardgate.ERATELIMITED, "too many wrong codes; ask for a new one")
	// A number without an account has a code nobody was sent: it is
	// wrong however it is guessed, exactly like a registered one's.
	case !hmac.Equal(c.Hash, s.hash(phone, code)) || c.UserID == "":
		left := s.cfg.MaxAttempts - c.Attempts
		s.log.LogAttrs(ctx, slog.LevelInfo, "wrong sign-in code", slog.String("user", c.UserID), slog.Int("triesLeft", left))
		if left == 0 {
			return nil, cardgate.Errorf(cardgate.EUNAUTHORIZED, "wrong code, and that was the last try; ask for a new one")
		}
		return nil, cardgate.Errorf(cardgate.EUNAUTHORIZED, "wrong code; %d %s left", left, plural(left, "try", "tries"))
	}
	if ok, err := s.cfg.Store.DeleteLoginCode(ctx, phone, c.Hash); err != nil {
		return nil, err
	} else if !ok { // another request used it, or a new code replaced it
		return nil, cardgate.Errorf(cardgate.EUNAUTHORIZED, "this code has just been used or replaced; ask for a new one")
	}
	return s.NewSession(ctx, c.UserID)
}

// Session is a signed-in browser. Token goes in the cookie and nowhere else.
type Session struct {
	Token     string
	User      *cardgate.User
	ExpiresAt time.Time
}

// tokenPrefix marks session tokens, so that a leaked one is recognised.
const tokenPrefix = "cgs_"

// NewSession opens a session for the user, who must exist and be enabled.
// Sign-in calls it after a right code; the demo's user picker calls it
// directly.
func (s *Service) NewSession(ctx context.Context, userID string) (*Session, error) {
	u, err := s.cfg.Store.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, cardgate.Errorf(cardgate.EFORBIDDEN, "this account is disabled")
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	tok := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	now := s.cfg.Now()
	sess := &cardgate.Session{IDHash: hashToken(tok), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.cfg.Store.CreateSession(ctx, sess); err != nil {
		return nil, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "signed in", slog.String("user", u.ID))
	return &Session{Token: tok, User: u, ExpiresAt: sess.ExpiresAt}, nil
}

var errNoSession = cardgate.Errorf(cardgate.EUNAUTHORIZED, "not signed in, or the session has ended; sign in again")

// Lookup returns the user of the session token. An unknown or expired
// session, or one whose user has since been disabled, is EUNAUTHORIZED.
// A session found valid is reused for SessionCacheTTL (see Config); the
// user returned must not be changed.
func (s *Service) Lookup(ctx context.Context, token string) (*cardgate.User, error) {
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 128 {
		return nil, errNoSession
	}
	key := sha256.Sum256([]byte(token))
	now, gen := s.cfg.Now(), s.gen.Load() // before the read: an end during it makes the entry stale
	if s.sessions != nil {
		if c, ok := s.sessions.Get(key); ok && c.gen == gen && now.Before(c.until) && now.Before(c.expires) {
			return c.user, nil
		}
	}
	u, expires, err := s.lookup(ctx, key[:])
	if err != nil {
		if s.sessions != nil {
			s.sessions.Remove(key)
		}
		return nil, err
	}
	if s.sessions != nil {
		s.sessions.Add(key, cachedSession{user: u, expires: expires, until: now.Add(s.cfg.SessionCacheTTL), gen: gen})
	}
	return u, nil
}

// lookup reads the session and its user from the store.
func (s *Service) lookup(ctx context.Context, hash []byte) (*cardgate.User, time.Time, error) {
	sess, err := s.cfg.Store.Session(ctx, hash)
	if cardgate.ErrorCode(err) == cardgate.ENOTFOUND {
		return nil, time.Time{}, errNoSession
	} else if err != nil {
		return nil, time.Time{}, err
	}
	if !s.cfg.Now().Before(sess.ExpiresAt) {
		s.cfg.Store.DeleteSession(ctx, sess.IDHash)
		return nil, time.Time{}, errNoSession
	}
	u, err := s.cfg.Store.User(ctx, sess.UserID)
	if err != nil {
		return nil, time.Time{}, err
	}
	if u.Disabled {
		s.cfg.Store.DeleteSession(ctx, sess.IDHash)
		return nil, time.Time{}, errNoSession
	}
	return u, sess.ExpiresAt, nil
}

// End signs a session out. Ending one that is gone is not an error. It
// takes effect at once in this Service, whatever SessionCacheTTL.
func (s *Service) End(ctx context.Context, token string) error {
	defer s.Invalidate() // after the delete: a Lookup that read the session before it caches it stale
	return s.cfg.Store.DeleteSession(ctx, hashToken(token))
}

// Invalidate drops every cached session, so that the next Lookup of each
// reads the store: call it after ending sessions or disabling a user
// other than through End.
func (s *Service) Invalidate() { s.gen.Add(1) }

// SessionTTL is how long a session lasts, for the cookie's Max-Age.
func (s *Service) SessionTTL() time.Duration { return s.cfg.SessionTTL }

// RetryAfter is carried by rate-limit errors (as their cause) for the
// Retry-After header.
type RetryAfter time.Duration

func (r RetryAfter) Error() string { return fmt.Sprintf("retry after %s", time.Duration(r)) }

func (s *Service) limit(ctx context.Context, key string, l ratelimit.Limit, what string) error {
	d, err := s.cfg.Limiter.Allow(ctx, "signin:"+key, l)
	if err != nil {
		return cardgate.WrapError(cardgate.EUNAVAILABLE, "sign-in is unavailable; try again in a minute", err)
	}
	if d.Allowed {
		return nil
	}
	wait := max(d.RetryAfter.Round(time.Second), time.Second)
	return cardgate.WrapError(cardgate.ERATELIMITED, fmt.Sprintf("too many %s; try again in %s", what, wait), RetryAfter(wait))
}

// hash is the keyed hash a code is stored as. The phone number is hashed in
// too, so that one stored hash cannot stand for another number's code.
func (s *Service) hash(phone, code string) []byte {
	m := hmac.New(sha256.New, s.cfg.CodeKey)
	m.Write([]byte(phone))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// newCode returns 6 uniformly random digits.
func newCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000)) // crypto/rand does not fail
	return fmt.Sprintf("%06d", n.Int64())
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

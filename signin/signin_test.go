package signin_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/ratelimit"
	"github.com/cardgate/cardgate/signin"
	"github.com/cardgate/cardgate/sqlite"
	"github.com/cardgate/cardgate/sqlite/sqlitetest"
)

const (
	alice      = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"
	alicePhone = "+14155550101"
)

// outbox is a Sender that keeps what it was asked to send.
type outbox struct {
	mu    sync.Mutex
	codes map[string]string
	fail  error
	delay time.Duration // how long a send takes, like an SMS gateway's answer
}

func (o *outbox) SendCode(_ context.Context, phone, code string) error {
	time.Sleep(o.delay)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	if o.codes == nil {
		o.codes = map[string]string{}
	}
	o.codes[phone] = code
	return nil
}

func (o *outbox) code(t *testing.T, phone string) string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.codes[phone]
	if !ok {
		t.Fatalf("no code was sent to %s", phone)
	}
	return c
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type fixture struct {
	svc   *signin.Service
	store cardgate.Store
	out   *outbox
	clock *clock
}

// code waits for the codes being sent in the background, then returns the
// one sent to phone.
func (f *fixture) code(t *testing.T, phone string) string {
	t.Helper()
	f.svc.Wait()
	return f.out.code(t, phone)
}

func (f *fixture) sent() int {
	f.svc.Wait()
	f.out.mu.Lock()
	defer f.out.mu.Unlock()
	return len(f.out.codes)
}

func setup(t *testing.T, tweak ...func(*signin.Config)) *fixture {
	t.Helper()
	store := sqlitetest.Open(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := &cardgate.User{ID: alice, Name: "Alice", PhoneNumber: alicePhone, CreatedAt: now, UpdatedAt: now}
	if err := store.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: store, out: &outbox{}, clock: &clock{now}}
	cfg := signin.Config{Store: store, Sender: f.out, CodeKey: bytes.Repeat([]byte{7}, 32), Now: f.clock.now}
	for _, fn := range tweak {
		fn(&cfg)
	}
	svc, err := signin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

// wrongCode is a well-formed code that is not right.
func wrongCode(right string) string {
	if right == "000000" {
		return "111111"
	}
	return "000000"
}

func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var e *cardgate.Error
	if !errors.As(err, &e) || e.Code != code || !strings.Contains(e.Message, msg) {
		t.Fatalf("err = %v, want %s containing %q", err, code, msg)
	}
}

func TestSignInWithCode(t *testing.T) {
	var logs bytes.Buffer
	f := setup(t, func(c *signin.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := t.Context()
	// People type numbers with spaces and dashes.
	if err := f.svc.Start(ctx, "+1 415-555-0101", "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	code := f.code(t, alicePhone)
	if len(code) != 6 {
		t.Fatalf("code %q is not 6 digits", code)
	}
	sess, err := f.svc.Verify(ctx, alicePhone, code, "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if sess.User.ID != alice || !strings.HasPrefix(sess.Token, "cgs_") || !sess.ExpiresAt.After(f.clock.t) {
		t.Fatalf("session = %+v", sess)
	}
	u, err := f.svc.Lookup(ctx, sess.Token)
	if err != nil || u.ID != alice {
		t.Fatalf("Lookup = %v, %v", u, err)
	}
	// A code signs in once.
	_, err = f.svc.Verify(ctx, alicePhone, code, "10.0.0.1")
	wantErr(t, err, cardgate.EUNAUTHORIZED, "no sign-in code is waiting")

	// Signing out ends the session.
	if err := f.svc.End(ctx, sess.Token); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Lookup(ctx, sess.Token)
	wantErr(t, err, cardgate.EUNAUTHORIZED, "sign in again")

	// Sign-in logs what happened, never the code or the session.
	if !strings.Contains(logs.String(), "signed in") || strings.Contains(logs.String(), code) || strings.Contains(logs.String(), sess.Token) {
		t.Errorf("logs hold the code or the session token, or say nothing:\n%s", logs.String())
	}
}

func TestCodeIsStoredHashed(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	if err := f.svc.Start(ctx, alicePhone, "c"); err != nil {
		t.Fatal(err)
	}
	code := f.code(t, alicePhone)
	c, err := f.store.AttemptLoginCode(ctx, alicePhone)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Hash) != 32 || bytes.Contains(c.Hash, []byte(code)) {
		t.Fatalf("stored %x for code %s: not a hash", c.Hash, code)
	}
	if !c.ExpiresAt.Equal(f.clock.t.Add(10 * time.Minute)) {
		t.Fatalf("code expires at %v, want 10 minutes from now", c.ExpiresAt)
	}
}

func TestWrongCode(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	f.svc.Start(ctx, alicePhone, "c")
	right := f.code(t, alicePhone)
	wrong := wrongCode(right)
	_, err := f.svc.Verify(ctx, alicePhone, wrong, "c")
	wantErr(t, err, cardgate.EUNAUTHORIZED, "wrong code; 4 tries left")
	_, err = f.svc.Verify(ctx, alicePhone, "12345", "c")
	wantErr(t, err, cardgate.EINVALID, "code: must be the 6 digits")
	// The right code still works after a wrong one.
	if _, err := f.svc.Verify(ctx, alicePhone, right, "c"); err != nil {
		t.Fatal(err)
	}
}

func TestTooManyAttempts(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	f.svc.Start(ctx, alicePhone, "c")
	right := f.code(t, alicePhone)
	wrong := wrongCode(right)
	for i := 1; i < 5; i++ {
		f.svc.Verify(ctx, alicePhone, wrong, "c")
	}
	_, err := f.svc.Verify(ctx, alicePhone, wrong, "c")
	wantErr(t, err, cardgate.EUNAUTHORIZED, "that was the last try")
	// After five tries even the right code is refused.
	_, err = f.svc.Verify(ctx, alicePhone, right, "c")
	wantErr(t, err, cardgate.ERATELIMITED, "too many wrong codes; ask for a new one")
	// A new code starts afresh.
	f.svc.Start(ctx, alicePhone, "c")
	if _, err := f.svc.Verify(ctx, alicePhone, f.code(t, alicePhone), "c"); err != nil {
		t.Fatal(err)
	}
}

func TestExpiredCode(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	f.svc.Start(ctx, alicePhone, "c")
	code := f.code(t, alicePhone)
	f.clock.t = f.clock.t.Add(10 * time.Minute)
	_, err := f.svc.Verify(ctx, alicePhone, code, "c")
	wantErr(t, err, cardgate.EUNAUTHORIZED, "the code has expired")
	// It is gone, not merely refused.
	_, err = f.svc.Verify(ctx, alicePhone, code, "c")
	wantErr(t, err, cardgate.EUNAUTHORIZED, "no sign-in code is waiting")
}

func TestUnknownNumberGetsTheSameAnswer(t *testing.T) {
	f := setup(t)
	if err := f.svc.Start(t.Context(), "+14155550199", "c"); err != nil {
		t.Fatalf("unknown number: %v; want the answer a known one gets", err)
	}
	if f.sent() != 0 {
		t.Fatalf("sent codes to %v", f.out.codes)
	}
	for _, bad := range []string{"415 555", "+1415555"} { // the second has E.164's shape, but no one has it
		err := f.svc.Start(t.Context(), bad, "c")
		wantErr(t, err, cardgate.EINVALID, "phoneNumber: enter the number in international form, with + and the country code")
	}
}

func TestRateLimits(t *testing.T) {
	t.Run("per number", func(t *testing.T) {
		f := setup(t)
		for i := range 3 {
			if err := f.svc.Start(t.Context(), alicePhone, "client-"+string(rune('a'+i))); err != nil {
				t.Fatal(err)
			}
		}
		err := f.svc.Start(t.Context(), alicePhone, "client-z")
		wantErr(t, err, cardgate.ERATELIMITED, "too many codes sent to this number")
		var ra signin.RetryAfter
		if !errors.As(err, &ra) || time.Duration(ra) < time.Minute {
			t.Fatalf("RetryAfter = %v, want minutes", time.Duration(ra))
		}
		// The bucket refills.
		f.clock.t = f.clock.t.Add(4 * time.Minute)
		if err := f.svc.Start(t.Context(), alicePhone, "client-z"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("per client", func(t *testing.T) {
		f := setup(t, func(c *signin.Config) { c.ClientLimit = ratelimit.Per(2, time.Hour, 2) })
		f.svc.Start(t.Context(), alicePhone, "10.0.0.9")
		f.svc.Verify(t.Context(), alicePhone, "000000", "10.0.0.9")
		_, err := f.svc.Verify(t.Context(), alicePhone, "000001", "10.0.0.9")
		wantErr(t, err, cardgate.ERATELIMITED, "too many sign-in attempts from this address")
		// Another address is not held back.
		if _, err := f.svc.Verify(t.Context(), alicePhone, f.code(t, alicePhone), "10.0.0.10"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDisabledUser(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	sess, err := f.svc.NewSession(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetUserDisabled(ctx, alice, true, f.clock.t); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Lookup(ctx, sess.Token)
	wantErr(t, err, cardgate.EUNAUTHORIZED, "sign in again")
	f.svc.Start(ctx, alicePhone, "c")
	if f.sent() != 0 {
		t.Fatal("a disabled user was sent a code")
	}
	_, err = f.svc.NewSession(ctx, alice)
	wantErr(t, err, cardgate.EFORBIDDEN, "disabled")
}

func TestSessionExpires(t *testing.T) {
	f := setup(t)
	sess, _ := f.svc.NewSession(t.Context(), alice)
	f.clock.t = f.clock.t.Add(signin.DefaultSessionTTL)
	_, err := f.svc.Lookup(t.Context(), sess.Token)
	wantErr(t, err, cardgate.EUNAUTHORIZED, "sign in again")
	_, err = f.svc.Lookup(t.Context(), "not-a-session")
	wantErr(t, err, cardgate.EUNAUTHORIZED, "sign in again")
}

// A gateway that fails is logged: the answer cannot tell, since numbers
// without an account are never sent a code and so never fail.
func TestSenderFailure(t *testing.T) {
	var logs bytes.Buffer
	f := setup(t, func(c *signin.Config) { c.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	f.out.fail = errors.New("gateway down")
	if err := f.svc.Start(t.Context(), alicePhone, "c"); err != nil {
		t.Fatalf("Start = %v; want the answer every number gets", err)
	}
	f.svc.Wait()
	if !strings.Contains(logs.String(), "sign-in code could not be sent") || !strings.Contains(logs.String(), "gateway down") {
		t.Fatalf("the failure is not logged:\n%s", logs.String())
	}
}

func TestWebhookSender(t *testing.T) {
	var got map[string]string
	var auth string
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	s := signin.WebhookSender{URL: srv.URL + "/sms?key=url-secret", Authorization: "Bearer gw-secret"}
	if err := s.SendCode(t.Context(), alicePhone, "123456"); err != nil {
		t.Fatal(err)
	}
	if got["to"] != alicePhone || got["code"] != "123456" || !strings.Contains(got["message"], "123456") || auth != "Bearer gw-secret" {
		t.Fatalf("gateway got %v with Authorization %q", got, auth)
	}
	status = http.StatusBadGateway
	err := s.SendCode(t.Context(), alicePhone, "123456")
	if err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err = %v, want the gateway's status", err)
	}
	srv.Close()
	err = s.SendCode(t.Context(), alicePhone, "123456")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v: want an error that does not repeat the URL's key", err)
	}
}

type brokenLimiter struct{}

func (brokenLimiter) Allow(context.Context, string, ratelimit.Limit) (ratelimit.Decision, error) {
	return ratelimit.Decision{}, errors.New("redis: connection refused")
}

// When the shared limiter is down, sign-in refuses rather than go unlimited.
func TestLimiterDownFailsClosed(t *testing.T) {
	f := setup(t, func(c *signin.Config) { c.Limiter = brokenLimiter{} })
	err := f.svc.Start(t.Context(), alicePhone, "c")
	wantErr(t, err, cardgate.EUNAVAILABLE, "sign-in is unavailable")
	if f.sent() != 0 {
		t.Fatal("a code was sent without a rate limit")
	}
	_, err = f.svc.Verify(t.Context(), alicePhone, "123456", "c")
	wantErr(t, err, cardgate.EUNAVAILABLE, "sign-in is unavailable")
}

// errText is what a caller sees of an answer: nothing, or its code and
// message.
func errText(err error) string {
	if err == nil {
		return "ok"
	}
	var e *cardgate.Error
	if !errors.As(err, &e) {
		return "not a cardgate error: " + err.Error()
	}
	return e.Code + ": " + e.Message
}

// Every step of sign-in answers alike for a number with an account, one
// without, a disabled user's and one two users share: asking for a code,
// each wrong try and the try after the last, an expired code, and no code
// at all.
func TestSignInDoesNotTellWhoHasAnAccount(t *testing.T) {
	f := setup(t, func(c *signin.Config) { c.ClientLimit = ratelimit.Per(1000, time.Second, 1000) })
	ctx := t.Context()
	now := f.clock.t
	for _, u := range []*cardgate.User{
		{ID: "0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40", Name: "Bob", PhoneNumber: "+14155550102"},
		{ID: "1b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b41", Name: "Carol", PhoneNumber: "+14155550103"},
	} {
		u.CreatedAt, u.UpdatedAt = now, now
		if err := f.store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	// Dan shares Carol's number, as users added before migration 7 may:
	// the store no longer lets anyone add such a user.
	raw, err := sql.Open("sqlite", f.store.(*sqlite.DB).Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE users SET phone_shared = 1 WHERE phone_number = '+14155550103';
		INSERT INTO users (id, name, phone_number, phone_shared, created_at, updated_at)
		VALUES ('2b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b42', 'Dan', '+14155550103', 1, 1, 1)`); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetUserDisabled(ctx, "0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40", true, now); err != nil {
		t.Fatal(err)
	}
	numbers := map[string]string{"registered": alicePhone, "unknown": "+14155550199", "disabled": "+14155550102", "shared": "+14155550103"}
	// answers runs one step for every number and checks they all answer
	// alike; it returns that answer.
	answers := func(step string, do func(phone string) error) string {
		t.Helper()
		got := map[string]string{}
		for kind, phone := range numbers {
			got[kind] = errText(do(phone))
		}
		for kind, a := range got {
			if a != got["registered"] {
				t.Fatalf("%s: a registered number gets %q, the %s number %q", step, got["registered"], kind, a)
			}
		}
		return got["registered"]
	}
	wrong := func(phone string) error {
		f.svc.Wait()
		f.out.mu.Lock()
		c := wrongCode(f.out.codes[phone])
		f.out.mu.Unlock()
		_, err := f.svc.Verify(ctx, phone, c, "c")
		return err
	}
	if a := answers("a code before any was asked for", wrong); !strings.Contains(a, "no sign-in code is waiting") {
		t.Fatalf("answer %q", a)
	}
	answers("asking for a code", func(p string) error { return f.svc.Start(ctx, p, "c") })
	if a := answers("the first wrong code", wrong); !strings.Contains(a, "wrong code; 4 tries left") {
		t.Fatalf("answer %q", a)
	}
	for range 3 {
		answers("a wrong code", wrong)
	}
	if a := answers("the fifth wrong code", wrong); !strings.Contains(a, "that was the last try") {
		t.Fatalf("answer %q", a)
	}
	if a := answers("a sixth try", wrong); !strings.HasPrefix(a, cardgate.ERATELIMITED) {
		t.Fatalf("answer %q", a)
	}
	answers("asking again", func(p string) error { return f.svc.Start(ctx, p, "c") })
	f.clock.t = f.clock.t.Add(signin.DefaultCodeTTL)
	if a := answers("an expired code", wrong); !strings.Contains(a, "expired") {
		t.Fatalf("answer %q", a)
	}
	if n := f.sent(); n != 1 {
		t.Fatalf("%d numbers were sent codes, want Alice's only", n)
	}
}

// Asking for a code does the same work for a number with an account and
// one without: the code is stored for both, and the sender, which may take
// long (an SMS gateway), runs in the background. The medians of many
// requests, in a shuffled order, must be close; before the fix the registered number
// paid the store write and the send, several times the unknown one's time.
func TestStartTakesTheSameTimeForEveryNumber(t *testing.T) {
	f := setup(t, func(c *signin.Config) {
		c.PhoneLimit = ratelimit.Per(1000, time.Second, 1000)
		c.ClientLimit = ratelimit.Per(1000, time.Second, 1000)
	})
	f.out.delay = 5 * time.Millisecond
	ctx := t.Context()
	const n = 60
	var known, unknown []time.Duration
	timed := func(phone string) time.Duration {
		start := time.Now()
		if err := f.svc.Start(ctx, phone, "c"); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	// In a shuffled order, not alternating: the background send of one
	// request ends during a later one, and with a fixed pattern always in
	// a request of the same kind.
	kinds := make([]bool, 2*n)
	for i := range n {
		kinds[i] = true
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	for _, isKnown := range kinds {
		if isKnown {
			known = append(known, timed(alicePhone))
		} else {
			unknown = append(unknown, timed("+14155550199"))
		}
	}
	f.svc.Wait()
	mk, mu := median(known), median(unknown)
	if ratio := float64(max(mk, mu)) / float64(min(mk, mu)); ratio > 1.5 {
		t.Fatalf("median time to ask for a code: %v with an account, %v without (ratio %.2f, want <= 1.5)", mk, mu, ratio)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// The limits are token buckets; this is their worst case, the figures
// docs/cards.md gives: a number gets at most 3 codes at once and one more
// every 200 s (6 in any 10 minutes, 21 in an hour); an address makes at
// most 20 sign-in calls at once and one more every 10 s (80 in 10 minutes,
// 380 in an hour).
func TestLimitsWorstCase(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	start := f.clock.t
	// count makes calls every 10 s through the window, at each moment
	// until one is refused, and returns how many were allowed.
	count := func(window time.Duration, call func(i int) error) int {
		f.clock.t = start
		n, i := 0, 0
		for ; !f.clock.t.After(start.Add(window)); f.clock.t = f.clock.t.Add(10 * time.Second) {
			for ; ; i++ {
				err := call(i)
				if err == nil {
					n++
					continue
				}
				if cardgate.ErrorCode(err) != cardgate.ERATELIMITED {
					t.Fatal(err)
				}
				i++
				break
			}
		}
		start = f.clock.t.Add(24 * time.Hour) // the next count starts with full buckets
		return n
	}
	// Per number: every call from another address, so that only the
	// number's own limit holds it back.
	codes := func(i int) error { return f.svc.Start(ctx, alicePhone, fmt.Sprintf("10.0.%d.%d", i/256, i%256)) }
	if n := count(10*time.Minute, codes); n != 6 {
		t.Errorf("%d codes for one number in 10 minutes, want 6", n)
	}
	if n := count(time.Hour, codes); n != 21 {
		t.Errorf("%d codes for one number in an hour, want 21", n)
	}
	// Per address: codes tried, which count as asking for them does; a
	// call the limit lets through finds no code waiting.
	calls := func(i int) error {
		_, err := f.svc.Verify(ctx, "+14155550188", "123456", "10.9.9.9")
		if cardgate.ErrorCode(err) == cardgate.EUNAUTHORIZED {
			return nil
		}
		return err
	}
	if n := count(10*time.Minute, calls); n != 80 {
		t.Errorf("%d sign-in calls from one address in 10 minutes, want 80", n)
	}
	if n := count(time.Hour, calls); n != 380 {
		t.Errorf("%d sign-in calls from one address in an hour, want 380", n)
	}
}

// countingStore counts the session reads that reach the store.
type countingStore struct {
	signin.Store
	mu    sync.Mutex
	reads int
}

func (s *countingStore) Session(ctx context.Context, idHash []byte) (*cardgate.Session, error) {
	s.mu.Lock()
	s.reads++
	s.mu.Unlock()
	return s.Store.Session(ctx, idHash)
}

func (s *countingStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// A session found valid is reused for SessionCacheTTL (1 s) without
// reading the store; sign-out and Invalidate through the Service end it at
// once, a session deleted or a user disabled by another process (straight
// in the store) within the TTL.
func TestLookupCachesSession(t *testing.T) {
	var cs *countingStore
	f := setup(t, func(c *signin.Config) { cs = &countingStore{Store: c.Store}; c.Store = cs })
	ctx := t.Context()
	lookup := func(tok string) error {
		t.Helper()
		u, err := f.svc.Lookup(ctx, tok)
		if err == nil && u.ID != alice {
			t.Fatalf("Lookup = %s", u.ID)
		}
		return err
	}
	newSession := func() string {
		t.Helper()
		s, err := f.svc.NewSession(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		return s.Token
	}

	tok := newSession()
	for range 3 {
		if err := lookup(tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := cs.count(); n != 1 {
		t.Fatalf("3 lookups within the TTL read the store %d times, want 1", n)
	}

	// Sign-out ends it at once.
	if err := f.svc.End(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantErr(t, lookup(tok), cardgate.EUNAUTHORIZED, "sign in again")

	// Another process deletes the session: seen within the TTL.
	tok = newSession()
	if err := lookup(tok); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteSession(ctx, sha(tok)); err != nil {
		t.Fatal(err)
	}
	if err := lookup(tok); err != nil {
		t.Fatalf("within the TTL: %v (the cached session should still be served)", err)
	}
	f.clock.t = f.clock.t.Add(signin.DefaultSessionCacheTTL)
	wantErr(t, lookup(tok), cardgate.EUNAUTHORIZED, "sign in again")

	// Another process disables the user: seen within the TTL, or at once
	// after Invalidate.
	for _, invalidate := range []bool{false, true} {
		if err := f.store.SetUserDisabled(ctx, alice, false, f.clock.t); err != nil {
			t.Fatal(err)
		}
		tok = newSession()
		if err := lookup(tok); err != nil {
			t.Fatal(err)
		}
		if err := f.store.SetUserDisabled(ctx, alice, true, f.clock.t); err != nil {
			t.Fatal(err)
		}
		if invalidate {
			f.svc.Invalidate()
		} else {
			f.clock.t = f.clock.t.Add(signin.DefaultSessionCacheTTL)
		}
		wantErr(t, lookup(tok), cardgate.EUNAUTHORIZED, "sign in again")
	}

	// A cached session still ends when the session does.
	if err := f.store.SetUserDisabled(ctx, alice, false, f.clock.t); err != nil {
		t.Fatal(err)
	}
	tok = newSession()
	f.clock.t = f.clock.t.Add(signin.DefaultSessionTTL - time.Millisecond)
	if err := lookup(tok); err != nil {
		t.Fatal(err)
	}
	f.clock.t = f.clock.t.Add(time.Millisecond)
	wantErr(t, lookup(tok), cardgate.EUNAUTHORIZED, "sign in again")
}

// With SessionCacheTTL < 0 every lookup reads the store.
func TestLookupCacheOff(t *testing.T) {
	var cs *countingStore
	f := setup(t, func(c *signin.Config) { cs = &countingStore{Store: c.Store}; c.Store = cs; c.SessionCacheTTL = -1 })
	s, _ := f.svc.NewSession(t.Context(), alice)
	f.svc.Lookup(t.Context(), s.Token)
	f.svc.Lookup(t.Context(), s.Token)
	if n := cs.count(); n != 2 {
		t.Fatalf("store read %d times, want 2", n)
	}
}

func sha(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

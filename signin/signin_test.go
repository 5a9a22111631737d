package signin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/ratelimit"
	"github.com/cardgate/cardgate/signin"
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
}

func (o *outbox) SendCode(_ context.Context, phone, code string) error {
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
	code := f.out.code(t, alicePhone)
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
	code := f.out.code(t, alicePhone)
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
	right := f.out.code(t, alicePhone)
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
	right := f.out.code(t, alicePhone)
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
	if _, err := f.svc.Verify(ctx, alicePhone, f.out.code(t, alicePhone), "c"); err != nil {
		t.Fatal(err)
	}
}

func TestExpiredCode(t *testing.T) {
	f := setup(t)
	ctx := t.Context()
	f.svc.Start(ctx, alicePhone, "c")
	code := f.out.code(t, alicePhone)
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
	if len(f.out.codes) != 0 {
		t.Fatalf("sent codes to %v", f.out.codes)
	}
	err := f.svc.Start(t.Context(), "415 555", "c")
	wantErr(t, err, cardgate.EINVALID, "phoneNumber: must be a number in international form")
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
		if _, err := f.svc.Verify(t.Context(), alicePhone, f.out.code(t, alicePhone), "10.0.0.10"); err != nil {
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
	if len(f.out.codes) != 0 {
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

func TestSenderFailure(t *testing.T) {
	f := setup(t)
	f.out.fail = errors.New("gateway down")
	err := f.svc.Start(t.Context(), alicePhone, "c")
	wantErr(t, err, cardgate.EUNAVAILABLE, "could not be sent")
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
	if len(f.out.codes) != 0 {
		t.Fatal("a code was sent without a rate limit")
	}
	_, err = f.svc.Verify(t.Context(), alicePhone, "123456", "c")
	wantErr(t, err, cardgate.EUNAVAILABLE, "sign-in is unavailable")
}

package verify_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardgate/cardgate/verify"
)

// fakeUserinfo is an issuer's /v1/users/me that counts its calls, accepts
// tokens until told to refuse them, and can be held to answer late.
type fakeUserinfo struct {
	calls   atomic.Int64
	refuse  atomic.Bool
	holding atomic.Bool // each call waits for release to be closed
	release chan struct{}
	url     string
}

func newFakeUserinfo(t *testing.T) *fakeUserinfo {
	f := &fakeUserinfo{release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		if f.holding.Load() {
			<-f.release
		}
		if f.refuse.Load() {
			http.Error(w, `{"error":{"code":"invalid_token","message":"token revoked"}}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"name":"Alice","phoneNumber":"+14155550101","pictureUrl":"","actionPackageId":%q}`, alice, orders)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL + "/v1/users/me"
	return f
}

// waitCalls waits until the issuer has had n calls, and fails if it gets
// fewer in 5 s.
func (f *fakeUserinfo) waitCalls(t *testing.T, n int64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); f.calls.Load() < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the issuer had %d calls, want %d", f.calls.Load(), n)
		}
	}
}

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Set(d time.Duration, from time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = from.Add(d)
}

// newRenewing returns a Remote with a TTL of 3 s on a fake issuer, and the
// clock it reads, set at start.
func newRenewing(t *testing.T, start time.Time) (*fakeUserinfo, *verify.Remote, *testClock, time.Time) {
	f := newFakeUserinfo(t)
	clock := &testClock{now: start}
	r, err := verify.NewRemote(verify.RemoteConfig{UserinfoURL: f.url, TTL: 3 * time.Second, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return f, r, clock, start
}

// TestRemoteRenewsAhead: a token in use is asked about again in the last
// third of its entry's TTL, in the background, so that when the first
// answer's TTL ends its requests are answered from the renewed entry
// without waiting for the issuer; renewing is one call however many
// requests want it.
func TestRemoteRenewsAhead(t *testing.T) {
	f, r, clock, start := newRenewing(t, time.Now())
	ctx := context.Background()
	check := func(at time.Duration) {
		t.Helper()
		clock.Set(at, start)
		if id, err := r.Verify(ctx, "opaque-token"); err != nil || id.UserID != alice {
			t.Fatalf("at %v: %+v, %v", at, id, err)
		}
	}
	check(0)
	check(time.Second) // two thirds of the TTL left: no call
	verifyOnce := func() {
		if _, err := r.Verify(ctx, "opaque-token"); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(100, verifyOnce)
	if allocs != 1 {
		t.Errorf("a cached check made %v allocations, want 1: the identity it returns", allocs)
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("%d calls to the issuer in the first two thirds of the TTL, want 1", n)
	}
	check(2500 * time.Millisecond) // answered from the cache, renewed behind
	f.waitCalls(t, 2)
	if !r.WaitRenewals(5 * time.Second) {
		t.Fatal("the renewal did not end in 5 s")
	}
	misses := r.Stats().Misses
	check(3500 * time.Millisecond) // past the first answer's TTL, within the renewed one's
	if n, m := f.calls.Load(), r.Stats().Misses; n != 2 || m != misses {
		t.Errorf("after the renewal, a check past the first TTL made %d calls in all and %d misses, want 2 and %d: it waited for the issuer", n, m, misses)
	}

	// In the renewed entry's last third, many checks at once: one call.
	f.holding.Store(true)
	clock.Set(5*time.Second, start)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Verify(ctx, "opaque-token"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait() // none of them waited for the held call
	f.waitCalls(t, 3)
	if a := testing.AllocsPerRun(100, verifyOnce); a != allocs {
		t.Errorf("a cached check while its renewal runs made %v allocations, want %v as outside the window", a, allocs)
	}
	close(f.release)
	if !r.WaitRenewals(5 * time.Second) {
		t.Fatal("the renewal did not end in 5 s")
	}
	if n := f.calls.Load(); n != 3 {
		t.Errorf("50 checks in the last third of the TTL made %d renewals, want 1", n-2)
	}
}

// TestRemoteRenewalBringsRevocation: a renewal that finds the token
// revoked ends its entry at once: the revocation arrives before the TTL of
// the last good answer ends, never later.
func TestRemoteRenewalBringsRevocation(t *testing.T) {
	f, r, clock, start := newRenewing(t, time.Now())
	ctx := context.Background()
	if _, err := r.Verify(ctx, "opaque-token"); err != nil {
		t.Fatal(err)
	}
	f.refuse.Store(true) // revoked at the issuer
	clock.Set(2500*time.Millisecond, start)
	if _, err := r.Verify(ctx, "opaque-token"); err != nil {
		t.Fatalf("within the TTL of the good answer: %v, want it accepted", err)
	}
	f.waitCalls(t, 2)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		_, err := r.Verify(ctx, "opaque-token")
		if errors.Is(err, verify.ErrInvalid) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the renewal found the token revoked: %v, want ErrInvalid", err)
		}
	}
}

// TestRemoteNoRenewalAtTheTokensEnd: an entry that ends with its token's
// life (exp) is not renewed: the token will not be good after it.
func TestRemoteNoRenewalAtTheTokensEnd(t *testing.T) {
	f, r, clock, start := newRenewing(t, time.Now().Truncate(time.Second))
	b64 := base64.RawURLEncoding.EncodeToString
	tok := b64([]byte(`{"alg":"EdDSA"}`)) + "." + b64(fmt.Appendf(nil, `{"exp":%d}`, start.Add(2*time.Second).Unix())) + ".sig"
	ctx := context.Background()
	for _, at := range []time.Duration{0, 1500 * time.Millisecond, 1900 * time.Millisecond} {
		clock.Set(at, start)
		if _, err := r.Verify(ctx, tok); err != nil {
			t.Fatalf("at %v: %v", at, err)
		}
	}
	r.WaitRenewals(5 * time.Second)
	if n := f.calls.Load(); n != 1 {
		t.Errorf("%d calls for a token whose entry ends with its life, want 1", n)
	}
}

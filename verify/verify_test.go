package verify_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/issuer"
	"github.com/cardgate/cardgate/token"
	"github.com/cardgate/cardgate/verify"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func forge(t *testing.T, alg jose.SignatureAlgorithm, key any, kid, iss string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType(token.Type).WithHeader("kid", kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	raw, err := jwt.Signed(s).Claims(map[string]any{"iss": iss, "sub": alice, "apid": orders, "jti": "forged",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(30 * time.Minute).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Every token invariant 2 lists is rejected in both modes and by the
// middleware, with the kind of error a service can branch on.
func TestRejectsInBothModes(t *testing.T) {
	e := newIssuer(t)
	ctx := context.Background()
	kid := e.svc.Keys().Signer().KeyID()
	pub, _ := e.svc.Keys().PublicKey(kid)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	good := e.mint(t, alice, orders)
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString

	e.clock.Shift(-2 * time.Hour)
	expired := e.mint(t, alice, orders)
	e.clock.Shift(2*time.Hour + 10*time.Minute)
	future := e.mint(t, alice, orders)
	e.clock.Reset()
	revoked := e.mint(t, alice, orders)
	c, _ := (&token.Verifier{Issuer: e.svc.Issuer(), Keys: e.svc.Keys()}).Verify(revoked)
	e.svc.RevokeToken(ctx, c.ID, c.ExpiresAt)
	bobs := e.mint(t, bob, orders)
	e.svc.SetUserDisabled(ctx, bob, true)
	surveys := e.mint(t, alice, survey)
	e.svc.SetPackageDisabled(ctx, survey, true)

	tests := []struct {
		name  string
		tok   string
		kinds []error // accepted kinds: remote mode cannot tell revoked from invalid
	}{
		{"garbage", "not-a-token", []error{verify.ErrInvalid}},
		{"forged signature", parts[0] + "." + parts[1] + "." + b64(make([]byte, 64)), []error{verify.ErrInvalid}},
		{"re-signed with another key", forge(t, jose.EdDSA, other, kid, e.svc.Issuer()), []error{verify.ErrInvalid}},
		{"alg none", b64([]byte(`{"alg":"none","kid":"`+kid+`","typ":"`+token.Type+`"}`)) + "." + parts[1] + ".", []error{verify.ErrInvalid}},
		{"HMAC with the public key", forge(t, jose.HS256, []byte(pub), kid, e.svc.Issuer()), []error{verify.ErrInvalid}},
		{"other issuer", forge(t, jose.EdDSA, other, "other-kid", "https://evil.example"), []error{verify.ErrInvalid}},
		{"expired", expired, []error{verify.ErrExpired}},
		{"not yet valid", future, []error{verify.ErrExpired, verify.ErrInvalid}},
		{"revoked", revoked, []error{verify.ErrRevoked, verify.ErrInvalid}},
		{"disabled user", bobs, []error{verify.ErrRevoked, verify.ErrInvalid}},
		{"disabled package", surveys, []error{verify.ErrRevoked, verify.ErrInvalid}},
	}
	modes := map[string]verify.Verifier{
		"remote": e.remote(t, verify.RemoteConfig{}),
		"local":  e.local(t, verify.LocalConfig{}),
	}
	for mode, v := range modes {
		srv, _ := serve(t, v)
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				id, err := v.Verify(ctx, tt.tok)
				if id != nil || err == nil {
					t.Fatalf("accepted: %+v", id)
				}
				ok := false
				for _, k := range tt.kinds {
					ok = ok || errors.Is(err, k)
				}
				if !ok {
					t.Errorf("err = %v, want one of %v", err, tt.kinds)
				}
				if cardgate.ErrorCode(err) != cardgate.EINVALIDTOKEN {
					t.Errorf("code = %s", cardgate.ErrorCode(err))
				}
				req, _ := http.NewRequest("GET", srv.URL, nil)
				req.Header.Set("accessToken", tt.tok)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("middleware: %d, want 401 with WWW-Authenticate", res.StatusCode)
				}
			})
		}
		if id, err := v.Verify(ctx, good); err != nil || id.UserID != alice || id.ActionPackageID != orders {
			t.Errorf("%s: good token: %+v %v", mode, id, err)
		}
	}
	// Remote mode also returns the profile.
	if id, _ := modes["remote"].Verify(ctx, good); id.Name != "User 6f1c" || id.ExpiresAt.IsZero() {
		t.Errorf("remote identity = %+v", id)
	}
}

func TestPolicyPackageAIsNotPackageB(t *testing.T) {
	e := newIssuer(t)
	srv, _ := serve(t, e.remote(t, verify.RemoteConfig{}), verify.AllowPackages(survey))
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Authorization", "Bearer "+e.mint(t, alice, orders))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 403 || !strings.Contains(string(body), `"Forbidden"`) {
		t.Fatalf("package A on a B-only service: %d %s", res.StatusCode, body)
	}
	req.Header.Set("Authorization", "Bearer "+e.mint(t, alice, survey))
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != 200 {
		t.Errorf("package B: %d", res.StatusCode)
	}
}

func TestOneIssuerCallForAThousandConcurrentRequests(t *testing.T) {
	e := newIssuer(t)
	srv, _ := serve(t, e.remote(t, verify.RemoteConfig{}))
	tok := e.mint(t, alice, orders)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200, MaxConnsPerHost: 200}}
	var wg sync.WaitGroup
	start := make(chan struct{})
	failures := make(chan int, 1000)
	for range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest("GET", srv.URL, nil)
			req.Header.Set("accessToken", tok)
			res, err := client.Do(req)
			if err != nil {
				failures <- -1
				return
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				failures <- res.StatusCode
			}
		}()
	}
	close(start)
	wg.Wait()
	close(failures)
	for s := range failures {
		t.Errorf("a request failed: %d", s)
	}
	if n := e.meCalls.Load(); n != 1 {
		t.Errorf("%d calls to /v1/users/me for one token, want 1", n)
	}
}

func TestIssuerDown(t *testing.T) {
	e := newIssuer(t)
	ctx := context.Background()
	remote := e.remote(t, verify.RemoteConfig{})
	local := e.local(t, verify.LocalConfig{RevocationInterval: 50 * time.Millisecond, MaxStaleness: 300 * time.Millisecond})
	known, unknown := e.mint(t, alice, orders), e.mint(t, bob, orders)
	for _, v := range []verify.Verifier{remote, local} {
		if _, err := v.Verify(ctx, known); err != nil {
			t.Fatal(err)
		}
	}
	// Ping, the readiness probe: both ready while the issuer answers.
	if err := remote.Ping(ctx); err != nil {
		t.Errorf("remote Ping with the issuer up: %v", err)
	}
	if err := local.Ping(ctx); err != nil {
		t.Errorf("local Ping with the issuer up: %v", err)
	}
	e.srv.Close()
	if err := remote.Ping(ctx); !errors.Is(err, verify.ErrUnavailable) {
		t.Errorf("remote Ping with the issuer down: %v, want ErrUnavailable", err)
	}

	if _, err := remote.Verify(ctx, known); err != nil {
		t.Errorf("remote, cached token with the issuer down: %v", err)
	}
	_, err := remote.Verify(ctx, unknown)
	if !errors.Is(err, verify.ErrUnavailable) || cardgate.ErrorCode(err) != cardgate.EUNAVAILABLE {
		t.Errorf("remote, unknown token with the issuer down: %v, want ErrUnavailable (503)", err)
	}
	if strings.Contains(fmt.Sprint(err), unknown) {
		t.Error("the error holds the token")
	}
	// Local mode keeps verifying offline while its revocation list is
	// fresh, and fails closed once it is stale.
	if _, err := local.Verify(ctx, unknown); err != nil {
		t.Errorf("local, just after the issuer went down: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := local.Verify(ctx, known); !errors.Is(err, verify.ErrUnavailable) {
		t.Errorf("local, revocation feed stale: %v, want ErrUnavailable", err)
	}
	if err := local.Ping(ctx); !errors.Is(err, verify.ErrUnavailable) || !strings.Contains(err.Error(), "revocation feed") {
		t.Errorf("local Ping, revocation feed stale: %v, want ErrUnavailable naming the feed", err)
	}
}

// A URL that answers but is no issuer's /v1/users/me is not ready either:
// only a 401 to a request without a token is an issuer's answer. A 5xx is
// an issuer that is unavailable.
func TestRemotePingNotAnIssuer(t *testing.T) {
	for _, status := range []int{404, 403, 200, 502} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
		r, err := verify.NewRemote(verify.RemoteConfig{UserinfoURL: srv.URL + "/v1/users/me"})
		if err != nil {
			t.Fatal(err)
		}
		err = r.Ping(context.Background())
		if err == nil || !strings.Contains(err.Error(), strconv.Itoa(status)) {
			t.Errorf("Ping of a %d: %v, want an error naming the %d", status, err, status)
		}
		if unavailable := errors.Is(err, verify.ErrUnavailable); unavailable != (status >= 500) {
			t.Errorf("Ping of a %d: %v, ErrUnavailable %v", status, err, unavailable)
		}
		srv.Close()
	}
}

func TestRevocationReachesEachMode(t *testing.T) {
	e := newIssuer(t)
	ctx := context.Background()
	remote := e.remote(t, verify.RemoteConfig{TTL: 300 * time.Millisecond})
	local := e.local(t, verify.LocalConfig{RevocationInterval: 50 * time.Millisecond})
	tok := e.mint(t, alice, orders)
	for _, v := range []verify.Verifier{remote, local} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.RevokeUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		v      verify.Verifier
		within time.Duration
		want   error
	}{
		"local":  {local, time.Second, verify.ErrRevoked},
		"remote": {remote, 2 * time.Second, verify.ErrInvalid},
	} {
		deadline := time.Now().Add(tc.within)
		for {
			_, err := tc.v.Verify(ctx, tok)
			if errors.Is(err, tc.want) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: still %v after %v", name, err, tc.within)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestRotationUnderLoad rotates the issuer's key while clients mint and
// check tokens through Local and Remote without pause: the new key is
// published before it signs, and Local reads the keys more often than
// that, so not one valid token is refused, and none needs an unknown-kid
// fetch.
func TestRotationUnderLoad(t *testing.T) {
	e := newIssuer(t)
	ctx := context.Background()
	local := e.local(t, verify.LocalConfig{KeyRefreshInterval: 50 * time.Millisecond})
	remote := e.remote(t, verify.RemoteConfig{})
	oldKid := e.svc.Keys().Signer().KeyID()
	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		checked  atomic.Int64
		failures = make(chan error, 100)
		kids     sync.Map
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				raw, _, err := e.svc.Mint(ctx, alice, orders)
				if err != nil {
					failures <- err
					return
				}
				kids.Store(kidOf(raw), true)
				for _, v := range []verify.Verifier{local, remote} {
					if _, err := v.Verify(ctx, raw); err != nil {
						select {
						case failures <- fmt.Errorf("%T: %w", v, err):
						default:
						}
					}
				}
				checked.Add(1)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	k, err := e.svc.RotateKey(ctx, 400*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(k.Activation()) + 300*time.Millisecond)
	stop.Store(true)
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error("a valid token was refused:", err)
	}
	if _, ok := kids.Load(k.ID); !ok {
		t.Errorf("no token signed by the new key %s among %d", k.ID, checked.Load())
	}
	if _, ok := kids.Load(oldKid); !ok {
		t.Error("no token signed by the old key")
	}
}

// TestLocalUnknownKidFetchIsLimited: an immediate rotation (a compromised
// key) is the one case where Local meets a kid it does not know; it
// refetches the keys then, but at most once per 10 s, so that junk kids
// cannot hammer the issuer.
func TestLocalUnknownKidFetchIsLimited(t *testing.T) {
	e := newIssuer(t)
	ctx := context.Background()
	now := time.Now()
	var mu sync.Mutex
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	local := e.local(t, verify.LocalConfig{Now: clk})
	old := e.mint(t, alice, orders)
	if _, err := e.svc.RotateKey(ctx, 0); err != nil {
		t.Fatal(err)
	}
	fresh := e.mint(t, alice, orders)
	if _, err := local.Verify(ctx, old); err != nil {
		t.Errorf("token of the old key: %v", err)
	}
	if _, err := local.Verify(ctx, fresh); !errors.Is(err, verify.ErrInvalid) {
		t.Errorf("new key within the refresh limit: %v", err)
	}
	mu.Lock()
	now = now.Add(11 * time.Second)
	mu.Unlock()
	if id, err := local.Verify(ctx, fresh); err != nil || id.UserID != alice {
		t.Errorf("token of the new key after the limit: %v", err)
	}
}

func kidOf(raw string) string {
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	var h struct{ Kid string }
	json.Unmarshal(b, &h)
	return h.Kid
}

func TestBodyFieldLeavesTheBody(t *testing.T) {
	e := newIssuer(t)
	tok := e.mint(t, alice, orders)
	var got []byte
	h := verify.Middleware(e.remote(t, verify.RemoteConfig{}), verify.BodyField("integrationToken", 1024))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got, _ = io.ReadAll(r.Body) }))
	body := []byte(`{"sku":"P-100","integrationToken":"` + tok + `","quantity":2}`)
	req, _ := http.NewRequest("POST", "/orders", bytes.NewReader(body))
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, req)
	if rec.status != 0 && rec.status != 200 {
		t.Fatalf("status %d", rec.status)
	}
	if !bytes.Equal(got, body) {
		t.Errorf("handler got %q, want the body as sent", got)
	}
	big := append([]byte(`{"integrationToken":"`+tok+`","pad":"`), bytes.Repeat([]byte("x"), 2000)...)
	req, _ = http.NewRequest("POST", "/orders", bytes.NewReader(append(big, '"', '}')))
	rec = &recorder{header: http.Header{}}
	h.ServeHTTP(rec, req)
	if rec.status != 413 {
		t.Errorf("body over the limit: %d, want 413", rec.status)
	}
}

type recorder struct {
	header http.Header
	status int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(s int)           { r.status = s }

// Junk tokens fill only the cache of rejections, which is bounded apart:
// memory stays flat however many arrive, and they never push out a token
// that was accepted.
func TestJunkTokensKeepMemoryBounded(t *testing.T) {
	e := newIssuer(t)
	// A TTL far above the time the junk takes, even under -race on a busy
	// machine: the good token must still be cached at the end.
	r := e.remote(t, verify.RemoteConfig{CacheSize: 100, NegativeCacheSize: 50, TTL: 10 * time.Minute})
	good := e.mint(t, alice, orders)
	if _, err := r.Verify(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		if _, err := r.Verify(context.Background(), fmt.Sprintf("junk-%d", i)); !errors.Is(err, verify.ErrInvalid) {
			t.Fatalf("junk token: %v", err)
		}
	}
	if n := r.Len(); n > 51 {
		t.Errorf("caches hold %d entries, want the good token and at most 50 rejections", n)
	}
	hits := r.Stats().Hits
	if _, err := r.Verify(context.Background(), good); err != nil || r.Stats().Hits != hits+1 {
		t.Errorf("the accepted token after the junk: %v, hit %v", err, r.Stats().Hits == hits+1)
	}
}

// Local caches nothing for a token whose signature fails: with room for
// two tokens, a thousand junk ones never push out the one that passed.
func TestLocalJunkTakesNoCacheSlot(t *testing.T) {
	e := newIssuer(t)
	l := e.local(t, verify.LocalConfig{CacheSize: 2})
	ctx := context.Background()
	good := e.mint(t, alice, orders)
	if _, err := l.Verify(ctx, good); err != nil {
		t.Fatal(err)
	}
	head := good[:strings.LastIndex(good, ".")+1]
	for i := range 1000 {
		sig := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 32))
		for _, junk := range []string{fmt.Sprintf("junk-%d", i), head + sig} {
			if _, err := l.Verify(ctx, junk); !errors.Is(err, verify.ErrInvalid) {
				t.Fatalf("junk token: %v", err)
			}
		}
	}
	hits := l.Stats().Hits
	if _, err := l.Verify(ctx, good); err != nil || l.Stats().Hits != hits+1 {
		t.Errorf("the good token after the junk: %v, a cache hit: %v", err, l.Stats().Hits == hits+1)
	}
}

// TestDeps keeps verify free of database drivers: services import it.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	// database/sql/driver (interfaces only, through uuid) is fine;
	// database/sql itself, or any driver, is not.
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "database/sql" || strings.HasPrefix(pkg, "modernc.org/sqlite") || strings.HasPrefix(pkg, "github.com/jackc/") ||
			strings.HasPrefix(pkg, "github.com/redis/") || strings.HasPrefix(pkg, "github.com/lib/pq") {
			t.Errorf("verify depends on %s", pkg)
		}
	}
}

// TestConfigBounds: settings that would break the revocation and rotation
// promises, or make no sense, are refused when the verifier is made.
func TestConfigBounds(t *testing.T) {
	e := newIssuer(t)
	for _, cfg := range []verify.RemoteConfig{{TTL: -time.Second}, {TTL: 31 * time.Minute}, {NegativeTTL: -time.Second}} {
		cfg.UserinfoURL = e.srv.URL + "/v1/users/me"
		if _, err := verify.NewRemote(cfg); err == nil {
			t.Errorf("NewRemote(%+v) succeeded", cfg)
		}
	}
	for _, cfg := range []verify.LocalConfig{
		{KeyRefreshInterval: verify.MaxKeyRefreshInterval + time.Second},
		{RevocationInterval: time.Second, MaxStaleness: time.Second},
		{RevocationInterval: -time.Second},
	} {
		cfg.Issuer, cfg.APIKey = e.svc.Issuer(), e.rsKey
		if l, err := verify.NewLocal(context.Background(), cfg); err == nil {
			l.Close()
			t.Errorf("NewLocal(%+v) succeeded", cfg)
		}
	}
}

// MaxStaleness defaults to 30 s, or to 3 revocation intervals when that is
// longer, as docs/verify.md says; Ping (and Verify) fail past it. The
// verifier's clock is moved, not waited for; the intervals are long enough
// that no background read happens during the test.
func TestLocalMaxStalenessDefault(t *testing.T) {
	e := newIssuer(t)
	tok := e.mint(t, alice, orders)
	for _, tc := range []struct {
		interval, want time.Duration
	}{
		{0, 30 * time.Second},                // DefaultRevocationInterval (2 s): 30 s
		{20 * time.Second, 60 * time.Second}, // 3 × 20 s
	} {
		var off atomic.Int64
		now := func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
		l := e.local(t, verify.LocalConfig{RevocationInterval: tc.interval, Now: now})
		off.Store(int64(tc.want - time.Second))
		if err := l.Ping(context.Background()); err != nil {
			t.Errorf("interval %v: Ping %v after the last read: %v", tc.interval, tc.want-time.Second, err)
		}
		if _, err := l.Verify(context.Background(), tok); err != nil {
			t.Errorf("interval %v: Verify %v after the last read: %v", tc.interval, tc.want-time.Second, err)
		}
		off.Store(int64(tc.want + time.Second))
		if err := l.Ping(context.Background()); !errors.Is(err, verify.ErrUnavailable) {
			t.Errorf("interval %v: Ping %v after the last read: %v, want ErrUnavailable", tc.interval, tc.want+time.Second, err)
		}
		if _, err := l.Verify(context.Background(), tok); !errors.Is(err, verify.ErrUnavailable) {
			t.Errorf("interval %v: Verify %v after the last read: %v, want ErrUnavailable", tc.interval, tc.want+time.Second, err)
		}
	}
}

// Profile fills in what a Local identity lacks from the issuer, and refuses
// an answer for another user or card than the identity's.
func TestLocalProfile(t *testing.T) {
	e := newIssuer(t)
	ctx := context.Background()
	local := e.local(t, verify.LocalConfig{})
	remote := e.remote(t, verify.RemoteConfig{})
	tok := e.mint(t, alice, orders)
	id, err := local.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if id.Name != "" || id.PhoneNumber != "" {
		t.Fatalf("a Local identity with a profile: %+v", id)
	}
	if err := local.Profile(ctx, remote, tok, id); err != nil {
		t.Fatal(err)
	}
	if id.UserID != alice || id.Name != "User "+alice[:4] || id.PhoneNumber != "+14155550101" {
		t.Errorf("after Profile: %+v", id)
	}
	other := &verify.Identity{UserID: bob, ActionPackageID: orders}
	if err := local.Profile(ctx, remote, tok, other); !errors.Is(err, verify.ErrInvalid) {
		t.Errorf("Profile of another user's identity with alice's token: %v, want ErrInvalid", err)
	}
	if other.Name != "" {
		t.Errorf("the other identity was filled in: %+v", other)
	}
}

// Entries that have expired leave the cache as new ones come, so that its
// size follows the tokens of the last TTL, not every token ever seen.
func TestRemoteDropsExpiredEntries(t *testing.T) {
	e := newIssuer(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r := e.remote(t, verify.RemoteConfig{Now: clock})
	check := func(n int) {
		for range n {
			if _, err := r.Verify(context.Background(), e.mint(t, alice, orders)); err != nil {
				t.Fatal(err)
			}
		}
	}
	check(50)
	if n := r.Len(); n != 50 {
		t.Fatalf("%d entries, want 50", n)
	}
	mu.Lock()
	now = now.Add(verify.DefaultRemoteTTL)
	mu.Unlock()
	check(30)
	if n := r.Len(); n != 30 {
		t.Errorf("%d entries after the first 50 expired and 30 more came, want 30", n)
	}
}

// TestLocalRefusesMintJustAfterDisable is the audit's case: a user or
// package disabled by another process (the CLI, straight to the store) while
// a running issuer still holds "enabled" in its mint cache (StateCacheTTL,
// 1 s) gets a token with an iat in the second after the disable. The
// issuer's /v1/users/me refuses it (it reads the disabled flag), and Local,
// which knows only the feed's cut-off, must refuse it too, not accept it
// for 30 minutes.
func TestLocalRefusesMintJustAfterDisable(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		disable func(s cardgate.Store, at time.Time) error
	}{
		{"user", func(s cardgate.Store, at time.Time) error { return s.SetUserDisabled(ctx, alice, true, at) }},
		{"package", func(s cardgate.Store, at time.Time) error { return s.SetPackageDisabled(ctx, orders, true, at) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newIssuer(t)
			// The running issuer, with the default state cache; e.svc (cache
			// off) answers /v1/users/me.
			running, err := issuer.NewService(issuer.Config{Issuer: e.svc.Issuer(), Store: e.svc.Store(), Keys: e.svc.Keys(), Now: e.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			now := e.clock.Now()
			e.clock.Shift(now.Truncate(time.Second).Add(1500 * time.Millisecond).Sub(now)) // at x.5
			if _, _, err := running.Mint(ctx, alice, orders); err != nil {                 // caches "enabled" until x+1.5
				t.Fatal(err)
			}
			disabledAt := e.clock.Now()
			if err := tc.disable(e.svc.Store(), disabledAt); err != nil {
				t.Fatal(err)
			}
			e.clock.Shift(700 * time.Millisecond) // about x+1.2: the cache is still fresh
			raw, c, err := running.Mint(ctx, alice, orders)
			if err != nil {
				t.Fatalf("mint within StateCacheTTL of a disable by another process: %v (the test needs the cached state)", err)
			}
			if c.IssuedAt.Unix() != disabledAt.Unix()+1 {
				t.Fatalf("iat %v, want the second after the disable at %v", c.IssuedAt, disabledAt)
			}
			if _, _, err := e.svc.Check(ctx, raw); err == nil {
				t.Fatal("/v1/users/me accepts the token")
			}
			local := e.local(t, verify.LocalConfig{Now: e.clock.Now}) // reads the whole feed
			if _, err := local.Verify(ctx, raw); !errors.Is(err, verify.ErrRevoked) {
				t.Fatalf("Local: %v, want ErrRevoked", err)
			}
		})
	}
}

// NewRemote refuses a configuration that could never work, at once,
// rather than answering every request 503 later.
func TestNewRemoteRefusesBadConfig(t *testing.T) {
	for _, u := range []string{"", "http://", "http:// not a url", "ftp://id.example.com/v1/users/me", "/v1/users/me", "id.example.com/v1/users/me"} {
		if _, err := verify.NewRemote(verify.RemoteConfig{UserinfoURL: u}); err == nil {
			t.Errorf("UserinfoURL %q accepted", u)
		}
	}
	for _, u := range []string{"https://id.example.com/v1/users/me", "HTTPS://id.example.com/v1/users/me", "http://127.0.0.1:8080/v1/users/me"} {
		if _, err := verify.NewRemote(verify.RemoteConfig{UserinfoURL: u}); err != nil {
			t.Errorf("UserinfoURL %q: %v", u, err)
		}
	}
	if _, err := verify.NewRemote(verify.RemoteConfig{UserinfoURL: "https://id.example.com/v1/users/me", TTL: -time.Second}); err == nil {
		t.Error("a negative TTL accepted")
	}
}

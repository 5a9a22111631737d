package host_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardgate/cardgate/actionpkg"
	"github.com/cardgate/cardgate/host"
	"github.com/cardgate/cardgate/signin"
)

// countingStore counts the manifest reads that reach the store.
type countingStore struct {
	host.Store
	mu    sync.Mutex
	reads int
}

func (s *countingStore) PackageManifest(ctx context.Context, id string) ([]byte, error) {
	s.mu.Lock()
	s.reads++
	s.mu.Unlock()
	return s.Store.PackageManifest(ctx, id)
}

func (s *countingStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// The card's manifest is read once per ManifestCacheTTL, not on every
// mint; a re-import (import --replace) is seen within the TTL (1 s), and a
// disabled package is refused at once (the issuer's Mint decides that).
func TestMintCachesManifest(t *testing.T) {
	var cs *countingStore
	e := newEnvWith(t, false, cardsOrigin, func(h *host.Config, _ *signin.Config) { cs = &countingStore{Store: h.Store}; h.Store = cs })
	b := e.browser(t)
	b.signIn()
	mint := func() []string {
		t.Helper()
		a := b.call("POST", "/host/api/tokens", map[string]string{"actionPackageId": orders})
		if a.status != 201 {
			t.Fatalf("mint: %d %s", a.status, a.raw)
		}
		var urls []string
		for _, u := range a.body["externalUrls"].([]any) {
			urls = append(urls, u.(string))
		}
		return urls
	}
	before := cs.count()
	first := mint()
	mint()
	mint()
	if n := cs.count() - before; n > 1 {
		t.Fatalf("3 mints within the TTL read the manifest %d times, want at most 1", n)
	}

	// Re-import with other externalUrls, as `packages import --replace` does.
	dir := t.TempDir()
	for _, name := range []string{"icon.svg", "index.html", "package.json"} {
		b, err := os.ReadFile(filepath.Join("../actionpkg/testdata/orders", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "package.json" {
			b = []byte(strings.Replace(string(b), `"http://127.0.0.1:8081"`, `"http://127.0.0.1:9091"`, 1))
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := actionpkg.Load(dir, actionpkg.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Import(context.Background(), p, true); err != nil {
		t.Fatal(err)
	}
	want := []string{"http://127.0.0.1:9091"}
	if slices.Equal(first, want) {
		t.Fatalf("externalUrls before the re-import are already %v", first)
	}
	deadline := time.Now().Add(host.DefaultManifestCacheTTL + 500*time.Millisecond)
	for got := mint(); !slices.Equal(got, want); got = mint() {
		if time.Now().After(deadline) {
			t.Fatalf("externalUrls %v %v after the re-import, want %v", got, host.DefaultManifestCacheTTL, want)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A disabled package gets no token, cached manifest or not.
	if err := e.svc.SetPackageDisabled(context.Background(), orders, true); err != nil {
		t.Fatal(err)
	}
	if a := b.call("POST", "/host/api/tokens", map[string]string{"actionPackageId": orders}); a.status != 403 {
		t.Fatalf("mint for a disabled card: %d %s", a.status, a.raw)
	}
}

// Sessions are cached for signin.DefaultSessionCacheTTL, but sign-out and
// a user disabled through the running issuer end them at once.
func TestSessionEndsAtOnceDespiteCache(t *testing.T) {
	e := newEnv(t, false)
	b := e.browser(t)
	b.signIn()
	for range 2 { // the second is served from the cache
		if a := b.call("GET", "/host/api/me", nil); a.status != 200 {
			t.Fatalf("me: %d %s", a.status, a.raw)
		}
	}
	if err := e.svc.SetUserDisabled(context.Background(), alice, true); err != nil {
		t.Fatal(err)
	}
	if a := b.call("GET", "/host/api/me", nil); a.status != 401 {
		t.Fatalf("me right after the user was disabled: %d %s, want 401", a.status, a.raw)
	}
	if err := e.svc.SetUserDisabled(context.Background(), alice, false); err != nil {
		t.Fatal(err)
	}
	b = e.browser(t)
	b.signIn()
	b.call("GET", "/host/api/me", nil)
	cookie := sessionCookie(t, b, e)
	if a := b.call("POST", "/host/api/signout", map[string]string{}); a.status != 204 {
		t.Fatalf("sign out: %d", a.status)
	}
	replay := e.browser(t)
	replay.c.Jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{cookie})
	if a := replay.call("POST", "/host/api/tokens", map[string]string{"actionPackageId": orders}); a.status != 401 {
		t.Fatalf("mint with a signed-out session: %d %s, want 401", a.status, a.raw)
	}
}

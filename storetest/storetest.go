// Package storetest is the conformance suite every cardgate.Store must pass,
// in the manner of testing/fstest.TestFS: each implementation's tests call
// Run with a way to open a fresh, empty store.
package storetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

// Opener opens an empty store and returns it with a function that closes it
// and opens the same underlying database again (to check durability).
type Opener func(t *testing.T) (s cardgate.Store, reopen func() cardgate.Store)

// Times are kept to the microsecond; the suite uses whole milliseconds.
var t0 = time.Date(2026, 11, 25, 9, 30, 0, 123_000_000, time.UTC)

// Run runs every conformance test against stores from open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s cardgate.Store)
	}{
		{"Users", testUsers},
		{"Packages", testPackages},
		{"DisableUser", testDisableUser},
		{"DisablePackage", testDisablePackage},
		{"Clients", testClients},
		{"SigningKeys", testSigningKeys},
		{"Revoke", testRevoke},
		{"Feed", testFeed},
		{"TokenState", testTokenState},
		{"ConcurrentWrites", testConcurrentWrites},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := open(t)
			tt.fn(t, s)
		})
	}
	t.Run("Durable", func(t *testing.T) {
		s, reopen := open(t)
		ctx := context.Background()
		u := user("6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10")
		mustOK(t, s.CreateUser(ctx, u))
		mustOK(t, s.Revoke(ctx, &cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: "j1", At: t0}))
		s2 := reopen()
		got, err := s2.User(ctx, u.ID)
		mustOK(t, err)
		equalUser(t, got, u)
		revs, err := s2.RevocationsSince(ctx, 0, 10)
		if err != nil || len(revs) != 1 {
			t.Fatalf("after reopen: %d revocations, %v", len(revs), err)
		}
	})
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := cardgate.ErrorCode(err); got != code {
		t.Fatalf("err = %v (code %q), want code %q", err, got, code)
	}
}

func user(id string) *cardgate.User {
	return &cardgate.User{ID: id, Name: "Name " + id[:4], PhoneNumber: "+14155550100",
		PictureURL: "https://pics.example/" + id[:4] + ".png", CreatedAt: t0, UpdatedAt: t0}
}

func pkg(id string) *cardgate.ActionPackage {
	return &cardgate.ActionPackage{ID: id, DisplayName: "Card " + id, CreatedAt: t0, UpdatedAt: t0}
}

func equalUser(t *testing.T, got, want *cardgate.User) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.PhoneNumber != want.PhoneNumber ||
		got.PictureURL != want.PictureURL || got.Disabled != want.Disabled ||
		!got.RevokedBefore.Equal(want.RevokedBefore) || !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("user = %+v, want %+v", got, want)
	}
}

const (
	u1 = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"
	u2 = "0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40"
	p1 = "com.contoso.orders"
	p2 = "com.contoso.survey"
)

func testUsers(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	a, b := user(u1), user(u2)
	b.PictureURL = "" // empty stays empty
	b.CreatedAt = t0.Add(time.Second)
	mustOK(t, s.CreateUser(ctx, a))
	mustOK(t, s.CreateUser(ctx, b))
	wantCode(t, s.CreateUser(ctx, user(u1)), cardgate.ECONFLICT)
	got, err := s.User(ctx, u2)
	mustOK(t, err)
	equalUser(t, got, b)
	_, err = s.User(ctx, "11111111-2222-4333-8444-555555555555")
	wantCode(t, err, cardgate.ENOTFOUND)
	all, err := s.Users(ctx)
	mustOK(t, err)
	if len(all) != 2 || all[0].ID != u1 || all[1].ID != u2 {
		t.Fatalf("Users = %v, want u1 then u2", all)
	}
}

func testPackages(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	mustOK(t, s.CreatePackage(ctx, pkg(p1)))
	wantCode(t, s.CreatePackage(ctx, pkg(p1)), cardgate.ECONFLICT)
	got, err := s.Package(ctx, p1)
	mustOK(t, err)
	if got.DisplayName != "Card "+p1 || got.Disabled || !got.CreatedAt.Equal(t0) || !got.RevokedBefore.IsZero() {
		t.Fatalf("package = %+v", got)
	}
	_, err = s.Package(ctx, "com.nope.x")
	wantCode(t, err, cardgate.ENOTFOUND)
	mustOK(t, s.CreatePackage(ctx, pkg(p2)))
	all, err := s.Packages(ctx)
	mustOK(t, err)
	if len(all) != 2 {
		t.Fatalf("Packages = %d, want 2", len(all))
	}
}

func testDisableUser(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	mustOK(t, s.CreateUser(ctx, user(u1)))
	at := t0.Add(time.Minute)
	mustOK(t, s.SetUserDisabled(ctx, u1, true, at))
	got, _ := s.User(ctx, u1)
	if !got.Disabled || !got.RevokedBefore.Equal(at) || !got.UpdatedAt.Equal(at) {
		t.Fatalf("disabled user = %+v", got)
	}
	revs, _ := s.RevocationsSince(ctx, 0, 10)
	if len(revs) != 1 || revs[0].Kind != cardgate.RevokeUser || revs[0].Subject != u1 || !revs[0].At.Equal(at) {
		t.Fatalf("feed after disable = %+v", revs)
	}
	mustOK(t, s.SetUserDisabled(ctx, u1, false, at.Add(time.Minute)))
	got, _ = s.User(ctx, u1)
	if got.Disabled || !got.RevokedBefore.Equal(at) {
		t.Fatalf("enabled again: %+v; want enabled with RevokedBefore kept", got)
	}
	wantCode(t, s.SetUserDisabled(ctx, u2, true, at), cardgate.ENOTFOUND)
	if revs, _ := s.RevocationsSince(ctx, 0, 10); len(revs) != 1 {
		t.Fatalf("a failed disable wrote to the feed: %d entries", len(revs))
	}
}

func testDisablePackage(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	mustOK(t, s.CreatePackage(ctx, pkg(p1)))
	at := t0.Add(time.Minute)
	mustOK(t, s.SetPackageDisabled(ctx, p1, true, at))
	got, _ := s.Package(ctx, p1)
	if !got.Disabled || !got.RevokedBefore.Equal(at) {
		t.Fatalf("disabled package = %+v", got)
	}
	revs, _ := s.RevocationsSince(ctx, 0, 10)
	if len(revs) != 1 || revs[0].Kind != cardgate.RevokePackage || revs[0].Subject != p1 {
		t.Fatalf("feed = %+v", revs)
	}
	wantCode(t, s.SetPackageDisabled(ctx, "com.nope.x", true, at), cardgate.ENOTFOUND)
}

func testClients(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	_, h1 := cardgate.NewAPIKey()
	_, h2 := cardgate.NewAPIKey()
	host := &cardgate.Client{ID: "c1", Name: "web host", Role: cardgate.RoleHost, KeyHash: h1, CreatedAt: t0}
	admin := &cardgate.Client{ID: "c2", Name: "ops", Role: cardgate.RoleAdmin, KeyHash: h2, CreatedAt: t0.Add(time.Second)}
	mustOK(t, s.CreateClient(ctx, host))
	mustOK(t, s.CreateClient(ctx, admin))
	wantCode(t, s.CreateClient(ctx, &cardgate.Client{ID: "c3", Name: "dup", Role: cardgate.RoleHost, KeyHash: h1, CreatedAt: t0}), cardgate.ECONFLICT)
	got, err := s.ClientByKeyHash(ctx, h2)
	mustOK(t, err)
	if got.ID != "c2" || got.Role != cardgate.RoleAdmin || !bytes.Equal(got.KeyHash, h2) || !got.CreatedAt.Equal(admin.CreatedAt) {
		t.Fatalf("client = %+v", got)
	}
	_, other := cardgate.NewAPIKey()
	_, err = s.ClientByKeyHash(ctx, other)
	wantCode(t, err, cardgate.ENOTFOUND)
	hosts, _ := s.Clients(ctx, cardgate.RoleHost)
	all, _ := s.Clients(ctx, "")
	if len(hosts) != 1 || hosts[0].ID != "c1" || len(all) != 2 {
		t.Fatalf("hosts = %v, all = %v", hosts, all)
	}
	mustOK(t, s.DeleteClient(ctx, "c1"))
	wantCode(t, s.DeleteClient(ctx, "c1"), cardgate.ENOTFOUND)
	_, err = s.ClientByKeyHash(ctx, h1)
	wantCode(t, err, cardgate.ENOTFOUND)
}

func testSigningKeys(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	mk := func(id string, at time.Time) *cardgate.SigningKey {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		sealed := make([]byte, 77)
		rand.Read(sealed)
		return &cardgate.SigningKey{ID: id, PublicKey: pub, SealedPrivateKey: sealed, CreatedAt: at}
	}
	k1, k2 := mk("k1", t0), mk("k2", t0.Add(time.Hour))
	mustOK(t, s.AddSigningKey(ctx, k1))
	mustOK(t, s.AddSigningKey(ctx, k2))
	wantCode(t, s.AddSigningKey(ctx, mk("k2", t0.Add(2*time.Hour))), cardgate.ECONFLICT)
	keys, err := s.SigningKeys(ctx)
	mustOK(t, err)
	if len(keys) != 2 || keys[0].ID != "k2" || keys[1].ID != "k1" {
		t.Fatalf("keys = %v, want k2 then k1", keys)
	}
	if !keys[0].Active() || !keys[1].RetiredAt.Equal(k2.CreatedAt) {
		t.Errorf("k2 active %v, k1 retired at %v; want k2 active and k1 retired at %v", keys[0].Active(), keys[1].RetiredAt, k2.CreatedAt)
	}
	if !bytes.Equal(keys[1].PublicKey, k1.PublicKey) || !bytes.Equal(keys[1].SealedPrivateKey, k1.SealedPrivateKey) {
		t.Error("key bytes did not round-trip")
	}
}

func testRevoke(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	mustOK(t, s.CreateUser(ctx, user(u1)))
	mustOK(t, s.CreatePackage(ctx, pkg(p1)))
	later, earlier := t0.Add(time.Hour), t0.Add(time.Minute)
	r1 := &cardgate.Revocation{Kind: cardgate.RevokeUser, Subject: u1, At: later}
	r2 := &cardgate.Revocation{Kind: cardgate.RevokeUser, Subject: u1, At: earlier}
	mustOK(t, s.Revoke(ctx, r1))
	mustOK(t, s.Revoke(ctx, r2))
	if r1.Seq <= 0 || r2.Seq <= r1.Seq {
		t.Fatalf("seqs %d, %d; want positive and increasing", r1.Seq, r2.Seq)
	}
	got, _ := s.User(ctx, u1)
	if !got.RevokedBefore.Equal(later) {
		t.Errorf("RevokedBefore = %v, want %v (moves forward, never back)", got.RevokedBefore, later)
	}
	mustOK(t, s.Revoke(ctx, &cardgate.Revocation{Kind: cardgate.RevokePackage, Subject: p1, At: earlier}))
	gp, _ := s.Package(ctx, p1)
	if !gp.RevokedBefore.Equal(earlier) || gp.Disabled {
		t.Errorf("package after revoke = %+v; want RevokedBefore set and still enabled", gp)
	}
	wantCode(t, s.Revoke(ctx, &cardgate.Revocation{Kind: cardgate.RevokeUser, Subject: u2, At: later}), cardgate.ENOTFOUND)
	wantCode(t, s.Revoke(ctx, &cardgate.Revocation{Kind: cardgate.RevokePackage, Subject: p2, At: later}), cardgate.ENOTFOUND)
	exp := t0.Add(30 * time.Minute)
	tok := &cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: "jti-1", At: t0, Expires: exp}
	mustOK(t, s.Revoke(ctx, tok))
	revs, _ := s.RevocationsSince(ctx, r2.Seq, 10)
	if len(revs) != 2 || revs[1].Subject != "jti-1" || !revs[1].Expires.Equal(exp) || revs[0].Expires.IsZero() != true {
		t.Fatalf("feed tail = %+v", revs)
	}
}

func testFeed(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	var seqs []int64
	for i := range 7 {
		r := &cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: fmt.Sprintf("j%d", i), At: t0.Add(time.Duration(i) * time.Millisecond)}
		mustOK(t, s.Revoke(ctx, r))
		seqs = append(seqs, r.Seq)
	}
	var got []string
	since := int64(0)
	for {
		page, err := s.RevocationsSince(ctx, since, 3)
		mustOK(t, err)
		if len(page) == 0 {
			break
		}
		if len(page) > 3 {
			t.Fatalf("page of %d, limit 3", len(page))
		}
		for _, r := range page {
			got = append(got, r.Subject)
			since = r.Seq
		}
	}
	if fmt.Sprint(got) != "[j0 j1 j2 j3 j4 j5 j6]" {
		t.Fatalf("paged feed = %v", got)
	}
	if since != seqs[6] {
		t.Errorf("last seq %d, want %d", since, seqs[6])
	}
}

func testTokenState(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	mustOK(t, s.CreateUser(ctx, user(u1)))
	mustOK(t, s.CreatePackage(ctx, pkg(p1)))
	st, err := s.TokenState(ctx, u1, p1, "jti-a")
	mustOK(t, err)
	if st.Revoked || st.User.ID != u1 || st.User.Name != user(u1).Name || st.Package.ID != p1 || st.User.Disabled || st.Package.Disabled {
		t.Fatalf("state = %+v / %+v / %+v", st, st.User, st.Package)
	}
	mustOK(t, s.Revoke(ctx, &cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: "jti-a", At: t0}))
	mustOK(t, s.SetPackageDisabled(ctx, p1, true, t0))
	st, err = s.TokenState(ctx, u1, p1, "jti-a")
	mustOK(t, err)
	if !st.Revoked || !st.Package.Disabled || !st.Package.RevokedBefore.Equal(t0) {
		t.Fatalf("after revoke and disable: revoked %v, package %+v", st.Revoked, st.Package)
	}
	if st, _ := s.TokenState(ctx, u1, p1, "jti-b"); st.Revoked {
		t.Error("another jti reads as revoked")
	}
	_, err = s.TokenState(ctx, u2, p1, "j")
	wantCode(t, err, cardgate.ENOTFOUND)
	_, err = s.TokenState(ctx, u1, p2, "j")
	wantCode(t, err, cardgate.ENOTFOUND)
}

func testConcurrentWrites(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			errs <- s.CreateUser(ctx, user(id))
			errs <- s.Revoke(ctx, &cardgate.Revocation{Kind: cardgate.RevokeUser, Subject: id, At: t0})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		mustOK(t, err)
	}
	users, _ := s.Users(ctx)
	revs, _ := s.RevocationsSince(ctx, 0, 100)
	if len(users) != n || len(revs) != n {
		t.Fatalf("%d users and %d revocations, want %d each", len(users), len(revs), n)
	}
}

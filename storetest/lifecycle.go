package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

// testTimes stores times of every shape and reads them back.
func testTimes(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	kolkata := time.FixedZone("IST", 5*3600+30*60)
	tests := []struct {
		name string
		at   time.Time
	}{
		{"UTC, whole milliseconds", t0},
		{"another zone", time.Date(2026, 11, 25, 15, 0, 0, 500_000_000, kolkata)},
		{"microseconds", t0.Add(456 * time.Microsecond)},
		{"nanoseconds (truncated to the store's precision)", t0.Add(456_789 * time.Nanosecond)},
		{"with a monotonic reading", time.Now()},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)},
		{"far future", time.Date(2199, 12, 31, 23, 59, 59, 999_000_000, time.UTC)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			u := user(id)
			u.CreatedAt, u.UpdatedAt, u.RevokedBefore = tt.at, tt.at, tt.at
			mustOK(t, s.CreateUser(ctx, u))
			got, err := s.User(ctx, id)
			mustOK(t, err)
			for _, f := range []struct {
				name string
				v    time.Time
			}{{"CreatedAt", got.CreatedAt}, {"UpdatedAt", got.UpdatedAt}, {"RevokedBefore", got.RevokedBefore}} {
				if !sameTime(f.v, tt.at) {
					t.Errorf("%s = %v (%s), want %v in UTC", f.name, f.v, f.v.Location(), tt.at.UTC())
				}
			}

			r := &cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: "t-" + id, At: tt.at, Expires: tt.at}
			mustOK(t, s.Revoke(ctx, r))
			revs, err := s.RevocationsSince(ctx, r.Seq-1, 1)
			mustOK(t, err)
			if len(revs) != 1 || !sameTime(revs[0].At, tt.at) || !sameTime(revs[0].Expires, tt.at) {
				t.Errorf("revocation times = %+v, want %v", revs, tt.at.UTC())
			}
		})
	}
	// The zero time is "never": it comes back zero, not as the Unix epoch.
	r := &cardgate.Revocation{Kind: cardgate.RevokeUser, Subject: "00000000-0000-4000-8000-000000000000", At: t0}
	mustOK(t, s.Revoke(ctx, r))
	revs, err := s.RevocationsSince(ctx, r.Seq-1, 1)
	mustOK(t, err)
	if len(revs) != 1 || !revs[0].Expires.IsZero() {
		t.Errorf("a revocation without Expires reads back as %+v, want Expires zero", revs)
	}
}

// testConcurrentWriters runs writers and readers at once. Every call must
// succeed: a store may make writers wait for each other, never fail.
func testConcurrentWriters(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	mustOK(t, s.CreatePackage(ctx, pkg(p1)))
	mustOK(t, s.CreateUser(ctx, user(u1)))
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, 6*n)
	seqs := make(chan int64, 2*n) // the Seqs Revoke assigned
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			errs <- s.CreateUser(ctx, user(id))
			r := &cardgate.Revocation{Kind: cardgate.RevokeUser, Subject: id, At: t0}
			errs <- s.Revoke(ctx, r)
			seqs <- r.Seq
			errs <- s.SetUserDisabled(ctx, id, true, t0.Add(time.Minute))
		})
		wg.Go(func() {
			_, err := s.TokenState(ctx, u1, p1, fmt.Sprintf("jti-%d", i))
			errs <- err
			r := &cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: fmt.Sprintf("jti-%d", i), At: t0}
			errs <- s.Revoke(ctx, r)
			seqs <- r.Seq
			_, err = s.Users(ctx)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	close(seqs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent call: %v", err)
		}
	}
	seen := map[int64]bool{}
	for seq := range seqs {
		if seen[seq] {
			t.Fatalf("Seq %d assigned twice", seq)
		}
		seen[seq] = true
	}

	users, err := s.Users(ctx)
	mustOK(t, err)
	if len(users) != n+1 {
		t.Fatalf("%d users, want %d", len(users), n+1)
	}
	for _, u := range users {
		if u.ID != u1 && (!u.Disabled || !sameTime(u.RevokedBefore, cardgate.DisableCutoff(t0.Add(time.Minute)))) {
			t.Fatalf("user %s: disabled %v, RevokedBefore %v", u.ID, u.Disabled, u.RevokedBefore)
		}
	}
	revs := feed(t, s)
	if len(revs) != 3*n {
		t.Fatalf("feed has %d entries, want %d", len(revs), 3*n)
	}
	for i := 1; i < len(revs); i++ {
		if revs[i].Seq <= revs[i-1].Seq {
			t.Fatalf("feed out of order at %d: %d after %d", i, revs[i].Seq, revs[i-1].Seq)
		}
	}
}

// testReopen writes one of everything, closes the store, opens the database
// again and reads it all back.
func testReopen(t *testing.T, open func() cardgate.Store) {
	ctx := t.Context()
	s, closeNow := start(t, open)
	u, p := user(u1), pkg(p1)
	u.PictureURL = ""
	mustOK(t, s.CreateUser(ctx, u))
	mustOK(t, s.CreatePackage(ctx, p))
	mustOK(t, s.SetPackageDisabled(ctx, p1, true, t0.Add(time.Minute)))
	p.Disabled, p.RevokedBefore, p.UpdatedAt = true, cardgate.DisableCutoff(t0.Add(time.Minute)), t0.Add(time.Minute)
	_, hash := cardgate.NewAPIKey()
	c := &cardgate.Client{ID: "c1", Name: "host", Role: cardgate.RoleHost, KeyHash: hash, CreatedAt: t0}
	mustOK(t, s.CreateClient(ctx, c))
	k1, k2 := signingKey("k1", t0), signingKey("k2", t0.Add(time.Hour))
	mustOK(t, s.AddSigningKey(ctx, k1))
	mustOK(t, s.AddSigningKey(ctx, k2))
	r := &cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: "jti-1", At: t0, Expires: t0.Add(time.Hour)}
	mustOK(t, s.Revoke(ctx, r))
	closeNow()

	s, _ = start(t, open)
	gu, err := s.User(ctx, u1)
	mustOK(t, err)
	equalUser(t, gu, u)
	gp, err := s.Package(ctx, p1)
	mustOK(t, err)
	equalPackage(t, gp, p)
	gc, err := s.ClientByKeyHash(ctx, hash)
	mustOK(t, err)
	equalClient(t, gc, c)
	keys, err := s.SigningKeys(ctx)
	mustOK(t, err)
	if len(keys) != 2 {
		t.Fatalf("%d keys after reopen, want 2", len(keys))
	}
	equalKey(t, keys[0], k2)
	equalKey(t, keys[1], retired(k1, k2.CreatedAt))
	revs := feed(t, s)
	if len(revs) != 2 {
		t.Fatalf("%d feed entries after reopen, want 2", len(revs))
	}
	equalRevocation(t, revs[1], r)
	st, err := s.TokenState(ctx, u1, p1, "jti-1")
	mustOK(t, err)
	if !st.Revoked || !st.Package.Disabled {
		t.Errorf("TokenState after reopen: revoked %v, package disabled %v; want both", st.Revoked, st.Package.Disabled)
	}

	// The feed goes on from where it was: followers keep their place.
	next := &cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: "jti-2", At: t0}
	mustOK(t, s.Revoke(ctx, next))
	if next.Seq <= r.Seq {
		t.Errorf("Seq after reopen = %d, not above %d", next.Seq, r.Seq)
	}
}

package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

func testRevoke(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	mustOK(t, s.CreateUser(ctx, user(u1)))
	mustOK(t, s.CreateUser(ctx, user(u2)))
	mustOK(t, s.CreatePackage(ctx, pkg(p1)))
	exp := t0.Add(30 * time.Minute)
	steps := []struct {
		name string
		r    cardgate.Revocation
		// RevokedBefore of u1 and of p1 after the step.
		wantUser, wantPkg time.Time
	}{
		{"token", cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: "jti-1", At: t0, Expires: exp}, time.Time{}, time.Time{}},
		{"user", cardgate.Revocation{Kind: cardgate.RevokeUser, Subject: u1, At: t0.Add(time.Hour)}, t0.Add(time.Hour), time.Time{}},
		{"user, earlier: RevokedBefore stays", cardgate.Revocation{Kind: cardgate.RevokeUser, Subject: u1, At: t0.Add(time.Minute)}, t0.Add(time.Hour), time.Time{}},
		{"user, later: RevokedBefore moves", cardgate.Revocation{Kind: cardgate.RevokeUser, Subject: u1, At: t0.Add(2 * time.Hour)}, t0.Add(2 * time.Hour), time.Time{}},
		{"package", cardgate.Revocation{Kind: cardgate.RevokePackage, Subject: p1, At: t0.Add(time.Minute)}, t0.Add(2 * time.Hour), t0.Add(time.Minute)},
		{"token whose jti is a user ID", cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: u2, At: t0, Expires: exp}, t0.Add(2 * time.Hour), t0.Add(time.Minute)},
	}
	var last int64
	var want []*cardgate.Revocation
	for _, st := range steps {
		r := st.r
		mustOK(t, s.Revoke(ctx, &r))
		if r.Seq <= last {
			t.Fatalf("%s: Seq = %d after %d; want it to increase", st.name, r.Seq, last)
		}
		last = r.Seq
		want = append(want, &r)
		u, err := s.User(ctx, u1)
		mustOK(t, err)
		p, err := s.Package(ctx, p1)
		mustOK(t, err)
		if !sameTime(u.RevokedBefore, st.wantUser) || !sameTime(p.RevokedBefore, st.wantPkg) {
			t.Fatalf("%s: user RevokedBefore %v, package %v; want %v, %v", st.name, u.RevokedBefore, p.RevokedBefore, st.wantUser, st.wantPkg)
		}
		if u.Disabled || p.Disabled {
			t.Fatalf("%s: Revoke disabled the user or the package", st.name)
		}
	}
	// Revoking a token touches no user, even one whose ID equals the jti.
	if u, _ := s.User(ctx, u2); !u.RevokedBefore.IsZero() {
		t.Errorf("a token revocation set user %s's RevokedBefore to %v", u2, u.RevokedBefore)
	}
	wantCode(t, s.Revoke(ctx, &cardgate.Revocation{Kind: "bogus", Subject: u1, At: t0}), cardgate.EINVALID)

	revs := feed(t, s)
	if len(revs) != len(want) {
		t.Fatalf("feed has %d entries, want %d", len(revs), len(want))
	}
	for i := range want {
		equalRevocation(t, revs[i], want[i])
	}
}

func testRevocationsSince(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	if revs, err := s.RevocationsSince(ctx, 0, 10); err != nil || len(revs) != 0 {
		t.Fatalf("empty feed: %d entries, %v", len(revs), err)
	}
	var all []*cardgate.Revocation
	for i := range 7 {
		r := &cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: fmt.Sprintf("j%d", i),
			At: t0.Add(time.Duration(i) * time.Millisecond), Expires: t0.Add(time.Hour)}
		mustOK(t, s.Revoke(ctx, r))
		all = append(all, r)
	}
	seq := func(i int) int64 { return all[i].Seq }

	tests := []struct {
		name  string
		since int64
		limit int
		want  []*cardgate.Revocation
	}{
		{"from the start", 0, 100, all},
		{"first page", 0, 3, all[:3]},
		{"next page", seq(2), 3, all[3:6]},
		{"short last page", seq(5), 3, all[6:]},
		{"after the last", seq(6), 3, nil},
		{"far beyond", seq(6) + 1000, 3, nil},
		{"limit one", seq(3), 1, all[4:5]},
		{"limit zero", 0, 0, nil},
		{"negative limit", 0, -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.RevocationsSince(ctx, tt.since, tt.limit)
			mustOK(t, err)
			if len(got) != len(tt.want) {
				t.Fatalf("RevocationsSince(%d, %d): %d entries, want %d", tt.since, tt.limit, len(got), len(tt.want))
			}
			for i := range got {
				equalRevocation(t, got[i], tt.want[i])
			}
		})
	}

	// A follower paging with the last Seq it saw reads every entry once.
	var subjects []string
	since := int64(0)
	for range 10 {
		page, err := s.RevocationsSince(ctx, since, 2)
		mustOK(t, err)
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			subjects = append(subjects, r.Subject)
			since = r.Seq
		}
	}
	if got := fmt.Sprint(subjects); got != "[j0 j1 j2 j3 j4 j5 j6]" {
		t.Fatalf("paged through %v", got)
	}
}

func testTokenState(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	u, p := user(u1), pkg(p1)
	mustOK(t, s.CreateUser(ctx, u))
	mustOK(t, s.CreatePackage(ctx, p))
	mustOK(t, s.CreateUser(ctx, user(u2)))

	check := func(t *testing.T, jti string, wantRevoked bool, wantUser *cardgate.User, wantPkg *cardgate.ActionPackage) {
		t.Helper()
		st, err := s.TokenState(ctx, wantUser.ID, wantPkg.ID, jti)
		mustOK(t, err)
		if st.Revoked != wantRevoked {
			t.Fatalf("TokenState(%s).Revoked = %v, want %v", jti, st.Revoked, wantRevoked)
		}
		equalUser(t, st.User, wantUser)
		equalPackage(t, st.Package, wantPkg)
	}

	t.Run("fresh", func(t *testing.T) { check(t, "jti-a", false, u, p) })

	mustOK(t, s.Revoke(ctx, &cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: "jti-a", At: t0, Expires: t0.Add(time.Hour)}))
	// A user or package revocation whose subject looks like the jti must not
	// read as the token's revocation.
	mustOK(t, s.Revoke(ctx, &cardgate.Revocation{Kind: cardgate.RevokeUser, Subject: u2, At: t0}))
	t.Run("revoked jti", func(t *testing.T) { check(t, "jti-a", true, u, p) })
	t.Run("another jti", func(t *testing.T) { check(t, "jti-b", false, u, p) })
	t.Run("a jti equal to a revoked user's ID", func(t *testing.T) { check(t, u2, false, u, p) })
	t.Run("empty jti", func(t *testing.T) { check(t, "", false, u, p) })

	at := t0.Add(time.Hour)
	mustOK(t, s.SetUserDisabled(ctx, u1, true, at))
	mustOK(t, s.SetPackageDisabled(ctx, p1, true, at.Add(time.Second)))
	du, dp := *u, *p
	du.Disabled, du.RevokedBefore, du.UpdatedAt = true, cardgate.DisableCutoff(at), at
	dp.Disabled, dp.RevokedBefore, dp.UpdatedAt = true, cardgate.DisableCutoff(at.Add(time.Second)), at.Add(time.Second)
	t.Run("disabled user and package", func(t *testing.T) { check(t, "jti-b", false, &du, &dp) })
}

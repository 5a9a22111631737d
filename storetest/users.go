package storetest

import (
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

func testUsers(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	if all, err := s.Users(ctx); err != nil || len(all) != 0 {
		t.Fatalf("Users on an empty store = %d users, %v; want none", len(all), err)
	}
	noPicture := user(u2)
	noPicture.PictureURL = ""
	revoked := user(u3)
	revoked.Name = "Zoë Ångström 李"
	revoked.Disabled = true
	revoked.RevokedBefore = t0.Add(-time.Hour)
	revoked.UpdatedAt = t0.Add(time.Minute)
	tests := []struct {
		name string
		u    *cardgate.User
	}{
		{"every field", user(u1)},
		{"empty picture stays empty", noPicture},
		{"disabled, revoked, non-ASCII name", revoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := *tt.u
			mustOK(t, s.CreateUser(ctx, tt.u))
			got, err := s.User(ctx, tt.u.ID)
			mustOK(t, err)
			equalUser(t, got, &want)
		})
	}
	all, err := s.Users(ctx)
	mustOK(t, err)
	if got, want := ids(all, func(u *cardgate.User) string { return u.ID }), ids([]*cardgate.User{user(u1), user(u2), user(u3)}, func(u *cardgate.User) string { return u.ID }); got != want {
		t.Fatalf("Users = [%s], want [%s]", got, want)
	}
	for _, u := range all {
		if u.ID == u2 {
			equalUser(t, u, noPicture) // lists return whole records, too
		}
	}
}

func testPackages(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	if all, err := s.Packages(ctx); err != nil || len(all) != 0 {
		t.Fatalf("Packages on an empty store = %d packages, %v; want none", len(all), err)
	}
	disabled := pkg(p2)
	disabled.Disabled = true
	disabled.RevokedBefore = t0.Add(-time.Hour)
	disabled.UpdatedAt = t0.Add(time.Minute)
	tests := []struct {
		name string
		p    *cardgate.ActionPackage
	}{
		{"every field", pkg(p1)},
		{"disabled and revoked", disabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := *tt.p
			mustOK(t, s.CreatePackage(ctx, tt.p))
			got, err := s.Package(ctx, tt.p.ID)
			mustOK(t, err)
			equalPackage(t, got, &want)
		})
	}
	all, err := s.Packages(ctx)
	mustOK(t, err)
	if got := ids(all, func(p *cardgate.ActionPackage) string { return p.ID }); got != p1+" "+p2 {
		t.Fatalf("Packages = [%s], want [%s %s]", got, p1, p2)
	}
}

// testConflicts checks that creating what exists is ECONFLICT and leaves the
// existing record as it was.
func testConflicts(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	_, h1 := cardgate.NewAPIKey()
	_, h2 := cardgate.NewAPIKey()
	mustOK(t, s.CreateUser(ctx, user(u1)))
	mustOK(t, s.CreatePackage(ctx, pkg(p1)))
	mustOK(t, s.CreateClient(ctx, &cardgate.Client{ID: "c1", Name: "host", Role: cardgate.RoleHost, KeyHash: h1, CreatedAt: t0}))
	mustOK(t, s.AddSigningKey(ctx, signingKey("k1", t0)))

	otherUser := user(u1)
	otherUser.Name = "Impostor"
	otherPkg := pkg(p1)
	otherPkg.DisplayName = "Impostor"
	tests := []struct {
		name  string
		write func() error
	}{
		{"user ID", func() error { return s.CreateUser(ctx, otherUser) }},
		{"package ID", func() error { return s.CreatePackage(ctx, otherPkg) }},
		{"client ID", func() error {
			return s.CreateClient(ctx, &cardgate.Client{ID: "c1", Name: "dup", Role: cardgate.RoleAdmin, KeyHash: h2, CreatedAt: t0})
		}},
		{"client key hash", func() error {
			return s.CreateClient(ctx, &cardgate.Client{ID: "c2", Name: "dup", Role: cardgate.RoleAdmin, KeyHash: h1, CreatedAt: t0})
		}},
		{"signing key ID", func() error { return s.AddSigningKey(ctx, signingKey("k1", t0.Add(time.Hour))) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.write(), cardgate.ECONFLICT)
		})
	}

	got, err := s.User(ctx, u1)
	mustOK(t, err)
	equalUser(t, got, user(u1))
	gp, err := s.Package(ctx, p1)
	mustOK(t, err)
	equalPackage(t, gp, pkg(p1))
	if all, _ := s.Clients(ctx, ""); len(all) != 1 {
		t.Errorf("%d clients after conflicting creates, want 1", len(all))
	}
	if _, err := s.ClientByKeyHash(ctx, h2); cardgate.ErrorCode(err) != cardgate.ENOTFOUND {
		t.Errorf("a refused client's key hash was stored: %v", err)
	}
	keys, err := s.SigningKeys(ctx)
	mustOK(t, err)
	if len(keys) != 1 || !keys[0].RetiredAt.IsZero() {
		t.Errorf("after a conflicting AddSigningKey: %d keys, first retired %v; want k1 alone and still signing", len(keys), len(keys) > 0 && !keys[0].RetiredAt.IsZero())
	}
}

// testNotFound checks every lookup and update of something absent.
func testNotFound(t *testing.T, s cardgate.Store) {
	ctx := t.Context()
	mustOK(t, s.CreateUser(ctx, user(u1)))
	mustOK(t, s.CreatePackage(ctx, pkg(p1)))
	_, hash := cardgate.NewAPIKey()
	tests := []struct {
		name string
		call func() error
	}{
		{"User", func() error { _, err := s.User(ctx, u2); return err }},
		{"Package", func() error { _, err := s.Package(ctx, p2); return err }},
		{"ClientByKeyHash", func() error { _, err := s.ClientByKeyHash(ctx, hash); return err }},
		{"ClientByKeyHash empty", func() error { _, err := s.ClientByKeyHash(ctx, nil); return err }},
		{"DeleteClient", func() error { return s.DeleteClient(ctx, "nope") }},
		{"SetUserDisabled", func() error { return s.SetUserDisabled(ctx, u2, true, t0) }},
		{"SetUserDisabled enable", func() error { return s.SetUserDisabled(ctx, u2, false, t0) }},
		{"SetPackageDisabled", func() error { return s.SetPackageDisabled(ctx, p2, true, t0) }},
		{"Revoke user", func() error {
			return s.Revoke(ctx, &cardgate.Revocation{Kind: cardgate.RevokeUser, Subject: u2, At: t0})
		}},
		{"Revoke package", func() error {
			return s.Revoke(ctx, &cardgate.Revocation{Kind: cardgate.RevokePackage, Subject: p2, At: t0})
		}},
		{"TokenState no user", func() error { _, err := s.TokenState(ctx, u2, p1, "j"); return err }},
		{"TokenState no package", func() error { _, err := s.TokenState(ctx, u1, p2, "j"); return err }},
		{"TokenState neither", func() error { _, err := s.TokenState(ctx, u2, p2, "j"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.call(), cardgate.ENOTFOUND)
		})
	}
	if revs := feed(t, s); len(revs) != 0 {
		t.Errorf("failed writes added %d feed entries: %+v", len(revs), revs[0])
	}
}

// subject abstracts over users and action packages, which disable alike.
type subject struct {
	name       string
	kind       cardgate.RevocationKind
	id, other  string
	create     func(s cardgate.Store, id string) error
	setDisable func(s cardgate.Store, id string, disabled bool, at time.Time) error
	// read returns Disabled, RevokedBefore and UpdatedAt.
	read func(t *testing.T, s cardgate.Store, id string) (bool, time.Time, time.Time)
}

func subjects(t *testing.T) []subject {
	ctx := t.Context()
	return []subject{{
		name: "user", kind: cardgate.RevokeUser, id: u1, other: u2,
		create: func(s cardgate.Store, id string) error { return s.CreateUser(ctx, user(id)) },
		setDisable: func(s cardgate.Store, id string, d bool, at time.Time) error {
			return s.SetUserDisabled(ctx, id, d, at)
		},
		read: func(t *testing.T, s cardgate.Store, id string) (bool, time.Time, time.Time) {
			t.Helper()
			u, err := s.User(ctx, id)
			mustOK(t, err)
			return u.Disabled, u.RevokedBefore, u.UpdatedAt
		},
	}, {
		name: "package", kind: cardgate.RevokePackage, id: p1, other: p2,
		create: func(s cardgate.Store, id string) error { return s.CreatePackage(ctx, pkg(id)) },
		setDisable: func(s cardgate.Store, id string, d bool, at time.Time) error {
			return s.SetPackageDisabled(ctx, id, d, at)
		},
		read: func(t *testing.T, s cardgate.Store, id string) (bool, time.Time, time.Time) {
			t.Helper()
			p, err := s.Package(ctx, id)
			mustOK(t, err)
			return p.Disabled, p.RevokedBefore, p.UpdatedAt
		},
	}}
}

// testSetDisabled runs one sequence of disables and enables, for users and
// for packages, checking the record and the feed after every step.
func testSetDisabled(t *testing.T, s cardgate.Store) {
	for _, sub := range subjects(t) {
		t.Run(sub.name, func(t *testing.T) {
			mustOK(t, sub.create(s, sub.id))
			mustOK(t, sub.create(s, sub.other))
			start := len(feed(t, s))
			steps := []struct {
				name          string
				disable       bool
				at            time.Time
				wantRevokedAt time.Time // RevokedBefore after the step
				wantFeed      bool      // whether the step appends a feed entry
			}{
				// A disable at at revokes up to cardgate.DisableCutoff(at)
				// (at + 1 s rounded up to a second: t0 + 1 h + 2 s, as t0
				// has a fraction), in the record and the feed.
				{"disable", true, t0.Add(time.Hour), cut(t0.Add(time.Hour)), true},
				{"enable keeps RevokedBefore", false, t0.Add(2 * time.Hour), cut(t0.Add(time.Hour)), false},
				{"disable again, later", true, t0.Add(3 * time.Hour), cut(t0.Add(3 * time.Hour)), true},
				{"disable with an earlier time never moves RevokedBefore back", true, t0.Add(90 * time.Minute), cut(t0.Add(3 * time.Hour)), true},
				{"enable", false, t0.Add(4 * time.Hour), cut(t0.Add(3 * time.Hour)), false},
				{"disable a second later: the cut-off moves by a second", true, t0.Add(3*time.Hour + time.Second), cut(t0.Add(3*time.Hour + time.Second)), true},
			}
			if got, want := cut(t0.Add(time.Hour)), t0.Add(time.Hour).Truncate(time.Second).Add(2*time.Second); !got.Equal(want) {
				t.Fatalf("DisableCutoff(%v) = %v, want %v", t0.Add(time.Hour), got, want)
			}
			wantFeed := start
			for _, st := range steps {
				mustOK(t, sub.setDisable(s, sub.id, st.disable, st.at))
				disabled, rb, updated := sub.read(t, s, sub.id)
				if disabled != st.disable || !sameTime(rb, st.wantRevokedAt) || !sameTime(updated, st.at) {
					t.Fatalf("%s: disabled %v, RevokedBefore %v, UpdatedAt %v; want %v, %v, %v",
						st.name, disabled, rb, updated, st.disable, st.wantRevokedAt, st.at)
				}
				revs := feed(t, s)
				if st.wantFeed {
					wantFeed++
				}
				if len(revs) != wantFeed {
					t.Fatalf("%s: feed has %d entries, want %d", st.name, len(revs), wantFeed)
				}
				if st.wantFeed {
					last := revs[len(revs)-1]
					equalRevocation(t, last, &cardgate.Revocation{Seq: last.Seq, Kind: sub.kind, Subject: sub.id, At: cut(st.at)})
				}
			}
			// The other record was never touched.
			if disabled, rb, _ := sub.read(t, s, sub.other); disabled || !rb.IsZero() {
				t.Errorf("%s %s changed too: disabled %v, RevokedBefore %v", sub.name, sub.other, disabled, rb)
			}
		})
	}
}

// cut is the cut-off a disable at at writes.
func cut(at time.Time) time.Time { return cardgate.DisableCutoff(at) }

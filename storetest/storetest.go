// Package storetest is the conformance suite every cardgate.Store must pass,
// in the manner of testing/fstest.TestFS: an implementation's tests call Run
// with a way to make a fresh database and open it.
//
// The suite checks the contract documented on cardgate.Store, and these
// rules that the contract leaves implicit:
//
//   - Times come back in UTC and equal (time.Equal) to what was stored, to at
//     least millisecond precision. (Both stores in this module keep
//     microseconds, truncating anything finer.) The zero time comes back zero.
//   - Empty strings (a User's PictureURL) come back empty.
//   - RevokedBefore only ever moves forward, whether moved by Revoke or by
//     disabling; enabling leaves it where it is. A disable at at moves it
//     to cardgate.DisableCutoff(at), and its feed entry has that At.
//   - A write that fails (ENOTFOUND, ECONFLICT, a cancelled context) changes
//     nothing: no row, no feed entry, no retired key.
//   - Revoke refuses a kind it does not know with EINVALID.
//   - RevocationsSince with a limit of zero or less returns no entries.
//   - Concurrent writers all succeed, and everything written survives Close
//     and a fresh open of the same database.
//
// List methods (Users, Packages, Clients) are compared as sets: the contract
// does not fix their order.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

// Run runs every conformance test as a subtest of t.
//
// For each subtest Run calls newDB, which must make a fresh, empty database
// (a file in t.TempDir(), a schema of its own) and return a function that
// opens it. Run calls open once in most subtests and twice in those that
// check durability, closing the first store before opening the second; it
// closes every store it opens. open reports its own failure with t.Fatal.
//
// A SQLite store, for example:
//
//	storetest.Run(t, func(t *testing.T) func() cardgate.Store {
//		path := filepath.Join(t.TempDir(), "cardgate.db")
//		return func() cardgate.Store {
//			db, err := sqlite.Open(t.Context(), path)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return db
//		}
//	})
func Run(t *testing.T, newDB func(t *testing.T) (open func() cardgate.Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s cardgate.Store)
	}{
		{"Ping", testPing},
		{"Users", testUsers},
		{"Packages", testPackages},
		{"Conflicts", testConflicts},
		{"NotFound", testNotFound},
		{"SetDisabled", testSetDisabled},
		{"Clients", testClients},
		{"SigningKeys", testSigningKeys},
		{"Revoke", testRevoke},
		{"RevocationsSince", testRevocationsSince},
		{"TokenState", testTokenState},
		{"Times", testTimes},
		{"CancelledContext", testCancelledContext},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Secrets", testSecrets},
		{"Audit", testAudit},
		{"AuditPrune", testAuditPrune},
		{"AuditLargeBatch", testAuditLargeBatch},
		{"PackageContent", testPackageContent},
		{"UserByPhone", testUserByPhone},
		{"UniquePhoneNumbers", testUniquePhoneNumbers},
		{"Settings", testSettings},
		{"LoginCodes", testLoginCodes},
		{"LoginCodeAttemptsConcurrent", testLoginCodeAttemptsConcurrent},
		{"Sessions", testSessions},
		{"Conversations", testConversations},
		{"Members", testMembers},
		{"Forms", testForms},
		{"ResponseRules", testResponseRules},
		{"SeveralResponses", testSeveralResponses},
		{"EditResponse", testEditResponse},
		{"CloseForm", testCloseForm},
		{"ResultVisibility", testResultVisibility},
		{"ConcurrentResponses", testConcurrentResponses},
		{"RemovalStopsResponses", testRemovalStopsResponses},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := start(t, newDB(t))
			tt.fn(t, s)
		})
	}
	t.Run("Reopen", func(t *testing.T) { testReopen(t, newDB(t)) })
}

// start opens a store, closed at cleanup unless the returned func closed it
// first (and checked that Close succeeds).
func start(t *testing.T, open func() cardgate.Store) (s cardgate.Store, closeNow func()) {
	t.Helper()
	s = open()
	if s == nil {
		t.Fatal("open returned a nil store")
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			s.Close()
		}
	})
	return s, func() {
		t.Helper()
		closed = true
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

// Fixed IDs and a fixed time keep failures reproducible. t0 has whole
// milliseconds, so it survives any store that keeps the required precision.
const (
	u1 = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"
	u2 = "0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40"
	u3 = "c0ffee00-1234-4abc-8def-0123456789ab"
	p1 = "com.contoso.orders"
	p2 = "com.contoso.survey"
	p3 = "com.fabrikam.leave"
)

var t0 = time.Date(2026, 11, 25, 9, 30, 0, 123_000_000, time.UTC)

// user makes a user with a phone number of its own: no two users share one.
func user(id string) *cardgate.User {
	return &cardgate.User{ID: id, Name: "Name " + id[:4], PhoneNumber: phoneOf(id),
		PictureURL: "https://pics.example/" + id[:4] + ".png", CreatedAt: t0, UpdatedAt: t0}
}

// phoneOf is a phone number made from a user ID, the same for the same ID.
func phoneOf(id string) string {
	h := fnv.New64a()
	h.Write([]byte(id))
	return fmt.Sprintf("+1%010d", h.Sum64()%1e10)
}

func pkg(id string) *cardgate.ActionPackage {
	return &cardgate.ActionPackage{ID: id, DisplayName: "Card " + id, CreatedAt: t0, UpdatedAt: t0}
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

// sameTime reports whether got is want as a store keeps it: in UTC, and
// equal to want or at most a millisecond short of it (truncation).
func sameTime(got, want time.Time) bool {
	if want.IsZero() || got.IsZero() {
		return want.IsZero() && got.IsZero()
	}
	d := want.Sub(got)
	return got.Location() == time.UTC && d >= 0 && d < time.Millisecond
}

func equalUser(t *testing.T, got, want *cardgate.User) {
	t.Helper()
	if got == nil {
		t.Fatalf("user is nil, want %+v", want)
	}
	if got.ID != want.ID || got.Name != want.Name || got.PhoneNumber != want.PhoneNumber ||
		got.PictureURL != want.PictureURL || got.Disabled != want.Disabled ||
		!sameTime(got.RevokedBefore, want.RevokedBefore) || !sameTime(got.CreatedAt, want.CreatedAt) ||
		!sameTime(got.UpdatedAt, want.UpdatedAt) {
		t.Fatalf("user =\n\t%+v\nwant\n\t%+v", got, want)
	}
}

func equalPackage(t *testing.T, got, want *cardgate.ActionPackage) {
	t.Helper()
	if got == nil {
		t.Fatalf("package is nil, want %+v", want)
	}
	if got.ID != want.ID || got.DisplayName != want.DisplayName || got.Disabled != want.Disabled ||
		!sameTime(got.RevokedBefore, want.RevokedBefore) || !sameTime(got.CreatedAt, want.CreatedAt) ||
		!sameTime(got.UpdatedAt, want.UpdatedAt) {
		t.Fatalf("package =\n\t%+v\nwant\n\t%+v", got, want)
	}
}

func equalClient(t *testing.T, got, want *cardgate.Client) {
	t.Helper()
	if got == nil {
		t.Fatalf("client is nil, want %+v", want)
	}
	if got.ID != want.ID || got.Name != want.Name || got.Role != want.Role ||
		!bytes.Equal(got.KeyHash, want.KeyHash) || !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Fatalf("client =\n\t%+v\nwant\n\t%+v", got, want)
	}
}

func equalRevocation(t *testing.T, got, want *cardgate.Revocation) {
	t.Helper()
	if got.Seq != want.Seq || got.Kind != want.Kind || got.Subject != want.Subject ||
		!sameTime(got.At, want.At) || !sameTime(got.Expires, want.Expires) {
		t.Fatalf("revocation =\n\t%+v\nwant\n\t%+v", got, want)
	}
}

// ids returns the sorted IDs of xs, to compare lists as sets.
func ids[T any](xs []*T, id func(*T) string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// feed returns the whole revocation feed.
func feed(t *testing.T, s cardgate.Store) []*cardgate.Revocation {
	t.Helper()
	revs, err := s.RevocationsSince(t.Context(), 0, 1000)
	mustOK(t, err)
	return revs
}

func testPing(t *testing.T, s cardgate.Store) {
	mustOK(t, s.Ping(t.Context()))
}

// testCancelledContext checks that the context reaches the database: a call
// with a cancelled context fails and writes nothing.
func testCancelledContext(t *testing.T, s cardgate.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := []struct {
		name string
		call func() error
	}{
		{"CreateUser", func() error { return s.CreateUser(ctx, user(u1)) }},
		{"CreatePackage", func() error { return s.CreatePackage(ctx, pkg(p1)) }},
		{"Revoke", func() error {
			return s.Revoke(ctx, &cardgate.Revocation{Kind: cardgate.RevokeToken, Subject: "j", At: t0})
		}},
		{"User", func() error { _, err := s.User(ctx, u1); return err }},
		{"TokenState", func() error { _, err := s.TokenState(ctx, u1, p1, "j"); return err }},
	}
	for _, c := range calls {
		if err := c.call(); err == nil {
			t.Errorf("%s with a cancelled context succeeded", c.name)
		}
	}
	if _, err := s.User(t.Context(), u1); cardgate.ErrorCode(err) != cardgate.ENOTFOUND {
		t.Errorf("after a cancelled CreateUser, User: %v; want ENOTFOUND", err)
	}
	if revs := feed(t, s); len(revs) != 0 {
		t.Errorf("after a cancelled Revoke, feed has %d entries", len(revs))
	}
}

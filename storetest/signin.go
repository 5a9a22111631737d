package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

func testUserByPhone(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	a, b, c := user(u1), user(u2), user(u3)
	a.PhoneNumber, b.PhoneNumber, c.PhoneNumber = "+14155550101", "+14155550102", "+14155550102"
	for _, u := range []*cardgate.User{a, b, c} {
		mustOK(t, s.CreateUser(ctx, u))
	}
	got, err := s.UserByPhone(ctx, "+14155550101")
	mustOK(t, err)
	if got.ID != u1 {
		t.Errorf("UserByPhone = %s, want %s", got.ID, u1)
	}
	_, err = s.UserByPhone(ctx, "+14155550199")
	wantCode(t, err, cardgate.ENOTFOUND)
	// A number two people share signs in neither.
	_, err = s.UserByPhone(ctx, "+14155550102")
	wantCode(t, err, cardgate.ECONFLICT)
}

func loginCode(hash string) *cardgate.LoginCode {
	return &cardgate.LoginCode{PhoneNumber: "+14155550100", Hash: []byte(hash), UserID: u1,
		ExpiresAt: t0.Add(10 * time.Minute), CreatedAt: t0}
}

func testLoginCodes(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	mustOK(t, s.CreateUser(ctx, user(u1)))
	_, err := s.AttemptLoginCode(ctx, "+14155550100")
	wantCode(t, err, cardgate.ENOTFOUND)

	mustOK(t, s.PutLoginCode(ctx, loginCode("first")))
	for want := 1; want <= 3; want++ {
		c, err := s.AttemptLoginCode(ctx, "+14155550100")
		mustOK(t, err)
		if c.Attempts != want || string(c.Hash) != "first" || c.UserID != u1 ||
			!sameTime(c.ExpiresAt, t0.Add(10*time.Minute)) || !sameTime(c.CreatedAt, t0) {
			t.Fatalf("attempt %d: got %+v", want, c)
		}
	}
	// A new code replaces the old one and starts its count afresh.
	mustOK(t, s.PutLoginCode(ctx, loginCode("second")))
	c, err := s.AttemptLoginCode(ctx, "+14155550100")
	mustOK(t, err)
	if c.Attempts != 1 || string(c.Hash) != "second" {
		t.Fatalf("after replacing: %+v", c)
	}
	// Only the code's own hash deletes it, and only once.
	if ok, err := s.DeleteLoginCode(ctx, "+14155550100", []byte("first")); err != nil || ok {
		t.Fatalf("delete with the replaced hash = %v, %v; want false", ok, err)
	}
	if ok, err := s.DeleteLoginCode(ctx, "+14155550100", []byte("second")); err != nil || !ok {
		t.Fatalf("delete = %v, %v; want true", ok, err)
	}
	if ok, _ := s.DeleteLoginCode(ctx, "+14155550100", []byte("second")); ok {
		t.Fatal("a code was deleted twice")
	}
	_, err = s.AttemptLoginCode(ctx, "+14155550100")
	wantCode(t, err, cardgate.ENOTFOUND)

	// A number without an account has a code record too, with no user.
	none := loginCode("none")
	none.UserID = ""
	mustOK(t, s.PutLoginCode(ctx, none))
	c, err = s.AttemptLoginCode(ctx, "+14155550100")
	mustOK(t, err)
	if c.UserID != "" || c.Attempts != 1 || string(c.Hash) != "none" {
		t.Fatalf("code for a number without an account: %+v", c)
	}
}

// Concurrent guesses are each counted: none is lost to a race, which would
// give an attacker more tries than the limit.
func testLoginCodeAttemptsConcurrent(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	mustOK(t, s.CreateUser(ctx, user(u1)))
	mustOK(t, s.PutLoginCode(ctx, loginCode("h")))
	const n = 20
	var wg sync.WaitGroup
	seen := make([]bool, n+1)
	var mu sync.Mutex
	for range n {
		wg.Go(func() {
			c, err := s.AttemptLoginCode(ctx, "+14155550100")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if c.Attempts < 1 || c.Attempts > n || seen[c.Attempts] {
				t.Errorf("attempt count %d given out twice or out of range", c.Attempts)
				return
			}
			seen[c.Attempts] = true
		})
	}
	wg.Wait()
}

func testSessions(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	mustOK(t, s.CreateUser(ctx, user(u1)))
	old := &cardgate.Session{IDHash: []byte("old"), UserID: u1, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	mustOK(t, s.CreateSession(ctx, old))
	got, err := s.Session(ctx, []byte("old"))
	mustOK(t, err)
	if got.UserID != u1 || !bytes.Equal(got.IDHash, []byte("old")) || !sameTime(got.ExpiresAt, t0.Add(time.Hour)) {
		t.Fatalf("Session = %+v", got)
	}
	wantCode(t, s.CreateSession(ctx, old), cardgate.ECONFLICT)
	wantCode(t, s.CreateSession(ctx, &cardgate.Session{IDHash: []byte("x"), UserID: u2, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}), cardgate.ECONFLICT)

	// A session made after the old one expired sweeps it away.
	later := t0.Add(2 * time.Hour)
	mustOK(t, s.CreateSession(ctx, &cardgate.Session{IDHash: []byte("new"), UserID: u1, CreatedAt: later, ExpiresAt: later.Add(time.Hour)}))
	_, err = s.Session(ctx, []byte("old"))
	wantCode(t, err, cardgate.ENOTFOUND)

	mustOK(t, s.DeleteSession(ctx, []byte("new")))
	_, err = s.Session(ctx, []byte("new"))
	wantCode(t, err, cardgate.ENOTFOUND)
	mustOK(t, s.DeleteSession(ctx, []byte("new")))
}

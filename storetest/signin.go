package storetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

func testUserByPhone(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	a, b := user(u1), user(u2)
	a.PhoneNumber, b.PhoneNumber = "+14155550101", "+14155550102"
	for _, u := range []*cardgate.User{a, b} {
		mustOK(t, s.CreateUser(ctx, u))
	}
	got, err := s.UserByPhone(ctx, "+14155550101")
	mustOK(t, err)
	if got.ID != u1 {
		t.Errorf("UserByPhone = %s, want %s", got.ID, u1)
	}
	_, err = s.UserByPhone(ctx, "+14155550199")
	wantCode(t, err, cardgate.ENOTFOUND)
	// (A number two people share, which only a database from before
	// migration 0007 can hold, signs in neither: see the stores' migration
	// tests.)
}

// testUniquePhoneNumbers: a phone number names one person, for sign-in
// finds the user by it. Adding a user with another's number is ECONFLICT
// naming the field and the user who has it, and changes nothing; so is
// adding the same user twice, and concurrent adds of one number let one
// through.
func testUniquePhoneNumbers(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	a := user(u1)
	a.PhoneNumber = "+14155550101"
	mustOK(t, s.CreateUser(ctx, a))
	b := user(u2)
	b.PhoneNumber = a.PhoneNumber
	err := s.CreateUser(ctx, b)
	wantCode(t, err, cardgate.ECONFLICT)
	if msg := cardgate.ErrorMessage(err); !strings.HasPrefix(msg, "phoneNumber:") || !strings.Contains(msg, u1) {
		t.Errorf("taken number: %q, want it to name phoneNumber and the user who has it (%s)", msg, u1)
	}
	if _, err := s.User(ctx, u2); cardgate.ErrorCode(err) != cardgate.ENOTFOUND {
		t.Fatalf("the refused user was stored: %v", err)
	}
	// The same user again is the ID's conflict, not the number's.
	err = s.CreateUser(ctx, user(u1))
	wantCode(t, err, cardgate.ECONFLICT)
	again := *a
	err = s.CreateUser(ctx, &again)
	wantCode(t, err, cardgate.ECONFLICT)
	if msg := cardgate.ErrorMessage(err); !strings.Contains(msg, "already exists") {
		t.Errorf("same user twice: %q, want \"already exists\"", msg)
	}
	got, err := s.UserByPhone(ctx, a.PhoneNumber)
	mustOK(t, err)
	if got.ID != u1 {
		t.Errorf("UserByPhone = %s, want %s", got.ID, u1)
	}

	// Concurrent adds of one new number: exactly one wins.
	ids := []string{u2, u3, "d00dfeed-0000-4000-8000-000000000004", "d00dfeed-0000-4000-8000-000000000005"}
	errs := make(chan error, len(ids))
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := user(id)
			u.PhoneNumber = "+14155550109"
			errs <- s.CreateUser(ctx, u)
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		switch cardgate.ErrorCode(err) {
		case "":
			ok++
		case cardgate.ECONFLICT:
		default:
			t.Errorf("concurrent add: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent adds of one number succeeded, want 1", ok)
	}
	if _, err := s.UserByPhone(ctx, "+14155550109"); err != nil {
		t.Errorf("UserByPhone after the concurrent adds: %v", err)
	}
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

// CheckSharedPhoneNumbers checks a store upgraded over a database in which
// two users share the number shared and one user has the number single:
// the shared number signs no one in (ECONFLICT), the single one its user,
// and adding a user with either is ECONFLICT. The stores' migration tests
// call it: only a database from before migration 0007 holds such users.
func CheckSharedPhoneNumbers(t *testing.T, s cardgate.Store, shared, single string) {
	t.Helper()
	ctx := context.Background()
	if all, err := s.Users(ctx); err != nil || len(all) != 3 {
		t.Fatalf("users after the upgrade: %d, %v; want all 3", len(all), err)
	}
	if _, err := s.UserByPhone(ctx, shared); cardgate.ErrorCode(err) != cardgate.ECONFLICT {
		t.Errorf("UserByPhone(shared) = %v, want ECONFLICT", err)
	}
	if _, err := s.UserByPhone(ctx, single); err != nil {
		t.Errorf("UserByPhone(single) = %v", err)
	}
	for i, phone := range []string{shared, single} {
		u := user(fmt.Sprintf("d00dfeed-0000-4000-8000-00000000000%d", i))
		u.PhoneNumber = phone
		if err := s.CreateUser(ctx, u); cardgate.ErrorCode(err) != cardgate.ECONFLICT {
			t.Errorf("adding a user with %s: %v, want ECONFLICT", phone, err)
		}
	}
	u := user("d00dfeed-0000-4000-8000-000000000009")
	u.PhoneNumber = "+14155550109"
	if err := s.CreateUser(ctx, u); err != nil {
		t.Errorf("adding a user with a new number: %v", err)
	}
}

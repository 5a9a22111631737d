package cardgate

import "time"

// LoginCode is a one-time sign-in code waiting to be entered. The code itself
// is never stored: only Hash, a keyed hash of the phone number and the code,
// so that a copy of the database does not give out codes.
type LoginCode struct {
	PhoneNumber string
	Hash        []byte
	// UserID is the user the code signs in; empty for a number without an
	// account (or a disabled user's, or one several users share), which
	// gets a code record too, so that sign-in answers alike for every
	// number. No code for it is ever sent, and none signs in.
	UserID    string
	ExpiresAt time.Time
	// Attempts counts the tries at this code, the current one included.
	Attempts  int
	CreatedAt time.Time
}

// Session is a signed-in browser of the card host. The cookie holds a random
// secret; the store keeps only its hash, so a copy of the database does not
// give out sessions.
type Session struct {
	IDHash    []byte
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// OneUserByPhone picks the answer of Store.UserByPhone from the users found
// with a phone number; stores share it so that they word it alike.
func OneUserByPhone(users []*User, phone string) (*User, error) {
	switch len(users) {
	case 0:
		return nil, Errorf(ENOTFOUND, "no user has phone number %s", phone)
	case 1:
		return users[0], nil
	}
	return nil, Errorf(ECONFLICT, "more than one user has phone number %s", phone)
}

package cardgate

import (
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nyaruka/phonenumbers"
)

// User is a person who signs in to a chat host and uses cards.
type User struct {
	// ID is a GUID in canonical lower-case form.
	ID string `json:"id"`
	// Name is the display name the user chose. Never authorize on it.
	Name string `json:"name"`
	// PhoneNumber is a real number (see NormalizePhone) in E.164 form: "+"
	// and up to 15 digits. No two users have the same one.
	PhoneNumber string `json:"phoneNumber"`
	// PictureURL is an absolute http(s) URL, or empty.
	PictureURL string `json:"pictureUrl,omitempty"`
	// Disabled users get no tokens, and their tokens are rejected.
	Disabled bool `json:"disabled"`
	// RevokedBefore, when set, revokes every token issued at or before it.
	RevokedBefore time.Time `json:"revokedBefore,omitzero"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// maxNameLen bounds display names; Kaizala allowed about this much.
const maxNameLen = 128

// Normalize puts the user's ID in canonical form (lower case, no braces) and
// trims surrounding space from the text fields, so that the same user is never
// stored twice under two spellings.
func (u *User) Normalize() {
	u.ID = strings.ToLower(strings.Trim(strings.TrimSpace(u.ID), "{}"))
	u.Name = strings.TrimSpace(u.Name)
	if p, err := NormalizePhone(u.PhoneNumber); err == nil {
		u.PhoneNumber = p
	} else {
		u.PhoneNumber = strings.TrimSpace(u.PhoneNumber) // Validate says what is wrong
	}
	u.PictureURL = strings.TrimSpace(u.PictureURL)
}

// Validate reports the first field that is wrong, as an EINVALID *Error that
// names the field.
func (u *User) Validate() error {
	if err := ValidateUserID("id", u.ID); err != nil {
		return err
	}
	if u.Name == "" {
		return Errorf(EINVALID, "name: must not be empty")
	}
	if len(u.Name) > maxNameLen {
		return Errorf(EINVALID, "name: must be at most %d bytes", maxNameLen)
	}
	if p, err := NormalizePhone(u.PhoneNumber); err != nil {
		return err
	} else if p != u.PhoneNumber {
		return Errorf(EINVALID, "phoneNumber: write it as %s", p)
	}
	if u.PictureURL != "" {
		p, err := url.Parse(u.PictureURL)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return Errorf(EINVALID, "pictureUrl: must be an absolute http or https URL")
		}
	}
	return nil
}

// ValidateUserID reports whether id is a GUID in canonical lower-case form.
// The error names field, the name the caller knows the ID by.
func ValidateUserID(field, id string) error {
	if p, err := uuid.Parse(id); len(id) != 36 || err != nil || p.String() != id {
		return Errorf(EINVALID, "%s: must be a lower-case GUID like 6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", field)
	}
	return nil
}

// NewUserID returns a fresh random GUID.
func NewUserID() string { return uuid.NewString() }

// NormalizePhone accepts a phone number as people type it ("+1 415-555
// 0123") and returns it in E.164 form, or an EINVALID error naming the
// field. The number must be a real one: a country code and a number of a
// length and prefix that country uses, by the libphonenumber metadata
// (github.com/nyaruka/phonenumbers). "+1415555" matches E.164's pattern but
// is no number anyone can have. The error never repeats the input.
func NormalizePhone(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '.', '\t':
			return -1
		}
		return r
	}, s)
	if !strings.HasPrefix(s, "+") || len(s) > 16 {
		return "", phoneError()
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return "", phoneError()
		}
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", phoneError()
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

func phoneError() error {
	return Errorf(EINVALID, "phoneNumber: must be a real phone number in international form: + and the country code, like +14155550123")
}

// UserConflict is the ECONFLICT error for adding u when a user exists
// already with its ID, or (owner, another user) with its phone number;
// stores share it so that they word it alike.
func UserConflict(u *User, owner string) error {
	if owner == "" || owner == u.ID {
		return Errorf(ECONFLICT, "user %s already exists", u.ID)
	}
	return Errorf(ECONFLICT, "phoneNumber: %s is user %s's number already; a number names one person, who signs in with it", u.PhoneNumber, owner)
}

package cardgate

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

// User is a person who signs in to a chat host and uses cards.
type User struct {
	// ID is a GUID in canonical lower-case form.
	ID string `json:"id"`
	// Name is the display name the user chose. Never authorize on it.
	Name string `json:"name"`
	// PhoneNumber is in E.164 form: "+" and up to 15 digits.
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

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// maxNameLen bounds display names; Kaizala allowed about this much.
const maxNameLen = 128

// Normalize puts the user's ID in canonical form (lower case, no braces) and
// trims surrounding space from the text fields, so that the same user is never
// stored twice under two spellings.
func (u *User) Normalize() {
	u.ID = strings.ToLower(strings.Trim(strings.TrimSpace(u.ID), "{}"))
	u.Name = strings.TrimSpace(u.Name)
	u.PhoneNumber = strings.TrimSpace(u.PhoneNumber)
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
	if !e164.MatchString(u.PhoneNumber) {
		return Errorf(EINVALID, "phoneNumber: must be in E.164 form, like +14155550123")
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

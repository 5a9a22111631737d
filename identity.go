package cardgate

import "time"

// Identity is who a valid token stands for: the answer of GET /v1/users/me.
// The JSON form is exactly Kaizala's five fields with Kaizala's casing.
type Identity struct {
	UserID          string `json:"id"`
	Name            string `json:"name"`
	PhoneNumber     string `json:"phoneNumber"`
	PictureURL      string `json:"pictureUrl"`
	ActionPackageID string `json:"actionPackageId"`
	// ExpiresAt is when the token expires; not part of the wire format.
	ExpiresAt time.Time `json:"-"`
}

// TokenState is what a store knows about a token's subject, read in one go so
// that checking a token costs one round trip.
type TokenState struct {
	User    *User
	Package *ActionPackage
	// Revoked reports whether the token's jti has been revoked.
	Revoked bool
}

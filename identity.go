package cardgate

import "time"

// Identity is who a valid token stands for: the answer of GET /v1/users/me.
// The JSON form is exactly Kaizala's five fields with Kaizala's casing.
// ConversationID and ExpiresAt come from the token and are not part of it
// (TestIdentityJSONIsKaizalas).
type Identity struct {
	UserID          string `json:"id"`
	Name            string `json:"name"`
	PhoneNumber     string `json:"phoneNumber"`
	PictureURL      string `json:"pictureUrl"`
	ActionPackageID string `json:"actionPackageId"`
	// ConversationID is the conversation the card was opened in, from the
	// token's conv claim; "" for a token minted outside any conversation.
	// /v1/users/me sends it in the ConversationHeader, never in the body.
	ConversationID string `json:"-"`
	// ExpiresAt is when the token expires; not part of the wire format.
	ExpiresAt time.Time `json:"-"`
}

// ConversationHeader is the response header in which GET /v1/users/me
// names the conversation of a token minted in one; it is absent for any
// other token, and a Kaizala endpoint never sends it.
const ConversationHeader = "Cardgate-Conversation-Id"

// TokenState is what a store knows about a token's subject, read in one go so
// that checking a token costs one round trip.
type TokenState struct {
	User    *User
	Package *ActionPackage
	// Revoked reports whether the token's jti has been revoked.
	Revoked bool
}

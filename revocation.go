package cardgate

import "time"

// RevocationKind says what a Revocation revokes.
type RevocationKind string

// The kinds of revocation.
const (
	// RevokeToken revokes one token, by its jti.
	RevokeToken RevocationKind = "token"
	// RevokeUser revokes every token of a user issued at or before At.
	RevokeUser RevocationKind = "user"
	// RevokePackage revokes every token of an action package issued at or
	// before At.
	RevokePackage RevocationKind = "package"
)

// Valid reports whether k is a known kind.
func (k RevocationKind) Valid() bool {
	return k == RevokeToken || k == RevokeUser || k == RevokePackage
}

// Revocation is one entry of the revocation feed, which offline verifiers
// follow to reject revoked tokens without asking the issuer for each one.
type Revocation struct {
	// Seq orders the feed; the store assigns it, increasing.
	Seq     int64          `json:"seq,omitempty"`
	Kind    RevocationKind `json:"kind"`
	Subject string         `json:"subject"` // a jti, a user ID or a package ID
	// At is when the revocation was made. For users and packages, every
	// token issued at or before At is revoked. Token "iat" has one-second
	// resolution, so a token minted in the same second as the revocation is
	// revoked too: the safe side.
	At time.Time `json:"revokedAt"`
	// Expires is when the entry stops mattering: for a token, its "exp".
	// Zero for users and packages.
	Expires time.Time `json:"expiresAt,omitzero"`
}

// RevokesIssuedAt reports whether revokedBefore revokes a token issued at
// iat. Token times have one-second resolution, so the comparison is in whole
// seconds and a tie counts as revoked.
func RevokesIssuedAt(revokedBefore, iat time.Time) bool {
	return !revokedBefore.IsZero() && iat.Unix() <= revokedBefore.Unix()
}

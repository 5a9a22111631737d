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
	// At is when the revocation was made, and for users and packages the
	// cut-off: every token issued at or before At is revoked. Token "iat"
	// has one-second resolution, so a token minted in the same second as
	// the revocation is revoked too: the safe side. A disable (of a user or
	// a package, which revoke --package is) writes DisableCutoff of its
	// time, a second or two later, to cover the tokens a running issuer may
	// still mint.
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

// MaxStateCacheTTL is the longest an issuer may reuse what it read of a
// user or an action package (issuer.Config.StateCacheTTL, which defaults
// to it and may not exceed it). In particular, an issuer that read a user
// and a package as enabled may go on minting tokens for them for up to
// MaxStateCacheTTL after another process (the CLI, another node) disabled
// either in the store.
const MaxStateCacheTTL = time.Second

// DisableCutoff is the one rule for the cut-off a disable writes: the
// RevokedBefore of a user or an action package disabled at at, and the At
// of its feed entry. It is at + MaxStateCacheTTL rounded up to a whole
// second, so it revokes every token a running issuer can still mint from
// its cache after the disable: such a token is minted before the write
// commits plus MaxStateCacheTTL, and its iat is that time rounded down;
// the rounding up leaves at least one more second for the write itself and
// for the nodes' clocks to differ. Without it verify.Local, which knows a
// disable only by its cut-off, would accept for its whole life a token
// /v1/users/me refuses (the issuer also reads the disabled flag).
//
// The cut-off is in the future when it is written: enabling the subject
// again before it has passed does not revive the tokens issued up to it,
// so a token minted in the 2 to 3 s after the disable is refused by every
// verifier even if the subject was enabled in between; the card fetches a
// new one once that second has passed.
//
// Every disable goes through it: the stores' SetUserDisabled and
// SetPackageDisabled apply it to the time they are given, whoever calls
// them (the running service, the CLI in another process, another node).
// A revocation of a user's or a package's tokens that does not disable
// (Revoke with RevokeUser or RevokePackage) keeps At as given: it stops no
// mint, and a token minted after it is meant to work.
func DisableCutoff(at time.Time) time.Time {
	c := at.Add(MaxStateCacheTTL)
	if t := c.Truncate(time.Second); !t.Equal(c) {
		c = t.Add(time.Second)
	}
	return c.UTC()
}

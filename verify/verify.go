// Package verify validates integration service tokens in any Go service,
// so that nobody hand-rolls a /v1/users/me call without a cache, a timeout
// or a policy.
//
// Two modes, one interface:
//
//   - Remote asks the issuer's GET /v1/users/me, as Kaizala's documentation
//     says, and caches the answer. It works with cardgate's issuer and with
//     any Kaizala-compatible endpoint, and returns the full profile.
//   - Local verifies the signature offline with the issuer's published keys
//     and follows the issuer's revocation feed. It needs no call per token.
//
// Middleware puts the Identity in the request context after checking a
// policy; IdentityFrom reads it back. Authorize on the user id and the
// action package id together, never on the display name, which the user
// chooses.
package verify

import (
	"context"
	"errors"
	"fmt"

	"github.com/cardgate/cardgate"
)

// Identity is who a token stands for: UserID, Name, PhoneNumber,
// PictureURL, ActionPackageID, ExpiresAt, and ConversationID for a token
// minted for a card opened in a conversation ("" otherwise).
type Identity = cardgate.Identity

// Verifier turns a token into an Identity. Errors wrap one of ErrInvalid,
// ErrExpired, ErrRevoked or ErrUnavailable (test with errors.Is), and carry
// the cardgate error code the HTTP status follows from (401 or 503).
type Verifier interface {
	Verify(ctx context.Context, token string) (*Identity, error)
}

// Why a token did not pass.
var (
	// ErrInvalid: malformed, forged, from another issuer, or refused by the
	// issuer for a reason it does not tell.
	ErrInvalid = errors.New("verify: token is invalid")
	// ErrExpired: past its exp (or not yet valid).
	ErrExpired = errors.New("verify: token has expired")
	// ErrRevoked: revoked, or its user or package disabled.
	ErrRevoked = errors.New("verify: token has been revoked")
	// ErrUnavailable: the issuer could not be asked and nothing cached
	// answers; the token is neither accepted nor known to be bad.
	ErrUnavailable = errors.New("verify: issuer unavailable")
)

// Client-facing messages, one per kind, as the issuer words them.
func rejection(kind error, cause error) error {
	code, msg := cardgate.EINVALIDTOKEN, "token is invalid"
	switch kind {
	case ErrExpired:
		msg = "token has expired"
	case ErrUnavailable:
		code, msg = cardgate.EUNAVAILABLE, "the token issuer is unavailable; try again"
	}
	err := kind
	if cause != nil {
		err = fmt.Errorf("%w: %w", kind, cause)
	}
	return cardgate.WrapError(code, msg, err)
}

// Stats counts cache use since a verifier was made.
type Stats struct {
	// Hits are checks answered from the cache (good or bad).
	Hits uint64
	// Misses are checks that needed the issuer (Remote) or Ed25519
	// (Local).
	Misses uint64
}

// maxTokenLen bounds the tokens looked at: real ones are about 400 bytes.
const maxTokenLen = 4096

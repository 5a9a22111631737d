package cardgate

import (
	"context"
	"time"
)

// Store keeps the Integration Service's state. Implementations: package
// sqlite (the embedded default) and package postgres (scale-out); package
// storetest checks that both behave the same.
//
// Lookups of something absent return an ENOTFOUND *Error; creating something
// that exists returns ECONFLICT. Every write is durable when it returns.
type Store interface {
	// ConversationStore: conversations, members, forms and responses.
	ConversationStore

	CreateUser(ctx context.Context, u *User) error
	User(ctx context.Context, id string) (*User, error)
	Users(ctx context.Context) ([]*User, error)
	// SetUserDisabled disables or enables a user (UpdatedAt = at).
	// Disabling also revokes every token the user holds or a running
	// issuer may still mint from its cache: it moves RevokedBefore forward
	// (never back) to DisableCutoff(at) and appends a RevokeUser entry
	// with that At to the feed, in the same transaction. Enabling leaves
	// RevokedBefore as it is.
	SetUserDisabled(ctx context.Context, id string, disabled bool, at time.Time) error
	// UserByPhone returns the user with the given E.164 phone number. None is
	// ENOTFOUND; more than one is ECONFLICT, for a number must name one person
	// to sign in with it.
	UserByPhone(ctx context.Context, phone string) (*User, error)

	CreatePackage(ctx context.Context, p *ActionPackage) error
	Package(ctx context.Context, id string) (*ActionPackage, error)
	Packages(ctx context.Context) ([]*ActionPackage, error)
	// SetPackageDisabled is SetUserDisabled for action packages.
	SetPackageDisabled(ctx context.Context, id string, disabled bool, at time.Time) error

	CreateClient(ctx context.Context, c *Client) error
	// ClientByKeyHash finds the client whose API key hashes to hash.
	ClientByKeyHash(ctx context.Context, hash []byte) (*Client, error)
	// Clients lists clients with the given role, or all when role is "".
	Clients(ctx context.Context, role Role) ([]*Client, error)
	DeleteClient(ctx context.Context, id string) error

	// AddSigningKey stores k, which signs from k.Activation(), and in the
	// same transaction retires every other key at that time unless it
	// retires earlier already: a key scheduled to sign later than that
	// never signs, and at any moment exactly one key signs.
	AddSigningKey(ctx context.Context, k *SigningKey) error
	// SigningKeys returns every key, newest first.
	SigningKeys(ctx context.Context) ([]*SigningKey, error)

	// Revoke records r, assigning r.Seq. For RevokeUser and RevokePackage it
	// also moves the subject's RevokedBefore forward to r.At (never back).
	// Revoking an unknown user or package is ENOTFOUND.
	Revoke(ctx context.Context, r *Revocation) error
	// RevocationsSince returns up to limit feed entries with Seq > since, in
	// Seq order.
	RevocationsSince(ctx context.Context, since int64, limit int) ([]*Revocation, error)

	// TokenState reads the user, the package and whether jti is revoked, in
	// one round trip. A missing user or package is ENOTFOUND.
	TokenState(ctx context.Context, userID, packageID, jti string) (*TokenState, error)

	// PutPackageContent replaces the manifest and files of an existing
	// action package, in one transaction.
	PutPackageContent(ctx context.Context, id string, manifest []byte, files map[string][]byte, at time.Time) error
	// PackageManifest returns the manifest an action package was imported
	// with; ENOTFOUND if it has none.
	PackageManifest(ctx context.Context, id string) ([]byte, error)
	// PackageFileCount returns how many files an action package holds
	// (0 for one never imported).
	PackageFileCount(ctx context.Context, id string) (int, error)
	// PackageFile returns one file of an imported action package.
	PackageFile(ctx context.Context, id, path string) ([]byte, error)

	// PutSealedSecret stores a secret, already sealed with the master key,
	// under name, replacing any earlier value.
	PutSealedSecret(ctx context.Context, name string, sealed []byte, at time.Time) error
	// SealedSecret returns the sealed secret stored under name.
	SealedSecret(ctx context.Context, name string) ([]byte, error)
	// SecretNames lists the names of the stored secrets, sorted.
	SecretNames(ctx context.Context) ([]string, error)

	// AppendAudit stores audit records, assigning their IDs.
	AppendAudit(ctx context.Context, recs []*AuditRecord) error
	// Audit returns the records q selects, oldest first.
	Audit(ctx context.Context, q AuditQuery) ([]*AuditRecord, error)
	// PruneAudit deletes up to limit of the oldest records that are older
	// than before or, when keep > 0, not among the newest keep (by ID),
	// and returns how many it deleted. Small limits keep each call short,
	// so that appends are not held up.
	PruneAudit(ctx context.Context, before time.Time, keep int64, limit int) (int, error)

	// PutLoginCode stores c as the one pending code for c.PhoneNumber,
	// replacing any earlier one.
	PutLoginCode(ctx context.Context, c *LoginCode) error
	// AttemptLoginCode counts one attempt at the pending code for phone and
	// returns the code with Attempts including this one, in one atomic step,
	// so that concurrent guesses are all counted. None pending is ENOTFOUND.
	AttemptLoginCode(ctx context.Context, phone string) (*LoginCode, error)
	// DeleteLoginCode removes the pending code for phone if its hash is hash,
	// and reports whether it did: false means another request used or
	// replaced it first.
	DeleteLoginCode(ctx context.Context, phone string, hash []byte) (bool, error)

	// CreateSession stores s, and drops sessions that expired before
	// s.CreatedAt.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session whose ID hashes to idHash, expired or not.
	Session(ctx context.Context, idHash []byte) (*Session, error)
	// DeleteSession removes a session; deleting one that is gone is not an
	// error.
	DeleteSession(ctx context.Context, idHash []byte) error

	// Setting returns the installation's setting name (SettingIssuerURL);
	// one never set is ENOTFOUND.
	Setting(ctx context.Context, name string) (string, error)
	// InitSetting stores value as setting name unless it is set already,
	// and returns the value stored, in one atomic step: of several nodes
	// starting at once, one value wins and all of them get it.
	InitSetting(ctx context.Context, name, value string, at time.Time) (string, error)
	// PutSetting sets setting name to value, replacing any earlier value.
	PutSetting(ctx context.Context, name, value string, at time.Time) error

	// Ping reports whether the store is reachable (for /readyz).
	Ping(ctx context.Context) error
	Close() error
}

// SettingIssuerURL is the installation's issuer URL: the iss of every token
// it mints and the only one it accepts.
const SettingIssuerURL = "issuer_url"

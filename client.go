package cardgate

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
)

// Role says what a Client's API key may do.
type Role string

// The roles a client can have.
const (
	// RoleHost is a chat host: it may mint tokens (POST /v1/tokens).
	RoleHost Role = "host"
	// RoleResourceServer is a service that validates tokens: it may call
	// introspection and read the revocation feed.
	RoleResourceServer Role = "resource-server"
	// RoleAdmin may call the admin API and revoke tokens.
	RoleAdmin Role = "admin"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	return r == RoleHost || r == RoleResourceServer || r == RoleAdmin
}

// Client is a program that calls the Integration Service with an API key: a
// chat host, a resource server, or an administrator. The key itself is shown
// once, when the client is created; only its SHA-256 hash is stored. (A key is
// 256 random bits, so a fast hash is enough: there is nothing to brute-force.)
type Client struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	KeyHash   []byte    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
}

// APIKeyPrefix starts every API key, so that secret scanners can spot leaked
// keys and people can tell them from tokens.
const APIKeyPrefix = "cgk_"

// NewAPIKey returns a fresh random API key and its hash.
func NewAPIKey() (key string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("cardgate: crypto/rand failed: " + err.Error()) // never returns an error since Go 1.24
	}
	key = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return key, HashAPIKey(key)
}

// HashAPIKey returns the hash under which an API key is stored.
func HashAPIKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// LooksLikeAPIKey reports whether s has the shape of an API key, so that a
// request with a token where a key belongs can get a precise error.
func LooksLikeAPIKey(s string) bool { return strings.HasPrefix(s, APIKeyPrefix) }

// Validate reports the first field that is wrong.
func (c *Client) Validate() error {
	if strings.TrimSpace(c.Name) == "" {
		return Errorf(EINVALID, "name: must not be empty")
	}
	if len(c.Name) > maxNameLen {
		return Errorf(EINVALID, "name: must be at most %d bytes", maxNameLen)
	}
	if !c.Role.Valid() {
		return Errorf(EINVALID, "role: must be one of host, resource-server, admin")
	}
	if len(c.KeyHash) != sha256.Size {
		return Errorf(EINVALID, "keyHash: must be a SHA-256 hash")
	}
	return nil
}

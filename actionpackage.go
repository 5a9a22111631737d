package cardgate

import (
	"regexp"
	"strings"
	"time"
)

// ActionPackage is a card: a small web app that runs inside a conversation.
// Tokens are minted for one user and one action package.
type ActionPackage struct {
	// ID is in reverse-DNS form ("com.contoso.orders"), at most 64 characters.
	ID string `json:"id"`
	// DisplayName is what the host shows for the card.
	DisplayName string `json:"displayName"`
	// Disabled packages get no tokens, and their tokens are rejected.
	Disabled bool `json:"disabled"`
	// RevokedBefore, when set, revokes every token issued at or before it.
	RevokedBefore time.Time `json:"revokedBefore,omitzero"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// MaxPackageIDLen is the longest action package ID, as in Kaizala.
const MaxPackageIDLen = 64

// Reverse-DNS: two or more dot-separated labels of letters, digits, '-' or '_',
// each starting with a letter.
var reverseDNS = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z][A-Za-z0-9_-]*)+$`)

// Normalize trims surrounding space from the package's fields.
func (p *ActionPackage) Normalize() {
	p.ID = strings.TrimSpace(p.ID)
	p.DisplayName = strings.TrimSpace(p.DisplayName)
}

// Validate reports the first field that is wrong, as an EINVALID *Error that
// names the field.
func (p *ActionPackage) Validate() error {
	if err := ValidatePackageID("id", p.ID); err != nil {
		return err
	}
	if p.DisplayName == "" {
		return Errorf(EINVALID, "displayName: must not be empty")
	}
	if len(p.DisplayName) > maxNameLen {
		return Errorf(EINVALID, "displayName: must be at most %d bytes", maxNameLen)
	}
	return nil
}

// ValidatePackageID reports whether id is a valid action package ID. The
// error names field, the name the caller knows the ID by.
func ValidatePackageID(field, id string) error {
	if len(id) > MaxPackageIDLen {
		return Errorf(EINVALID, "%s: must be at most %d characters", field, MaxPackageIDLen)
	}
	if !reverseDNS.MatchString(id) {
		return Errorf(EINVALID, "%s: must be in reverse-DNS form, like com.contoso.orders", field)
	}
	return nil
}

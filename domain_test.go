package cardgate_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

func TestUserValidate(t *testing.T) {
	good := func() cardgate.User {
		return cardgate.User{ID: "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", Name: "Alice", PhoneNumber: "+14155550101"}
	}
	tests := []struct {
		name  string
		edit  func(u *cardgate.User)
		field string // "" means valid
	}{
		{"valid", func(u *cardgate.User) {}, ""},
		{"valid with picture", func(u *cardgate.User) { u.PictureURL = "https://pics.example/a.png" }, ""},
		{"upper-case GUID is normalized", func(u *cardgate.User) { u.ID = "{6F1C2A9E-3B7D-4C1E-9A5F-2D8E7B6C4A10}" }, ""},
		{"not a GUID", func(u *cardgate.User) { u.ID = "alice" }, "id:"},
		{"GUID without dashes", func(u *cardgate.User) { u.ID = "6f1c2a9e3b7d4c1e9a5f2d8e7b6c4a10" }, "id:"},
		{"no name", func(u *cardgate.User) { u.Name = "  " }, "name:"},
		{"long name", func(u *cardgate.User) { u.Name = strings.Repeat("n", 129) }, "name:"},
		{"local phone", func(u *cardgate.User) { u.PhoneNumber = "4155550101" }, "phoneNumber:"},
		{"phone with spaces", func(u *cardgate.User) { u.PhoneNumber = "+1 415 555 0101" }, ""},
		{"phone of E.164's shape but no real number", func(u *cardgate.User) { u.PhoneNumber = "+1415555" }, "phoneNumber:"},
		{"phone with an unknown country code", func(u *cardgate.User) { u.PhoneNumber = "+999123456789" }, "phoneNumber:"},
		{"phone without +", func(u *cardgate.User) { u.PhoneNumber = "14155550101" }, "phoneNumber:"},
		{"phone with letters", func(u *cardgate.User) { u.PhoneNumber = "+1415555CALL" }, "phoneNumber:"},
		{"phone too long", func(u *cardgate.User) { u.PhoneNumber = "+1234567890123456" }, "phoneNumber:"},
		{"phone leading zero", func(u *cardgate.User) { u.PhoneNumber = "+0415555" }, "phoneNumber:"},
		{"script picture", func(u *cardgate.User) { u.PictureURL = "javascript:alert(1)" }, "pictureUrl:"},
		{"relative picture", func(u *cardgate.User) { u.PictureURL = "/a.png" }, "pictureUrl:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := good()
			tt.edit(&u)
			u.Normalize()
			err := u.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if cardgate.ErrorCode(err) != cardgate.EINVALID || !strings.HasPrefix(cardgate.ErrorMessage(err), tt.field) {
				t.Fatalf("err = %v, want EINVALID naming %s", err, tt.field)
			}
		})
	}
}

// TestNormalizePhone: numbers as people type them come out in E.164 form;
// only real numbers pass, and the error does not repeat the input.
func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+14155550101":      "+14155550101",
		"+1 (415) 555-0101": "+14155550101",
		"+44 7911 123456":   "+447911123456",
		"+44 07911 123456":  "+447911123456", // the national 0, which people type, goes
		"+49 30 123456":     "+4930123456",
	} {
		if got, err := cardgate.NormalizePhone(in); err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "+", "+1415555", "+12345", "+0415555", "+1234567890123456", "4155550101", "+1 415 555 01O1"} {
		got, err := cardgate.NormalizePhone(in)
		if cardgate.ErrorCode(err) != cardgate.EINVALID || !strings.HasPrefix(cardgate.ErrorMessage(err), "phoneNumber:") {
			t.Errorf("NormalizePhone(%q) = %q, %v; want EINVALID naming phoneNumber", in, got, err)
		} else if in == "+1 415 555 01O1" && strings.Contains(err.Error(), "01O1") {
			t.Errorf("NormalizePhone(%q): error repeats the input: %v", in, err)
		}
	}
}

func TestPackageIDs(t *testing.T) {
	for id, ok := range map[string]bool{
		"com.contoso.orders":                     true,
		"com.contoso.orders-v2":                  true,
		"a.b":                                    true,
		"orders":                                 false,
		"com..orders":                            false,
		".com.orders":                            false,
		"com.contoso.":                           false,
		"com.1contoso":                           false,
		"com.contoso/orders":                     false,
		"com.contoso." + strings.Repeat("a", 53): false, // 65 characters
		"com.contoso." + strings.Repeat("a", 52): true,  // 64 characters
	} {
		err := cardgate.ValidatePackageID("actionPackageId", id)
		if (err == nil) != ok {
			t.Errorf("%q: err = %v, want ok = %v", id, err, ok)
		}
		if err != nil && !strings.HasPrefix(cardgate.ErrorMessage(err), "actionPackageId:") {
			t.Errorf("%q: message %q does not name the field", id, cardgate.ErrorMessage(err))
		}
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	inner := errors.New("disk on fire at /var/lib/x")
	e := cardgate.WrapError(cardgate.EUNAVAILABLE, "store unavailable", inner)
	wrapped := fmt.Errorf("issuer: check: %w", e)
	if cardgate.ErrorCode(wrapped) != cardgate.EUNAVAILABLE || cardgate.ErrorMessage(wrapped) != "store unavailable" {
		t.Errorf("code %q message %q", cardgate.ErrorCode(wrapped), cardgate.ErrorMessage(wrapped))
	}
	if !errors.Is(wrapped, inner) {
		t.Error("cause lost")
	}
	// An error that is not a *cardgate.Error never shows its text to a client.
	if cardgate.ErrorCode(inner) != cardgate.EINTERNAL || cardgate.ErrorMessage(inner) != "internal error" {
		t.Errorf("plain error: code %q message %q", cardgate.ErrorCode(inner), cardgate.ErrorMessage(inner))
	}
	if cardgate.ErrorCode(nil) != "" {
		t.Error("nil has a code")
	}
}

func TestAPIKeys(t *testing.T) {
	k1, h1 := cardgate.NewAPIKey()
	k2, _ := cardgate.NewAPIKey()
	if k1 == k2 || !cardgate.LooksLikeAPIKey(k1) || len(k1) != len("cgk_")+43 {
		t.Fatalf("keys %q %q", k1, k2)
	}
	if string(cardgate.HashAPIKey(k1)) != string(h1) || strings.Contains(string(h1), k1) {
		t.Error("hash does not match, or holds the key")
	}
}

func TestRevokesIssuedAt(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 500_000_000, time.UTC)
	for _, tc := range []struct {
		iat  time.Time
		want bool
	}{
		{at.Add(-time.Hour), true},
		{at.Truncate(time.Second), true}, // same second: revoked, the safe side
		{at.Add(time.Second), false},
	} {
		if got := cardgate.RevokesIssuedAt(at, tc.iat); got != tc.want {
			t.Errorf("iat %v: %v, want %v", tc.iat, got, tc.want)
		}
	}
	if cardgate.RevokesIssuedAt(time.Time{}, at) {
		t.Error("zero time revokes")
	}
}

package guidpack

import (
	"strings"
	"testing"
)

// TestRoundTrip: every ID comes back as it went in; only a canonical
// lower-case GUID is packed, into 16 bytes.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		id     string
		packed bool
	}{
		{"", false},
		{"0b8f6c1e-2d4a-4f3b-8c9d-1e2f3a4b5c6d", true},
		{"0B8F6C1E-2D4A-4F3B-8C9D-1E2F3A4B5C6D", false}, // upper case
		{"{0b8f6c1e-2d4a-4f3b-8c9d-1e2f3a4b5c6}", false},
		{"urn:uuid:0b8f6c1e-2d4a-4f3b-8c9d-1e", false},
		{"0b8f6c1e2d4a4f3b8c9d1e2f3a4b5c6d", false}, // no hyphens
		{"general", false},
		{strings.Repeat("x", Flag-1), false},
	} {
		stored, n, ok := Pack(tc.id)
		if !ok {
			t.Fatalf("%.40q: not packed", tc.id)
		}
		if got := n&Flag != 0; got != tc.packed || (tc.packed && len(stored) != 16) || Len(n) != len(stored) {
			t.Errorf("%.40q: stored %d bytes, length %#x", tc.id, len(stored), n)
		}
		if got := Unpack(stored, n); got != tc.id {
			t.Errorf("%.40q: unpacked %.40q", tc.id, got)
		}
	}
	if _, _, ok := Pack(strings.Repeat("x", Flag)); ok {
		t.Error("an ID of 32 KiB was recorded")
	}
}

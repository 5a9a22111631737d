package verify

import (
	"strings"
	"testing"
	"time"
)

// TestPackIdentityRoundTrip: a cached identity comes back as it went in,
// with a conversation GUID (packed), another conversation ID (kept as it
// is, up to 254 bytes; a longer one is not cached) or none.
func TestPackIdentityRoundTrip(t *testing.T) {
	exp := time.Unix(1_800_000_000, 0).UTC()
	for _, conv := range []string{"", testConversation, strings.ToUpper(testConversation), "general", strings.Repeat("c", 254)} {
		id := Identity{UserID: "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", Name: "Ünïcode", PhoneNumber: "+14155550101",
			PictureURL: "https://pics.example/a.png", ActionPackageID: "com.contoso.orders", ConversationID: conv, ExpiresAt: exp}
		p, ok := packIdentity(&id)
		if !ok {
			t.Fatalf("conversation %.20q: not packed", conv)
		}
		if got := p.identity(); *got != id {
			t.Errorf("conversation %.20q: unpacked %+v, want %+v", conv, got, id)
		}
	}
	if _, ok := packIdentity(&Identity{UserID: "u", ActionPackageID: "p", ConversationID: strings.Repeat("c", 255)}); ok {
		t.Error("a conversation ID of 255 bytes was packed")
	}
}

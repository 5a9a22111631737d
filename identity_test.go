package cardgate_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

// TestIdentityJSONIsKaizalas: an Identity marshals to exactly Kaizala's
// five members, whatever else it carries (the conversation, the expiry).
func TestIdentityJSONIsKaizalas(t *testing.T) {
	b, err := json.Marshal(&cardgate.Identity{
		UserID: "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10", Name: "Alice", PhoneNumber: "+14155550101",
		ActionPackageID: "com.contoso.orders", ConversationID: "0b8f6c1e-2d4a-4f3b-8c9d-1e2f3a4b5c6d",
		ExpiresAt: time.Unix(1_800_000_000, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"actionPackageId", "id", "name", "phoneNumber", "pictureUrl"}
	if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
		t.Errorf("members %v, want exactly %v (%s)", got, want, b)
	}
}

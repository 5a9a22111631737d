package tokenhash_test

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/tokenhash"
)

func TestOf(t *testing.T) {
	for _, tok := range []string{"", "a", strings.Repeat("x", 450), strings.Repeat("y", 5000)} {
		if tokenhash.Of(tok) != sha256.Sum256([]byte(tok)) {
			t.Errorf("Of(%d bytes) differs from sha256", len(tok))
		}
	}
	tok := strings.Repeat("z", 450) // a real token's size
	if n := testing.AllocsPerRun(100, func() { tokenhash.Of(tok) }); n != 0 {
		t.Errorf("Of allocates %v times", n)
	}
}

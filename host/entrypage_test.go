package host_test

import (
	"context"
	"testing"

	"github.com/cardgate/cardgate/actionpkg"
	"github.com/cardgate/cardgate/internal/kaizalatest"
)

// A Kaizala package opens at its CreationView, not at the view whose name
// sorts first (ChatCanvasCardView, which has no page).
func TestCardOpensAtCreationView(t *testing.T) {
	e := newEnv(t, false)
	p, err := actionpkg.Load(kaizalatest.File(t, "actions/sample-request-response-action.zip"), actionpkg.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ImportPackage(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.signIn()
	a := b.call("GET", "/host/api/me", nil)
	cards, _ := a.body["cards"].([]any)
	const id = "com.microsoft.kaizala.RequestResponse"
	for _, c := range cards {
		if card := c.(map[string]any); card["id"] == id {
			if want := cardsOrigin + "/frame/" + id + "/CreationView.html"; card["url"] != want {
				t.Errorf("url = %v, want %s", card["url"], want)
			}
			return
		}
	}
	t.Fatalf("no card %s in %s", id, a.raw)
}

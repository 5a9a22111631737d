package host_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/actionpkg"
)

// Kaizala's getLocalizedStrings: the package's strings_<locale>.json, its
// language's, then strings_en.json, then {}; only for a signed-in user
// and an installed card.
func TestCardStrings(t *testing.T) {
	e := newEnv(t, false)
	dir := t.TempDir()
	for _, f := range []string{"index.html", "icon.svg"} {
		b, err := os.ReadFile(filepath.Join("../actionpkg/testdata/orders", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	manifest, _ := os.ReadFile("../actionpkg/testdata/orders/package.json")
	os.WriteFile(filepath.Join(dir, "package.json"), []byte(strings.Replace(string(manifest), orders, "com.contoso.strings", 1)), 0o644)
	os.WriteFile(filepath.Join(dir, "strings_en.json"), []byte(`{"hello":"Hello"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "strings_fr.json"), []byte(`{"hello":"Bonjour"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "strings_pt-BR.json"), []byte(`{"hello":"Olá"}`), 0o644)
	p, err := actionpkg.Load(dir, actionpkg.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ImportPackage(t.Context(), p); err != nil {
		t.Fatal(err)
	}

	b := e.browser(t)
	if a := b.call("GET", "/host/api/cards/com.contoso.strings/strings?locale=fr", nil); a.status != 401 {
		t.Fatalf("before sign-in: %d %s", a.status, a.raw)
	}
	b.signIn()
	for _, tc := range []struct{ path, want string }{
		{"com.contoso.strings/strings?locale=fr", "Bonjour"},
		{"com.contoso.strings/strings?locale=fr-CA", "Bonjour"},
		{"com.contoso.strings/strings?locale=pt-BR", "Olá"},
		{"com.contoso.strings/strings?locale=de", "Hello"},
		{"com.contoso.strings/strings", "Hello"},
		{orders + "/strings?locale=fr", ""}, // no strings files: {}
	} {
		a := b.call("GET", "/host/api/cards/"+tc.path, nil)
		if got, _ := a.body["hello"].(string); a.status != 200 || got != tc.want {
			t.Errorf("%s: %d %s, want hello=%q", tc.path, a.status, a.raw, tc.want)
		}
	}
	for path, status := range map[string]int{
		"com.contoso.strings/strings?locale=../x":  400,
		"com.contoso.strings/strings?locale=en_US": 400,
		"com.nope.card/strings":                    404,
		tokensOnly + "/strings":                    404, // registered, but no card
		"nodots/strings":                           400,
	} {
		if a := b.call("GET", "/host/api/cards/"+path, nil); a.status != status || a.message() == "" {
			t.Errorf("%s: %d %s, want %d with an error message", path, a.status, a.raw, status)
		}
	}
}

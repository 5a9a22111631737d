package actionpkg_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/actionpkg"
)

func TestLoadFolder(t *testing.T) {
	p, err := actionpkg.Load("testdata/orders", actionpkg.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if p.Manifest.ID != "com.contoso.orders" || p.Manifest.EntryPage() != "index.html" || len(p.Files) != 3 {
		t.Errorf("package = %+v, %d files", p.Manifest, len(p.Files))
	}
	// The same package zipped, inside a folder as zip tools make it.
	z := zipOf(t, map[string]string{
		"orders/package.json": string(p.Files["package.json"]),
		"orders/index.html":   "<p>hi</p>",
		"orders/icon.svg":     "<svg/>",
	})
	path := filepath.Join(t.TempDir(), "orders.zip")
	os.WriteFile(path, z, 0o600)
	pz, err := actionpkg.Load(path, actionpkg.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if string(pz.Files["index.html"]) != "<p>hi</p>" {
		t.Errorf("zip files = %v", keys(pz.Files))
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func manifest(edit func(m map[string]any)) string {
	m := map[string]any{
		"id": "com.contoso.orders", "schemaVersion": 1, "displayName": "Orders", "version": "1.0.0",
		"description": "d", "providerName": "Contoso", "icon": "icon.svg",
		"views":        map[string]any{"CreationView": map[string]any{"sourceLocation": "index.html"}},
		"externalUrls": []string{"https://api.contoso.example", "http://127.0.0.1:8081"},
	}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestManifestValidation(t *testing.T) {
	tests := []struct {
		name string
		json string
		msg  string // "" means valid
	}{
		{"valid", manifest(nil), ""},
		{"schemaVersion as string", manifest(func(m map[string]any) { m["schemaVersion"] = "1.0" }), ""},
		{"schemaVersion not a number", manifest(func(m map[string]any) { m["schemaVersion"] = "one" }), "schemaVersion"},
		{"no id", manifest(func(m map[string]any) { delete(m, "id") }), "id: required"},
		{"bad id", manifest(func(m map[string]any) { m["id"] = "orders" }), "package.json: id: must be in reverse-DNS form"},
		{"long id", manifest(func(m map[string]any) { m["id"] = "com." + strings.Repeat("a", 61) }), "at most 64"},
		{"unknown schema", manifest(func(m map[string]any) { m["schemaVersion"] = 7 }), "schemaVersion: 7 is not supported"},
		{"no displayName", manifest(func(m map[string]any) { m["displayName"] = " " }), "displayName: must not be empty"},
		{"bad version", manifest(func(m map[string]any) { m["version"] = "one" }), "version: \"one\" is not a version"},
		{"no provider", manifest(func(m map[string]any) { delete(m, "providerName") }), "providerName: required"},
		{"no views", manifest(func(m map[string]any) { m["views"] = map[string]any{} }), "views.CreationView: required"},
		{"view outside", manifest(func(m map[string]any) {
			m["views"] = map[string]any{"CreationView": map[string]any{"sourceLocation": "../../etc/passwd.html"}}
		}), "views.CreationView.sourceLocation: \"../../etc/passwd.html\": must not contain .."},
		{"view missing", manifest(func(m map[string]any) {
			m["views"] = map[string]any{"CreationView": map[string]any{"sourceLocation": "nope.html"}}
		}), "views.CreationView.sourceLocation: nope.html is not in the package"},
		{"view not html", manifest(func(m map[string]any) {
			m["views"] = map[string]any{"CreationView": map[string]any{"sourceLocation": "icon.svg"}}
		}), "views.CreationView.sourceLocation: must be a .html or .htm file"},
		{"legacy view outside", manifest(func(m map[string]any) {
			m["views"] = map[string]any{"main": map[string]any{"sourceLocation": "../x.html"}}
		}), "views.main.sourceLocation: \"../x.html\": must not contain .."},
		{"card view layout outside", manifest(func(m map[string]any) {
			m["views"].(map[string]any)["ChatCanvasCardView"] = map[string]any{"sourceLocation": "../card.json"}
		}), "views.ChatCanvasCardView.sourceLocation: \"../card.json\": must not contain .."},
		{"app model missing", manifest(func(m map[string]any) { m["appModel"] = "AppModel.json" }), "appModel: AppModel.json is not in the package"},
		{"kaizala external url", manifest(func(m map[string]any) { m["externalUrls"] = []any{map[string]any{"url": "http://evil.example"}} }), "externalUrls[0].url: \"http://evil.example\": http is allowed only on loopback"},
		{"icon missing", manifest(func(m map[string]any) { m["icon"] = "logo.png" }), "icon: logo.png is not in the package"},
		{"http external", manifest(func(m map[string]any) { m["externalUrls"] = []string{"http://api.contoso.example"} }), "externalUrls[0]: \"http://api.contoso.example\": http is allowed only on loopback"},
		{"CSP injection", manifest(func(m map[string]any) { m["externalUrls"] = []string{"https://a.example; script-src *"} }), "externalUrls[0]"},
		{"wildcard", manifest(func(m map[string]any) { m["externalUrls"] = []string{"https://*.example"} }), "externalUrls[0]"},
		{"javascript url", manifest(func(m map[string]any) { m["externalUrls"] = []string{"javascript:alert(1)"} }), "externalUrls[0]"},
		{"wrong type", manifest(func(m map[string]any) { m["externalUrls"] = "https://a.example" }), "externalUrls: must be a list of URLs"},
		{"malformed", `{"id":`, "package.json: empty or cut short"},
		{"syntax", "{\n  \"id\": \"com.a.b\"\n  \"version\": 1\n}", "package.json: malformed JSON at line 3, column 3"},
		{"not an object", `["id"]`, "package.json: must be a JSON object"},
		{"trailing data", manifest(nil) + "{}", "must hold one JSON object and nothing after it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"package.json": tt.json, "index.html": "<p/>", "icon.svg": "<svg/>"}
			_, err := actionpkg.ReadZip(bytes.NewReader(zipOf(t, files)), int64(len(zipOf(t, files))), actionpkg.DefaultLimits)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("valid manifest refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.msg)
			}
			if cardgate.ErrorCode(err) != cardgate.EINVALID {
				t.Errorf("code = %s", cardgate.ErrorCode(err))
			}
		})
	}
}

// zipOf builds a zip; entries ending in "@link" are stored as symlinks.
func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		h := &zip.FileHeader{Name: strings.TrimSuffix(name, "@link"), Method: zip.Deflate}
		if strings.HasSuffix(name, "@link") {
			h.SetMode(fs.ModeSymlink | 0o777)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	zw.Close()
	return buf.Bytes()
}

func TestZipTricksAreRefused(t *testing.T) {
	ok := map[string]string{"package.json": manifest(nil), "index.html": "<p/>", "icon.svg": "<svg/>"}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range ok {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	small := actionpkg.Limits{MaxFiles: 5, MaxFileBytes: 1 << 10, MaxTotalBytes: 2 << 10}
	tests := []struct {
		name  string
		files map[string]string
		lim   actionpkg.Limits
		msg   string
	}{
		{"parent traversal", with(map[string]string{"../../evil.html": "x"}), actionpkg.DefaultLimits, "must not contain .."},
		{"nested traversal", with(map[string]string{"a/../../evil": "x"}), actionpkg.DefaultLimits, "must not contain .."},
		{"absolute", with(map[string]string{"/etc/cron.d/evil": "x"}), actionpkg.DefaultLimits, "must be relative"},
		{"backslash", with(map[string]string{`..\..\evil`: "x"}), actionpkg.DefaultLimits, "backslashes"},
		{"NUL", with(map[string]string{"a\x00.html": "x"}), actionpkg.DefaultLimits, "NUL"},
		{"symlink", with(map[string]string{"passwd@link": "/etc/passwd"}), actionpkg.DefaultLimits, "symbolic link"},
		{"duplicate after cleaning", with(map[string]string{"./index.html": "again"}), actionpkg.DefaultLimits, "appears twice"},
		{"file too large (compresses small)", with(map[string]string{"big.js": strings.Repeat("a", 5000)}), small, "larger than 1024 bytes"},
		{"too many files", with(map[string]string{"1": "", "2": "", "3": ""}), small, "more than 5 files"},
		{"total too large", with(map[string]string{"a.js": strings.Repeat("a", 1000), "b.js": strings.Repeat("b", 1000)}), small, "add up to more than"},
		{"no manifest", map[string]string{"index.html": "<p/>"}, actionpkg.DefaultLimits, "no package.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := zipOf(t, tt.files)
			_, err := actionpkg.ReadZip(bytes.NewReader(z), int64(len(z)), tt.lim)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.msg)
			}
		})
	}
	if _, err := actionpkg.ReadZip(bytes.NewReader([]byte("not a zip")), 9, actionpkg.DefaultLimits); err == nil {
		t.Error("garbage accepted as a zip")
	}
}

func TestFolderWithLinkIsRefused(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"package.json": manifest(nil), "index.html": "<p/>", "icon.svg": "<svg/>"} {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600)
	}
	if _, err := actionpkg.Load(dir, actionpkg.DefaultLimits); err != nil {
		t.Fatalf("clean folder: %v", err)
	}
	os.Symlink("/etc/passwd", filepath.Join(dir, "passwd.txt"))
	if _, err := actionpkg.Load(dir, actionpkg.DefaultLimits); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("folder with a link: err = %v", err)
	}
}

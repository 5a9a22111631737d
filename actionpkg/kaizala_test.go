package actionpkg_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cardgate/cardgate/actionpkg"
	"github.com/cardgate/cardgate/internal/kaizalatest"
)

// kaizalaSchema compiles Kaizala's own package_manifest_schema.json.
func kaizalaSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(kaizalatest.File(t, "actions/package_manifest_schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("package_manifest_schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("package_manifest_schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// schemaErrors validates a manifest against the schema and returns each
// failure as "<JSON pointer>: <message>", sorted; none when it is valid.
func schemaErrors(t *testing.T, sch *jsonschema.Schema, raw []byte) []string {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("manifest is not JSON: %v", err)
	}
	err = sch.Validate(inst)
	var ve *jsonschema.ValidationError
	if err == nil {
		return nil
	} else if !errors.As(err, &ve) {
		t.Fatal(err)
	}
	var out []string
	for _, u := range ve.BasicOutput().Errors {
		if msg := fmt.Sprint(u.Error); msg != "validation failed" {
			out = append(out, u.InstanceLocation+": "+msg)
		}
	}
	sort.Strings(out)
	return out
}

func readZipFile(t *testing.T, zipPath, name string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == name {
			rc, _ := f.Open()
			defer rc.Close()
			var b bytes.Buffer
			b.ReadFrom(rc)
			return b.Bytes()
		}
	}
	t.Fatalf("%s holds no %s", zipPath, name)
	return nil
}

// Microsoft's two sample packages, byte for byte as published (with the
// __MACOSX/ and .DS_Store entries uploads carry), import without a warning;
// everything their manifests say is kept.
func TestKaizalaSamplesImport(t *testing.T) {
	sch := kaizalaSchema(t)
	for _, tt := range []struct {
		zip, folder, id, entry string
		files                  int
		schemaErrors           []string // where Microsoft's sample departs from its own schema
	}{
		{"sample-request-response-action.zip", "Sample Request-Response Action", "com.microsoft.kaizala.RequestResponse", "CreationView.html", 17, nil},
		{"sample-response-action.zip", "Sample Response Action", "com.microsoft.kaizala.ResponseCard", "Response.html", 20,
			[]string{"/views: missing property 'ResponseView'"}},
	} {
		t.Run(tt.zip, func(t *testing.T) {
			path := kaizalatest.File(t, "actions/"+tt.zip)
			p, err := actionpkg.Load(path, actionpkg.DefaultLimits)
			if err != nil {
				t.Fatalf("Microsoft's sample refused: %v", err)
			}
			m := p.Manifest
			if m.ID != tt.id || m.EntryPage() != tt.entry || p.Folder != tt.folder || len(p.Files) != tt.files {
				t.Errorf("id %s, entry %s, folder %q, %d files", m.ID, m.EntryPage(), p.Folder, len(p.Files))
			}
			if len(p.Warnings) != 0 {
				t.Errorf("warnings for a Kaizala sample: %v", p.Warnings)
			}
			if raw := readZipFile(t, path, tt.folder+"/package.json"); !bytes.Equal(m.Raw, raw) || !bytes.Equal(p.Files["package.json"], raw) {
				t.Error("the manifest is not kept as it came")
			}
			if !slices.Contains(p.Skipped, "__MACOSX/") || !slices.Contains(p.Skipped, tt.folder+"/.DS_Store") ||
				!slices.Contains(p.Skipped, "__MACOSX/"+tt.folder+"/._package.json") {
				t.Errorf("skipped = %v", p.Skipped)
			}
			for name := range p.Files {
				if strings.Contains(name, "__MACOSX") || strings.HasSuffix(name, ".DS_Store") || strings.HasPrefix(name, tt.folder) {
					t.Errorf("file %q kept", name)
				}
			}
			// What later features read: the typed view of Kaizala's fields.
			cv := m.CardView()
			if m.Version != "1" || m.MinorVersion != "1" || m.AppModel != "AppModel.json" || m.Dials["isPinned"] != false ||
				cv.IsResponseEditable || cv.LabelResponded != "Response sent" || !cv.ShowHeader || !cv.ShowExpiry ||
				m.Views["CreationView"].Flag("showNativeToolbar", true) {
				t.Errorf("manifest read as %+v, card view %+v", m, cv)
			}
			if got := schemaErrors(t, sch, m.Raw); !slices.Equal(got, tt.schemaErrors) {
				t.Errorf("against Kaizala's schema: %q, want %q", got, tt.schemaErrors)
			}
		})
	}
}

// fencedBlocks returns the fenced code blocks of a Markdown file.
func fencedBlocks(t *testing.T, rel string) []string {
	t.Helper()
	b, err := os.ReadFile(kaizalatest.File(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			if cur == nil {
				cur = &strings.Builder{}
			} else {
				blocks = append(blocks, strings.TrimSpace(cur.String()))
				cur = nil
			}
			continue
		}
		if cur != nil {
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}

func blockStarting(t *testing.T, blocks []string, prefix string) []string {
	var out []string
	for _, b := range blocks {
		if strings.HasPrefix(b, prefix) {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no block starting %s", prefix)
	}
	return out
}

// withMember puts the member `"name": …` (as text) into a manifest's text:
// in place of the member of that name, or before the closing brace.
func withMember(t *testing.T, manifest, member string) string {
	t.Helper()
	name := member[:strings.Index(member, ":")]
	i := strings.Index(manifest, name)
	if i < 0 {
		end := strings.LastIndex(manifest, "}")
		return strings.TrimRight(manifest[:end], " \n") + ",\n" + member + "\n}"
	}
	depth, j := 0, strings.Index(manifest[i:], "{")+i
	for ; j < len(manifest); j++ {
		if manifest[j] == '{' {
			depth++
		} else if manifest[j] == '}' {
			if depth--; depth == 0 {
				break
			}
		}
	}
	return manifest[:i] + member + manifest[j+1:]
}

var trailingComma = regexp.MustCompile(`,(\s*[\]}])`)

// The example manifests in Kaizala's docs import: the tutorial's package.json
// and its views as it grows them, with test.md's dials and
// UrlWhitelisting.md's externalUrls. Where a doc's snippet is not JSON (a
// trailing comma, a missing comma) the import says where, and the snippet
// with only that typo mended imports.
func TestKaizalaDocManifestsImport(t *testing.T) {
	sch := kaizalaSchema(t)
	icon, err := os.ReadFile(kaizalatest.File(t, "actions/icon.png"))
	if err != nil {
		t.Fatal(err)
	}
	tutorial := fencedBlocks(t, "actions/tutorial.md")
	manifestBlock := func() string {
		for _, b := range blockStarting(t, tutorial, "{") {
			if strings.Contains(b, `"schemaVersion"`) {
				return b
			}
		}
		t.Fatal("the tutorial has no package.json")
		return ""
	}
	base := manifestBlock()
	// The tutorial's snippets are indented with no-break spaces (its web
	// page's); the import says so, and they are spaces to the reader.
	_, err = actionpkg.ParseManifest([]byte(base))
	if err == nil || !strings.Contains(err.Error(), "malformed JSON at line 1, column 2: a no-break space (U+00A0)") {
		t.Fatalf("tutorial step 6 as printed: err = %v", err)
	}
	for i := range tutorial {
		tutorial[i] = strings.ReplaceAll(tutorial[i], "\u00a0", " ")
	}
	base = manifestBlock()
	views := blockStarting(t, tutorial, `"views"`)
	if len(views) != 2 {
		t.Fatalf("the tutorial's views snippets: %d, want 2", len(views))
	}
	dials := strings.TrimSuffix(blockStarting(t, fencedBlocks(t, "actions/test.md"), `"dials"`)[0], ",")
	urls := blockStarting(t, fencedBlocks(t, "actions/KASClient/UrlWhitelisting.md"), `"externalUrls"`)[0]
	if !trailingComma.MatchString(urls) || !strings.HasSuffix(urls, ",") {
		t.Fatal("UrlWhitelisting.md's snippet changed; look at it again")
	}
	urls = trailingComma.ReplaceAllString(strings.TrimSuffix(urls, ","), "$1") // its two trailing commas

	// The step 8 views snippet lacks a comma: the import names the place,
	// and with the comma put there it imports.
	step8 := withMember(t, base, views[1])
	_, err = actionpkg.ParseManifest([]byte(step8))
	var syn *json.SyntaxError
	if err == nil || !strings.Contains(err.Error(), "malformed JSON at line 27, column 25") || !errors.As(json.Unmarshal([]byte(step8), new(any)), &syn) {
		t.Fatalf("tutorial step 8 as printed: err = %v", err)
	}
	at := strings.LastIndexFunc(step8[:syn.Offset-1], func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) }) + 1
	step8 = step8[:at] + "," + step8[at:]

	schemaSays := func(errs ...string) []string { sort.Strings(errs); return errs }
	versionIsNumber := "/version: got number, want string"
	for _, tt := range []struct {
		name, manifest string
		warnings       []string
		schemaErrors   []string
	}{
		{"tutorial step 6", base, nil, schemaSays("/views: missing properties 'ResponseView', 'ResponseResultsView'", versionIsNumber)},
		{"tutorial step 6, card view", withMember(t, base, views[0]), nil, schemaSays("/views: missing properties 'ResponseView', 'ResponseResultsView'", versionIsNumber)},
		{"tutorial step 8", step8, []string{"views.ResponseResultsView.labelPageHeader"}, schemaSays(versionIsNumber)},
		{"test.md dials", withMember(t, base, dials), nil, schemaSays("/views: missing properties 'ResponseView', 'ResponseResultsView'", versionIsNumber)},
		{"UrlWhitelisting.md", withMember(t, step8, urls), []string{"views.ResponseResultsView.labelPageHeader"}, schemaSays(versionIsNumber)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"package.json": tt.manifest, "icon.png": string(icon), "appModel.json": "{}",
				"CreationView.html": "<p>", "ResponseView.html": "<p>", "SummaryView.html": "<p>"}
			z := zipOf(t, files)
			p, err := actionpkg.ReadZip(bytes.NewReader(z), int64(len(z)), actionpkg.DefaultLimits)
			if err != nil {
				t.Fatalf("refused: %v\n%s", err, tt.manifest)
			}
			var warned []string
			for _, w := range p.Warnings {
				warned = append(warned, w.Field)
			}
			if !slices.Equal(warned, tt.warnings) || p.Manifest.EntryPage() != "CreationView.html" || p.Manifest.Version != "1" {
				t.Errorf("warnings %v (want %v), entry %s, version %s", warned, tt.warnings, p.Manifest.EntryPage(), p.Manifest.Version)
			}
			if got := schemaErrors(t, sch, []byte(tt.manifest)); !slices.Equal(got, tt.schemaErrors) {
				t.Errorf("against Kaizala's schema: %q, want %q", got, tt.schemaErrors)
			}
		})
	}
}

// schemaField is one string or boolean property of the schema, by path.
type schemaField struct {
	path []string
	typ  string
	max  int
}

func schemaFields(t *testing.T) []schemaField {
	b, err := os.ReadFile(kaizalatest.File(t, "actions/package_manifest_schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(b, &doc)
	var out []schemaField
	var walk func(path []string, s map[string]any)
	walk = func(path []string, s map[string]any) {
		props, _ := s["properties"].(map[string]any)
		for name, v := range props {
			sub := v.(map[string]any)
			p := append(slices.Clone(path), name)
			if sub["type"] == "object" {
				walk(p, sub)
				continue
			}
			max, _ := sub["maxLength"].(float64)
			out = append(out, schemaField{p, sub["type"].(string), int(max)})
		}
	}
	walk(nil, doc)
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i].path, ".") < strings.Join(out[j].path, ".") })
	return out
}

// value is a valid value of f that is n characters long (for strings).
func value(f schemaField, n int) any {
	name := f.path[len(f.path)-1]
	switch {
	case f.typ == "boolean":
		return false
	case f.typ == "number":
		return 1
	case name == "id":
		return "com." + strings.Repeat("a", n-4)
	case name == "version":
		return strings.Repeat("1", n)
	case name == "sourceLocation":
		return strings.Repeat("v", n-5) + ".html"
	case name == "icon":
		return strings.Repeat("i", n-4) + ".png"
	case name == "appModel":
		return strings.Repeat("m", n-5) + ".json"
	}
	return strings.Repeat("x", n)
}

// set puts v at path in a manifest.
func set(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		if _, ok := m[k].(map[string]any); !ok {
			m[k] = map[string]any{}
		}
		m = m[k].(map[string]any)
	}
	m[path[len(path)-1]] = v
}

// importJSON imports a manifest with the files it names.
func importJSON(t *testing.T, m map[string]any) (*actionpkg.Package, []byte, error) {
	t.Helper()
	raw, _ := json.Marshal(m)
	files := map[string]string{"package.json": string(raw)}
	var collect func(v any)
	collect = func(v any) {
		if o, ok := v.(map[string]any); ok {
			for k, x := range o {
				if s, ok := x.(string); ok && (k == "sourceLocation" || k == "icon" || k == "appModel") {
					files[s] = "x"
				}
				collect(x)
			}
		}
	}
	collect(m)
	z := zipOf(t, files)
	p, err := actionpkg.ReadZip(bytes.NewReader(z), int64(len(z)), actionpkg.DefaultLimits)
	return p, raw, err
}

// Every field Kaizala's schema defines, at its longest, is accepted without
// a warning and kept; one character more is refused by both the schema and
// the import, naming the field; so is a value of the wrong type. The fields
// come from the schema file itself.
func TestEveryKaizalaSchemaField(t *testing.T) {
	sch := kaizalaSchema(t)
	fields := schemaFields(t)
	full := func() map[string]any {
		m := map[string]any{}
		for _, f := range fields {
			n := f.max
			if n == 0 {
				n = 5
			}
			set(m, f.path, value(f, n))
		}
		set(m, []string{"schemaVersion"}, 1)
		set(m, []string{"version"}, "1.0.0")
		return m
	}
	p, raw, err := importJSON(t, full())
	if err != nil || len(p.Warnings) != 0 {
		t.Fatalf("every schema field at its longest: %v, warnings %v", err, p.Warnings)
	}
	if got := schemaErrors(t, sch, raw); got != nil {
		t.Fatalf("the test's manifest is not schema-valid: %v", got)
	}
	if len(fields) < 30 || !bytes.Equal(p.Manifest.Raw, raw) || p.Manifest.Views["ResponseView"].Text("backDialogTitle") == "" {
		t.Errorf("%d fields; kept %s", len(fields), p.Manifest.Raw)
	}
	for _, f := range fields {
		field := strings.Join(f.path, ".")
		var bad []any
		if f.max > 0 {
			bad = append(bad, value(f, f.max+1))
		}
		switch f.typ {
		case "string":
			bad = append(bad, true)
		default:
			bad = append(bad, "yes")
		}
		for _, v := range bad {
			m := full()
			set(m, f.path, v)
			_, raw, err := importJSON(t, m)
			if err == nil || !strings.Contains(err.Error(), field+": ") {
				t.Errorf("%s = %v: import err = %v", field, v, err)
			}
			if schemaErrors(t, sch, raw) == nil {
				t.Errorf("%s = %v: the schema accepts it", field, v)
			}
		}
	}
	// Required by both; the schema also requires icon and appModel, which
	// cardgate does not (a card without a form has no app model).
	for _, name := range []string{"schemaVersion", "id", "version", "displayName", "description", "providerName", "icon", "appModel"} {
		m := full()
		delete(m, name)
		_, raw, err := importJSON(t, m)
		if schemaErrors(t, sch, raw) == nil {
			t.Errorf("without %s: the schema accepts it", name)
		}
		if relaxed := name == "icon" || name == "appModel"; relaxed != (err == nil) {
			t.Errorf("without %s: import err = %v", name, err)
		} else if !relaxed && !strings.Contains(err.Error(), name+": required") {
			t.Errorf("without %s: import err = %v", name, err)
		}
	}
}

// A field Kaizala does not define is kept and warned of by its path; the
// fields beyond the schema that cardgate accepts are not.
func TestUnknownFieldsWarn(t *testing.T) {
	m := map[string]any{}
	json.Unmarshal([]byte(manifest(func(m map[string]any) {
		m["permissions"] = "all"
		m["parentTemplateId"] = "com.example.template" // accepted: no warning
		m["dials"] = map[string]any{"isPinned": true, "glow": true}
		m["externalUrls"] = []any{"https://a.example", map[string]any{"url": "https://b.example", "note": "x"}}
		m["views"] = map[string]any{
			"CreationView":       map[string]any{"sourceLocation": "index.html", "label": "Old"},
			"ChatCanvasCardView": map[string]any{"showLikes": false, "showSparkles": true},
			"SettingsView":       map[string]any{"sourceLocation": "index.html"},
		}
	})), &m)
	files := map[string]string{"package.json": mustJSON(m), "index.html": "<p/>", "icon.svg": "<svg/>"}
	z := zipOf(t, files)
	p, err := actionpkg.ReadZip(bytes.NewReader(z), int64(len(z)), actionpkg.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range p.Warnings {
		got = append(got, w.String())
	}
	const msg = ": not a field Kaizala's manifest defines; kept, not used"
	want := []string{"dials.glow" + msg, "externalUrls[1].note" + msg, "permissions" + msg,
		"views.ChatCanvasCardView.showSparkles" + msg, "views.CreationView.label" + msg, "views.SettingsView" + msg}
	if !slices.Equal(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Equal(p.Manifest.ExternalURLs, []string{"https://a.example", "https://b.example"}) ||
		p.Manifest.CardView().ShowLikes || p.Manifest.Views["ChatCanvasCardView"].Settings["showSparkles"] != true {
		t.Errorf("manifest read as %+v", p.Manifest)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A manifest with many problems lists them all in one error, each by field.
func TestBrokenManifestListsEveryProblem(t *testing.T) {
	raw := manifest(func(m map[string]any) {
		m["id"] = "orders"
		m["version"] = true
		m["displayName"] = strings.Repeat("n", 65)
		m["icon"] = "logo.png"
		m["externalUrls"] = []any{"https://ok.example", "http://evil.example", 7}
		m["views"] = map[string]any{
			"CreationView":       map[string]any{"showNativeToolbar": "no"},
			"ResponseView":       map[string]any{"sourceLocation": "respond.js"},
			"ChatCanvasCardView": map[string]any{"labelResponded": 1},
		}
		m["appModel"] = "../AppModel.json"
		m["futureFlag"] = 1 // a warning, not a problem
	})
	files := map[string]string{"package.json": raw, "index.html": "<p/>", "icon.svg": "<svg/>", "respond.js": ""}
	z := zipOf(t, files)
	_, err := actionpkg.ReadZip(bytes.NewReader(z), int64(len(z)), actionpkg.DefaultLimits)
	want := []string{
		"package.json: 11 problems:",
		"  appModel: \"../AppModel.json\": must not contain ..",
		"  displayName: at most 64 characters (Kaizala's limit), not 65",
		"  externalUrls[1]: \"http://evil.example\": http is allowed only on loopback; use https",
		"  externalUrls[2]: must be a URL string or {\"url\": \"…\"}",
		"  icon: logo.png is not in the package",
		"  id: must be in reverse-DNS form, like com.contoso.orders",
		"  version: must be a string or a number",
		"  views.ChatCanvasCardView.labelResponded: must be a string",
		"  views.CreationView.showNativeToolbar: must be true or false",
		"  views.CreationView.sourceLocation: required",
		"  views.ResponseView.sourceLocation: must be a .html or .htm file",
	}
	if err == nil {
		t.Fatal("broken manifest accepted")
	}
	got := strings.Split(strings.TrimPrefix(err.Error(), "cardgate: "), "\n")
	sort.Strings(got[1:])
	if !slices.Equal(got, want) {
		t.Errorf("error:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Files zip tools and desktops add are skipped, and said so; a junk name
// is still checked as a path and a link is still refused.
func TestZipToolFilesAreSkipped(t *testing.T) {
	files := map[string]string{
		"card/package.json": manifest(nil), "card/index.html": "<p/>", "card/icon.svg": "<svg/>",
		"card/.DS_Store": "x", "__MACOSX/card/._index.html": "x", "card/img/Thumbs.db": "x", "card/._icon.svg": "x",
	}
	z := zipOf(t, files)
	p, err := actionpkg.ReadZip(bytes.NewReader(z), int64(len(z)), actionpkg.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"__MACOSX/card/._index.html", "card/.DS_Store", "card/._icon.svg", "card/img/Thumbs.db"}
	if !slices.Equal(p.Skipped, want) || len(p.Files) != 3 || p.Folder != "card" {
		t.Errorf("skipped %v, files %v, folder %q", p.Skipped, keys(p.Files), p.Folder)
	}
	for name, msg := range map[string]string{"__MACOSX/../../evil": "must not contain ..", ".DS_Store@link": "symbolic link"} {
		bad := zipOf(t, map[string]string{"package.json": manifest(nil), "index.html": "<p/>", "icon.svg": "<svg/>", name: "/etc/passwd"})
		if _, err := actionpkg.ReadZip(bytes.NewReader(bad), int64(len(bad)), actionpkg.DefaultLimits); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: err = %v, want %q", name, err, msg)
		}
	}
	// A folder, as a Mac leaves it.
	fsys := fstest.MapFS{
		"package.json": {Data: []byte(manifest(nil))}, "index.html": {Data: []byte("<p/>")}, "icon.svg": {Data: []byte("<svg/>")},
		".DS_Store": {Data: []byte("x")}, "__MACOSX/._index.html": {Data: []byte("x")},
	}
	p, err = actionpkg.ReadFS(fsys, actionpkg.DefaultLimits)
	if err != nil || !slices.Equal(p.Skipped, []string{".DS_Store", "__MACOSX/"}) || len(p.Files) != 3 {
		t.Errorf("folder: %v, skipped %v", err, p.Skipped)
	}
}

// The card opens at CreationView, Kaizala's entry, however the views sort;
// cardgate's first format ("main") still opens, with a warning.
func TestEntryPage(t *testing.T) {
	for _, tt := range []struct {
		name  string
		views map[string]any
		entry string
		warn  string
	}{
		{"kaizala", map[string]any{
			"ChatCanvasCardView":  map[string]any{"isResponseEditable": false},
			"CreationView":        map[string]any{"sourceLocation": "create.html"},
			"ResponseResultsView": map[string]any{"sourceLocation": "index.html"},
			"ResponseView":        map[string]any{"sourceLocation": "index.html"},
		}, "create.html", ""},
		{"cardgate's first format", map[string]any{"main": map[string]any{"label": "Order", "sourceLocation": "index.html"}}, "index.html", "views.main"},
		{"both", map[string]any{"main": map[string]any{"sourceLocation": "index.html"}, "CreationView": map[string]any{"sourceLocation": "create.html"}}, "create.html", "views.main"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw := manifest(func(m map[string]any) { m["views"] = tt.views })
			z := zipOf(t, map[string]string{"package.json": raw, "index.html": "<p/>", "create.html": "<p/>", "icon.svg": "<svg/>"})
			p, err := actionpkg.ReadZip(bytes.NewReader(z), int64(len(z)), actionpkg.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			var warned string
			for _, w := range p.Warnings {
				warned += w.Field
			}
			if p.Manifest.EntryPage() != tt.entry || warned != tt.warn {
				t.Errorf("entry %s, warnings %v", p.Manifest.EntryPage(), p.Warnings)
			}
			// The stored manifest, read back, opens at the same page.
			back, err := actionpkg.ParseManifest(p.Manifest.Raw)
			if err != nil || back.EntryPage() != tt.entry {
				t.Errorf("read back: %v, %v", back, err)
			}
		})
	}
}

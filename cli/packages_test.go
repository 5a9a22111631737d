package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/internal/kaizalatest"
)

// `packages import` takes Microsoft's sample as uploaded, says what it
// skipped and where the card opens; importing it again needs --replace,
// and then says what it replaced by what.
func TestPackagesImportKaizalaSample(t *testing.T) {
	zip := kaizalatest.File(t, "actions/sample-response-action.zip")
	env := map[string]string{"CARDGATE_DATA": t.TempDir()}
	out, errOut, err := run(t, env, "packages", "import", zip)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, errOut)
	}
	for _, want := range []string{
		"skipped 22 entries a zip tool or desktop adds: __MACOSX/ (21 entries), Sample Response Action/.DS_Store\n",
		`read the package from its folder "Sample Response Action/"` + "\n",
		"imported package com.microsoft.kaizala.ResponseCard (Response) version 1, 20 files; it opens at Response.html\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("warnings for Microsoft's sample: %s", errOut)
	}
	_, _, err = run(t, env, "packages", "import", zip)
	if err == nil || !strings.Contains(err.Error(), "package com.microsoft.kaizala.ResponseCard is already imported (Response, version 1, 20 files); import again with --replace") {
		t.Fatalf("import again: %v", err)
	}

	// A changed package (one more file, a field Kaizala does not define)
	// replaces it with --replace; the unknown field is a warning.
	dir := t.TempDir()
	manifest := `{"id":"com.microsoft.kaizala.ResponseCard","schemaVersion":1,"displayName":"Response","version":"2",
		"description":"d","providerName":"p","icon":"AppIcon.png","views":{"CreationView":{"sourceLocation":"Response.html","tint":"red"}}}`
	for name, body := range map[string]string{"package.json": manifest, "Response.html": "<p>", "AppIcon.png": "", ".DS_Store": ""} {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600)
	}
	out, errOut, err = run(t, env, "packages", "import", "--replace", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "skipped 1 entries a zip tool or desktop adds: .DS_Store\n") ||
		!strings.Contains(out, "replaced version 1 (20 files) with version 2 (3 files)\n") ||
		errOut != "warning: package.json: views.CreationView.tint: not a field Kaizala's manifest defines; kept, not used\n" {
		t.Errorf("replace said:\n%s\nstderr:\n%s", out, errOut)
	}
	out = mustRun(t, env, "packages", "import", "--replace", "--json", zip)
	var rep struct {
		Package  struct{ ID string }
		Version  string
		Files    int
		Replaced struct {
			Version string
			Files   int
		}
		EntryPage string
		Folder    string
		Skipped   []string
		Warnings  []map[string]string
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Package.ID != "com.microsoft.kaizala.ResponseCard" || rep.Files != 20 ||
		rep.Replaced.Version != "2" || rep.Replaced.Files != 3 || rep.EntryPage != "Response.html" || len(rep.Skipped) != 22 || rep.Warnings == nil {
		t.Errorf("--json: %+v (%v)\n%s", rep, err, out)
	}
}

package issuer_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/actionpkg"
)

func loadShop(t *testing.T, version string, extra map[string]string) *actionpkg.Package {
	t.Helper()
	fsys := map[string][]byte{
		"package.json": []byte(`{"id":"com.example.shop","schemaVersion":1,"displayName":"Shop","version":"` + version +
			`","description":"d","providerName":"Contoso","views":{"CreationView":{"sourceLocation":"index.html"}}}`),
		"index.html": []byte("<p>" + version),
	}
	for k, v := range extra {
		fsys[k] = []byte(v)
	}
	p := &actionpkg.Package{Files: fsys}
	m, err := actionpkg.ParseManifest(fsys["package.json"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Validate(nil); err != nil {
		t.Fatal(err)
	}
	p.Manifest = m
	return p
}

// Importing an ID that already holds a package is refused unless replace is
// asked for; the result names what was replaced and by what.
func TestImportReplace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Registered for tokens only: the import gives it its files.
	if err := e.svc.CreatePackage(ctx, &cardgate.ActionPackage{ID: "com.example.shop", DisplayName: "Shop"}); err != nil {
		t.Fatal(err)
	}
	imp, err := e.svc.Import(ctx, loadShop(t, "1.0.0", nil), false)
	if err != nil || imp.Replaced != nil || imp.Files != 2 || imp.Version != "1.0.0" {
		t.Fatalf("first import: %+v, %v", imp, err)
	}
	_, err = e.svc.Import(ctx, loadShop(t, "2.0.0", map[string]string{"app.js": ""}), false)
	if cardgate.ErrorCode(err) != cardgate.ECONFLICT ||
		!strings.Contains(err.Error(), "package com.example.shop is already imported (Shop, version 1.0.0, 2 files); import again with --replace") {
		t.Fatalf("re-import without replace: %v", err)
	}
	if b, _ := e.svc.Store().PackageFile(ctx, "com.example.shop", "index.html"); string(b) != "<p>1.0.0" {
		t.Fatalf("a refused import changed the files: %q", b)
	}
	if err := e.svc.SetPackageDisabled(ctx, "com.example.shop", true); err != nil {
		t.Fatal(err)
	}
	imp, err = e.svc.Import(ctx, loadShop(t, "2.0.0", map[string]string{"app.js": ""}), true)
	if err != nil || imp.Replaced == nil || imp.Replaced.Version != "1.0.0" || imp.Replaced.Files != 2 || imp.Version != "2.0.0" || imp.Files != 3 {
		t.Fatalf("replace: %+v (%+v), %v", imp, imp.Replaced, err)
	}
	// The record is kept (still disabled); the manifest is stored as it came.
	p, _ := e.svc.Store().Package(ctx, "com.example.shop")
	raw, _ := e.svc.Store().PackageManifest(ctx, "com.example.shop")
	if !p.Disabled || !bytes.Contains(raw, []byte(`"version":"2.0.0"`)) {
		t.Errorf("after replace: %+v, %s", p, raw)
	}
	if !strings.Contains(e.logs.String(), `"replaced_version":"1.0.0"`) {
		t.Errorf("log: %s", e.logs)
	}
}

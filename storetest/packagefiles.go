package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/cardgate/cardgate"
)

func testPackageContent(t *testing.T, s cardgate.Store) {
	ctx := context.Background()
	mustOK(t, s.CreatePackage(ctx, pkg(p1)))
	_, err := s.PackageManifest(ctx, p1)
	wantCode(t, err, cardgate.ENOTFOUND)
	wantCode(t, s.PutPackageContent(ctx, p2, []byte("{}"), nil, t0), cardgate.ENOTFOUND)

	v1 := map[string][]byte{"index.html": []byte("<p>one</p>"), "js/app.js": {0, 1, 2, 255}}
	mustOK(t, s.PutPackageContent(ctx, p1, []byte(`{"id":"v1"}`), v1, t0.Add(time.Minute)))
	m, err := s.PackageManifest(ctx, p1)
	mustOK(t, err)
	if string(m) != `{"id":"v1"}` {
		t.Errorf("manifest = %s", m)
	}
	if n, err := s.PackageFileCount(ctx, p1); err != nil || n != 2 {
		t.Errorf("PackageFileCount = %d, %v; want 2", n, err)
	}
	if n, err := s.PackageFileCount(ctx, p2); err != nil || n != 0 {
		t.Errorf("PackageFileCount of a package never imported = %d, %v; want 0", n, err)
	}
	if b, err := s.PackageFile(ctx, p1, "js/app.js"); err != nil || string(b) != "\x00\x01\x02\xff" {
		t.Errorf("js/app.js = %v, %v", b, err)
	}
	// A new import replaces every file: one that is gone is gone.
	mustOK(t, s.PutPackageContent(ctx, p1, []byte(`{"id":"v2"}`), map[string][]byte{"index.html": []byte("<p>two</p>")}, t0.Add(2*time.Minute)))
	if b, _ := s.PackageFile(ctx, p1, "index.html"); string(b) != "<p>two</p>" {
		t.Errorf("index.html after re-import = %q", b)
	}
	_, err = s.PackageFile(ctx, p1, "js/app.js")
	wantCode(t, err, cardgate.ENOTFOUND)
	got, _ := s.Package(ctx, p1)
	if !got.UpdatedAt.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("UpdatedAt = %v", got.UpdatedAt)
	}
}

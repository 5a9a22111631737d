package main

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestMakesProfile runs the tool with short loads and checks that it
// writes a merged pprof profile (`go tool pprof` has read every one) that
// the compiler accepts for PGO.
func TestMakesProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds cardgate and runs the loads")
	}
	out := filepath.Join(t.TempDir(), "default.pgo")
	if err := run(t.Context(), options{root: "../..", out: out, quick: true}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("not a pprof profile: %v", err)
	}
	if b, err := io.ReadAll(zr); err != nil || len(b) < 1000 {
		t.Fatalf("profile: %d bytes, %v", len(b), err)
	}
	if err := checkProfile(t.Context(), "../..", out); err != nil {
		t.Fatal(err)
	}
}

// TestCheckProfileRefuses: a profile the compiler cannot use is caught
// (the one in the repository passes).
func TestCheckProfileRefuses(t *testing.T) {
	if err := checkProfile(t.Context(), "../..", "../../cmd/cardgate/default.pgo"); err != nil {
		t.Errorf("the repository's profile: %v", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.pgo")
	if err := os.WriteFile(junk, []byte("not a profile"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkProfile(t.Context(), "../..", junk); err == nil {
		t.Error("a file that is not a profile passed")
	}
}

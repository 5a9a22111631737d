// Package kaizalatest finds Kaizala's published docs, SDK and sample
// packages, which tests use as fixtures: ../shared/kaizala beside the
// repository (see its README.md). They are read, never copied into the
// source.
package kaizalatest

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// EnvDir names another place for the material.
const EnvDir = "CARDGATE_KAIZALA_DIR"

// Dir returns the folder holding Kaizala's material (README.md, actions/,
// connectors/): $CARDGATE_KAIZALA_DIR, else ../shared/kaizala from the
// module root (or shared/kaizala in a folder further up). A test without it
// skips, saying how to get it; with CI=true it fails.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvDir)
	if dir == "" {
		dir = find()
	}
	if !exists(dir) {
		msg := "Kaizala's docs and samples are not at " + dir + ": put MicrosoftDocs/kaizala-docs " +
			"(commit 42ee7901, its docs laid out as actions/ and connectors/ with Microsoft's two sample " +
			"packages, sample-response-action.zip and sample-request-response-action.zip, in actions/) " +
			"at ../shared/kaizala beside the repository, or set " + EnvDir
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal("kaizalatest: " + msg)
		}
		t.Skip(msg)
	}
	return dir
}

// find looks for shared/kaizala beside the module root, then beside each
// folder above it (a git worktree may sit one level deeper).
func find() string {
	wd, err := os.Getwd()
	if err != nil {
		return "../shared/kaizala"
	}
	root := wd
	for d := wd; filepath.Dir(d) != d; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			root = d
			break
		}
	}
	first := filepath.Join(root, "..", "shared", "kaizala")
	for d := filepath.Dir(root); filepath.Dir(d) != d; d = filepath.Dir(d) {
		if dir := filepath.Join(d, "shared", "kaizala"); exists(dir) {
			return dir
		}
	}
	return first
}

func exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "actions", "package_manifest_schema.json"))
	return err == nil
}

// File returns the path of a file under Dir, like "actions/KASClient.js".
func File(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join(Dir(t), filepath.FromSlash(rel))
}

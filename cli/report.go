package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/adapter"
)

// Report prints err for the command line args: as {"error":{"code",
// "message"}} when args ask for --json, else as one "cardgate: ..." line.
// main writes it to stderr, so that stdout carries only a command's output.
func Report(w io.Writer, args []string, err error) {
	if err == nil {
		return
	}
	msg := strings.TrimPrefix(err.Error(), "cardgate: ")
	if !wantsJSON(args) {
		fmt.Fprintln(w, "cardgate: "+msg)
		return
	}
	code := cardgate.ErrorCode(err)
	var u *UsageError
	var inv invalidError
	var ce *adapter.ConfigError
	switch {
	case errors.As(err, &u):
		code = "Usage"
	case errors.As(err, &inv), errors.As(err, &ce):
		code = cardgate.EINVALID
	}
	writeJSONLine(w, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// invalidError is a mistake in what the user configured (a setting, an
// adapter configuration): reported with --json as InvalidRequest, since a
// script must not read a typo as a failure of cardgate's own.
type invalidError struct{ error }

func (e invalidError) Unwrap() error { return e.error }

// ExitCode is the status main exits with: 0 for success, 2 for a mistake
// in the command line, 1 for anything else.
func ExitCode(err error) int {
	var u *UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		return 2
	}
	return 1
}

// wantsJSON reports whether args hold --json (before any "--").
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-json", "--json", "-json=true", "--json=true":
			return true
		}
	}
	return false
}

// versionInfo is what `cardgate version` tells, from the build info the Go
// toolchain embeds: a `go install ...@v1.2.3` build knows its version, a
// build from a checkout its commit, and `go run` says "(devel)".
type versionInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Modified bool   `json:"modified,omitempty"` // built from a checkout with uncommitted changes
	Go       string `json:"go"`
}

func buildVersion() versionInfo {
	v := versionInfo{Version: "(devel)"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Go = bi.GoVersion
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func runVersion(ctx context.Context, env *Env, args []string) error {
	h := help{name: "version", summary: "print cardgate's version, the commit it was built from and the Go version",
		example: "cardgate version --json"}
	fs := newFlags(env, h)
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(env, fs, h, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usagef("version: takes no arguments")
	}
	v := buildVersion()
	if *asJSON {
		return printJSON(env.Stdout, v)
	}
	line := "cardgate " + v.Version
	if v.Commit != "" {
		line += " commit " + v.Commit
		if v.Modified {
			line += " (modified)"
		}
	}
	fmt.Fprintln(env.Stdout, line+" "+v.Go)
	return nil
}

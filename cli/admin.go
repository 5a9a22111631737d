package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// adminCmd parses a command's flags (the shared ones of kind, plus --json),
// opens the system, and runs fn with the positional arguments. Its errors
// name the flags the user typed (h.fields).
func adminCmd(ctx context.Context, env *Env, args []string, h help, kind flagKind, npos int,
	setup func(fs flagSet), fn func(ctx context.Context, sys *system, pos []string, asJSON bool) error) error {
	fs := newFlags(env, h)
	resolve := configFlags(fs, env.Getenv, kind)
	asJSON := fs.Bool("json", false, "print JSON; an error too, as {\"error\":{\"code\",\"message\"}} on stderr")
	if setup != nil {
		setup(fs)
	}
	pos, err := parse(env, fs, h, args)
	if err != nil {
		return err
	}
	if len(pos) != npos {
		if npos == 0 {
			return usagef("%s: takes no arguments, got %q; see cardgate %s --help", h.name, pos, h.name)
		}
		return usagef("%s: want %s; see cardgate %s --help", h.name, h.args, h.name)
	}
	cfg, err := resolve()
	if err != nil {
		return settingError(err)
	}
	sys, err := open(ctx, cfg, env, openOptions{mode: useInstall}, quietLogger(env))
	if err != nil {
		return err
	}
	defer sys.Close()
	return flagError(fn(ctx, sys, pos, *asJSON), h.fields)
}

// flagSet is the part of *flag.FlagSet the setup functions use.
type flagSet interface {
	String(name, value, usage string) *string
	Bool(name string, value bool, usage string) *bool
	Duration(name string, value time.Duration, usage string) *time.Duration
}

func writeJSONLine(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func table(w io.Writer, header string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func enabled(disabled bool) string {
	if disabled {
		return "disabled"
	}
	return "enabled"
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

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

// adminCmd parses a command's flags (plus --json), opens the system, and
// runs fn with the positional arguments.
func adminCmd(ctx context.Context, env *Env, args []string, usage string, npos int,
	setup func(fs flagSet), fn func(ctx context.Context, sys *system, pos []string, asJSON bool) error) error {
	fs := newFlags(env, usage, usage)
	resolve := configFlags(fs, env.Getenv, storeFlags)
	asJSON := fs.Bool("json", false, "print JSON")
	if setup != nil {
		setup(fs)
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != npos {
		fs.Usage()
		return usagef("%s: want %d argument(s), got %d", usage, npos, len(pos))
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	sys, err := open(ctx, cfg, env, openOptions{mode: useInstall}, quietLogger(env))
	if err != nil {
		return err
	}
	defer sys.Close()
	return fn(ctx, sys, pos, *asJSON)
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

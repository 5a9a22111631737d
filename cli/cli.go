// Package cli is the cardgate command: the servers, the admin commands and
// the demo. cmd/cardgate's main only calls Run, so the whole program runs
// in-process in tests.
//
// Every command that touches the store takes --data (default
// ./cardgate-data: the SQLite database and the master key file) and --store
// (a postgres:// URL selects PostgreSQL). Settings come from, in rising
// order, defaults, a YAML file (--config), CARDGATE_* environment variables
// and flags; see Config. The master key is CARDGATE_MASTER_KEY, or else the
// file master.key in the data directory, created with mode 0600. Only
// issuer, demo and init create an installation; every other command opens
// an existing one and creates nothing (see openMode).
//
// The demo keeps its state in ./cardgate-demo, in the current directory,
// where a user sees it and can delete it, and ignores the environment that
// points at a real installation (see demoEnv).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Env is what a command may touch of the outside world.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"issuer":   {"run the Integration Service", runIssuer},
		"adapter":  {"run the adapter: an identity-aware proxy to business systems", runAdapter},
		"demo":     {"run the demo: a seeded Integration Service on loopback", runDemo},
		"init":     {"create an installation: data directory, master key, database", runInit},
		"users":    {"add, list, disable or enable users", runUsers},
		"packages": {"add, list, disable or enable action packages", runPackages},
		"hosts":    {"add, list or remove chat hosts (clients that mint tokens)", runHosts},
		"clients":  {"add, list or remove API clients of any role", runClients},
		"token":    {"print a fresh token for a user and a package (for testing)", runToken},
		"revoke":   {"revoke a token, every token of a user, or a package", runRevoke},
		"keys":     {"rotate or list the signing keys", runKeys},
		"secrets":  {"store upstream credentials for the adapter, sealed (value on stdin)", runSecrets},
		"audit":    {"query or follow the adapter's audit log", runAudit},
	}
}

// UsageError is a mistake in the command line; main exits with status 2.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &UsageError{fmt.Sprintf(format, args...)} }

// Run runs the command line args (args[0] is the program name).
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	env := &Env{Getenv: getenv, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(args) < 2 {
		printUsage(stderr)
		return usagef("no command given")
	}
	if args[1] == "-h" || args[1] == "--help" || args[1] == "help" {
		printUsage(stdout)
		return nil
	}
	cmd, ok := commands()[args[1]]
	if !ok {
		printUsage(stderr)
		return usagef("unknown command %q", args[1])
	}
	if err := cmd.run(ctx, env, args[2:]); !errors.Is(err, errHelp) {
		return err
	}
	return nil // the command printed its help
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "cardgate secures the calls chat-app cards make to their services.")
	fmt.Fprintln(w, "\nUsage: cardgate <command> [flags]   (cardgate <command> --help for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
}

// newFlags returns a flag set whose errors and --help go to env.Stderr.
func newFlags(env *Env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet("cardgate "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: cardgate %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before, between or after positional
// arguments ("hosts add web --json"), and returns the positional ones.
// --help is not an error: it returns errHelp, which Run treats as success.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, &UsageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// errHelp ends a command that printed its help.
var errHelp = errors.New("help requested")

// subcommand dispatches "<group> <verb> ..." to the verb's function.
func subcommand(ctx context.Context, env *Env, group string, args []string, verbs map[string]func(context.Context, *Env, []string) error) error {
	names := make([]string, 0, len(verbs))
	for v := range verbs {
		names = append(names, v)
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(env.Stderr, "Usage: cardgate %s %s [flags]\n", group, strings.Join(names, "|"))
		if len(args) == 0 {
			return usagef("%s: which one? %s", group, strings.Join(names, ", "))
		}
		return nil
	}
	fn, ok := verbs[args[0]]
	if !ok {
		return usagef("%s: unknown subcommand %q; want one of %s", group, args[0], strings.Join(names, ", "))
	}
	return fn(ctx, env, args[1:])
}

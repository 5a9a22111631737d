// Package cli is the cardgate command: the servers, the admin commands and
// the demo. cmd/cardgate's main only calls Run and Report, so the whole
// program runs in-process in tests.
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
// Each command declares its help (a line of what it does, an example) and
// the groups of shared flags it uses (flagKind), so that its --help lists
// only flags it reads. Every command that prints takes --json; an error is
// then printed as {"error":{"code","message"}} on stderr (see Report).
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

	"github.com/cardgate/cardgate"
)

// Env is what a command may touch of the outside world.
type Env struct {
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// command is one top-level command.
type command struct {
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"issuer":        {"run the Integration Service, its card host and the cards origin", runIssuer},
		"adapter":       {"run the adapter: an identity-aware proxy to business systems", runAdapter},
		"demo":          {"run the demo: a seeded Integration Service on loopback", runDemo},
		"init":          {"create an installation: data directory, master key, database", runInit},
		"users":         {"add, list, disable or enable users", runUsers},
		"conversations": {"add or list conversations, and add, list or remove their members", runConversations},
		"packages":      {"add, import, list, disable or enable action packages", runPackages},
		"hosts":         {"add, list or remove chat hosts (clients that mint tokens)", runHosts},
		"clients":       {"add, list or remove API clients of any role", runClients},
		"token":         {"print a fresh token for a user and a package (for testing)", runToken},
		"revoke":        {"revoke a token, every token of a user, or a package", runRevoke},
		"keys":          {"rotate or list the signing keys", runKeys},
		"secrets":       {"store or list upstream credentials for the adapter, sealed", runSecrets},
		"audit":         {"query or follow the adapter's audit log", runAudit},
		"version":       {"print cardgate's version, commit and Go version", runVersion},
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
	switch args[1] {
	case "-h", "-help", "--help", "help":
		printUsage(stdout)
		return nil
	case "-version", "--version":
		return runVersion(ctx, env, args[2:])
	}
	cmd, ok := commands()[args[1]]
	if !ok {
		return usagef("unknown command %q; see cardgate --help", args[1])
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
	fmt.Fprintln(w, "\nExample:\n  cardgate demo")
}

// help is what a command's --help says, and what its errors need to know.
type help struct {
	name     string // "users add"
	args     string // positional arguments after the name, like "ID"
	summary  string // one line: what it does
	more     string // optional paragraphs after the summary
	example  string // one command line a line, each starting "cardgate "
	required []string
	// fields maps the API field names the domain's errors start with to the
	// flag the user typed, like "phoneNumber" to "--phone".
	fields map[string]string
}

// newFlags returns a flag set for h. It prints nothing itself: parse
// prints the help on --help and returns a one-line error otherwise, so
// that a mistake is reported once.
func newFlags(env *Env, h help) *flag.FlagSet {
	fs := flag.NewFlagSet("cardgate "+h.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// printHelp writes a command's help: usage, what it does, flags, example.
func printHelp(w io.Writer, fs *flag.FlagSet, h help) {
	usage := "cardgate " + h.name
	for _, r := range h.required {
		usage += " --" + r + " " + flagArg(fs, r)
	}
	if h.args != "" {
		usage += " " + h.args
	}
	fmt.Fprintf(w, "Usage: %s [flags]\n\n%s.\n", usage, upperFirst(h.summary))
	if h.more != "" {
		fmt.Fprintf(w, "\n%s\n", h.more)
	}
	fmt.Fprintln(w, "\nFlags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprintf(w, "\nExample:\n  %s\n", strings.ReplaceAll(h.example, "\n", "\n  "))
}

// flagArg is the placeholder of a flag's value in a usage line.
func flagArg(fs *flag.FlagSet, name string) string {
	if f := fs.Lookup(name); f != nil {
		if n, _ := flag.UnquoteUsage(f); n != "" {
			return strings.ToUpper(n)
		}
	}
	return strings.ToUpper(name)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// parse parses flags that may come before, between or after positional
// arguments ("hosts add web --json"), and returns the positional ones.
// --help prints the help to stdout and returns errHelp, which Run treats as
// success. A missing required flag is a usage error that names it.
func parse(env *Env, fs *flag.FlagSet, h help, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printHelp(env.Stdout, fs, h)
				return nil, errHelp
			}
			msg := strings.Replace(err.Error(), "flag provided but not defined:", "unknown flag", 1)
			return nil, usagef("%s: %s; see cardgate %s --help", h.name, msg, h.name)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, r := range h.required {
		if !set[r] {
			return nil, usagef("%s: --%s is required; see cardgate %s --help", h.name, r, h.name)
		}
	}
	return pos, nil
}

// errHelp ends a command that printed its help.
var errHelp = errors.New("help requested")

// verb is one subcommand of a group.
type verb struct {
	summary string
	run     func(context.Context, *Env, []string) error
}

// subcommand dispatches "<group> <verb> ..." to the verb's function.
func subcommand(ctx context.Context, env *Env, group string, args []string, verbs map[string]verb) error {
	return nested(ctx, env, group, commands()[group].summary, args, verbs)
}

// nested is subcommand for a group of subcommands inside a command
// ("conversations members"), with the group's summary.
func nested(ctx context.Context, env *Env, group, summary string, args []string, verbs map[string]verb) error {
	names := make([]string, 0, len(verbs))
	for v := range verbs {
		names = append(names, v)
	}
	sort.Strings(names)
	if len(args) == 0 {
		return usagef("%s: which one? %s; see cardgate %s --help", group, strings.Join(names, ", "), group)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		w := env.Stdout
		fmt.Fprintf(w, "Usage: cardgate %s <subcommand> [flags]   (cardgate %s <subcommand> --help for its flags)\n\n%s.\n\nSubcommands:\n",
			group, group, upperFirst(summary))
		for _, n := range names {
			fmt.Fprintf(w, "  %-8s %s\n", n, verbs[n].summary)
		}
		fmt.Fprintf(w, "\nExample:\n  cardgate %s %s --help\n", group, names[0])
		return nil
	}
	v, ok := verbs[args[0]]
	if !ok {
		return usagef("%s: unknown subcommand %q; want one of %s", group, args[0], strings.Join(names, ", "))
	}
	return v.run(ctx, env, args[1:])
}

// flagError rewrites an error that starts with an API field name ("userId:
// no such user") to start with the flag the user typed ("--user: no such
// user"), keeping its code.
func flagError(err error, fields map[string]string) error {
	var e *cardgate.Error
	if err == nil || len(fields) == 0 || !errors.As(err, &e) {
		return err
	}
	field, rest, ok := strings.Cut(e.Message, ": ")
	if fl, known := fields[field]; ok && known {
		return &cardgate.Error{Code: e.Code, Message: fl + ": " + rest, Err: e.Err}
	}
	return err
}

// settingFlags maps the settings Config.validate names to where an
// operator sets them, so that an error says the flag they typed and the
// other places the value may have come from.
var settingFlags = map[string]string{
	"listen":        "--listen, CARDGATE_LISTEN or config listen",
	"data":          "--data, CARDGATE_DATA or config data",
	"store":         "--store, CARDGATE_STORE or config store",
	"issuerUrl":     "--issuer-url, CARDGATE_ISSUER_URL or config issuerUrl",
	"tokenLifetime": "--token-lifetime, CARDGATE_TOKEN_LIFETIME or config tokenLifetime",
	"logLevel":      "--log-level, CARDGATE_LOG_LEVEL or config logLevel",
}

// settingError rewrites a Config error that starts with a setting's name:
// "tokenLifetime: must be ..." becomes "--token-lifetime,
// CARDGATE_TOKEN_LIFETIME or config tokenLifetime: must be ...".
// It is the user's mistake: InvalidRequest with --json, not Internal.
func settingError(err error) error {
	if err == nil {
		return nil
	}
	field, rest, ok := strings.Cut(err.Error(), ": ")
	if where, known := settingFlags[field]; ok && known {
		return invalidError{fmt.Errorf("%s: %s", where, rest)}
	}
	return invalidError{err}
}

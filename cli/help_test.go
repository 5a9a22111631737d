package cli_test

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/cli"
)

// helpOf runs "cardgate args... --help", which must succeed and print to
// stdout.
func helpOf(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, env, append(args, "--help")...)
	if err != nil || errOut != "" {
		t.Errorf("cardgate %s --help: %v, stderr %q", strings.Join(args, " "), err, errOut)
	}
	return out
}

// listed returns the names in the indented list after the line head.
func listed(help, head string) []string {
	_, rest, ok := strings.Cut(help, "\n"+head+"\n")
	if !ok {
		return nil
	}
	var names []string
	for _, l := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(l, "  ") {
			break
		}
		names = append(names, strings.Fields(l)[0])
	}
	return names
}

var flagLine = regexp.MustCompile(`(?m)^  -([a-z-]+)`)

// Every command and subcommand, found by walking --help from the top, has a
// sentence of what it does, an example that uses only flags it has, and a
// description for each flag; and the shared flags appear only on the
// commands that use them.
func TestHelpWalk(t *testing.T) {
	env := map[string]string{"CARDGATE_DATA": t.TempDir()}
	top := helpOf(t, env)
	cmds := listed(top, "Commands:")
	for _, want := range []string{"adapter", "audit", "clients", "conversations", "demo", "hosts", "init", "issuer", "keys", "packages", "revoke",
		"secrets", "token", "users", "version"} {
		if !slices.Contains(cmds, want) {
			t.Errorf("cardgate --help does not list %s:\n%s", want, top)
		}
	}
	// Which commands use the shared flags; every other command must not
	// offer them.
	servers := []string{"issuer", "demo", "adapter"}
	uses := map[string][]string{
		"issuer-url":     {"issuer", "demo", "token", "init"},
		"token-lifetime": {"issuer", "demo", "token"},
		"listen":         servers,
		"log-level":      servers,
	}
	var leaves []string
	for _, c := range cmds {
		h := helpOf(t, env, c)
		verbs := listed(h, "Subcommands:")
		if verbs == nil {
			leaves = append(leaves, c)
			continue
		}
		for _, v := range verbs {
			// A verb may be a group of its own (conversations members).
			if sub := listed(helpOf(t, env, c, v), "Subcommands:"); sub != nil {
				for _, s := range sub {
					leaves = append(leaves, c+" "+v+" "+s)
				}
				continue
			}
			leaves = append(leaves, c+" "+v)
		}
		if c == "packages" && !slices.Contains(verbs, "import") {
			t.Errorf("packages --help does not list import:\n%s", h)
		}
	}
	if len(leaves) < 25 {
		t.Fatalf("found only %d commands: %v", len(leaves), leaves)
	}
	for _, name := range leaves {
		t.Run(name, func(t *testing.T) {
			h := helpOf(t, env, strings.Fields(name)...)
			lines := strings.Split(h, "\n")
			if len(lines) < 3 || !strings.HasPrefix(lines[0], "Usage: cardgate "+name) || lines[1] != "" ||
				!strings.HasSuffix(lines[2], ".") || len(lines[2]) < 15 {
				t.Errorf("want Usage, a blank line and a sentence of what it does:\n%s", h)
			}
			_, example, ok := strings.Cut(h, "\nExample:\n")
			if !ok || !strings.Contains(example, "cardgate "+name) {
				t.Errorf("no example of cardgate %s:\n%s", name, h)
			}
			var flags []string
			for _, m := range flagLine.FindAllStringSubmatch(h, -1) {
				flags = append(flags, m[1])
			}
			// Every flag is described: the flag package prints the
			// description on the line after the name.
			for i, l := range lines {
				if flagLine.MatchString(l) && (i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "    \t") || len(lines[i+1]) < 10) {
					t.Errorf("flag without a description: %q", l)
				}
			}
			for _, m := range regexp.MustCompile(`\s--?([a-z-]+)`).FindAllStringSubmatch(example, -1) {
				if !slices.Contains(flags, m[1]) {
					t.Errorf("the example uses --%s, which cardgate %s does not have:\n%s", m[1], name, example)
				}
			}
			for flag, users := range uses {
				if slices.Contains(flags, flag) != slices.Contains(users, name) {
					t.Errorf("--%s offered: %v; want it only on %v", flag, slices.Contains(flags, flag), users)
				}
			}
			// The adapter prints with --check, so it has --json for that.
			if (slices.Contains(servers, name) && name != "adapter") == slices.Contains(flags, "json") {
				t.Errorf("--json offered: %v; want it on every command that prints, and not on the servers that only serve", slices.Contains(flags, "json"))
			}
			if name != "demo" && name != "version" && !slices.Contains(flags, "data") {
				t.Errorf("no --data")
			}
		})
	}
	// The store flags are documented with their environment variables.
	for _, s := range []string{"-listen", "CARDGATE_LISTEN", "-data", "CARDGATE_DATA", "-store", "-config", "-issuer-url", "-token-lifetime"} {
		if h := helpOf(t, env, "issuer"); !strings.Contains(h, s) {
			t.Errorf("issuer --help does not mention %s", s)
		}
	}
}

// Mistakes in the command line are reported once, in one line that names
// the flag, with the usage error's status.
func TestUsageMistakes(t *testing.T) {
	env := newInstall(t) // some mistakes are found once the store is open
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{nil, "no command given"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"users"}, "users: which one? add, disable, enable, list"},
		{[]string{"users", "list", "--bogus"}, "users list: unknown flag -bogus; see cardgate users list --help"},
		{[]string{"users", "list", "--token-lifetime", "1h"}, "unknown flag -token-lifetime"},
		{[]string{"users", "add", "--phone", "+14155550123"}, "users add: --name is required"},
		{[]string{"users", "add", "--name", "A"}, "users add: --phone is required"},
		{[]string{"token", "--user", alice}, "token: --package is required"},
		{[]string{"clients", "add", "x"}, "clients add: --role is required"},
		{[]string{"adapter"}, "adapter: --config is required"},
		{[]string{"users", "disable"}, "users disable: want ID"},
		{[]string{"users", "list", "extra"}, "users list: takes no arguments"},
		{[]string{"audit", "query", "--limit", "0"}, "--limit must be a number from 1 to 10000"},
		{[]string{"audit", "query", "--limit", "10001"}, "--limit must be a number from 1 to 10000"},
		{[]string{"keys", "rotate", "--delay", "soon"}, `invalid value "soon" for flag -delay`},
		// Values a command checks itself name the flag, without "see ... --help".
		{[]string{"audit", "query", "--since", "yesterday"}, `--since must be an RFC 3339 time or a duration like 1h, not "yesterday"`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, err := run(t, env, tt.args...)
			var u *cli.UsageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), tt.msg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want a one-line usage error with %q", err, tt.msg)
			}
			// The error is the only report: no usage dump besides it.
			if out != "" || (errOut != "" && tt.args != nil) {
				t.Errorf("printed besides the error: stdout %q, stderr %q", out, errOut)
			}
		})
	}
}

// Errors name the flag the user typed, never the API's field.
func TestErrorsNameFlags(t *testing.T) {
	env := newInstall(t, "--issuer-url", "https://id.example")
	for _, tt := range []struct {
		args      []string
		want, not string
	}{
		{[]string{"users", "add", "--name", "A", "--phone", "555-1234"}, "--phone: must be a real phone number in international form: + and the country code, like +14155550123", "phoneNumber"},
		{[]string{"users", "add", "--name", "A", "--phone", "+14155550123", "--picture", "x"}, "--picture: must be", "pictureUrl"},
		{[]string{"users", "add", "--name", "A", "--phone", "+14155550123", "--id", "nope"}, "--id: must be a lower-case GUID", ""},
		{[]string{"token", "--user", alice, "--package", "com.nope.x"}, "--user: no such user", "userId"},
		{[]string{"token", "--user", "nope", "--package", "com.nope.x"}, "--user: ", "userId"},
		{[]string{"revoke", "--user", alice}, "--user: no such user", "userId"},
		{[]string{"revoke", "--package", "com.nope.x"}, "--package: no such action package", "actionPackageId"},
		{[]string{"packages", "add", "--id", "Orders", "--name", "X"}, "--id: must be in reverse-DNS form", ""},
		{[]string{"packages", "add", "--id", "com.a.b", "--name", strings.Repeat("x", 300)}, "--name: must be at most", "displayName"},
		{[]string{"clients", "add", "x", "--role", "root"}, "--role: must be one of", ""},
		// A setting may come from a flag, the environment or the file: all three are named.
		{[]string{"users", "list", "--store", "mysql://x"}, "--store, CARDGATE_STORE or config store: must be a postgres:// URL", ""},
		{[]string{"token", "--user", alice, "--package", "com.a.b", "--token-lifetime", "1s"},
			"--token-lifetime, CARDGATE_TOKEN_LIFETIME or config tokenLifetime: must be between 1m and 24h", ""},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := run(t, env, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.not != "" && strings.Contains(err.Error(), tt.not)) {
				t.Errorf("err = %v, want it to say %q and not %q", err, tt.want, tt.not)
			}
		})
	}
}

package cli_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cardgate/cardgate/cli"
)

// Every command and subcommand answers --help with its usage, successfully.
func TestHelp(t *testing.T) {
	env := map[string]string{"CARDGATE_DATA": t.TempDir()}
	out, _, err := run(t, env, "--help")
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string][]string{
		"users": {"add", "list", "disable", "enable"}, "packages": {"add", "list", "disable", "enable"},
		"hosts": {"add", "list", "remove"}, "clients": {"add", "list", "remove"}, "keys": {"rotate", "list"},
		"secrets": {"set", "list"}, "audit": {"query", "tail"},
		"issuer": nil, "demo": nil, "token": nil, "revoke": nil,
	}
	for g, verbs := range groups {
		if !strings.Contains(out, "\n  "+g+" ") {
			t.Errorf("cardgate --help does not list %s:\n%s", g, out)
		}
		cmds := [][]string{{g, "--help"}, {g, "-h"}}
		for _, v := range verbs {
			cmds = append(cmds, []string{g, v, "--help"})
		}
		for _, args := range cmds {
			_, errOut, err := run(t, env, args...)
			if err != nil || !strings.Contains(errOut, "Usage: cardgate "+g) {
				t.Errorf("cardgate %s: %v\n%s", strings.Join(args, " "), err, errOut)
			}
		}
	}
	// No command at all is a usage error, with the usage on stderr.
	_, errOut, err := run(t, env)
	var u *cli.UsageError
	if !errors.As(err, &u) || !strings.Contains(errOut, "Commands:") {
		t.Errorf("no command: %v\n%s", err, errOut)
	}
	// The store flags are documented with their environment variables.
	_, errOut, _ = run(t, env, "issuer", "--help")
	for _, s := range []string{"-listen", "CARDGATE_LISTEN", "-data", "-store", "-config", "-issuer-url", "-token-lifetime"} {
		if !strings.Contains(errOut, s) {
			t.Errorf("issuer --help does not mention %s", s)
		}
	}
}

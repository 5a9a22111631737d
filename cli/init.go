package cli

import (
	"context"
	"fmt"
)

// runInit creates an installation: the data directory, the master key and
// the database (or the schema in PostgreSQL), and the first signing key.
// Every other command but issuer and demo opens an existing installation
// and creates nothing, so that a mistyped --data is an error rather than a
// new, empty installation.
func runInit(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "init", "init [flags]\n\n"+
		"Creates a cardgate installation: the data directory (mode 0700) with the\n"+
		"master key (master.key, 0600, unless CARDGATE_MASTER_KEY is set) and the\n"+
		"SQLite database (0600), or the schema in PostgreSQL with --store. With\n"+
		"--issuer-url it also records the installation's issuer URL, which the\n"+
		"issuer otherwise records on its first start. An existing installation is\n"+
		"left as it is.\n\n"+
		"Example: cardgate init --data /var/lib/cardgate --issuer-url https://id.example.com")
	resolve := configFlags(fs, env.Getenv, storeFlags)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	o := openOptions{mode: createInstall}
	if cfg.IssuerURL != "" {
		o.serving = true // record it, or refuse one that differs from the recorded URL
	}
	sys, err := open(ctx, cfg, env, o, quietLogger(env))
	if err != nil {
		return err
	}
	defer sys.Close()
	if cfg.IssuerURL != "" {
		if err := sys.recordIssuerURL(ctx, false, quietLogger(env)); err != nil {
			return err
		}
	}
	if note := createdNote(sys, cfg, env); note != "" {
		fmt.Fprint(env.Stdout, note)
	} else {
		fmt.Fprintf(env.Stdout, "An installation exists already in %s; nothing was created.\n", storeName(cfg))
	}
	if sys.issuerRecorded {
		fmt.Fprintf(env.Stdout, "Issuer URL: %s\n", sys.svc.Issuer())
	} else {
		fmt.Fprintln(env.Stdout, "Issuer URL: not recorded yet; cardgate issuer records it on its first start (or pass --issuer-url).")
	}
	return nil
}

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
	h := help{name: "init", summary: "create an installation: the data directory, the master key, the database and the first signing key",
		more: "The data directory is made mode 0700, with the master key (master.key, 0600, unless\n" +
			"CARDGATE_MASTER_KEY is set) and the SQLite database (0600), or the schema in PostgreSQL\n" +
			"with --store. With --issuer-url it also records the installation's issuer URL, which the\n" +
			"issuer otherwise records on its first start. An existing installation is left as it is.",
		example: "cardgate init --data /var/lib/cardgate --issuer-url https://id.example.com"}
	fs := newFlags(env, h)
	resolve := configFlags(fs, env.Getenv, storeFlags)
	issuerURL := fs.String("issuer-url", "", "the installation's public issuer `URL`, the tokens' iss, to record now (env CARDGATE_ISSUER_URL)")
	asJSON := fs.Bool("json", false, "print JSON")
	if pos, err := parse(env, fs, h, args); err != nil {
		return err
	} else if len(pos) != 0 {
		return usagef("init: takes no arguments; see cardgate init --help")
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	if *issuerURL != "" { // CARDGATE_ISSUER_URL and the file's issuerUrl are in cfg already
		cfg.IssuerURL = *issuerURL
		if err := cfg.validate(); err != nil {
			return err
		}
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
	note, issuer := createdNote(sys, cfg, env), ""
	if sys.issuerRecorded {
		issuer = sys.svc.Issuer()
	}
	if *asJSON {
		return printJSON(env.Stdout, map[string]any{"created": note != "", "store": storeName(cfg), "issuerUrl": issuer})
	}
	if note != "" {
		fmt.Fprint(env.Stdout, note)
	} else {
		fmt.Fprintf(env.Stdout, "An installation exists already in %s; nothing was created.\n", storeName(cfg))
	}
	if issuer != "" {
		fmt.Fprintf(env.Stdout, "Issuer URL: %s\n", issuer)
	} else {
		fmt.Fprintln(env.Stdout, "Issuer URL: not recorded yet; cardgate issuer records it on its first start (or pass --issuer-url).")
	}
	return nil
}

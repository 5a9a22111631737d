package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"
)

// demo is one run of `cardgate demo`. It is built from parts (see
// demoParts): each seeds what it needs into the demo's own data directory,
// may add a server, and adds its section to the walkthrough. Later parts of
// the demo — the adapter, a sample business system, cards — are more parts.
type demo struct {
	dir     string     // the demo's data directory
	sys     *system    // the store and the Integration Service over it
	base    string     // the Integration Service's URL
	keys    demoKeys   // the clients' API keys, kept in dir
	servers []listener // what serve runs
}

// demoPart is one part of the demo.
type demoPart struct {
	name string
	// seed makes what the part needs, idempotently: a second run over the
	// same directory finds it and neither fails nor duplicates it.
	seed func(ctx context.Context, d *demo) error
	// walkthrough prints the part's section of the walkthrough.
	walkthrough func(w io.Writer, d *demo)
}

// demoParts are the demo's parts, in walkthrough order.
func demoParts() []demoPart {
	return []demoPart{
		{"integration service", seedIssuer, walkIssuer},
	}
}

// demoEnv hides from the demo the settings that point at an operator's real
// installation, so that the demo never seeds demo accounts into a real store
// nor seals its keys with the real master key.
func demoEnv(getenv func(string) string) func(string) string {
	return func(k string) string {
		switch k {
		case "CARDGATE_DATA", "CARDGATE_STORE", "CARDGATE_CONFIG", "CARDGATE_MASTER_KEY":
			return ""
		}
		return getenv(k)
	}
}

func runDemo(ctx context.Context, env *Env, args []string) error {
	denv := *env
	denv.Getenv = demoEnv(env.Getenv)
	env = &denv
	fs := newFlags(env, "demo", "demo [flags]\n\n"+
		"Runs the Integration Service on loopback over a data directory of its own\n"+
		"(default "+defaultDemoData+", in the current directory), seeded with two users,\n"+
		"two action packages, a chat host and an admin client, and prints a\n"+
		"walkthrough. Running it again reuses the directory and prints the same keys.\n"+
		"CARDGATE_DATA, CARDGATE_STORE, CARDGATE_CONFIG and CARDGATE_MASTER_KEY are\n"+
		"ignored: the demo never touches a real installation.")
	resolve := configFlags(fs, env.Getenv, demoFlags)
	reset := fs.Bool("reset", false, "delete the demo's data directory first and seed it anew")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	if *reset {
		if err := resetDemo(cfg.Data); err != nil {
			return err
		}
	}
	log := newLogger(env.Stderr, cfg.LogLevel)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w (is another demo running? pass --listen 127.0.0.1:0 for a free port)", err)
	}
	defer ln.Close()
	sys, err := open(ctx, cfg, env, cfg.issuer(ln.Addr().String()), log)
	if err != nil {
		return err
	}
	defer sys.Close()
	d := &demo{dir: cfg.Data, sys: sys, base: sys.svc.Issuer(),
		servers: []listener{{"issuer", ln, issuerHandler(sys), 30 * time.Second}}}
	if err := d.seed(ctx); err != nil {
		return fmt.Errorf("seed demo in %s: %w", d.dir, err)
	}
	d.walkthrough(env.Stdout)
	return serve(ctx, log, d.servers, func(ctx context.Context) {
		sys.svc.RefreshKeys(ctx, keyRefresh)
	})
}

// seed runs every part's seed, then saves the keys.
func (d *demo) seed(ctx context.Context) error {
	keys, err := loadDemoKeys(d.dir)
	if err != nil {
		return err
	}
	d.keys = keys
	for _, p := range demoParts() {
		if err := p.seed(ctx, d); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	if d.keys != keys {
		return saveDemoKeys(d.dir, d.keys)
	}
	return nil
}

func (d *demo) walkthrough(w io.Writer) {
	fmt.Fprintf(w, "cardgate demo: the Integration Service is listening on %s\n", d.base)
	fmt.Fprintf(w, "Data directory: %s (delete it, or run with --reset, to start over)\n", d.dir)
	for _, p := range demoParts() {
		p.walkthrough(w, d)
	}
	fmt.Fprintln(w, "\nPress Ctrl-C to stop.")
}

// resetDemo removes a demo data directory, refusing one that does not look
// like a demo's so that a mistyped --data cannot delete real data.
func resetDemo(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, demoKeysFile)); errors.Is(err, fs.ErrNotExist) {
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			return fmt.Errorf("--reset: %s is not a demo data directory (no %s); not deleting it", dir, demoKeysFile)
		}
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("--reset: %w", err)
	}
	return nil
}

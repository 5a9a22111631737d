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

	"github.com/cardgate/cardgate/cards"
)

// demo is one run of `cardgate demo`. It is built from parts (see
// demoParts): each seeds what it needs into the demo's own data directory,
// may add a server, and adds its section to the walkthrough. Later parts of
// the demo — the adapter, a sample business system, cards — are more parts.
type demo struct {
	dir  string   // the demo's data directory
	sys  *system  // the store and the Integration Service over it
	keys demoKeys // the clients' API keys, kept in dir
	// The URLs of the demo's listeners: the Integration Service and card
	// host, the adapter, the cards origin and the business system.
	base, adapterURL, cardsURL, contosoURL string
	// kaizalaDir holds Kaizala's KASClient.js and sample packages
	// (--kaizala); kaizalaNotes says what of it the demo installed.
	kaizalaDir   string
	kaizalaNotes []string
}

// demoPart is one part of the demo. Its servers are started by runDemo.
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
		{"cards", seedCards, walkCards},
		{"integration service", seedIssuer, walkIssuer},
		{"adapter", seedAdapter, func(io.Writer, *demo) {}},
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
	h := help{name: "demo", summary: "run the whole path on loopback, seeded, and print a walkthrough",
		more: "The Integration Service and card host, the adapter, the cards origin and a\n" +
			"sample business system (Contoso) run over a data directory of their own\n" +
			"(default " + defaultDemoData + ", in the current directory), seeded with two users, two\n" +
			"cards, a chat host and an admin client. Running it again reuses the directory\n" +
			"and prints the same keys.\n" +
			"CARDGATE_DATA, CARDGATE_STORE, CARDGATE_CONFIG and CARDGATE_MASTER_KEY are\n" +
			"ignored: the demo never touches a real installation.",
		example: "cardgate demo\ncardgate demo --reset --listen 127.0.0.1:9080 --adapter-listen 127.0.0.1:9081 --cards-listen 127.0.0.1:9082 --contoso-listen 127.0.0.1:9083"}
	fs := newFlags(env, h)
	resolve := configFlags(fs, env.Getenv, demoFlags)
	reset := fs.Bool("reset", false, "delete the demo's data directory first and seed it anew")
	adapterListen := fs.String("adapter-listen", "127.0.0.1:8081", "`address` of the adapter")
	cardsListen := fs.String("cards-listen", "127.0.0.1:8082", "`address` of the cards origin")
	contosoListen := fs.String("contoso-listen", "127.0.0.1:8083", "`address` of the sample business system")
	cardsURL := fs.String("cards-url", "", "public `URL` of the cards origin (default http://cards.localhost:<port>: an origin\n"+
		"per card, under *.localhost, which Chromium and Firefox resolve to loopback; in other\n"+
		"browsers give http://127.0.0.1:<port>, one origin shared by every card, with --issuer-url\n"+
		"http://localhost:<port>: cards are never on the host's host name)")
	kaizalaDir := fs.String("kaizala", "", "a `directory` with Kaizala's KASClient.js and sample-*.zip packages (like kaizala-docs'\n"+
		"actions/): adds a card written with Kaizala's SDK and Kaizala's samples beside the demo's cards")
	if pos, err := parse(env, fs, h, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("demo: takes no arguments, got %q; see cardgate demo --help", pos)
	}
	cfg, err := resolve()
	if err != nil {
		return settingError(err)
	}
	if *cardsURL != "" {
		if _, err := cards.ParseOrigins(*cardsURL); err != nil {
			return fmt.Errorf("--cards-url: %w", err)
		}
	}
	if *reset {
		if err := resetDemo(cfg.Data); err != nil {
			return err
		}
	}
	log := newLogger(env.Stderr, cfg.LogLevel)
	opened, err := listenAll(listenSpec{"--listen", cfg.Listen}, listenSpec{"--adapter-listen", *adapterListen},
		listenSpec{"--cards-listen", *cardsListen}, listenSpec{"--contoso-listen", *contosoListen})
	if err != nil {
		return fmt.Errorf("%w\n(is another demo running?)", err)
	}
	lns := map[string]net.Listener{}
	for i, name := range []string{"issuer", "adapter", "cards", "contoso"} {
		defer opened[i].Close()
		lns[name] = opened[i]
	}
	url := func(name string) string { return "http://" + lns[name].Addr().String() }
	// The demo's issuer URL is wherever it serves now: its installation
	// follows it from run to run, so that cardgate token works beside it.
	sys, err := open(ctx, cfg, env, openOptions{mode: createInstall, serving: true,
		listenAddr: lns["issuer"].Addr().String(), changeIssuerURL: true}, log)
	if err != nil {
		return err
	}
	defer sys.Close()
	d := &demo{dir: cfg.Data, sys: sys, base: sys.svc.Issuer(), adapterURL: url("adapter"), cardsURL: *cardsURL, contosoURL: url("contoso"), kaizalaDir: *kaizalaDir}
	if d.cardsURL == "" {
		_, port, _ := net.SplitHostPort(lns["cards"].Addr().String())
		d.cardsURL = "http://cards.localhost:" + port
	}
	if err := d.seed(ctx); err != nil {
		return fmt.Errorf("seed demo in %s: %w", d.dir, err)
	}
	servers, closeServers, err := d.servers(ctx, lns, log)
	if err != nil {
		return err
	}
	defer closeServers()
	if err := sys.recordIssuerURL(ctx, true, log); err != nil {
		return err
	}
	fmt.Fprint(env.Stdout, createdNote(sys, cfg, env))
	d.walkthrough(env.Stdout)
	return serve(ctx, log, servers, func(ctx context.Context) {
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
	fmt.Fprintf(w, "cardgate demo: the Integration Service and card host are listening on %s\n", d.base)
	fmt.Fprintf(w, "The adapter is on %s, the cards origin on %s,\nand Contoso, the sample business system, on %s.\n", d.adapterURL, d.cardsURL, d.contosoURL)
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

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/cardgate/cardgate"
)

// The demo's fixed cast, so that its walkthrough and tests can name them.
const (
	DemoAlice  = "6f1c2a9e-3b7d-4c1e-9a5f-2d8e7b6c4a10"
	DemoBob    = "0b9d7c2e-8f3a-4d1b-a6e5-3c7f9e1d2b40"
	DemoOrders = "com.contoso.orders"
	DemoSurvey = "com.contoso.survey"
)

// demoKeysFile keeps the demo's API keys (mode 0600) so that a second run
// of the demo can print them again; keys are otherwise shown only once.
const demoKeysFile = "demo-keys.json"

type demoKeys struct {
	Host  string `json:"host"`
	Admin string `json:"admin"`
}

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "demo", "demo [flags]")
	resolve := configFlags(fs, env.Getenv, true)
	reset := fs.Bool("reset", false, "delete the demo's data directory first and seed it anew")
	fs.Lookup("data").DefValue = "./cardgate-demo"
	if _, err := parse(fs, args); err != nil {
		if err == errHelp {
			return nil
		}
		return err
	}
	cfg, err := resolve()
	if err != nil {
		return err
	}
	if fs.Lookup("data").Value.String() == "" && env.Getenv("CARDGATE_DATA") == "" {
		cfg.Data = "./cardgate-demo"
	}
	if cfg.Store != "" {
		return usagef("demo: runs on its own SQLite data directory; --store is not for the demo")
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
	keys, err := seedDemo(ctx, sys, cfg.Data)
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	printWalkthrough(env.Stdout, sys.svc.Issuer(), keys)
	return serve(ctx, log, []listener{{"issuer", ln, issuerHandler(sys), 30 * time.Second}}, func(ctx context.Context) {
		sys.svc.RefreshKeys(ctx, keyRefresh)
	})
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
	return os.RemoveAll(dir)
}

// seedDemo makes the demo's users, packages and clients, once: a second run
// finds them and reuses the saved keys.
func seedDemo(ctx context.Context, sys *system, dir string) (demoKeys, error) {
	var keys demoKeys
	path := filepath.Join(dir, demoKeysFile)
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &keys); err != nil {
			return keys, fmt.Errorf("%s: %w (run the demo with --reset)", path, err)
		}
		return keys, nil
	}
	for _, u := range []*cardgate.User{
		{ID: DemoAlice, Name: "Alice Ahmed", PhoneNumber: "+14155550101"},
		{ID: DemoBob, Name: "Bob Barros", PhoneNumber: "+14155550102"},
	} {
		if err := sys.svc.CreateUser(ctx, u); err != nil && cardgate.ErrorCode(err) != cardgate.ECONFLICT {
			return keys, err
		}
	}
	for _, p := range []*cardgate.ActionPackage{
		{ID: DemoOrders, DisplayName: "Order products"},
		{ID: DemoSurvey, DisplayName: "Survey"},
	} {
		if err := sys.svc.CreatePackage(ctx, p); err != nil && cardgate.ErrorCode(err) != cardgate.ECONFLICT {
			return keys, err
		}
	}
	var err error
	if _, keys.Host, err = sys.svc.CreateClient(ctx, "demo host", cardgate.RoleHost); err != nil {
		return keys, err
	}
	if _, keys.Admin, err = sys.svc.CreateClient(ctx, "demo admin", cardgate.RoleAdmin); err != nil {
		return keys, err
	}
	b, _ := json.MarshalIndent(keys, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return keys, err
	}
	return keys, nil
}

func printWalkthrough(w io.Writer, iss string, keys demoKeys) {
	fmt.Fprintf(w, `cardgate demo: the Integration Service is listening on %[1]s

Seeded: users Alice (%[3]s) and Bob (%[4]s); action packages %[5]s and %[6]s;
one chat host and one admin client. Their API keys (demo only):
  HOST_KEY=%[2]s
  ADMIN_KEY=%[7]s

1. Mint a token, as a chat host does for Alice inside the "Order products" card:

  TOKEN=$(curl -s -X POST %[1]s/v1/tokens \
    -H "Authorization: Bearer %[2]s" -H "Content-Type: application/json" \
    -d '{"userId":"%[3]s","actionPackageId":"%[5]s"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')

2. Validate it, as the card's service does, with Kaizala's accessToken header:

  curl -s %[1]s/v1/users/me -H "accessToken: $TOKEN"

3. Revoke Alice's tokens and ask again (401):

  curl -s -X POST %[1]s/v1/revocations -H "Authorization: Bearer %[7]s" \
    -H "Content-Type: application/json" -d '{"userId":"%[3]s"}'
  curl -s %[1]s/v1/users/me -H "accessToken: $TOKEN"

Public keys for offline checks: %[1]s/.well-known/jwks.json
Press Ctrl-C to stop.
`, iss, keys.Host, DemoAlice, DemoBob, DemoOrders, DemoSurvey, keys.Admin)
}

package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"
	"time"

	"github.com/cardgate/cardgate/actionpkg"
	"github.com/cardgate/cardgate/adapter"
	"github.com/cardgate/cardgate/adapter/secret"
	"github.com/cardgate/cardgate/cards"
	cardfiles "github.com/cardgate/cardgate/examples/cards"
	"github.com/cardgate/cardgate/examples/contoso-products/contoso"
	"github.com/cardgate/cardgate/hostcheck"
	"github.com/cardgate/cardgate/signin"
	"github.com/cardgate/cardgate/verify"
)

// The sample business system's credentials, sealed in the demo's store:
// the adapter holds them, the browser never sees them.
const (
	demoContosoKey    = "contoso-api-key"
	demoContosoSecret = "contoso-client-secret"
	demoContosoClient = "cardgate-adapter"
	demoAdapterFile   = "adapter.yaml"
)

// seedCards imports the demo's two cards, pointed at this run's adapter.
// Importing again on every run replaces the files, so a change of port
// reaches the cards.
func seedCards(ctx context.Context, d *demo) error {
	for _, pkg := range []fs.FS{cardfiles.Orders, cardfiles.Survey} {
		p, err := readCard(pkg, d.adapterURL)
		if err != nil {
			return err
		}
		if _, err := d.sys.svc.ImportPackage(ctx, p); err != nil {
			return err
		}
	}
	if d.kaizalaDir != "" {
		return seedKaizala(ctx, d)
	}
	return nil
}

// DemoKaizala is the demo's card written with Kaizala's own SDK.
const DemoKaizala = "com.contoso.kaizala"

// seedKaizala installs, from --kaizala's directory, the Kaizala SDK card
// (its KASClient.js added as it is) and Kaizala's sample packages, each
// zip as it is. Kaizala's files are not in this repository. A sample that
// does not import is noted in the walkthrough, not fatal.
func seedKaizala(ctx context.Context, d *demo) error {
	sdk, err := os.ReadFile(filepath.Join(d.kaizalaDir, "KASClient.js"))
	if err != nil {
		return fmt.Errorf("--kaizala: %w", err)
	}
	p, err := readCard(cardfiles.Kaizala, d.adapterURL, fstest.MapFS{"KASClient.js": {Data: sdk, Mode: 0o644}})
	if err != nil {
		return err
	}
	if _, err := d.sys.svc.ImportPackage(ctx, p); err != nil {
		return err
	}
	d.kaizalaNotes = append(d.kaizalaNotes, fmt.Sprintf("%q (%s), with Kaizala's KASClient.js", p.Manifest.DisplayName, DemoKaizala))
	zips, _ := filepath.Glob(filepath.Join(d.kaizalaDir, "sample-*.zip"))
	for _, z := range zips {
		p, err := actionpkg.Load(z, actionpkg.DefaultLimits)
		if err == nil {
			_, err = d.sys.svc.ImportPackage(ctx, p)
		}
		if err != nil {
			d.kaizalaNotes = append(d.kaizalaNotes, fmt.Sprintf("not installed: %s: %v", filepath.Base(z), err))
			continue
		}
		d.kaizalaNotes = append(d.kaizalaNotes, fmt.Sprintf("%q (%s), Kaizala's sample %s", p.Manifest.DisplayName, p.Manifest.ID, filepath.Base(z)))
	}
	return nil
}

// readCard reads a card's folder with the adapter's URL put in place of the
// default one the card is written with, plus the files of extra as they are.
func readCard(fsys fs.FS, adapterURL string, extra ...fstest.MapFS) (*actionpkg.Package, error) {
	m := fstest.MapFS{}
	for _, x := range extra {
		maps.Copy(m, x)
	}
	err := fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		m[p] = &fstest.MapFile{Data: bytes.ReplaceAll(b, []byte(cardfiles.DefaultServiceURL), []byte(adapterURL)), Mode: 0o644}
		return err
	})
	if err != nil {
		return nil, err
	}
	return actionpkg.ReadFS(m, actionpkg.DefaultLimits)
}

// seedAdapter makes Contoso's credentials (once) and writes the adapter's
// configuration for this run's addresses.
func seedAdapter(ctx context.Context, d *demo) error {
	origins, _ := cards.ParseOrigins(d.cardsURL) // checked by runDemo, or made by it
	// Every demo card may call both routes from the browser (CORS is not
	// authorization: the policy is); the survey card must read its 403.
	cors := origins.For(DemoOrders)
	for _, pkg := range []string{DemoSurvey, DemoKaizala} {
		if o := origins.For(pkg); !strings.Contains(cors, o) {
			cors += ", " + o
		}
	}
	vault := &secret.Vault{Store: d.sys.store, Key: d.sys.master}
	for _, name := range []string{demoContosoKey, demoContosoSecret} {
		if _, err := vault.Secret(ctx, name); err == secret.ErrNotFound {
			raw := make([]byte, 24)
			rand.Read(raw)
			if err := vault.Put(ctx, name, []byte(base64.RawURLEncoding.EncodeToString(raw))); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
	}
	conf := fmt.Sprintf(`# Written by cardgate demo on every start; edits are overwritten.
issuer: {url: %[1]s}
routes:
  - name: products
    match: GET /products
    policy: {packages: [%[3]s, %[8]s]}
    upstream: {url: %[2]s/api}
    credential: {type: header, header: X-Api-Key, value: "store:%[4]s"}
    cors: {origins: [%[6]s]}
  - name: orders
    match: POST /orders
    policy: {packages: [%[3]s]}
    upstream: {url: %[2]s/api}
    credential:
      type: oauth2-client-credentials
      tokenUrl: %[2]s/oauth2/token
      clientId: %[7]s
      clientSecret: "store:%[5]s"
    cors: {origins: [%[6]s]}
`, d.base, d.contosoURL, DemoOrders, demoContosoKey, demoContosoSecret, cors, demoContosoClient, DemoKaizala)
	path := filepath.Join(d.dir, demoAdapterFile)
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return err
	}
	return os.Chmod(path, 0o600) // WriteFile sets the mode of a new file only

}

func walkCards(w io.Writer, d *demo) {
	defer func() {
		if len(d.kaizalaNotes) > 0 {
			fmt.Fprintf(w, "\nFrom Kaizala (--kaizala %s):\n  %s\n", d.kaizalaDir, strings.Join(d.kaizalaNotes, "\n  "))
		}
	}()
	fmt.Fprintf(w, `
In a browser, open %[1]s and sign in as Alice with one click (or
with her number, +14155550101: the one-time code appears in this terminal's
log). "Order products" fills its drop-down with Contoso's products through
the adapter (%[2]s); place an order, and Contoso records it under
Alice's user ID. The card never holds Contoso's API key or client secret.
"Survey" is not allowed on the products route: it shows the adapter's 403
as a message. Each card runs on an origin of its own under %[4]s
(Chromium and Firefox resolve *.localhost to this machine; in another
browser run the demo with --issuer-url http://localhost:<port> --cards-url
http://127.0.0.1:<port>, where the cards share one origin). See the orders Contoso holds, with their users:

  curl -s %[3]s/backoffice/orders
`, d.base, d.adapterURL, d.contosoURL, d.cardsURL)
}

// servers builds the demo's four servers over its listeners. The returned
// func releases what they hold (the adapter's audit log, its verifier).
func (d *demo) servers(ctx context.Context, lns map[string]net.Listener, log *slog.Logger) ([]listener, func(), error) {
	_, issuerPort, _ := net.SplitHostPort(lns["issuer"].Addr().String())
	si, err := newSignIn(d.sys, log, nil, signin.LogSender{Log: log})
	if err != nil {
		return nil, nil, err
	}
	issuerH, cardsH, err := cardHost(d.sys, log, hostOptions{cardsURL: d.cardsURL, demo: true, issuerPort: issuerPort, done: ctx.Done()}, si)
	if err != nil {
		return nil, nil, err
	}
	vault := &secret.Vault{Store: d.sys.store, Key: d.sys.master}
	key, err := vault.Secret(ctx, demoContosoKey)
	if err != nil {
		return nil, nil, err
	}
	clientSecret, err := vault.Secret(ctx, demoContosoSecret)
	if err != nil {
		return nil, nil, err
	}
	business := contoso.New(contoso.Config{APIKey: string(key), ClientID: demoContosoClient, ClientSecret: string(clientSecret),
		OpenBackOffice: true})

	verifier, err := verify.NewRemote(verify.RemoteConfig{UserinfoURL: d.base + "/v1/users/me"})
	if err != nil {
		return nil, nil, err
	}
	audit := adapter.NewRetainingAuditLog(d.sys.store, log, 0, adapter.AuditConfig{}) // the defaults
	a, err := adapter.New(ctx, filepath.Join(d.dir, demoAdapterFile), adapter.Options{
		Authenticator: verifierAuth{verifier}, Secrets: vault, Audit: audit, Logger: log})
	if err != nil {
		audit.Close()
		return nil, nil, err
	}
	return []listener{
			{"issuer", lns["issuer"], issuerH, 30 * time.Second},
			// The adapter's own server settings (its file's server:), with
			// the demo's Host check inside them.
			{"adapter", lns["adapter"], withServer{loopbackOnly(lns["adapter"], d.adapterURL, a.Handler()), a.Config().HTTPServer}, 0},
			{"cards", lns["cards"], cardsH, 30 * time.Second},
			{"contoso", lns["contoso"], loopbackOnly(lns["contoso"], d.contosoURL, business.Handler()), 30 * time.Second},
		}, func() {
			a.Close()
			audit.Close()
		}, nil
}

// withServer is a handler that brings its own http.Server settings (see
// listener.server): the adapter's, around a handler that wraps the adapter.
type withServer struct {
	http.Handler
	server func(http.Handler) *http.Server
}

func (w withServer) HTTPServer() *http.Server { return w.server(w.Handler) }

// loopbackOnly makes one of the demo's own servers answer only to the
// loopback names of its port, so that a page that rebinds its DNS name to
// 127.0.0.1 cannot read it (Contoso's back office is open in the demo).
func loopbackOnly(ln net.Listener, public string, h http.Handler) http.Handler {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	var names hostcheck.Names
	names.AddLoopback(port)
	return hostcheck.Handler(names, public, h)
}

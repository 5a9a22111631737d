package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cardgate/cardgate"
	"github.com/cardgate/cardgate/adapter/secret"
	"github.com/cardgate/cardgate/cli"
	"github.com/cardgate/cardgate/examples/contoso-products/contoso"
	"github.com/cardgate/cardgate/internal/syncbuf"
	"github.com/cardgate/cardgate/seal"
	"github.com/cardgate/cardgate/sqlite"
)

var screenshot = flag.String("screenshot", "", "also save the test's screenshot of the orders card to this `file` (the README's docs/demo.png)")

// TestBrowser walks the demo as a person would, in headless Chromium: sign
// in, fill the drop-down through the adapter, order, see the survey card's
// 403 as words; and checks what the browser enforces: a card that claims
// another package's ID still gets a token for its own, and a card cannot
// reach a URL outside its externalUrls.
func TestBrowser(t *testing.T) {
	chromium := findChromium(t)
	d := startDemo(t)
	b := newBrowser(t, chromium)

	// Sign in with the demo's one-click picker.
	b.do(t, chromedp.Navigate(d.base))
	b.waitHost(t, `document.querySelector('.demo-user[data-user-id="`+cli.DemoAlice+`"]') !== null`)
	b.host(t, `document.querySelector('.demo-user[data-user-id="`+cli.DemoAlice+`"]').click()`)
	b.waitHost(t, `document.getElementById('me-name').textContent === 'Alice Ahmed'`)

	// Card one: its drop-down holds the business system's products, fetched
	// through the adapter with the card's token.
	b.openCard(t, cli.DemoOrders)
	b.waitCard(t, `document.querySelectorAll('#product option').length > 1 && !document.getElementById('product').disabled`)
	var options []string
	b.card(t, `Array.from(document.querySelectorAll('#product option'), o => o.textContent)`, &options)
	for _, p := range contoso.Catalogue {
		if !slices.ContainsFunc(options, func(o string) bool { return strings.HasPrefix(o, p.Name) }) {
			t.Errorf("the drop-down lacks %q: %q", p.Name, options)
		}
	}

	// Place an order; the business system holds it under Alice's user ID.
	b.card(t, `document.getElementById('product').value = 'P-300'; document.getElementById('quantity').value = '3';
		document.getElementById('order').click()`, nil)
	b.waitCard(t, `document.getElementById('status').textContent.startsWith('Order ')`)
	orders := d.orders(t)
	if len(orders) != 1 || orders[0].SKU != "P-300" || orders[0].Quantity != 3 ||
		orders[0].UserID != cli.DemoAlice || orders[0].ActionPackageID != cli.DemoOrders {
		t.Fatalf("Contoso holds %+v, want one order of 3 × P-300 by Alice from the orders card", orders)
	}
	// The adapter's audit log names the conversation the card was opened
	// in, which the host put in the card's token.
	if rec := d.auditRecord(t, cli.DemoTeam, "POST"); rec.UserID != cli.DemoAlice || rec.PackageID != cli.DemoOrders || rec.Route != "orders" || rec.Status != 201 {
		t.Fatalf("the order's audit record is %+v; want Alice's, from the orders card, on the orders route, 201", rec)
	}
	shot := b.screenshot(t)
	if *screenshot != "" {
		if err := os.WriteFile(*screenshot, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A card that claims another package's ID in its message still gets a
	// token for its own package only: the host knows it by its frame.
	var reply struct {
		Result struct{ Token string }
		Error  *struct{ Code, Message string }
	}
	b.card(t, `new Promise((resolve) => {
		addEventListener("message", (e) => { if (e.data && e.data.id === "spoof-1") resolve(e.data); });
		parent.postMessage({cardgate: 1, id: "spoof-1", method: "getIntegrationServiceToken",
			packageId: "`+cli.DemoSurvey+`", actionPackageId: "`+cli.DemoSurvey+`"}, "*");
	})`, &reply)
	if reply.Error != nil || reply.Result.Token == "" {
		t.Fatalf("the spoofing card got no token: %+v", reply.Error)
	}
	if pkg := d.tokenPackage(t, reply.Result.Token); pkg != cli.DemoOrders {
		t.Fatalf("a card claiming %s got a token for %s; want its own package, %s", cli.DemoSurvey, pkg, cli.DemoOrders)
	}

	// A request outside the package's externalUrls is blocked by the
	// frame's Content-Security-Policy, not merely by the SDK.
	var probe struct {
		Reached  bool
		Violated string
	}
	b.card(t, `new Promise((resolve) => {
		let violated = "";
		document.addEventListener("securitypolicyviolation", (e) => { violated = e.effectiveDirective + " " + e.blockedURI; });
		fetch("`+d.contosoURL+`/api/products").then(
			() => resolve({reached: true, violated}),
			() => setTimeout(() => resolve({reached: false, violated}), 200));
	})`, &probe)
	if probe.Reached || !strings.HasPrefix(probe.Violated, "connect-src "+d.contosoURL) {
		t.Fatalf("fetch outside externalUrls: reached %v, violation %q; want blocked by connect-src", probe.Reached, probe.Violated)
	}

	// Each card runs on an origin of its own: what one keeps in the
	// browser, another cannot read.
	b.card(t, `localStorage.setItem("orders-note", "for the orders card only")`, nil)
	ordersOrigin := b.origin()

	// Card two is not allowed on the products route: the adapter's 403
	// reaches the person as a message, not as a broken card.
	b.openCard(t, cli.DemoSurvey)
	if b.origin() == ordersOrigin {
		t.Fatalf("both cards run on %s", ordersOrigin)
	}
	var note *string
	b.card(t, `localStorage.getItem("orders-note")`, &note)
	if note != nil {
		t.Fatalf("the survey card reads the orders card's storage: %q", *note)
	}
	b.waitCard(t, `document.getElementById('status').classList.contains('error')`)
	var status string
	b.card(t, `document.getElementById('status').textContent`, &status)
	if !strings.Contains(status, "not allowed to read Contoso's products") {
		t.Fatalf("survey card says %q; want the friendly 403 message", status)
	}

	// No secret of the business system is anywhere in the browser.
	secrets := d.contosoSecrets(t)
	var seen string
	b.host(t, `document.documentElement.outerHTML`, &seen)
	var cardHTML string
	b.card(t, `document.documentElement.outerHTML + JSON.stringify(localStorage) + document.cookie`, &cardHTML)
	for _, s := range secrets {
		if strings.Contains(seen+cardHTML, s) {
			t.Fatal("a Contoso secret is in the browser")
		}
	}

	// Sign out, and back in with a one-time code, which the demo's log
	// sender writes to the log.
	b.host(t, `document.getElementById('signout').click()`)
	b.waitHost(t, `!document.getElementById('phone-form').hidden`)
	// A number that is not one gets a sentence, not the API's field name.
	b.host(t, `document.getElementById('phone').value = '415 555';
		document.getElementById('phone-form').requestSubmit()`)
	b.waitHost(t, `document.getElementById('signin-message').textContent ===
		'Enter the number in international form, like +14155550123.'`)
	b.host(t, `document.getElementById('phone').value = '+1 415 555 0102';
		document.getElementById('phone-form').requestSubmit()`)
	b.waitHost(t, `!document.getElementById('code-form').hidden`)
	// The code screen names the number the code went to.
	b.waitHost(t, `document.querySelector('label[for=code]').textContent ===
		'Enter the 6-digit code we texted to +14155550102'`)
	code := d.code(t, "+14155550102")
	b.host(t, `document.getElementById('code').value = '000000' === '`+code+`' ? '111111' : '000000';
		document.getElementById('code-form').requestSubmit()`)
	b.waitHost(t, `document.getElementById('signin-message').textContent === 'Wrong code; 4 tries left.'`)
	b.host(t, `document.getElementById('code').value = '`+code+`'; document.getElementById('code-form').requestSubmit()`)
	b.waitHost(t, `document.getElementById('me-name').textContent === 'Bob Barros'`)
}

// findChromium returns the browser to drive, or skips the test saying how
// to get one. Under CI it fails instead: CI must run this test.
func findChromium(t *testing.T) string {
	if p := os.Getenv("CARDGATE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium: install Debian's chromium (apt-get install chromium), or set CARDGATE_CHROMIUM to a Chrome binary"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// demo is `cardgate demo` running in this process on free ports.
type demo struct {
	base, adapterURL, cardsURL, contosoURL string
	dir                                    string
	log                                    *syncbuf.Buffer
	out                                    string // the walkthrough
}

var (
	hostLine  = regexp.MustCompile(`listening on (http://\S+)`)
	otherLine = regexp.MustCompile(`(adapter is|cards origin|Contoso, the sample business system,) on (http://[a-z0-9.]+:[0-9]+)`)
)

func startDemo(t *testing.T, extra ...string) *demo {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, log := new(syncbuf.Buffer), new(syncbuf.Buffer)
	d := &demo{dir: filepath.Join(t.TempDir(), "demo"), log: log}
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, append([]string{"cardgate", "demo", "--data", d.dir, "--listen", "127.0.0.1:0",
			"--adapter-listen", "127.0.0.1:0", "--cards-listen", "127.0.0.1:0", "--contoso-listen", "127.0.0.1:0"}, extra...),
			func(string) string { return "" }, strings.NewReader(""), out, log)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("demo still running 15 s after it was stopped")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "Press Ctrl-C") {
		select {
		case err := <-done:
			t.Fatalf("demo ended: %v\n%s", err, log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo did not start within 30 s\n%s", log)
		}
	}
	d.out = out.String()
	d.base = hostLine.FindStringSubmatch(out.String())[1]
	for _, m := range otherLine.FindAllStringSubmatch(out.String(), -1) {
		switch m[1] {
		case "adapter is":
			d.adapterURL = m[2]
		case "cards origin":
			d.cardsURL = m[2]
		default:
			d.contosoURL = m[2]
		}
	}
	if d.adapterURL == "" || d.cardsURL == "" || d.contosoURL == "" {
		t.Fatalf("the walkthrough does not name every listener:\n%s", out)
	}
	return d
}

func (d *demo) get(t *testing.T, url string, header map[string]string, v any) int {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, val := range header {
		req.Header.Set(k, val)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return res.StatusCode
}

func (d *demo) orders(t *testing.T) []contoso.Order {
	var v struct{ Orders []contoso.Order }
	d.get(t, d.contosoURL+"/backoffice/orders", nil, &v)
	return v.Orders
}

// auditRecord waits for the audit log's record of a request with method
// made with a token of conversation, as `cardgate audit query` prints it
// (the adapter writes records in batches, every 250 ms).
func (d *demo) auditRecord(t *testing.T, conversation, method string) cardgate.AuditRecord {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var out, errs bytes.Buffer
		err := cli.Run(t.Context(), []string{"cardgate", "audit", "query", "--data", d.dir, "--conversation", conversation, "--json"},
			func(string) string { return "" }, strings.NewReader(""), &out, &errs)
		if err != nil {
			t.Fatalf("audit query: %v: %s", err, errs.String())
		}
		var recs []cardgate.AuditRecord
		if err := json.Unmarshal(out.Bytes(), &recs); err != nil {
			t.Fatalf("audit query --json: %v: %q", err, out.String())
		}
		for _, r := range recs {
			if r.Method == method && r.ConversationID == conversation {
				return r
			}
		}
	}
	t.Fatalf("no audit record of a %s with a token of conversation %s", method, conversation)
	return cardgate.AuditRecord{}
}

// tokenPackage asks the Integration Service whom a token stands for, as a
// card's service would, and returns its action package.
func (d *demo) tokenPackage(t *testing.T, tok string) string {
	var me struct{ ID, ActionPackageID string }
	if s := d.get(t, d.base+"/v1/users/me", map[string]string{"accessToken": tok}, &me); s != 200 {
		t.Fatalf("/v1/users/me: %d", s)
	}
	if me.ID != cli.DemoAlice {
		t.Fatalf("the token stands for %s, want Alice", me.ID)
	}
	return me.ActionPackageID
}

// contosoSecrets opens the business system's credentials from the demo's
// store, as the adapter does.
func (d *demo) contosoSecrets(t *testing.T) []string {
	db, err := sqlite.Open(t.Context(), filepath.Join(d.dir, "cardgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, err := seal.LoadOrCreateFile(filepath.Join(d.dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	vault := &secret.Vault{Store: db, Key: key}
	var out []string
	for _, name := range []string{"contoso-api-key", "contoso-client-secret"} {
		b, err := vault.Secret(t.Context(), name)
		if err != nil || len(b) < 16 {
			t.Fatalf("secret %s: %v", name, err)
		}
		out = append(out, string(b))
	}
	return out
}

// code returns the sign-in code the log sender wrote for phone.
func (d *demo) code(t *testing.T, phone string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(d.log.String(), "\n") {
			var e struct{ Msg, PhoneNumber, Code string }
			if json.Unmarshal([]byte(line), &e) == nil && strings.HasPrefix(e.Msg, "sign-in code") && e.PhoneNumber == phone {
				return e.Code
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no sign-in code for %s in the demo's log", phone)
	return ""
}

// browser is one headless Chromium tab, and the card open in it. Each card
// runs on an origin of its own, another site than the host's, so Chrome
// runs its frame in a process of its own, as a target of its own: the test
// attaches to that target to run scripts in the card as the card.
type browser struct {
	ctx context.Context

	frame      context.Context // the open card's frame; nil when none
	closeCard  context.CancelFunc
	cardOrigin string
}

func newBrowser(t *testing.T, chromium string, extra ...chromedp.ExecAllocatorOption) *browser {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 760), chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true))
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{ctx: ctx}
	t.Cleanup(func() {
		if b.closeCard != nil {
			b.closeCard()
		}
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatal(err)
	}
	return b
}

func (b *browser) do(t *testing.T, a chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, a); err != nil {
		t.Fatal(err)
	}
}

// eval runs script in the page of ctx (the host's tab or a card's frame),
// awaiting a promise, and decodes its value into v unless v is nil.
func eval(ctx context.Context, script string, v any) error {
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](script, chromedp.EvalAwaitPromise, chromedp.EvalAsValue))
	if err != nil || v == nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func (b *browser) host(t *testing.T, script string, v ...any) {
	t.Helper()
	b.run(t, b.ctx, script, v...)
}

// card runs script in the open card's page. The host frames each card's
// frame page (cards/frame.go), which holds the card's page in a frame of
// its own, on the same origin: script runs there, in the card's realm,
// under the card's policy.
func (b *browser) card(t *testing.T, script string, v any) {
	t.Helper()
	if b.frame == nil {
		t.Fatal("no card is open")
	}
	b.run(t, b.frame, inCard(script), v)
}

// frame runs script in the open card's frame page.
func (b *browser) framePage(t *testing.T, script string, v any) {
	t.Helper()
	b.run(t, b.frame, script, v)
}

func inCard(script string) string {
	js, _ := json.Marshal(script)
	return `(0, document.getElementById("cardgate-card").contentWindow.eval)(` + string(js) + `)`
}

func (b *browser) run(t *testing.T, page context.Context, script string, v ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(page, 20*time.Second)
	defer cancel()
	var dst any
	if len(v) > 0 {
		dst = v[0]
	}
	if err := eval(ctx, script, dst); err != nil {
		t.Fatalf("%v\nscript: %s", err, script)
	}
}

// wait polls a condition in a page until it holds, failing after 20 s.
func (b *browser) wait(t *testing.T, page context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(page, 5*time.Second)
		var ok bool
		err := eval(ctx, "!!("+cond+")", &ok)
		cancel()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var shown string
			eval(b.ctx, "document.body.innerText", &shown)
			t.Fatalf("gave up waiting for %s (%v)\nthe host shows:\n%s", cond, err, shown)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *browser) waitHost(t *testing.T, cond string) { t.Helper(); b.wait(t, b.ctx, cond) }
func (b *browser) waitCard(t *testing.T, cond string) {
	t.Helper()
	b.wait(t, b.frame, inCard("!!("+cond+")"))
}

// openCard clicks a card in the host's list, attaches to its frame and
// waits for the card's page.
func (b *browser) openCard(t *testing.T, pkg string) {
	t.Helper()
	b.openWith(t, pkg, fmt.Sprintf(`document.querySelector('.card-link[data-package-id="%s"]').click()`, pkg))
}

// openWith runs click in the host's page, which opens a card of pkg,
// attaches to the card's frame and waits for the card's page.
func (b *browser) openWith(t *testing.T, pkg, click string) {
	t.Helper()
	old := ""
	if b.closeCard != nil {
		if tg := chromedp.FromContext(b.frame).Target; tg != nil {
			old = string(tg.TargetID)
		}
		// Detached and cleaned up before the next attach: cancelling
		// alone leaves chromedp detaching in the background, which raced
		// with the next attach.
		chromedp.Cancel(b.frame)
		b.closeCard()
		b.frame, b.closeCard = nil, nil
	}
	b.host(t, click)
	deadline := time.Now().Add(20 * time.Second)
	for b.frame == nil {
		infos, err := chromedp.Targets(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "iframe" && strings.Contains(info.URL, "/"+pkg+"/") && string(info.TargetID) != old {
				b.frame, b.closeCard = chromedp.NewContext(b.ctx, chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel())
				// The first run attaches, for as long as its context
				// lives: so without a timeout.
				if err := chromedp.Do(b.frame); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
		if b.frame == nil && time.Now().After(deadline) {
			t.Fatalf("no frame for %s: %d targets", pkg, len(infos))
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.waitCard(t, `document.readyState === 'complete' && location.pathname.startsWith('/`+pkg+`/')`)
	b.card(t, `location.origin`, &b.cardOrigin)
}

// origin is the origin of the card open last.
func (b *browser) origin() string { return b.cardOrigin }

func (b *browser) screenshot(t *testing.T) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	return png
}

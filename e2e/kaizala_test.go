package e2e_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"iter"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/cardgate/cardgate/cli"
	"github.com/cardgate/cardgate/examples/contoso-products/contoso"
	"github.com/cardgate/cardgate/internal/kaizalatest"
)

// TestKaizalaSDK runs a card written as a Kaizala card is (inline script,
// <body onload>, Kaizala's own KASClient.js, unmodified) in the demo: its
// scripts run, its strings load, Kaizala's SDK gets an integration service
// token for the signed-in user and the card's package through the frame
// page, calls Contoso through the adapter with performHTTPRequest, and a
// URL outside its externalUrls and a form call fail in Kaizala's shapes.
// Then isolation: no forged command, frame or nested frame gets the card
// anything of another package's.
func TestKaizalaSDK(t *testing.T) {
	chromium := findChromium(t)
	dir := kaizalaDir(t)
	d := startDemo(t, "--kaizala", dir)
	b := newBrowser(t, chromium)
	b.do(t, chromedp.Navigate(d.base))
	b.waitHost(t, `document.querySelector('.demo-user[data-user-id="`+cli.DemoAlice+`"]') !== null`)
	b.host(t, `document.querySelector('.demo-user[data-user-id="`+cli.DemoAlice+`"]').click()`)
	b.waitHost(t, `document.getElementById('me-name').textContent === 'Alice Ahmed'`)

	b.openCard(t, cli.DemoKaizala)
	b.reloadCardWatched(t, cli.DemoKaizala)
	b.waitCard(t, `document.querySelectorAll('#products li').length === `+itoa(len(contoso.Catalogue)))
	var shown struct{ Title, Status string }
	b.card(t, `({title: document.getElementById('title').textContent, status: document.getElementById('status').textContent})`, &shown)
	if shown.Title != "Contoso's products" || shown.Status != itoa(len(contoso.Catalogue))+" products from Contoso." {
		t.Errorf("the card shows %+v; want its strings_en.json's title and status", shown)
	}

	// Kaizala's SDK, through the frame page: the token is Alice's, for
	// this card's package.
	var tok struct{ Token, Error *string }
	b.card(t, `new Promise((r) => KASClient.App.getIntegerationServiceTokenAsync((token, error) => r({token, error})))`, &tok)
	if tok.Error != nil || tok.Token == nil {
		t.Fatalf("getIntegerationServiceTokenAsync: %+v", tok)
	}
	if pkg := d.tokenPackage(t, *tok.Token); pkg != cli.DemoKaizala {
		t.Fatalf("the token is for %s, want %s", pkg, cli.DemoKaizala)
	}

	// The SDK's other host commands.
	var got struct {
		UserID, Conversation string
		You                  struct{ ID, Name, OriginalName, PhoneNumber string }
		Strings              map[string]string
	}
	b.card(t, `(async () => {
		const call = (f, ...a) => new Promise((r, j) => f(...a, (v, e) => (e ? j(new Error(e)) : r(v))));
		const userId = await call(KASClient.App.getCurrentUserIdAsync);
		const users = await call(KASClient.App.getUsersDetailsAsync, [userId, "someone-else"]);
		return {userId, you: users[userId], others: Object.keys(users).length,
			conversation: await call(KASClient.App.getConversationNameAsync),
			strings: await call(KASClient.App.getLocalizedStringsAsync)};
	})()`, &got)
	if got.UserID != cli.DemoAlice || got.You.ID != cli.DemoAlice || got.You.Name != "You" || got.You.OriginalName != "Alice Ahmed" ||
		got.You.PhoneNumber != "+14155550101" || got.Conversation != "Contoso team" || got.Strings["title"] != "Contoso's products" {
		t.Errorf("host commands answered %+v", got)
	}

	// Native messages and the progress bar show in the host; the SDK's
	// date helpers need no host.
	b.card(t, `KASClient.App.showNativeErrorMessage("Something went wrong"); KASClient.App.showProgressBar(); true`, nil)
	b.waitHost(t, `document.getElementById('toast').textContent === 'Something went wrong' && !document.getElementById('toast').hidden &&
		!document.querySelector('.card-progress').hidden`)
	b.card(t, `KASClient.App.hideProgressBar(); true`, nil)
	b.waitHost(t, `document.querySelector('.card-progress').hidden`)
	var date string
	b.card(t, `KASClient.getDateString(new Date(2026, 0, 5, 9, 30))`, &date)
	if date != "Mon 05 Jan, 09:30 AM" {
		t.Errorf("KASClient.getDateString: %q", date)
	}
	if p := b.problems(t); len(p) > 0 {
		t.Errorf("the card's page saw: %q", p)
	}

	// openUrl (later SDK builds): the host asks first, naming the URL; if
	// declined the card hears so, if accepted the URL opens in a new tab.
	target := d.contosoURL + "/backoffice/orders"
	for _, accept := range []bool{false, true} {
		answer := b.expectDialog(t)
		b.card(t, `window.__opened = undefined; parent.executeCommand("openUrl", ["`+target+`"],
			(r) => (window.__opened = "ok"), (e) => (window.__opened = e[0])); true`, nil)
		answer(target, accept)
		b.waitCard(t, `window.__opened !== undefined`)
		var opened string
		b.card(t, `window.__opened`, &opened)
		if accept && opened != "ok" || !accept && !strings.Contains(opened, `"ec":400`) {
			t.Errorf("openUrl, accepted %v: the card heard %q", accept, opened)
		}
	}
	b.waitTab(t, target)

	// Outside externalUrls: the card's connect-src refuses it, and the SDK
	// answers in Kaizala's error shape.
	var outside struct {
		Response *string
		Error    string
	}
	b.card(t, `new Promise((r) => KASClient.App.performHTTPRequest("`+d.contosoURL+`/api/products", "{}", (response, error) => r({response, error})))`, &outside)
	var herr struct {
		HttpErrorCode    *int
		HttpErrorMessage string
	}
	if outside.Response != nil || json.Unmarshal([]byte(outside.Error), &herr) != nil || herr.HttpErrorCode == nil || *herr.HttpErrorCode != -1 {
		t.Errorf("performHTTPRequest outside externalUrls: %+v; want HttpErrorCode -1", outside)
	}

	// A form call, in the conversation the card is open in: this card has
	// no AppModel.json, so no form to start from: Kaizala's "Wrong
	// Operation" error, saying why, through the bridge.
	var form struct {
		Form  any
		Error string
	}
	b.card(t, `new Promise((r) => KASClient.Form.initFormAsync((form, error) => r({form, error})))`, &form)
	var kerr struct {
		EC int    `json:"ec"`
		EM string `json:"em"`
	}
	if form.Form != nil || json.Unmarshal([]byte(form.Error), &kerr) != nil || kerr.EC != 400 || !strings.Contains(kerr.EM, "has no AppModel.json") {
		t.Errorf("initFormAsync: %+v; want Kaizala's {\"ec\":400} saying the card has no AppModel.json", form)
	}
	if p := b.problems(t); len(p) != 1 || p[0] != "CSP connect-src "+d.contosoURL+"/api/products" {
		t.Errorf("the card's page saw: %q; want the one connect-src violation of the call outside externalUrls", p)
	}

	// Forged command: the package named in the message, or in the args,
	// changes nothing; a message posted to the host from the card's own
	// window (not the frame the host attached) is not answered.
	var forged []string
	b.card(t, `new Promise((r) => parent.excecuteCommand("getIntegerationServiceToken", ["`+cli.DemoOrders+`"], r, r))`, &forged)
	if len(forged) != 1 || d.tokenPackage(t, forged[0]) != cli.DemoKaizala {
		t.Fatalf("a forged command got %q, want a token for %s", forged, cli.DemoKaizala)
	}
	var direct struct{ Answered bool }
	b.card(t, `new Promise((r) => {
		addEventListener("message", (e) => { if (e.data && e.data.id === "forged-1") r({answered: true}); });
		top.postMessage({cardgate: 2, id: "forged-1", method: "kaizala", command: "getIntegerationServiceToken", args: [],
			packageId: "`+cli.DemoOrders+`"}, "*");
		top.postMessage({cardgate: 1, id: "forged-1", method: "getIntegrationServiceToken", packageId: "`+cli.DemoOrders+`"}, "*");
		setTimeout(() => r({answered: false}), 500);
	})`, &direct)
	if direct.Answered {
		t.Fatal("the host answered a window it never attached")
	}

	// Forged and nested frames: the card may frame nothing (not even its own
	// origin), and its frame page frames only its own origin, so no other
	// card's frame page, bridge included, runs inside this card.
	ordersFrame := strings.Replace(b.origin(), labelOf(b.origin()), labelOf(d.cardOrigin(t, b, cli.DemoOrders)), 1) +
		"/frame/" + cli.DemoOrders + "/index.html"
	var nested []string
	b.card(t, `new Promise((r) => {
		const seen = [];
		document.addEventListener("securitypolicyviolation", (e) => seen.push(e.effectiveDirective));
		const f = document.createElement("iframe"); f.src = "/frame/`+cli.DemoKaizala+`/index.html"; document.body.append(f);
		const g = document.createElement("iframe"); g.src = "`+ordersFrame+`"; document.body.append(g);
		setTimeout(() => r(seen), 500);
	})`, &nested)
	if len(nested) != 2 || nested[0] != "frame-src" || nested[1] != "frame-src" {
		t.Errorf("nested frames in the card: violations %q, want two frame-src", nested)
	}
	var inFrame []string
	b.framePage(t, `new Promise((r) => {
		const seen = [];
		document.addEventListener("securitypolicyviolation", (e) => seen.push(e.effectiveDirective + " " + e.blockedURI));
		const g = document.createElement("iframe"); g.src = "`+ordersFrame+`"; document.body.append(g);
		setTimeout(() => r(seen), 500);
	})`, &inFrame)
	if len(inFrame) != 1 || !strings.HasPrefix(inFrame[0], "frame-src ") {
		t.Errorf("another card's frame page inside this card's frame page: violations %q, want frame-src", inFrame)
	}

	// Storage: what this card keeps, the orders card cannot read.
	b.card(t, `localStorage.setItem("kaizala-note", "for the Kaizala card only")`, nil)
	b.openCard(t, cli.DemoOrders)
	var note *string
	b.card(t, `localStorage.getItem("kaizala-note")`, &note)
	if note != nil {
		t.Fatalf("the orders card reads the Kaizala card's storage: %q", *note)
	}

	// Kaizala's dismissCurrentScreen closes the card.
	b.openCard(t, cli.DemoKaizala)
	b.card(t, `KASClient.App.dismissCurrentScreen(); true`, nil)
	b.waitHost(t, `document.querySelector('.message-card') === null && !document.getElementById('empty').hidden`)
}

// TestKaizalaSamples opens Microsoft's two sample packages, imported by the
// demo from their zips byte for byte: their pages' own scripts run, with no
// CSP violation, no SecurityError and no "incompatible client" screen; the
// SDK they bundle (a 2017 build with no web-client path) reaches the host
// through the compatibility script the cards origin adds after it; their
// strings load from their strings_en.json, and their first form call, in
// the demo's conversation, gets the package's AppModel.json as the form to
// start from.
func TestKaizalaSamples(t *testing.T) {
	chromium := findChromium(t)
	dir := kaizalaDir(t)
	d := startDemo(t, "--kaizala", dir)
	// Each page's onload asks for its strings, then makes its first form
	// call, which answers the package's app model (its title and its
	// questions): the page then draws it.
	samples := map[string]struct{ zip, title, firstFormCall, formTitle string }{
		"com.microsoft.kaizala.RequestResponse": {"sample-request-response-action.zip", "strEnterTitleForTextQuestion", "initFormAsync",
			"Sample Request Response Form Title"},
		"com.microsoft.kaizala.ResponseCard": {"sample-response-action.zip", "strMiniAppTitle", "getFormAsync", "Sample Response Form Title"},
	}
	for _, s := range samples {
		if strings.Contains(d.out, "not installed: "+s.zip) {
			t.Fatalf("the demo could not import %s:\n%s", s.zip, d.out)
		}
	}
	b := newBrowser(t, chromium)
	b.do(t, chromedp.Navigate(d.base))
	b.waitHost(t, `document.querySelector('.demo-user[data-user-id="`+cli.DemoAlice+`"]') !== null`)
	b.host(t, `document.querySelector('.demo-user[data-user-id="`+cli.DemoAlice+`"]').click()`)
	b.waitHost(t, `document.getElementById('me-name').textContent === 'Alice Ahmed'`)
	for pkg, s := range samples {
		t.Run(pkg, func(t *testing.T) {
			want := sampleStrings(t, dir, s.zip)
			b.openCard(t, pkg)
			b.reloadCardWatched(t, pkg)
			b.waitCard(t, `typeof _form === "object" && _form !== null`)
			var state struct {
				SDK, Inline, WebClient bool
				Strings                map[string]string
				Body, FormError        string
				Form                   struct {
					Title          string
					ConversationID string
				}
			}
			b.card(t, `new Promise((r) => KASClient.Form.`+s.firstFormCall+`((form, error) => r({sdk: typeof KASClient === "object",
				inline: typeof onPageLoad === "function",
				webClient: typeof KASClient.isRenderedForWebClient === "function" && KASClient.isRenderedForWebClient(),
				strings: _strings, body: document.body.innerText, formError: error, form: form && {title: form.title, conversationID: form.conversationId}})))`, &state)
			if !state.SDK || !state.Inline || !state.WebClient {
				t.Fatalf("the sample's scripts did not run, or its SDK has no way to the host: %+v", state)
			}
			if p := b.problems(t); len(p) > 0 {
				t.Errorf("the sample's page saw: %q", p)
			}
			if strings.Contains(state.Body, "Update") || strings.Contains(state.Body, "upgrade") {
				t.Errorf("the sample shows Kaizala's incompatible-client screen: %q", state.Body)
			}
			if state.Strings[s.title] == "" || state.Strings[s.title] != want[s.title] {
				t.Errorf("the page's strings: %q = %q, want %q from its strings_en.json", s.title, state.Strings[s.title], want[s.title])
			}
			if state.FormError != "" || state.Form.Title != s.formTitle || state.Form.ConversationID != cli.DemoTeam {
				t.Errorf("the first form call, %s, answers %+v, error %q; want the app model's form %q in the demo's conversation",
					s.firstFormCall, state.Form, state.FormError, s.formTitle)
			}
		})
	}
}

// sampleStrings reads strings_en.json from a sample package's zip.
func sampleStrings(t *testing.T, dir, name string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if path.Base(f.Name) != "strings_en.json" || strings.HasPrefix(f.Name, "__MACOSX/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		var m map[string]string
		if err := json.NewDecoder(rc).Decode(&m); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		return m
	}
	t.Fatalf("%s has no strings_en.json", name)
	return nil
}

// kaizalaDir is Kaizala's SDK and samples (kaizala-docs' actions/), from
// ../shared/kaizala beside the repository or $CARDGATE_KAIZALA_DIR; without
// it the test skips, and under CI it fails (kaizalatest.Dir).
func kaizalaDir(t *testing.T) string {
	t.Helper()
	abs, _ := filepath.Abs(filepath.Join(kaizalatest.Dir(t), "actions"))
	return abs
}

// expectDialog listens for the host page's next dialog; the func it
// returns waits for it, checks that it is a confirmation naming url, and
// accepts or declines it.
func (b *browser) expectDialog(t *testing.T) func(url string, accept bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	events := chromedp.Events(ctx, page.JavascriptDialogOpening) // subscribed now, before the dialog
	return func(url string, accept bool) {
		t.Helper()
		defer cancel()
		answerDialog(t, ctx, events, url, accept)
	}
}

func answerDialog(t *testing.T, ctx context.Context, events iter.Seq2[page.EventJavascriptDialogOpening, error], url string, accept bool) {
	t.Helper()
	for ev, err := range events {
		if err != nil {
			t.Fatalf("no confirmation in the host: %v", err)
		}
		if ev.Type != page.DialogTypeConfirm || !strings.Contains(ev.Message, url) {
			t.Errorf("the host asks %s %q; want a confirmation naming %s", ev.Type, ev.Message, url)
		}
		if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
			return err
		})); err != nil {
			t.Fatal(err)
		}
		return
	}
}

// waitTab waits for a tab showing url.
func (b *browser) waitTab(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		infos, err := chromedp.Targets(b.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type == "page" && info.URL == url {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no tab opened %s", url)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// problemRecorder records, in each page the card's frame loads, its CSP
// violations and uncaught errors (a SecurityError among them).
const problemRecorder = `(() => {
  const problems = (window.__cgProblems = []);
  document.addEventListener("securitypolicyviolation", (e) => problems.push("CSP " + e.effectiveDirective + " " + e.blockedURI));
  window.addEventListener("error", (e) => problems.push("error " + (e.error && e.error.name) + ": " + e.message));
  window.addEventListener("unhandledrejection", (e) => problems.push("rejection " + String(e.reason)));
})();`

// reloadCardWatched installs problemRecorder in the open card's frame and
// reloads the card's page, so that its scripts run again, watched.
func (b *browser) reloadCardWatched(t *testing.T, pkg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.frame, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: problemRecorder})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	b.card(t, `location.reload()`, nil)
	b.waitCard(t, `Array.isArray(window.__cgProblems) && document.readyState === 'complete' && location.pathname.startsWith('/`+pkg+`/')`)
}

// problems returns what problemRecorder saw in the card's page.
func (b *browser) problems(t *testing.T) []string {
	t.Helper()
	var out []string
	b.card(t, `window.__cgProblems`, &out)
	return out
}

// cardOrigin is the origin the host lists pkg's card on.
func (d *demo) cardOrigin(t *testing.T, b *browser, pkg string) string {
	t.Helper()
	var origin string
	b.host(t, `fetch("/host/api/me").then((r) => r.json()).then((me) => me.cards.find((c) => c.id === "`+pkg+`").origin)`, &origin)
	return origin
}

// labelOf is an origin's first DNS label.
func labelOf(origin string) string {
	host := strings.TrimPrefix(strings.TrimPrefix(origin, "http://"), "https://")
	label, _, _ := strings.Cut(host, ".")
	return label
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

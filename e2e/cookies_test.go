package e2e_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cardgate/cardgate/cli"
)

// TestCookieTossing has pages try to sign the viewer in as someone else by
// setting the host's session cookie (cookie tossing) with the attacker's
// session, in Chromium. A card cannot: it runs on *.cards.localhost, another
// site, and Chromium refuses a cookie for Domain=localhost or the host's IP
// from there. A page on the host's own host name (another port: cookies
// ignore ports) can set one on a longer path, which the browser sends first;
// the host then refuses the request, clears every copy, and the viewer signs
// in again as themselves.
func TestCookieTossing(t *testing.T) {
	chromium := findChromium(t)
	d := startDemo(t)
	b := newBrowser(t, chromium)
	bob := d.demoSession(t, cli.DemoBob)

	b.do(t, chromedp.Navigate(d.base))
	signInAsAlice := func() {
		t.Helper()
		b.waitHost(t, `document.querySelector('.demo-user[data-user-id="`+cli.DemoAlice+`"]') !== null`)
		b.host(t, `document.querySelector('.demo-user[data-user-id="`+cli.DemoAlice+`"]').click()`)
		b.waitHost(t, `document.getElementById('me-name').textContent === 'Alice Ahmed'`)
	}
	signInAsAlice()
	me := func() (status int, body string) {
		t.Helper()
		var r struct {
			Status int
			Body   string
		}
		b.host(t, `fetch("/host/api/me").then(async (res) => ({status: res.status, body: await res.text()}))`, &r)
		return r.Status, r.Body
	}

	// A card tries every way it has to toss the cookie.
	b.openCard(t, cli.DemoOrders)
	for _, attrs := range []string{"path=/host/api", "path=/", "domain=127.0.0.1; path=/host/api", "domain=localhost; path=/host/api",
		"domain=cards.localhost; path=/host/api"} {
		b.card(t, `document.cookie = "cardgate_session=`+bob+`; `+attrs+`"`, nil)
	}
	if status, body := me(); status != 200 || !strings.Contains(body, cli.DemoAlice) {
		t.Fatalf("after the card tossed its cookies the host answers %d %s; want Alice still", status, body)
	}

	// A page on the host's host name, another port (where the issuer's
	// cards used to be by default), tosses one onto the API's path.
	sibling := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!doctype html><title>a neighbour</title>"))
	}))
	defer sibling.Close()
	b.do(t, chromedp.Navigate(sibling.URL+"/"))
	b.host(t, `document.cookie = "cardgate_session=`+bob+`; path=/host/api"`)
	// What the host answers the browser, which now sends both cookies.
	b.do(t, chromedp.Navigate(d.base+"/host/api/me"))
	var body string
	b.host(t, `document.body.innerText`, &body)
	if strings.Contains(body, cli.DemoBob) || !strings.Contains(body, "more than one session cookie") {
		t.Fatalf("with a tossed cookie the host answers %s; want a refusal, never Bob", body)
	}
	// Every copy is gone: signing in again makes the viewer Alice, for
	// good.
	b.do(t, chromedp.Navigate(d.base))
	b.waitHost(t, `!document.getElementById('phone-form').hidden`)
	signInAsAlice()
	if status, body := me(); status != 200 || !strings.Contains(body, cli.DemoAlice) {
		t.Fatalf("after signing in again the host answers %d %s; want Alice", status, body)
	}
}

// TestDNSRebinding points a name of the attacker's at the demo's address,
// as a rebinding DNS server would once the victim has loaded the
// attacker's page: to Chromium that page and the demo are then one origin.
// The demo answers only to its own names, so the page reads nothing.
func TestDNSRebinding(t *testing.T) {
	chromium := findChromium(t)
	d := startDemo(t)
	b := newBrowser(t, chromium, chromedp.Flag("host-resolver-rules", "MAP rebound.test 127.0.0.1"))
	port := d.base[strings.LastIndex(d.base, ":")+1:]
	b.do(t, chromedp.Navigate("http://rebound.test:"+port+"/host/api/demo/users"))
	var body string
	b.host(t, `document.body.innerText`, &body)
	if strings.Contains(body, cli.DemoAlice) || !strings.Contains(body, "MisdirectedRequest") {
		t.Fatalf("a rebound name reads %s; want a 421", body)
	}
	var status int
	b.host(t, `fetch("/host/api/demo/signin", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({userId: "`+cli.DemoAlice+`"})}).then((r) => r.status)`, &status)
	if status != 421 {
		t.Fatalf("a rebound page signs in: %d, want 421", status)
	}
	// The demo itself still works under its own name.
	b.do(t, chromedp.Navigate(d.base))
	b.waitHost(t, `document.querySelector('.demo-user[data-user-id="`+cli.DemoAlice+`"]') !== null`)
}

// demoSession signs a user in through the demo's picker, as an attacker
// would sign themselves in, and returns the session cookie's value.
func (d *demo) demoSession(t *testing.T, user string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", d.base+"/host/api/demo/signin", strings.NewReader(`{"userId":"`+user+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", d.base)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "cardgate_session" && c.Value != "" {
			return c.Value
		}
	}
	t.Fatalf("demo sign-in: %d, no session cookie", res.StatusCode)
	return ""
}

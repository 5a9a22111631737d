package e2e_test

import (
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cardgate/cardgate/cli"
)

const (
	requestResponse = "com.microsoft.kaizala.RequestResponse"
	responseCard    = "com.microsoft.kaizala.ResponseCard"
)

var shots = flag.String("conversation-screenshots", "", "also save TestConversationSamples' screenshots of a conversation and of a summary\n"+
	"(conversation.png, summary.png: the README's) into this `directory`")

// saveShot saves b's screenshot as name in the -conversation-screenshots
// directory, when one is given.
func saveShot(t *testing.T, b *browser, name string) {
	t.Helper()
	if *shots == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(*shots, name), b.screenshot(t), 0o644); err != nil {
		t.Fatal(err)
	}
}

// signedIn is a browser of its own (its own profile: cookies, storage)
// signed in to the demo as user, with the demo's conversation open.
func signedIn(t *testing.T, chromium string, d *demo, user string) *browser {
	t.Helper()
	b := newBrowser(t, chromium)
	b.do(t, chromedp.Navigate(d.base))
	b.waitHost(t, `document.querySelector('.demo-user[data-user-id="`+user+`"]') !== null`)
	b.host(t, `document.querySelector('.demo-user[data-user-id="`+user+`"]').click()`)
	b.waitHost(t, `document.getElementById('conversation-title').textContent === 'Contoso team'`)
	return b
}

// formCard is the host's selector for the card of pkg's form.
func formCard(pkg string) string {
	return `.form-card[data-package-id="` + pkg + `"]:not(.response-card)`
}

// TestConversationSamples runs Microsoft's two samples, as zipped, between
// Alice and Bob in two browsers: a card one sends appears for the other
// without a reload; the other responds in the package's own page; the
// sender sees that answer in the package's own summary page, and closes
// the form from it, after which Bob can no longer respond. Then Bob
// leaves the conversation, and neither the bridge nor the host's API gives
// him the form, its responses or its summary.
func TestConversationSamples(t *testing.T) {
	chromium := findChromium(t)
	dir := kaizalaDir(t)
	d := startDemo(t, "--kaizala", dir)
	alice := signedIn(t, chromium, d, cli.DemoAlice)
	bob := signedIn(t, chromium, d, cli.DemoBob)

	// Request-Response: Alice fills in the CreationView and sends it.
	alice.openCard(t, requestResponse)
	alice.waitCard(t, `typeof _form === "object" && _form !== null && document.querySelectorAll('.comment-input').length >= 2`)
	alice.card(t, `(() => {
		const type = (el, text) => { el.value = text; el.dispatchEvent(new Event("input")); el.dispatchEvent(new Event("change")); };
		const inputs = document.querySelectorAll('.comment-input');
		type(inputs[0], "Where shall we eat?");
		type(inputs[1], "How many of you are coming?");
		const send = Array.from(document.querySelectorAll('*')).filter((e) => e.children.length === 0 && e.textContent.trim() === _strings.strSubmitFormLabel);
		send[0].click();
		return true;
	})()`, nil)
	alice.waitHost(t, `document.querySelector('.message-card') === null && document.querySelector('`+formCard(requestResponse)+`') !== null`)

	// Bob sees it without a reload, and responds in the package's
	// ResponseView.
	bob.waitHost(t, `document.querySelector('`+formCard(requestResponse)+`') !== null`)
	var formID string
	bob.host(t, `document.querySelector('`+formCard(requestResponse)+`').dataset.formId`, &formID)
	bob.openWith(t, requestResponse, `document.querySelector('`+formCard(requestResponse)+` button.respond').click()`)
	bob.waitCard(t, `typeof _form === "object" && _form !== null && _form.questions.length === 2 && document.querySelectorAll('.comment-input').length === 2`)
	bob.card(t, `(() => {
		const type = (el, text) => { el.value = text; el.dispatchEvent(new Event("input")); el.dispatchEvent(new Event("change")); };
		const inputs = document.querySelectorAll('.comment-input');
		type(inputs[0], "Luigi's, by the river");
		type(inputs[1], "4");
		const send = Array.from(document.querySelectorAll('*')).filter((e) => e.children.length === 0 && e.textContent.trim() === _strings.strSendResponseLabel);
		send[0].click();
		return true;
	})()`, nil)
	bob.waitHost(t, `document.querySelector('.message-card') === null && document.querySelector('`+formCard(requestResponse)+` .form-facts').textContent.includes('Response sent')`)
	saveShot(t, bob, "conversation.png")

	// Alice sees the response come in, and Bob's answers in the package's
	// ResponseResultsView (its detailed summary comes through
	// getSurveySummaryWithNotify's two named callbacks).
	alice.waitHost(t, `document.querySelector('`+formCard(requestResponse)+` .form-facts').textContent.includes('1 response')`)
	alice.openWith(t, requestResponse, `document.querySelector('`+formCard(requestResponse)+` button.results').click()`)
	alice.waitCard(t, `typeof _aggregatedSummary === "object" && _aggregatedSummary !== null && _aggregatedSummary.totalResponseCount === 1`)
	var detailed string
	alice.card(t, `new Promise((r) => getDetailedSummary(() => r(JSON.stringify({all: _allResponses, processed: _processedSummary}))))`, &detailed)
	if !strings.Contains(detailed, "Luigi's, by the river") || !strings.Contains(detailed, `"4"`) || !strings.Contains(detailed, cli.DemoBob) {
		t.Errorf("Alice's summary page has %s; want Bob's answers", detailed)
	}
	saveShot(t, alice, "summary.png")

	// Alice, the form's creator, closes it from the summary's "Close
	// Form" setting (KASClient.Form.closeForm, the closeCard command):
	// the card closes, Bob's page shows the form expired without a reload,
	// and he can no longer respond.
	alice.waitCard(t, `Array.from(document.querySelectorAll('*')).some((e) => e.children.length === 0 && e.textContent.trim() === "Close Form")`)
	alice.card(t, `(Array.from(document.querySelectorAll('*')).find((e) => e.children.length === 0 && e.textContent.trim() === "Close Form").click(), true)`, nil)
	alice.waitHost(t, `document.querySelector('.message-card') === null`)
	bob.waitHost(t, `document.querySelector('`+formCard(requestResponse)+` .form-facts').textContent.includes('Expired')`)
	var closed struct {
		Active, CanRespond bool
		Status             int
		Message            string
	}
	bob.host(t, `(async () => {
		const st = await (await fetch("/host/api/forms/`+formID+`?package=`+requestResponse+`")).json();
		const r = await fetch("/host/api/forms/`+formID+`/responses?package=`+requestResponse+`", {method: "POST",
			headers: {"Content-Type": "application/json"}, body: JSON.stringify({answers: {"0": "Somewhere else"}})});
		return {active: st.active, canRespond: st.canRespond, status: r.status, message: (await r.json()).error.message};
	})()`, &closed)
	if closed.Active || closed.CanRespond || closed.Status != 403 || !strings.Contains(closed.Message, "takes no more responses") {
		t.Errorf("Bob and the closed form: %+v; want it inactive and his response refused as for an expired form", closed)
	}

	// Response: a card that responds from its CreationView. Alice's
	// response sends the card; each response is a message of its own.
	alice.openCard(t, responseCard)
	alice.waitCard(t, `typeof _form === "object" && _form !== null && _currentUserInfo !== null`)
	respond := func(b *browser, text string) {
		t.Helper()
		// The page's own state, as its inputs set it, and its own submit.
		b.card(t, `_textQuestion = "`+text+`"; _numericQuestion = "3"; _singleSelectQuestion = 1; _multiSelectQuestion = [0, 2];
			submitFormResponse(); true`, nil)
	}
	respond(alice, "At the Lisbon office")
	alice.waitHost(t, `document.querySelector('.message-card') === null && document.querySelectorAll('.response-card').length === 1`)
	bob.waitHost(t, `document.querySelector('`+formCard(responseCard)+`') !== null && document.querySelectorAll('.response-card').length === 1`)
	bob.openWith(t, responseCard, `document.querySelector('`+formCard(responseCard)+` button.respond').click()`)
	bob.waitCard(t, `typeof _form === "object" && _form !== null && _currentUserInfo !== null`)
	respond(bob, "Working from home")
	alice.waitHost(t, `document.querySelectorAll('.response-card').length === 2`)
	alice.openWith(t, responseCard, `Array.from(document.querySelectorAll('.response-card')).find((e) => e.textContent.includes('Bob Barros responded')).querySelector('button.results').click()`)
	alice.waitCard(t, `typeof _myFormResponses === "object" && _myFormResponses !== null && typeof _conversationName === "string"`)
	var shown struct{ Answers, Conversation, Body string }
	alice.card(t, `({answers: JSON.stringify(_myFormResponses.questionToAnswerMap), conversation: _conversationName, body: document.body.innerText})`, &shown)
	if !strings.Contains(shown.Answers, "Working from home") || shown.Conversation != "Contoso team" || !strings.Contains(shown.Body, "Working from home") {
		t.Errorf("Alice's view of Bob's response: %+v", shown)
	}

	// Bob leaves the conversation (the admin removes him). His open card
	// gets Kaizala's "Wrong Operation" error from the bridge, and the
	// host's API refuses him the form, its responses and its summary.
	bob.openWith(t, requestResponse, `document.querySelector('`+formCard(requestResponse)+` button.results').click()`)
	bob.waitCard(t, `typeof _aggregatedSummary === "object" && _aggregatedSummary !== null`)
	admin := regexp.MustCompile(`ADMIN_KEY=(\S+)`).FindStringSubmatch(d.out)[1]
	req, _ := http.NewRequest("DELETE", d.base+"/v1/admin/conversations/"+cli.DemoTeam+"/members/"+cli.DemoBob, nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Fatalf("removing Bob: %d", res.StatusCode)
	}
	var errs []string
	bob.card(t, `Promise.all([
		new Promise((r) => KASClient.Form.getFormAsync((f, e) => r(e))),
		new Promise((r) => KASClient.Form.getMyFormResponsesAsync((x, e) => r(e))),
		new Promise((r) => KASClient.Form.getProcessedFormSummaryAsync((x, e) => r(e))),
	])`, &errs)
	for _, e := range errs {
		if !strings.Contains(e, `"ec":400`) || !strings.Contains(e, "members") {
			t.Errorf("Bob's card after he left: %q; want Kaizala's ec 400 saying only members may", errs)
			break
		}
	}
	var statuses []int
	bob.host(t, `Promise.all(["", "/responses", "/summary"].map((p) =>
		fetch("/host/api/forms/`+formID+`" + p + "?package=`+requestResponse+`").then((r) => r.status)))`, &statuses)
	if len(statuses) != 3 || statuses[0] != 403 || statuses[1] != 403 || statuses[2] != 403 {
		t.Errorf("Bob's host API after he left: %v, want 403 each", statuses)
	}
}

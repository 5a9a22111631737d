package cards

import (
	"strings"
	"testing"
)

func TestKaizalaCompatInsertedAfterTheSDK(t *testing.T) {
	for _, tc := range []struct{ name, page, want string }{
		{"sample's head",
			`<html><head><script type="text/javascript" src="KASClient.js"></script><script>go()</script></head></html>`,
			`<html><head><script type="text/javascript" src="KASClient.js"></script>` + compatScript + `<script>go()</script></head></html>`},
		{"other case, directory, query",
			"<SCRIPT SRC='lib/kasclient.JS?v=2'>\n</Script >\n<body onload=x()>",
			"<SCRIPT SRC='lib/kasclient.JS?v=2'>\n</Script >" + compatScript + "\n<body onload=x()>"},
		{"only the first",
			`<script src="KASClient.js"></script><script src="KASClient.js"></script>`,
			`<script src="KASClient.js"></script>` + compatScript + `<script src="KASClient.js"></script>`},
		{"unclosed at the end", `<script src="KASClient.js">`, `<script src="KASClient.js">` + compatScript},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(withKaizalaCompat([]byte(tc.page))); got != tc.want {
				t.Errorf("served\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestKaizalaCompatOnlyForTheSDK(t *testing.T) {
	for _, page := range []string{
		`<script src="/sdk/cardgate.js"></script><p>no Kaizala here</p>`,
		`<!-- <script src="KASClient.js"></script> -->`,
		`<script>var s = '<script src="KASClient.js"></' + 'script>';</script>`,
		`<script src="NotKASClient.js"></script><img src="KASClient.js">`,
		`<p title='<script src="KASClient.js"></script>'>`,
		"",
	} {
		if got := string(withKaizalaCompat([]byte(page))); got != page {
			t.Errorf("%q served as %q, want it unchanged", page, got)
		}
	}
}

func TestKaizalaCompatKeepsEveryByte(t *testing.T) {
	// Bytes a parser would normalise: entities, odd quoting, a BOM, CRLF,
	// invalid UTF-8.
	page := "\ufeff<!DOCTYPE html>\r\n<html><head><script  src = KASClient.js   ></script  >&amp;&#x41;<b>\xff\xfe</b>"
	got := string(withKaizalaCompat([]byte(page)))
	if want := strings.Replace(page, "</script  >", "</script  >"+compatScript, 1); got != want {
		t.Errorf("served %q, want %q", got, want)
	}
}

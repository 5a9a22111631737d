package cards

import (
	"bytes"
	"io"
	"path"
	"strings"

	"golang.org/x/net/html"
)

// compatScript is the element inserted after a page's KASClient.js: it
// gives the SDKs Kaizala shipped before its web client (the 2017 mobile
// builds, which Microsoft's own samples bundle) the web-client path that
// later SDKs have, so that their commands reach the host through the frame
// page (sdk/js/kaizala-compat.js). On an SDK that has that path it does
// nothing.
const compatScript = `<script src="/sdk/kaizala-compat.js"></script>`

// withKaizalaCompat returns page with compatScript inserted right after
// the end of its first <script src="…KASClient.js"> element, or page itself
// when it has none. Everything else of the page is kept byte for byte: the
// package as stored is never changed, only what this origin serves.
func withKaizalaCompat(page []byte) []byte {
	at := kasClientEnd(page)
	if at < 0 {
		return page
	}
	out := make([]byte, 0, len(page)+len(compatScript))
	out = append(out, page[:at]...)
	out = append(out, compatScript...)
	return append(out, page[at:]...)
}

// kasClientEnd is the offset just past the end tag of page's first script
// element that loads a file named KASClient.js (any directory, any case),
// or -1. It tokenizes as a browser does, so that a name inside a comment,
// a string or another script's text does not count.
func kasClientEnd(page []byte) int {
	z := html.NewTokenizer(bytes.NewReader(page))
	offset, inSDK := 0, false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() == io.EOF && inSDK { // unclosed: the browser runs it at the end
				return offset
			}
			return -1
		}
		offset += len(z.Raw())
		switch {
		case inSDK && tt == html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "script" {
				return offset
			}
		case !inSDK && (tt == html.StartTagToken || tt == html.SelfClosingTagToken):
			name, hasAttr := z.TagName()
			if string(name) != "script" {
				continue
			}
			for hasAttr {
				var key, val []byte
				key, val, hasAttr = z.TagAttr()
				if string(key) == "src" && isKASClient(string(val)) {
					inSDK = true
				}
			}
		}
	}
}

// isKASClient reports whether a script's src names Kaizala's SDK file.
func isKASClient(src string) bool {
	src, _, _ = strings.Cut(src, "?")
	src, _, _ = strings.Cut(src, "#")
	return strings.EqualFold(path.Base(strings.TrimSpace(src)), "KASClient.js")
}

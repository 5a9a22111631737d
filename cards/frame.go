package cards

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/cardgate/cardgate/httpjson"
)

// The frame page: what the host frames for every card. It runs on the
// card's own origin and holds the card's page in a frame of its own, so
// that it is the card's window.parent, where Kaizala's SDK looks for its web
// client (__WEB_CLIENT__ and excecuteCommand, see sdk/js/web-client.js).
// It relays each command to the host page by postMessage; the host knows
// the package by this frame, which it attached, never by the message.
var framePage = template.Must(template.New("frame").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>card</title>
<style>html,body{margin:0;padding:0;height:100%;overflow:hidden}iframe{display:block;border:0;width:100%;height:100%}</style>
<script src="/sdk/cardgate.js"></script>
<script src="/sdk/web-client.js"></script>
</head>
<body><iframe id="cardgate-card" title="card" src="{{.}}"></iframe></body>
</html>
`))

// serveFrame serves GET /frame/{pkg}/{file...}: the frame page around
// /{pkg}/{file...}, for a package and file the origin serves.
func serveFrame(store Store, opts Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m, _, err := servedFile(r, store, opts)
		if err != nil {
			httpjson.Error(w, err)
			return
		}
		id, file := r.PathValue("pkg"), r.PathValue("file")
		setHeaders(w.Header(), FramePolicy(m, opts), "text/html; charset=utf-8")
		framePage.Execute(w, "/"+url.PathEscape(id)+"/"+(&url.URL{Path: file}).EscapedPath())
	})
}

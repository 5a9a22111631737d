// Package sdk embeds the browser SDK (js/): cardgate.js, which cards load,
// its TypeScript declarations, and host-bridge.js, which the card host's page
// uses to answer cards. The issuer serves them under /sdk/.
package sdk

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed js/cardgate.js js/cardgate.d.ts js/host-bridge.js js/web-client.js js/kaizala-host.js js/kaizala-compat.js
var files embed.FS

// FS holds cardgate.js, cardgate.d.ts and host-bridge.js at its root.
var FS, _ = fs.Sub(files, "js")

// Handler serves FS's files by name (mount it with http.StripPrefix). They
// may be cached briefly and are revalidated; cards from any origin may load
// them.
func Handler() http.Handler {
	fileServer := http.FileServerFS(FS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if fi, err := fs.Stat(FS, name); err != nil || fi.IsDir() {
			http.Error(w, "no such SDK file", http.StatusNotFound)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		if strings.HasSuffix(name, ".d.ts") {
			h.Set("Content-Type", "application/typescript; charset=utf-8")
		}
		fileServer.ServeHTTP(w, r)
	})
}

package httpjson

import "net/http"

// MuxMiss runs h, the handler a ServeMux returned for a request no pattern
// serves, without writing anything, and reports what it would have
// answered: 404, 405 (with the Allow header), or a redirect that tidies the
// path (with Location). Servers use it to answer in their own error format.
func MuxMiss(h http.Handler, r *http.Request) (status int, header http.Header) {
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.status, rec.header
}

// recorder keeps the status and headers a handler writes and drops its body.
type recorder struct {
	header http.Header
	status int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

package adapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/cardgate/cardgate"
)

// maxTokenLen bounds a token; integration service tokens are well under
// 1 KiB, and anything much longer is not one.
const maxTokenLen = 4096

// tokenHeader is a header a token may come in.
type tokenHeader struct {
	name   string // canonical
	bearer bool   // "Authorization: Bearer <token>"
}

var (
	errNoToken = cardgate.Errorf(cardgate.EINVALIDTOKEN, "no token: send the integration service token as \"Authorization: Bearer <token>\" or in the accessToken header")
	errBadAuth = cardgate.Errorf(cardgate.EINVALIDTOKEN, "malformed token")
)

// headerToken returns the token from the first configured header present,
// "" when there is none.
func (t *table) headerToken(h http.Header) (string, error) {
	for _, th := range t.tokenHeaders {
		vs := h[th.name]
		if len(vs) == 0 {
			continue
		}
		if len(vs) > 1 {
			// Two tokens: which one would the upstream believe?
			return "", errBadAuth
		}
		v := vs[0]
		if th.bearer {
			scheme, tok, ok := strings.Cut(v, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") {
				continue // not ours, such as Basic for the upstream
			}
			v = strings.TrimLeft(tok, " ")
		}
		v = strings.TrimSpace(v)
		// IndexByte, not ContainsAny: a token is hundreds of bytes, and
		// ContainsAny looks at them one at a time (0.5 µs a request).
		if v == "" || len(v) > maxTokenLen || strings.IndexByte(v, ' ') >= 0 || strings.IndexByte(v, '\t') >= 0 {
			return "", errBadAuth
		}
		return v, nil
	}
	return "", nil
}

var (
	errTwoTokens       = cardgate.Errorf(cardgate.EINVALIDTOKEN, "two different tokens: send one, in a header or in the body")
	errTwoContentTypes = cardgate.Errorf(cardgate.EINVALID, "Content-Type: must appear once")
)

// isJSON reports whether the request says its body is JSON. Two
// Content-Types are an error: the upstream might believe the other one.
func isJSON(h http.Header) (bool, error) {
	cts := h["Content-Type"]
	switch len(cts) {
	case 0:
		return false, nil
	case 1:
	default:
		return false, errTwoContentTypes
	}
	mt, _, err := mime.ParseMediaType(cts[0])
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")), nil
}

// bodyToken reads r's JSON body (already bounded by a MaxBytesReader),
// takes the token from the top-level field, and replaces the body with the
// same bytes minus that field. A body without the field is put back as it
// was, and the token is "".
func bodyToken(r *http.Request, field string) (string, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", cardgate.Errorf(cardgate.ETOOLARGE, "body: larger than %d bytes", mbe.Limit)
		}
		return "", cardgate.WrapError(cardgate.EINVALID, "body: could not be read", err)
	}
	tok, rest, err := cutField(b, field)
	if err != nil {
		return "", err
	}
	r.Body = io.NopCloser(bytes.NewReader(rest))
	r.ContentLength = int64(len(rest))
	r.Header.Del("Content-Length")
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(rest)), nil }
	return tok, nil
}

// cutField finds the top-level string member field (in any case) in the JSON object b
// and returns its value and b without the member, every other byte kept as
// it was (order, spacing, numbers). If b is not an object or lacks the
// field, it returns "" and b unchanged; a field that appears twice or is not
// a string is an error.
func cutField(b []byte, field string) (string, []byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if tk, err := dec.Token(); err != nil || tk != json.Delim('{') {
		return "", b, nil
	}
	open := int(dec.InputOffset()) // just after "{"
	// ends[i] is the offset just after member i's value.
	var ends []int
	found := -1
	var tok string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return "", nil, malformed
		}
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return "", nil, malformed
		}
		// Any spelling that differs only in case counts: decoders such as
		// Go's encoding/json match field names that way.
		if k, _ := kt.(string); strings.EqualFold(k, field) {
			if found >= 0 {
				return "", nil, cardgate.Errorf(cardgate.EINVALID, "body: field %q appears twice", field)
			}
			if err := json.Unmarshal(val, &tok); err != nil {
				return "", nil, cardgate.Errorf(cardgate.EINVALID, "body: field %q must be a string", field)
			}
			found = len(ends)
		}
		ends = append(ends, int(dec.InputOffset()))
	}
	if tk, err := dec.Token(); err != nil || tk != json.Delim('}') {
		return "", nil, malformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", nil, malformed
	}
	if found < 0 {
		return "", b, nil
	}
	var from, to int
	switch {
	case found > 0:
		// `, "field": value` after the previous member.
		from, to = ends[found-1], ends[found]
	case len(ends) > 1:
		// The first of several: drop `"field": value,` and the space
		// before the next member's key.
		from, to = open, ends[0]
		comma := bytes.IndexByte(b[to:], ',')
		to += comma + 1
	default:
		from, to = open, ends[0]
	}
	out := make([]byte, 0, len(b)-(to-from))
	out = append(append(out, b[:from]...), b[to:]...)
	if tok == "" || len(tok) > maxTokenLen {
		return "", nil, errBadAuth
	}
	return tok, out, nil
}

var malformed = cardgate.Errorf(cardgate.EINVALID, "body: malformed JSON")

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

// headerToken returns the token the configured headers carry, "" when
// there is none. Two headers with different tokens are refused, as two
// values of one header are: the adapter would check one, and a caller
// reading the other would be another user.
func (t *table) headerToken(h http.Header) (string, error) {
	found := ""
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
		if found != "" && v != found {
			return "", errTwoTokens
		}
		found = v
	}
	return found, nil
}

var (
	errTwoTokens       = cardgate.Errorf(cardgate.EINVALIDTOKEN, "two different tokens: send one, in a header or in the body")
	errTwoContentTypes = cardgate.Errorf(cardgate.EINVALID, "Content-Type: must appear once")
)

// fieldToken takes the token field out of a JSON body and returns the
// token: the body's when header is "", else header, which the body may
// repeat but not contradict (two different tokens name two callers, and
// which one an upstream believes is anybody's guess).
func (t *table) fieldToken(r *http.Request, header string) (string, error) {
	js, err := isJSON(r.Header)
	if err != nil || !js {
		return header, err
	}
	bt, err := bodyToken(r, t.bodyField)
	switch {
	case err != nil:
		return "", err
	case header == "":
		return bt, nil
	case bt != "" && bt != header:
		return "", errTwoTokens
	}
	return header, nil
}

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
	// What Go's decoder cannot read is refused rather than passed on:
	// other decoders skip a byte-order mark, read UTF-16, comments or the
	// first of two values, and would find a field the adapter never saw.
	switch tk, err := dec.Token(); {
	case err == io.EOF:
		return "", b, nil // no body
	case bytes.HasPrefix(b, utf8BOM):
		return "", nil, errBOM
	case err != nil:
		return "", nil, malformed
	case tk != json.Delim('{'):
		if !json.Valid(b) {
			return "", nil, malformed
		}
		return "", b, nil // an array or a single value: no field
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

var (
	malformed = cardgate.Errorf(cardgate.EINVALID, "body: malformed JSON")
	errBOM    = cardgate.Errorf(cardgate.EINVALID, "body: JSON must not start with a byte-order mark (RFC 8259)")
	utf8BOM   = []byte{0xef, 0xbb, 0xbf}
)

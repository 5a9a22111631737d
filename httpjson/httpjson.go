// Package httpjson writes and reads JSON over HTTP the way every cardgate
// endpoint does: one table from error code to status, one error shape
// ({"error":{"code","message"}}), and bounded, strict request decoding.
package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cardgate/cardgate"
)

// statuses maps every cardgate error code to its HTTP status.
var statuses = map[string]int{
	cardgate.EINVALID:         http.StatusBadRequest,
	cardgate.EUNAUTHORIZED:    http.StatusUnauthorized,
	cardgate.EINVALIDTOKEN:    http.StatusUnauthorized,
	cardgate.EFORBIDDEN:       http.StatusForbidden,
	cardgate.ENOTFOUND:        http.StatusNotFound,
	cardgate.EMETHOD:          http.StatusMethodNotAllowed,
	cardgate.ECONFLICT:        http.StatusConflict,
	cardgate.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	cardgate.EHEADERTOOLARGE:  http.StatusRequestHeaderFieldsTooLarge,
	cardgate.ETIMEOUT:         http.StatusRequestTimeout,
	cardgate.ERATELIMITED:     http.StatusTooManyRequests,
	cardgate.EUPSTREAM:        http.StatusBadGateway,
	cardgate.EUNAVAILABLE:     http.StatusServiceUnavailable,
	cardgate.EUPSTREAMTIMEOUT: http.StatusGatewayTimeout,
	cardgate.EINTERNAL:        http.StatusInternalServerError,
}

// Status returns the HTTP status for a cardgate error code.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error writes err as a JSON error response with the status its code maps
// to. Only the client-safe message is written (cardgate.ErrorMessage); the
// cause stays with the caller, to log. A 401 carries the WWW-Authenticate
// header of RFC 6750.
func Error(w http.ResponseWriter, err error) {
	code := cardgate.ErrorCode(err)
	status := Status(code)
	switch code {
	case cardgate.EINVALIDTOKEN:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	case cardgate.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer`)
	}
	w.Header().Set("Cache-Control", "no-store")
	Write(w, status, ErrorBody{ErrorDetail{Code: code, Message: cardgate.ErrorMessage(err)}})
}

// Write writes v as JSON with the given status.
func Write(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error (an unsupported type) gets here.
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"Internal","message":"internal error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// DefaultMaxBody is the request body limit Decode applies when maxBytes is 0.
const DefaultMaxBody = 64 << 10

// Decode reads one JSON object from r's body into v. It refuses a body that
// is not JSON, larger than maxBytes (0 means DefaultMaxBody), holds unknown
// fields, or holds more than one value, with an *cardgate.Error whose message
// says what is wrong. It never reads more than maxBytes+1 bytes.
func Decode(w http.ResponseWriter, r *http.Request, v any, maxBytes int64) error {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBody
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return cardgate.Errorf(cardgate.EINVALID, "body: Content-Type must be application/json")
		}
	}
	if r.ContentLength > maxBytes {
		RefuseBody(w)
		return cardgate.Errorf(cardgate.ETOOLARGE, "body: larger than %d bytes", maxBytes)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, maxBytes)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return cardgate.Errorf(cardgate.EINVALID, "body: must hold exactly one JSON object")
	}
	return nil
}

// RefuseBody makes the answer about to be written go out at once, and the
// connection close after it, without reading the request body that is
// left: net/http would otherwise read (wait for) up to 256 KiB of it
// before answering, while a client may be waiting for the answer before
// it sends the body.
func RefuseBody(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	http.NewResponseController(w).SetReadDeadline(time.Now())
}

// BodyError is the error for a failure to read a request body: 413 over
// maxBytes, 408 when the server's ReadTimeout passed, nil otherwise (the
// caller says what else is wrong).
func BodyError(err error, maxBytes int64) error {
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return cardgate.Errorf(cardgate.ETOOLARGE, "body: larger than %d bytes", maxBytes)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return cardgate.Errorf(cardgate.ETIMEOUT, "body: not received in time")
	}
	return nil
}

// decodeError turns a json.Decoder error into a client-safe message. The
// decoder's own messages are safe (they name types and fields, not values),
// but are reworded so that every message starts with "body:".
func decodeError(err error, maxBytes int64) error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	if berr := BodyError(err, maxBytes); berr != nil {
		return berr
	}
	switch {
	case errors.Is(err, io.EOF):
		return cardgate.Errorf(cardgate.EINVALID, "body: empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return cardgate.Errorf(cardgate.EINVALID, "body: JSON ends too early")
	case errors.As(err, &syntaxErr):
		return cardgate.Errorf(cardgate.EINVALID, "body: malformed JSON at byte %d", syntaxErr.Offset)
	case errors.As(err, &typeErr):
		if typeErr.Field != "" {
			return cardgate.Errorf(cardgate.EINVALID, "%s: must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value)
		}
		return cardgate.Errorf(cardgate.EINVALID, "body: must be a JSON object, not %s", typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return cardgate.Errorf(cardgate.EINVALID, "%s: unknown field", strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	}
	return cardgate.WrapError(cardgate.EINVALID, "body: not valid JSON", fmt.Errorf("httpjson: decode: %w", err))
}

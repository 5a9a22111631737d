package cardgate

import (
	"errors"
	"fmt"
)

// Error codes. Each names a class of failure; the HTTP edge maps every code to
// one status in one table (package httpjson), so the domain never speaks HTTP.
const (
	EINVALID         = "InvalidRequest"   // bad input: 400
	EUNAUTHORIZED    = "Unauthorized"     // missing or bad credential: 401
	EINVALIDTOKEN    = "InvalidToken"     // missing or rejected token: 401
	EFORBIDDEN       = "Forbidden"        // valid caller, not allowed: 403
	ENOTFOUND        = "NotFound"         // 404
	EMETHOD          = "MethodNotAllowed" // 405
	ECONFLICT        = "Conflict"         // already exists: 409
	ETOOLARGE        = "TooLarge"         // body too large: 413
	EHEADERTOOLARGE  = "HeaderTooLarge"   // 431
	ETIMEOUT         = "RequestTimeout"   // the client was too slow sending its request: 408
	ERATELIMITED     = "RateLimited"      // 429
	EUPSTREAM        = "UpstreamFailed"   // 502
	EUNAVAILABLE     = "Unavailable"      // a dependency is down: 503
	EUPSTREAMTIMEOUT = "UpstreamTimeout"  // 504
	EINTERNAL        = "Internal"         // 500
)

// Error is a failure with a code and a message safe to show a client. Err, if
// set, is the underlying cause: it goes to the log, never to the client.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error returns the message, followed by the cause when there is one.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("cardgate: %s: %v", e.Message, e.Err)
	}
	return "cardgate: " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with the given code and message whose cause is
// err. The message is what a client sees; err is what the log sees.
func WrapError(code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil { // before e, which escapes: no allocation for nil
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of the first *Error in err's
// chain, or a generic message for any other error: an unexpected error's text
// may hold details (a path, a query) that a client must not see.
func ErrorMessage(err error) string {
	if err == nil { // before e, which escapes: no allocation for nil
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

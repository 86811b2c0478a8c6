// Package errs defines the handful of error kinds the registry reports and
// the HTTP status each one maps to.
//
// A function that fails for a reason the caller can act on returns an *Error
// built with New or Errorf; everything else is an internal error. Callers test
// the kind with errors.Is(err, errs.NotFound) and read the user-facing text
// with Message.
package errs

import (
	"errors"
	"fmt"
	"net/http"
	"syscall"
	"time"
)

// Kind classifies an error by what the client should do about it.
// A Kind is itself an error so that errors.Is(err, errs.NotFound) reads well.
type Kind int

// The kinds, each documented with its HTTP status.
const (
	Internal         Kind = iota // 500: a bug or an unexpected failure; details are logged, not shown
	Invalid                      // 400: the request is malformed or a value breaks a syntax rule
	Unauthenticated              // 401: no credentials, or credentials that are not valid
	Forbidden                    // 403: valid credentials without the right to do this
	NotFound                     // 404: no such thing
	Conflict                     // 409: the request collides with existing state
	Gone                         // 410: it existed and was deleted
	TooLarge                     // 413: a body or archive over a size limit
	Unprocessable                // 422: well-formed, but breaks a semantic rule
	RateLimited                  // 429: too many requests; see RetryAfter
	Unavailable                  // 503: a dependency (database, cache, disk) is down
	StorageFull                  // 507: a disk (or quota) the registry writes to is full
	MethodNotAllowed             // 405: the path exists, but not for this method; see httpx.Allowed
)

var kindInfo = [...]struct {
	code   string
	status int
}{
	Internal:         {"internal", http.StatusInternalServerError},
	Invalid:          {"invalid", http.StatusBadRequest},
	Unauthenticated:  {"unauthorized", http.StatusUnauthorized},
	Forbidden:        {"forbidden", http.StatusForbidden},
	NotFound:         {"not_found", http.StatusNotFound},
	Conflict:         {"conflict", http.StatusConflict},
	Gone:             {"gone", http.StatusGone},
	TooLarge:         {"too_large", http.StatusRequestEntityTooLarge},
	Unprocessable:    {"unprocessable", http.StatusUnprocessableEntity},
	RateLimited:      {"rate_limited", http.StatusTooManyRequests},
	Unavailable:      {"unavailable", http.StatusServiceUnavailable},
	StorageFull:      {"storage_full", http.StatusInsufficientStorage},
	MethodNotAllowed: {"method_not_allowed", http.StatusMethodNotAllowed},
}

// Error implements error so that a Kind can be the target of errors.Is.
func (k Kind) Error() string { return k.Code() }

// Code is the short machine-readable name of the kind, used as the "error"
// field of JSON error bodies.
func (k Kind) Code() string {
	if int(k) < 0 || int(k) >= len(kindInfo) {
		return kindInfo[Internal].code
	}
	return kindInfo[k].code
}

// Status is the HTTP status code for the kind.
func (k Kind) Status() int {
	if int(k) < 0 || int(k) >= len(kindInfo) {
		return http.StatusInternalServerError
	}
	return kindInfo[k].status
}

// Error is an error of a known kind with a message meant for the client.
type Error struct {
	Kind Kind
	// Msg says what went wrong and, where possible, what to do about it.
	Msg string
	// RetryAfter is set on RateLimited errors: when to try again.
	RetryAfter time.Duration
	// Err is the underlying cause, if any; it is logged, never shown.
	Err error
	// Field names the input the error is about (a form field, a query
	// parameter, a JSON member), when it is about one: forms show the
	// message beside that field, and JSON errors carry it as "field".
	Field string
}

func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the kind of e, so errors.Is(err, errs.NotFound)
// works through any amount of wrapping.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// New returns an error of the given kind with a client-facing message.
func New(kind Kind, msg string) error {
	return &Error{Kind: kind, Msg: msg}
}

// Errorf is New with formatting. A %w verb wraps a cause: the cause stays
// reachable with errors.Is/As, and the formatted text is the message.
func Errorf(kind Kind, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Kind: kind, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// Wrap gives an underlying error a kind and a client-facing message. The
// cause's text is kept for logs but not shown to clients.
func Wrap(kind Kind, err error, msg string) error {
	return &Error{Kind: kind, Msg: msg, Err: err}
}

// Field returns an error of the given kind about one input, named as the
// request names it (a form field, a query parameter, a JSON member).
func Field(kind Kind, field, msg string) error {
	return &Error{Kind: kind, Msg: msg, Field: field}
}

// OnField returns err marked as being about the input field, unless it
// already names one: validation helpers shared by several requests (a
// username's syntax, a password's policy) do not know what their caller
// calls the value. Errors that are not *Error (internal ones) are
// returned as they are.
func OnField(err error, field string) error {
	var e *Error
	if err == nil || !errors.As(err, &e) || e.Field != "" {
		return err
	}
	c := *e
	c.Field = field
	return &c
}

// FieldOf returns the input the outermost *Error in err's chain is about,
// or "" when it is about none in particular.
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// RateLimit returns a RateLimited error that tells the client when to retry.
func RateLimit(retryAfter time.Duration, msg string) error {
	return &Error{Kind: RateLimited, Msg: msg, RetryAfter: retryAfter}
}

// KindOf returns the kind of the outermost *Error in err's chain, or
// Internal; but StorageFull whenever the chain holds a full disk or quota
// (ENOSPC, EDQUOT), whoever wrapped it: a full disk is the same answer
// wherever the write failed (an upload's spool, an archive, the database,
// git).
func KindOf(err error) Kind {
	if isNoSpace(err) {
		return StorageFull
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// NoSpace wraps a driver's own report of a full disk (SQLite's
// SQLITE_FULL, PostgreSQL's disk_full) so that KindOf sees StorageFull.
func NoSpace(err error) error {
	return &Error{Kind: StorageFull, Msg: storageFullMsg, Err: err}
}

const storageFullMsg = "the registry's storage is full, so nothing was stored; try again later (operators: free space on the registry's data volume)"

func isNoSpace(err error) bool {
	return err != nil && (errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT))
}

// Message returns the text to show a client for err. Internal errors get a
// generic text: their details belong in the log, not in a response.
func Message(err error) string {
	var e *Error
	if isNoSpace(err) && !(errors.As(err, &e) && e.Kind == StorageFull) {
		return storageFullMsg
	}
	if !errors.As(err, &e) || e.Kind == Internal {
		return "internal error; the problem has been logged"
	}
	if e.Msg != "" {
		return e.Msg
	}
	return e.Kind.Code()
}

// RetryAfter returns how long a client should wait, for RateLimited errors.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.Kind == RateLimited {
		return e.RetryAfter, true
	}
	return 0, false
}

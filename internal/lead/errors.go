package lead

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies a domain error. The HTTP layer maps each code to a status in one place;
// nothing below it chooses statuses.
type Code string

const (
	CodeInvalid      Code = "invalid"      // validation failed (Issues says where)
	CodeNotFound     Code = "not_found"    // no such lead, token, ...
	CodeConflict     Code = "conflict"     // unique email taken, lead erased, ...
	CodeRateLimited  Code = "rate_limited" // too many bookings from one IP
	CodePrecondition Code = "precondition" // stale If-Match
	CodeUnauthorized Code = "unauthorized" // no or bad credentials
	CodeForbidden    Code = "forbidden"    // role not enough
	CodeUnavailable  Code = "unavailable"  // database unreachable
	CodeNotAllowed   Code = "not_allowed"  // method refused by a rule (hard delete)
)

// Error is the one error type that crosses package boundaries. Its Message is safe to show
// to clients: it never contains SQL, personal data or driver text.
type Error struct {
	Code    Code
	Rule    string // seed rule name, when a rule caused the refusal
	Message string
	Issues  []Issue // field errors for CodeInvalid
	// Warnings ride along with an invalid result so that clients see both at once.
	Warnings []Issue
	// RetryAfter is set for CodeRateLimited, and for CodeUnavailable when the database
	// did not answer: when to try again.
	RetryAfter time.Duration
	// ExistingLeadID is set when a unique email conflict names the lead that holds it.
	ExistingLeadID string
	// Allowed lists the permitted next statuses for a refused transition.
	Allowed []Status
}

func (e *Error) Error() string {
	if e.Rule != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Rule)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// ErrNotFound is returned by lookups that find nothing; callers match it with errors.Is
// or ErrorCode.
var ErrNotFound = &Error{Code: CodeNotFound, Message: "not found"}

// Is lets errors.Is(err, ErrNotFound) match any not-found Error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t == ErrNotFound && e.Code == CodeNotFound
}

// Errorf builds an Error with a code and a client-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the Code of err, or "" when err is not a domain error (an internal one).
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Invalid wraps a failed validation result as an error.
func Invalid(r Result) *Error {
	return &Error{Code: CodeInvalid, Message: fmt.Sprintf("%d field(s) failed validation", len(r.Errors)),
		Issues: r.Errors, Warnings: r.Warnings}
}

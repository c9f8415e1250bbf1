package cloud

import (
	"errors"
	"fmt"
)

// Kind says what a caller can do about an error.
type Kind string

// Error kinds. Only Retryable is worth trying again unchanged.
const (
	Retryable    Kind = "Retryable"    // throttling, 5xx, eventual consistency
	NotFound     Kind = "NotFound"     // the thing does not exist
	AccessDenied Kind = "AccessDenied" // the platform's identity lacks a permission
	Invalid      Kind = "Invalid"      // the call's input is wrong
	Conflict     Kind = "Conflict"     // the thing is in a state that forbids the call
)

// Error is a classified cloud error.
type Error struct {
	Kind Kind
	Op   string // the provider call, e.g. "AcceptConnections"
	Msg  string // what went wrong and what to do
	Err  error  // the SDK's error, if any
	// Throttled marks the cloud's "slow down" (a Retryable error): the
	// caller spent more than its API budget.
	Throttled bool
}

func (e *Error) Error() string {
	s := e.Op + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a classified error.
func Errorf(kind Kind, op, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: op, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of a classified error; unclassified errors count
// as Retryable, since a provider classifies everything it knows to be final.
func KindOf(err error) Kind {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Kind
	}
	return Retryable
}

// IsRetryable reports whether trying again may succeed.
func IsRetryable(err error) bool { return err != nil && KindOf(err) == Retryable }

// IsNotFound reports whether the thing does not exist.
func IsNotFound(err error) bool { return err != nil && KindOf(err) == NotFound }

// IsThrottled reports whether the cloud throttled the call.
func IsThrottled(err error) bool {
	var ce *Error
	return errors.As(err, &ce) && ce.Throttled
}

package stripe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	stripego "github.com/stripe/stripe-go/v85"
)

// Error is a failure of a call to Stripe: Stripe's answer
// ({"error": {"type", "code", "message", "param"}}) with its HTTP status
// and request id, wrapping stripe-go's *stripego.Error. A call that got no
// answer (a network failure, a timeout) is not an *Error: it is returned
// wrapped with the call's name, and IsRetryable says true of it. Never
// holds the key.
type Error struct {
	Status    int    // HTTP status
	Type      string // api_error, card_error, idempotency_error, invalid_request_error, rate_limit, …
	Code      string // resource_missing, lock_timeout, …
	Message   string
	Param     string
	RequestID string

	op  string // the call, e.g. POST /v1/checkout/sessions
	err *stripego.Error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("stripe %s: %d %s", e.op, e.Status, e.Type)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Param != "" {
		s += " (" + e.Param + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " [" + e.RequestID + "]"
	}
	return s
}

// Unwrap gives stripe-go's error.
func (e *Error) Unwrap() error { return e.err }

// wrap gives err its context: an *Error for an answer of Stripe, the
// call's name around anything else. Any trace of the key is removed
// from Stripe's message (Stripe masks it; a look-alike server may not).
func (c *Client) wrap(op string, err error) error {
	var se *stripego.Error
	if errors.As(err, &se) {
		return &Error{
			Status: se.HTTPStatusCode, Type: string(se.Type), Code: string(se.Code),
			Message: c.redact(se.Msg), Param: se.Param, RequestID: se.RequestID,
			op: op, err: se,
		}
	}
	return fmt.Errorf("stripe %s: %w", op, &noAnswer{msg: c.redact(err.Error()), cause: err})
}

// noAnswer is an error of a call that got no answer from Stripe (or
// failed before sending): its text with the key removed, its cause kept
// for errors.Is and errors.As (IsRetryable).
type noAnswer struct {
	msg   string
	cause error
}

func (e *noAnswer) Error() string { return e.msg }
func (e *noAnswer) Unwrap() error { return e.cause }

func (c *Client) redact(s string) string {
	if c.key == "" {
		return s
	}
	return strings.ReplaceAll(s, c.key, c.key[:min(len(c.key), 8)]+"…")
}

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsInvalidKey reports whether Stripe refused the key: 401 (unknown,
// expired or rolled key) or 403 (a restricted key without the permission).
func IsInvalidKey(err error) bool {
	e, ok := asError(err)
	return ok && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden)
}

// IsRateLimited reports whether Stripe answered 429: too many requests.
func IsRateLimited(err error) bool {
	e, ok := asError(err)
	return ok && e.Status == http.StatusTooManyRequests
}

// IsNotFound reports whether the object does not exist (404,
// resource_missing).
func IsNotFound(err error) bool {
	e, ok := asError(err)
	return ok && (e.Status == http.StatusNotFound || e.Code == string(stripego.ErrorCodeResourceMissing))
}

// IsIdempotencyConflict reports whether Stripe refused an
// Idempotency-Key: used before with other parameters (400
// idempotency_error), or still in use by a request in flight (409
// idempotency_key_in_use).
func IsIdempotencyConflict(err error) bool {
	e, ok := asError(err)
	return ok && (e.Type == string(stripego.ErrorTypeIdempotency) || e.Code == "idempotency_key_in_use")
}

// IsRetryable reports whether the same call may succeed later: Stripe
// was busy or failed (429, 5xx, 409 lock_timeout or
// idempotency_key_in_use), or no answer came (a network failure or a
// timeout; with the same Idempotency-Key a retry is safe). A call the
// caller cancelled is not retryable here: its caller has given up.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if e, ok := asError(err); ok {
		switch {
		case e.Status == http.StatusTooManyRequests, e.Status >= 500:
			return true
		case e.Status == http.StatusConflict:
			return e.Code == string(stripego.ErrorCodeLockTimeout) || e.Code == "idempotency_key_in_use"
		}
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne)
}

// KeyReusable reports whether a failed call may be made again with the
// same Idempotency-Key: no answer came (Stripe may have done it, and the
// key then gives its answer), or Stripe refused before doing anything
// (429, 409). Otherwise Stripe keeps its answer for the key — a 5xx too —
// and asking again with it gives the same error: a new key is needed.
func KeyReusable(err error) bool {
	e, ok := asError(err)
	if !ok {
		return true
	}
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusConflict
}

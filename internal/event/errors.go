package event

import (
	"fmt"
	"strings"
)

// Code classifies an application error; the web layer maps each code to an
// HTTP status in one place.
type Code string

const (
	ENotFound     Code = "not_found"
	EInvalid      Code = "invalid"
	EConflict     Code = "conflict"
	EUnauthorized Code = "unauthorized"
	EForbidden    Code = "forbidden"
	ETooMany      Code = "too_many"
)

// Error is an error a person may see. Key names a message in the catalogs
// (internal/i18n); Args fill its placeholders.
type Error struct {
	Code Code
	Key  string
	Args []any
}

func (e *Error) Error() string {
	if len(e.Args) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Key)
	}
	return fmt.Sprintf("%s: %s %v", e.Code, e.Key, e.Args)
}

// Errorf returns an *Error with the given code and message key.
func Errorf(code Code, key string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: args}
}

// ErrNotFound is returned for a row that does not exist or that the caller may
// not see: both answer the same, so nobody learns of other organizations' data.
var ErrNotFound = Errorf(ENotFound, "error.not_found")

// FieldError says what is wrong with one form field.
type FieldError struct {
	Field string
	Key   string
	Args  []any
}

// FieldErrors is the result of validating a form: the fields in the order they
// were checked.
type FieldErrors []FieldError

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, f := range fe {
		parts[i] = f.Field + ": " + f.Key
	}
	return "invalid input: " + strings.Join(parts, ", ")
}

// Add records a problem with field.
func (fe *FieldErrors) Add(field, key string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Key: key, Args: args})
}

// For returns the first error of field, if any.
func (fe FieldErrors) For(field string) (FieldError, bool) {
	for _, f := range fe {
		if f.Field == field {
			return f, true
		}
	}
	return FieldError{}, false
}

// Err returns fe as an error, or nil when there is nothing wrong.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

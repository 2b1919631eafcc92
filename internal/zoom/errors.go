package zoom

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors of the OAuth endpoints, for errors.Is on an *OAuthError.
var (
	// ErrInvalidGrant: the authorization code or refresh token is spent,
	// expired or revoked (the user removed the app, or another refresh
	// rotated it). The connection needs the user to link again (要再連携).
	ErrInvalidGrant = errors.New("zoom: invalid grant")
	// ErrInvalidClient: the client id or secret is wrong (configuration).
	ErrInvalidClient = errors.New("zoom: invalid client")
	// ErrInvalidRequest: Zoom refused the request for another reason, such
	// as a wrong redirect URI or code verifier.
	ErrInvalidRequest = errors.New("zoom: invalid request")
)

// OAuthError is an error answer of Zoom's token or revoke endpoint, e.g.
// {"reason":"Invalid Token!","error":"invalid_request"}. It never holds the
// token or code that was sent.
type OAuthError struct {
	Op     string // "exchange", "refresh", "revoke"
	Status int    // HTTP status
	Code   string // the "error" field: invalid_grant, invalid_request, invalid_client, …
	Reason string // the "reason" (or error_description) field
	kind   error  // one of the Err… sentinels
}

func (e *OAuthError) Error() string {
	return fmt.Sprintf("zoom oauth %s: %d %s: %s", e.Op, e.Status, e.Code, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidGrant) and its siblings work.
func (e *OAuthError) Is(target error) bool { return e.kind != nil && target == e.kind }

// APIError is an error answer of Zoom's REST API: its HTTP status and
// Zoom's error code and message ({"code":3001,"message":"Meeting does not exist: 1."}).
type APIError struct {
	Method, Path string // the call, e.g. GET /users/me (never a token: tokens travel only in a header)
	Status       int
	Code         int
	Message      string
	// Fields are the fields a validation failure (code 300) names, each
	// with Zoom's message, as in {"errors":[{"field":"password","message":…}]}.
	Fields []FieldError
	// RetryAfter is how long Zoom asked to wait (429 answers), zero when
	// it did not say.
	RetryAfter time.Duration
	// RateLimitType is Zoom's X-RateLimit-Type of a 429: "QPS" (a
	// per-second limit) or "Daily-limit".
	RateLimitType string
}

// FieldError is one field of a validation failure.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("zoom api %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != 0 {
		s += " code " + strconv.Itoa(e.Code)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	for _, f := range e.Fields {
		s += " " + f.Field + ": " + f.Message
	}
	if e.RetryAfter > 0 {
		s += " (retry after " + e.RetryAfter.String() + ")"
	}
	return s
}

// Zoom's error codes that callers branch on, with Zoom's words for each
// (zoom/Meetings.json, zoom/Users.json).
const (
	// codeNoPermission: "No permission.", "Only available for paid
	// account: {accountId}" (HTTP 400), e.g. a past meeting's participants
	// of a free account.
	codeNoPermission = 200
	// codeValidation: "Validation Failed.", "Invalid parameter: …",
	// "Invalid meeting ID." (HTTP 400, also 404 for "Meeting ID does not
	// exist.").
	codeValidation = 300
	// codeUserNotFound: "User does not exist: {userId}." (HTTP 404).
	codeUserNotFound = 1001
	// codeMeetingNotFound: "Meeting does not exist: {meetingId}." (HTTP 404).
	codeMeetingNotFound = 3001
	// codeInvalidToken: "Invalid access token.", "Access token is
	// expired." (HTTP 401).
	codeInvalidToken = 124
)

// rateLimitPerSecond is X-RateLimit-Type of a 429 of a per-second limit.
const rateLimitPerSecond = "QPS"

func asAPIError(err error) (*APIError, bool) {
	var e *APIError
	ok := errors.As(err, &e)
	return e, ok
}

// IsNotFound reports whether err says the user, meeting or registrant does
// not exist (404, or Zoom's codes 1001 and 3001).
func IsNotFound(err error) bool {
	e, ok := asAPIError(err)
	return ok && (e.Status == http.StatusNotFound || e.Code == codeMeetingNotFound || e.Code == codeUserNotFound)
}

// IsInvalidToken reports whether Zoom refused the access token (401, code
// 124: expired or revoked): refresh, then call again.
func IsInvalidToken(err error) bool {
	e, ok := asAPIError(err)
	return ok && (e.Status == http.StatusUnauthorized || e.Code == codeInvalidToken)
}

// IsRateLimited reports whether err is a 429; RetryAfter says when to come back.
func IsRateLimited(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Status == http.StatusTooManyRequests
}

// IsMeetingGone reports whether Zoom says the meeting does not exist:
// code 3001 ("Meeting does not exist: {meetingId}.", HTTP 404), deleted on
// Zoom's side or never there. Any other 404 reads the same, except code
// 1001 (the user, not the meeting, does not exist: see IsUserGone).
func IsMeetingGone(err error) bool {
	e, ok := asAPIError(err)
	return ok && (e.Code == codeMeetingNotFound || (e.Status == http.StatusNotFound && e.Code != codeUserNotFound))
}

// IsUserGone reports whether Zoom says the user does not exist: code 1001
// ("User does not exist: {userId}.", HTTP 404). For a meeting's host it
// means the user was deleted or left the account; calling again will not
// help.
func IsUserGone(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Code == codeUserNotFound
}

// IsLicenseRequired reports whether Zoom refused the call for want of a
// license or permission: code 200 ("No permission.", "Only available for
// paid account: {accountId}", HTTP 400). A free (Basic) host or account
// cannot do it until it is upgraded.
func IsLicenseRequired(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Code == codeNoPermission
}

// IsInvalid reports whether Zoom refused the request as it stands: code
// 300 ("Validation Failed.", "Invalid parameter: …", with the fields in
// APIError.Fields) or any other HTTP 400. Sending it again unchanged gets
// the same answer. Narrower readings (IsPasscodeRefused,
// IsRegistrationOff, IsLicenseRequired) are worth asking first.
func IsInvalid(err error) bool {
	e, ok := asAPIError(err)
	return ok && (e.Code == codeValidation || e.Status == http.StatusBadRequest)
}

// IsBadRequest reports whether Zoom answered HTTP 400 ("Bad Request"):
// it read the request and will not carry it out, whatever the code.
func IsBadRequest(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Status == http.StatusBadRequest
}

// IsClientError reports whether Zoom answered with a 4xx status: it read
// the request and did not carry it out. That includes 401 (IsInvalidToken),
// 404 and 429 (IsRateLimited), which callers usually tell apart first.
func IsClientError(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Status >= 400 && e.Status < 500
}

// IsServerError reports whether Zoom failed with a 5xx status: a fault on
// Zoom's side, worth trying again later.
func IsServerError(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Status >= 500
}

// IsPasscodeRefused reports whether Zoom refused the meeting's passcode:
// a validation failure naming the field "password" (Zoom's name for the
// passcode), or a message that speaks of the passcode or password, as
// when it breaks the account's passcode policy.
func IsPasscodeRefused(err error) bool {
	e, ok := asAPIError(err)
	if !ok {
		return false
	}
	for _, fe := range e.Fields {
		if fe.Field == "password" {
			return true
		}
	}
	m := strings.ToLower(e.Message)
	return strings.Contains(m, "passcode") || strings.Contains(m, "password")
}

// IsPerSecondLimit reports whether err is a 429 of a per-second limit
// (X-RateLimit-Type "QPS"): Zoom counts those in windows of a second, so
// the next second may already be free.
func IsPerSecondLimit(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Status == http.StatusTooManyRequests && e.RateLimitType == rateLimitPerSecond
}

// IsDailyLimit reports whether err is a 429 of a daily limit (such as a
// host's meeting writes a day): Zoom asks to wait more than a minute
// (its Retry-After names the reset, 00:00 UTC) or its message speaks of
// the daily limit.
func IsDailyLimit(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Status == http.StatusTooManyRequests &&
		(e.RetryAfter > time.Minute || strings.Contains(strings.ToLower(e.Message), "daily"))
}

// RetryAfter is the wait a 429 asked for (zero for any other error).
func RetryAfter(err error) time.Duration {
	if e, ok := asAPIError(err); ok {
		return e.RetryAfter
	}
	return 0
}

// RefusedEntries are the entries of a batch call that Zoom's validation
// failure names ("registrants[10].email: Invalid field."), by their index
// in the batch, each with Zoom's words; nil when err names none. list is
// the batch's field ("registrants").
func RefusedEntries(err error, list string) map[int]string {
	e, ok := asAPIError(err)
	if !ok || e.Status != http.StatusBadRequest {
		return nil
	}
	var out map[int]string
	for _, f := range e.Fields {
		rest, ok := strings.CutPrefix(f.Field, list+"[")
		if !ok {
			continue
		}
		n, field, ok := strings.Cut(rest, "].")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 0 {
			continue
		}
		if out == nil {
			out = map[int]string{}
		}
		msg := field + ": " + f.Message
		if prev, dup := out[i]; dup {
			msg = prev + "; " + msg
		}
		out[i] = msg
	}
	return out
}

// IsRegistrationOff reports whether Zoom refused registrants because the
// meeting does not take registrations (approval_type 2): "Registration has
// not been enabled for this meeting" (code 404 on batch_registrants, 300 on
// the others, both with HTTP 400).
func IsRegistrationOff(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Status == http.StatusBadRequest && strings.Contains(e.Message, "Registration has not been enabled")
}

// parseRetryAfter reads Retry-After as seconds or as a date (Zoom writes
// 2020-05-31T00:00:00Z for daily limits; RFC 9110 allows an HTTP date).
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		return max(0, time.Duration(n)*time.Second)
	}
	for _, layout := range []string{time.RFC3339, http.TimeFormat, time.RFC1123, time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, v); err == nil {
			return max(0, t.Sub(now))
		}
	}
	return 0
}

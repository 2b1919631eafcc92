// Package webhook owns Zoom's webhook wire format: the x-zm-signature scheme, the
// endpoint.url_validation challenge, and the event envelope with typed payloads for the
// events kaisai subscribes to. It knows Zoom, not kaisai: nothing here stores, queues or
// interprets an event; the intake handler does that with what this package returns.
//
// Zoom documents the scheme at https://developers.zoom.us/docs/api/webhooks/ ("Verify
// webhook events", "Validate your webhook endpoint"): each delivery carries
// x-zm-request-timestamp (Unix seconds) and x-zm-signature = "v0=" +
// hex(HMAC-SHA256(secret token, "v0:" + timestamp + ":" + raw body)). The secret token is
// the app's event-subscription Secret Token, not its OAuth client secret.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names Zoom sends with every delivery, endpoint.url_validation included.
const (
	HeaderSignature = "X-Zm-Signature"
	HeaderTimestamp = "X-Zm-Request-Timestamp"
)

// DefaultWindow is how far a delivery's timestamp may be from the receiver's clock, in
// either direction, before Verify refuses it as a possible replay. Zoom's guide asks for a
// check without fixing a bound; five minutes is the usual one (and DESIGN.md §6's).
const DefaultWindow = 5 * time.Minute

// signatureVersion prefixes both the signed message and the header value.
const signatureVersion = "v0"

// Verification failures. Verify wraps one of them with detail; test with errors.Is. None of
// them carries the secret or the expected signature.
var (
	ErrNoSecret            = errors.New("zoom webhook: no secret token configured")
	ErrMissingHeader       = errors.New("zoom webhook: signature header missing")
	ErrMalformedHeader     = errors.New("zoom webhook: signature header malformed")
	ErrTimestampOutOfRange = errors.New("zoom webhook: request timestamp outside the allowed window")
	ErrBadSignature        = errors.New("zoom webhook: signature does not match")
)

// Sign returns the x-zm-signature value for body sent at timestamp (the x-zm-request-timestamp
// header value, verbatim: the signature covers its exact text).
func Sign(secret, timestamp string, body []byte) string {
	return signatureVersion + "=" + hex.EncodeToString(mac(secret, timestamp, body))
}

// Timestamp formats t the way Zoom fills x-zm-request-timestamp: Unix seconds.
func Timestamp(t time.Time) string {
	return strconv.FormatInt(t.Unix(), 10)
}

// SetHeaders signs body as sent at now and sets both headers on h, for senders (the
// simulator, tests).
func SetHeaders(h http.Header, secret string, now time.Time, body []byte) {
	ts := Timestamp(now)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, Sign(secret, ts, body))
}

func mac(secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signatureVersion + ":" + timestamp + ":"))
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks that body, received with header at now, was signed by Zoom with secret and
// sent within window of now (DefaultWindow if window ≤ 0). body must be the raw request body:
// re-encoded JSON does not verify. The signature is compared in constant time.
func Verify(secret string, header http.Header, body []byte, now time.Time, window time.Duration) error {
	if secret == "" {
		// An empty key is a key anyone can use: refuse rather than accept forgeries.
		return ErrNoSecret
	}
	if window <= 0 {
		window = DefaultWindow
	}
	ts, err := single(header, HeaderTimestamp)
	if err != nil {
		return err
	}
	sig, err := single(header, HeaderSignature)
	if err != nil {
		return err
	}
	sent, err := parseTimestamp(ts)
	if err != nil {
		return err
	}
	if skew := now.Sub(sent); skew > window || skew < -window {
		return fmt.Errorf("%w: sent %s, received %s", ErrTimestampOutOfRange,
			sent.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	got, err := parseSignature(sig)
	if err != nil {
		return err
	}
	if !hmac.Equal(got, mac(secret, ts, body)) {
		return ErrBadSignature
	}
	return nil
}

// single returns the one value of header name; a missing, empty or repeated header is
// refused, since a proxy that duplicates it leaves us unsure which one Zoom sent.
func single(h http.Header, name string) (string, error) {
	vs := h.Values(name)
	switch {
	case len(vs) == 0 || (len(vs) == 1 && vs[0] == ""):
		return "", fmt.Errorf("%w: %s", ErrMissingHeader, name)
	case len(vs) > 1:
		return "", fmt.Errorf("%w: %s given %d times", ErrMalformedHeader, name, len(vs))
	}
	return vs[0], nil
}

// maxTimestampDigits bounds the timestamp text: Unix seconds have 10 digits until 2286.
const maxTimestampDigits = 12

func parseTimestamp(ts string) (time.Time, error) {
	if len(ts) > maxTimestampDigits || !allDigits(ts) {
		return time.Time{}, fmt.Errorf("%w: %s is not Unix seconds", ErrMalformedHeader, HeaderTimestamp)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s: %v", ErrMalformedHeader, HeaderTimestamp, err)
	}
	return time.Unix(sec, 0), nil
}

func parseSignature(sig string) ([]byte, error) {
	hexPart, ok := strings.CutPrefix(sig, signatureVersion+"=")
	if !ok {
		return nil, fmt.Errorf("%w: %s lacks the %s= prefix", ErrMalformedHeader, HeaderSignature, signatureVersion)
	}
	if len(hexPart) != hex.EncodedLen(sha256.Size) {
		return nil, fmt.Errorf("%w: %s is not %d hex digits", ErrMalformedHeader, HeaderSignature, hex.EncodedLen(sha256.Size))
	}
	b, err := hex.DecodeString(hexPart)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not hex", ErrMalformedHeader, HeaderSignature)
	}
	return b, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// URLValidation is the answer to an endpoint.url_validation challenge, sent as JSON with
// status 200. Zoom re-validates an endpoint every 72 hours, so the answer must keep working.
type URLValidation struct {
	PlainToken     string `json:"plainToken"`
	EncryptedToken string `json:"encryptedToken"`
}

// URLValidationResponse answers the challenge carrying plainToken: the token itself and
// hex(HMAC-SHA256(secret, plainToken)). The challenge is signed like any delivery; verify it
// first, so the endpoint does not become an HMAC oracle for anyone who posts to it.
func URLValidationResponse(secret, plainToken string) URLValidation {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(plainToken))
	return URLValidation{PlainToken: plainToken, EncryptedToken: hex.EncodeToString(m.Sum(nil))}
}

package webhook

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

const testSecret = "secretValueTest"

// A known-answer vector computed outside Go (Python's hmac module):
// hmac.new(b"secretValueTest", b'v0:1658940994:{"event":"meeting.started"}', sha256).hexdigest().
func TestSignKnownAnswer(t *testing.T) {
	got := Sign(testSecret, "1658940994", []byte(`{"event":"meeting.started"}`))
	const want = "v0=1c210f9c4aa70b5320d3a2ebc6b26edfc0ce9d7ec1f7a1c85faf8d0a1b1e4afd"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

// Zoom's guide ("Validate your webhook endpoint", developers.zoom.us/docs/api/webhooks/)
// shows the challenge {"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},
// "event_ts":1654503849680,"event":"endpoint.url_validation"} answered with encryptedToken
// 23a89b634c017e5364a1c8d9c8ea909b60dd5599e2bb04bb1558d9c3a121faa5, but it does not publish
// the secret token behind that answer, so that pair cannot be checked. The vector here keeps
// Zoom's plainToken with a known secret; the expected value was computed with Python's hmac
// module, and Elastic Beats' http_endpoint tests use the same pair.
func TestURLValidationResponse(t *testing.T) {
	got := URLValidationResponse(testSecret, "qgg8vlvZRS6UYooatFL8Aw")
	want := URLValidation{
		PlainToken:     "qgg8vlvZRS6UYooatFL8Aw",
		EncryptedToken: "70c1f2e2e6ca2d39297490d1f9142c7d701415ea8e6151f6562a08fa657a40ff",
	}
	if got != want {
		t.Errorf("URLValidationResponse = %+v, want %+v", got, want)
	}
	if other := URLValidationResponse("another secret", "qgg8vlvZRS6UYooatFL8Aw"); other.EncryptedToken == want.EncryptedToken {
		t.Error("the answer does not depend on the secret")
	}
}

func TestURLValidationChallenge(t *testing.T) {
	// Zoom's example challenge, from the guide cited above.
	body := []byte(`{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`)
	e, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if e.Event != EventURLValidation || e.EventTS != 1654503849680 {
		t.Errorf("envelope = %q %d", e.Event, e.EventTS)
	}
	p, err := e.URLValidation()
	if err != nil {
		t.Fatal(err)
	}
	if p.PlainToken != "qgg8vlvZRS6UYooatFL8Aw" {
		t.Errorf("plainToken = %q", p.PlainToken)
	}
	if _, err := (Event{Event: EventURLValidation, Payload: []byte(`{}`)}).URLValidation(); !errors.Is(err, ErrMalformedEvent) {
		t.Errorf("empty plainToken: err = %v, want ErrMalformedEvent", err)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"event":"meeting.started","event_ts":1700000000000,"payload":{}}`)
	ts := Timestamp(now)
	good := Sign(testSecret, ts, body)
	headers := func(ts, sig string) http.Header {
		h := http.Header{}
		if ts != "" {
			h.Set(HeaderTimestamp, ts)
		}
		if sig != "" {
			h.Set(HeaderSignature, sig)
		}
		return h
	}
	tests := []struct {
		name   string
		secret string
		header http.Header
		body   []byte
		now    time.Time
		window time.Duration
		want   error
	}{
		{"good", testSecret, headers(ts, good), body, now, 0, nil},
		{"good, uppercase hex", testSecret, headers(ts, "v0="+strings.ToUpper(good[3:])), body, now, 0, nil},
		{"non-canonical keys (net/http never makes them)", testSecret, http.Header{"x-zm-request-timestamp": {ts}, "x-zm-signature": {good}}, body, now, 0, ErrMissingHeader},
		{"wrong secret", "another secret", headers(ts, good), body, now, 0, ErrBadSignature},
		{"no secret configured", "", headers(ts, good), body, now, 0, ErrNoSecret},
		{"tampered body", testSecret, headers(ts, good), []byte(strings.Replace(string(body), "started", "ended", 1)), now, 0, ErrBadSignature},
		{"body with a trailing newline", testSecret, headers(ts, good), append(append([]byte{}, body...), '\n'), now, 0, ErrBadSignature},
		{"timestamp changed after signing", testSecret, headers(Timestamp(now.Add(time.Second)), good), body, now, 0, ErrBadSignature},
		{"4m59s old", testSecret, headers(ts, good), body, now.Add(4*time.Minute + 59*time.Second), 0, nil},
		{"exactly 5m old", testSecret, headers(ts, good), body, now.Add(5 * time.Minute), 0, nil},
		{"5m01s old", testSecret, headers(ts, good), body, now.Add(5*time.Minute + time.Second), 0, ErrTimestampOutOfRange},
		{"a day old", testSecret, headers(ts, good), body, now.Add(24 * time.Hour), 0, ErrTimestampOutOfRange},
		{"5m01s in the future", testSecret, headers(ts, good), body, now.Add(-5*time.Minute - time.Second), 0, ErrTimestampOutOfRange},
		{"4m in the future", testSecret, headers(ts, good), body, now.Add(-4 * time.Minute), 0, nil},
		{"narrow window", testSecret, headers(ts, good), body, now.Add(31 * time.Second), 30 * time.Second, ErrTimestampOutOfRange},
		{"milliseconds are not seconds", testSecret, headers("1700000000000", Sign(testSecret, "1700000000000", body)), body, now, 0, ErrMalformedHeader},
		{"no headers", testSecret, http.Header{}, body, now, 0, ErrMissingHeader},
		{"no timestamp", testSecret, headers("", good), body, now, 0, ErrMissingHeader},
		{"no signature", testSecret, headers(ts, ""), body, now, 0, ErrMissingHeader},
		{"empty signature value", testSecret, http.Header{HeaderTimestamp: {ts}, HeaderSignature: {""}}, body, now, 0, ErrMissingHeader},
		{"signature twice", testSecret, http.Header{HeaderTimestamp: {ts}, HeaderSignature: {good, good}}, body, now, 0, ErrMalformedHeader},
		{"timestamp twice", testSecret, http.Header{HeaderTimestamp: {ts, ts}, HeaderSignature: {good}}, body, now, 0, ErrMalformedHeader},
		{"non-numeric timestamp", testSecret, headers("yesterday", good), body, now, 0, ErrMalformedHeader},
		{"negative timestamp", testSecret, headers("-1700000000", good), body, now, 0, ErrMalformedHeader},
		{"timestamp with spaces", testSecret, headers(" "+ts, good), body, now, 0, ErrMalformedHeader},
		{"huge timestamp", testSecret, headers("99999999999999999999999", good), body, now, 0, ErrMalformedHeader},
		{"no v0= prefix", testSecret, headers(ts, good[3:]), body, now, 0, ErrMalformedHeader},
		{"v1= prefix", testSecret, headers(ts, "v1="+good[3:]), body, now, 0, ErrMalformedHeader},
		{"non-hex", testSecret, headers(ts, "v0="+strings.Repeat("zz", 32)), body, now, 0, ErrMalformedHeader},
		{"short hex", testSecret, headers(ts, good[:len(good)-2]), body, now, 0, ErrMalformedHeader},
		{"long hex", testSecret, headers(ts, good+"00"), body, now, 0, ErrMalformedHeader},
		{"right length, wrong bytes", testSecret, headers(ts, "v0="+strings.Repeat("00", 32)), body, now, 0, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.now, tt.window)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), good[3:]) {
				t.Errorf("error %q leaks the secret or the expected signature", err)
			}
		})
	}
}

func TestSetHeaders(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"event":"meeting.ended","payload":{}}`)
	h := http.Header{}
	SetHeaders(h, testSecret, now, body)
	if got := h.Get(HeaderTimestamp); got != "1772366400" {
		t.Errorf("timestamp header = %q, want Unix seconds 1772366400", got)
	}
	if err := Verify(testSecret, h, body, now, 0); err != nil {
		t.Errorf("Verify(SetHeaders) = %v", err)
	}
}

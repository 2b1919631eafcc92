package webhook

import (
	"net/http"
	"testing"
	"time"
)

// FuzzVerify: whatever headers and body arrive, Verify returns without panicking, and it
// accepts only what Sign produced for that body and timestamp.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	body := `{"event":"meeting.started","payload":{}}`
	f.Add("1700000000", Sign(testSecret, "1700000000", []byte(body)), body)
	f.Add("1700000000", "v0=", body)
	f.Add("", "", "")
	f.Add("-1", "v0=zz", "{")
	f.Add("99999999999999999999", "v1=00", "null")
	f.Fuzz(func(t *testing.T, ts, sig, body string) {
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		err := Verify(testSecret, h, []byte(body), now, 0)
		// Hex decoding ignores case, so an upper-case copy of the signature is the same one.
		if err == nil && !equalFoldASCII(sig, Sign(testSecret, ts, []byte(body))) {
			t.Fatalf("Verify accepted ts=%q sig=%q body=%q", ts, sig, body)
		}
		// A correct signature over the fuzzed body must verify when the timestamp is fresh.
		fresh := Timestamp(now)
		h.Set(HeaderTimestamp, fresh)
		h.Set(HeaderSignature, Sign(testSecret, fresh, []byte(body)))
		if err := Verify(testSecret, h, []byte(body), now, 0); err != nil {
			t.Fatalf("Verify(own signature) = %v", err)
		}
	})
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// FuzzParse: Parse and every payload accessor return without panicking on any body, and a
// parsed event always has a name.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"event":"meeting.participant_joined","event_ts":1626230691572,"payload":{"account_id":"a","object":{"id":"1234567890","participant":{"user_id":"1","join_time":"2021-07-13T21:44:51Z"}}}}`,
		`{"event":"meeting.created","event_ts":1,"payload":{"object":{"id":1234567890,"occurrences":[{"occurrence_id":"x"}]}}}`,
		`{"event":"meeting.registration_created","payload":{"object":{"registrant":{"id":"r","participant_pin_code":1}}}}`,
		`{"event":"app_deauthorized","payload":{"user_id":"u","event_ts":"2024-09-08 15:58:40"}}`,
		`{"event":"endpoint.url_validation","payload":{"plainToken":"t"}}`,
		`{"event":"meeting.updated","payload":{"object":{"id":""},"old_object":null}}`,
		`null`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := Parse(body)
		if err != nil {
			return
		}
		if e.Event == "" {
			t.Fatal("Parse accepted an event without a name")
		}
		// Try every accessor whatever the name says, to reach the payload decoders.
		for _, name := range []string{EventMeetingCreated, EventParticipantJoined, EventRegistrationCreated, EventAppDeauthorized, EventURLValidation} {
			e.Event = name
			_, _ = e.Meeting()
			_, _ = e.Participant()
			_, _ = e.Registration()
			_, _ = e.Deauthorization()
			_, _ = e.URLValidation()
		}
		_ = e.Time()
	})
}

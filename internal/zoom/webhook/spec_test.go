package webhook

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sharedZoomDir finds Zoom's specifications in ../shared/zoom beside the module root (the
// repository's checkout), walking up from the test's directory. Missing, the test is
// skipped, except in CI, where a missing spec must fail rather than pass silently.
func sharedZoomDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "shared", "zoom", "webhooks")); err == nil && fi.IsDir() {
			return filepath.Join(dir, "shared", "zoom")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Zoom's specifications not found: expected shared/zoom/webhooks beside the module")
	}
	t.Skip("Zoom's specifications not found (shared/zoom/webhooks beside the module); skipping")
	return ""
}

// specExample is one event's example body exactly as Zoom publishes it, with the type its
// schema gives payload.object.id ("" when the schema has no object).
type specExample struct {
	body         []byte
	schemaIDType string
}

// loadExamples returns the JSON example of each named event in one of Zoom's webhook
// documents (OpenAPI 3.1 "webhooks": webhooks[name].post.requestBody.content
// ["application/json"].{schema,examples}).
func loadExamples(t *testing.T, file string, names []string) map[string]specExample {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Webhooks map[string]struct {
			Post struct {
				RequestBody struct {
					Content map[string]struct {
						Schema struct {
							Properties struct {
								Payload struct {
									Properties struct {
										Object struct {
											Properties struct {
												ID struct {
													Type string `json:"type"`
												} `json:"id"`
											} `json:"properties"`
										} `json:"object"`
									} `json:"properties"`
								} `json:"payload"`
							} `json:"properties"`
						} `json:"schema"`
						Examples map[string]struct {
							Value json.RawMessage `json:"value"`
						} `json:"examples"`
					} `json:"content"`
				} `json:"requestBody"`
			} `json:"post"`
		} `json:"webhooks"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := map[string]specExample{}
	for _, name := range names {
		hook, ok := doc.Webhooks[name]
		if !ok {
			t.Errorf("%s: no webhook %q", filepath.Base(file), name)
			continue
		}
		content, ok := hook.Post.RequestBody.Content["application/json"]
		if !ok || len(content.Examples) != 1 {
			t.Errorf("%s: %s: want one application/json example, have %d", filepath.Base(file), name, len(content.Examples))
			continue
		}
		for _, ex := range content.Examples {
			// Zoom stores each example as a string holding the JSON body; those bytes are
			// what a delivery would carry, so they are signed as they are.
			body := []byte(ex.Value)
			var s string
			if json.Unmarshal(ex.Value, &s) == nil {
				body = []byte(s)
			}
			out[name] = specExample{body: body, schemaIDType: content.Schema.Properties.Payload.Properties.Object.Properties.ID.Type}
		}
	}
	return out
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestZoomExamples signs and verifies each of Zoom's example payloads for the events kaisai
// takes, then parses it and checks that what kaisai needs survives decoding.
func TestZoomExamples(t *testing.T) {
	dir := sharedZoomDir(t)
	meetings := loadExamples(t, filepath.Join(dir, "webhooks", "Meetings.json"), []string{
		EventMeetingCreated, EventMeetingUpdated, EventMeetingDeleted, EventMeetingStarted,
		EventMeetingEnded, EventParticipantJoined, EventParticipantLeft,
		EventRegistrationCreated, EventRegistrationCancelled,
	})
	market := loadExamples(t, filepath.Join(dir, "webhooks", "Marketplace.json"), []string{EventAppDeauthorized})
	examples := map[string]specExample{}
	for k, v := range meetings {
		examples[k] = v
	}
	for k, v := range market {
		examples[k] = v
	}
	// endpoint.url_validation is in neither document; its body comes from Zoom's guide.
	examples[EventURLValidation] = specExample{body: []byte(`{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`)}

	const (
		meetingID   = MeetingID(1234567890)
		meetingUUID = "4444AAAiAAAAAiAiAiiAii=="
		hostID      = "x1yCzABCDEfg23HiJKl4mN"
		accountID   = "AAAAAABBBB"
	)
	start := mustTime(t, "2021-07-13T21:44:51Z")
	checkMeeting := func(t *testing.T, m Meeting) {
		t.Helper()
		if m.ID != meetingID || m.UUID != meetingUUID || m.HostID != hostID {
			t.Errorf("meeting = id %d uuid %q host %q", m.ID, m.UUID, m.HostID)
		}
		if !m.StartTime.Equal(start) {
			t.Errorf("start_time = %v, want %v", m.StartTime, start)
		}
	}

	tests := []struct {
		event string
		// The type Zoom's schema gives payload.object.id: the documents disagree across
		// events, which is why MeetingID decodes both.
		idType string
		check  func(t *testing.T, e Event)
	}{
		{EventMeetingCreated, "integer", func(t *testing.T, e Event) {
			p, err := e.Meeting()
			if err != nil {
				t.Fatal(err)
			}
			checkMeeting(t, p.Object)
			if p.AccountID != accountID || p.Operator != "admin@example.com" || p.Operation != "single" {
				t.Errorf("payload = %+v", p)
			}
			if p.Object.Topic != "My Meeting" || p.Object.Type != 8 || p.Object.Duration != 60 || p.Object.JoinURL == "" || p.Object.Password != "XYz@BC!D1087" {
				t.Errorf("object = %+v", p.Object)
			}
			if len(p.Object.Occurrences) != 1 || p.Object.Occurrences[0].OccurrenceID != "ABCDE12345" || p.Object.Occurrences[0].Status != "available" {
				t.Errorf("occurrences = %+v", p.Object.Occurrences)
			}
			if len(p.Object.Settings) == 0 || len(p.Object.Recurrence) == 0 {
				t.Error("settings or recurrence lost")
			}
		}},
		{EventMeetingUpdated, "integer", func(t *testing.T, e Event) {
			p, err := e.Meeting()
			if err != nil {
				t.Fatal(err)
			}
			checkMeeting(t, p.Object)
			if p.TimeStamp != 1724653728243 {
				t.Errorf("time_stamp = %d", p.TimeStamp)
			}
			var old struct {
				ID MeetingID `json:"id"`
			}
			if err := json.Unmarshal(p.OldObject, &old); err != nil || old.ID != meetingID {
				t.Errorf("old_object id = %d, %v", old.ID, err)
			}
			if p.Object.RegistrationURL == "" || p.Object.Agenda == "" {
				t.Errorf("object = %+v", p.Object)
			}
		}},
		{EventMeetingDeleted, "integer", func(t *testing.T, e Event) {
			p, err := e.Meeting()
			if err != nil {
				t.Fatal(err)
			}
			checkMeeting(t, p.Object)
			if p.Operation != "single" || len(p.Object.Occurrences) != 1 || !p.Object.Occurrences[0].StartTime.Equal(start) {
				t.Errorf("payload = %+v", p)
			}
		}},
		{EventMeetingStarted, "string", func(t *testing.T, e Event) {
			p, err := e.Meeting()
			if err != nil {
				t.Fatal(err)
			}
			checkMeeting(t, p.Object)
		}},
		{EventMeetingEnded, "string", func(t *testing.T, e Event) {
			p, err := e.Meeting()
			if err != nil {
				t.Fatal(err)
			}
			checkMeeting(t, p.Object)
			if want := mustTime(t, "2021-07-13T23:00:51Z"); !p.Object.EndTime.Equal(want) {
				t.Errorf("end_time = %v, want %v", p.Object.EndTime, want)
			}
		}},
		{EventParticipantJoined, "string", func(t *testing.T, e Event) {
			p, err := e.Participant()
			if err != nil {
				t.Fatal(err)
			}
			checkMeeting(t, p.Object.Meeting)
			pt := p.Object.Participant
			if pt.UserID != "1234567890" || pt.UserName != "Jill Chill" || pt.Email != "jchill@example.com" ||
				pt.RegistrantID != "abcdefghij0-klmnopq23456" || pt.ParticipantUserID != "rstuvwxyza789-cde" ||
				pt.ID != "iFxeBPYun6SAiWUzBcEkX" || pt.ParticipantUUID != "55555AAAiAAAAAiAiAiiAii" {
				t.Errorf("participant = %+v", pt)
			}
			// The schema requires join_time (and forbids other properties), yet Zoom's
			// example has date_time instead: JoinedAt falls back to it.
			if !pt.JoinTime.IsZero() {
				t.Logf("the example now has join_time %v", pt.JoinTime)
			}
			if !pt.JoinedAt().Equal(start) {
				t.Errorf("JoinedAt = %v, want %v", pt.JoinedAt(), start)
			}
		}},
		{EventParticipantLeft, "string", func(t *testing.T, e Event) {
			p, err := e.Participant()
			if err != nil {
				t.Fatal(err)
			}
			checkMeeting(t, p.Object.Meeting)
			pt := p.Object.Participant
			if pt.UserID != "1234567890" || pt.Email != "jchill@example.com" || pt.RegistrantID != "abcdefghij0-klmnopq23456" || pt.ParticipantUserID != "rstuvwxyza789-cde" {
				t.Errorf("participant = %+v", pt)
			}
			if want := mustTime(t, "2021-07-13T22:50:51Z"); !pt.LeaveTime.Equal(want) {
				t.Errorf("leave_time = %v, want %v", pt.LeaveTime, want)
			}
			if pt.LeaveReason == "" {
				t.Error("leave_reason lost")
			}
		}},
		{EventRegistrationCreated, "integer", func(t *testing.T, e Event) {
			p, err := e.Registration()
			if err != nil {
				t.Fatal(err)
			}
			checkMeeting(t, p.Object.Meeting)
			r := p.Object.Registrant
			if r.ID != "iFxeBPYun6SAiWUzBcEkX" || r.Email != "jchill@example.com" || r.FirstName != "Jill" || r.LastName != "Chill" ||
				r.Status != "approved" || r.JoinURL != "https://example.com/join" || r.ParticipantPinCode != 380303 {
				t.Errorf("registrant = %+v", r)
			}
			if len(r.CustomQuestions) != 1 || r.CustomQuestions[0].Title == "" {
				t.Errorf("custom_questions = %+v", r.CustomQuestions)
			}
		}},
		{EventRegistrationCancelled, "integer", func(t *testing.T, e Event) {
			p, err := e.Registration()
			if err != nil {
				t.Fatal(err)
			}
			checkMeeting(t, p.Object.Meeting)
			r := p.Object.Registrant
			if r.ID != "iFxeBPYun6SAiWUzBcEkX" || r.Email != "jchill@example.com" || p.Operator != "admin@example.com" {
				t.Errorf("payload = %+v", p)
			}
		}},
		{EventAppDeauthorized, "", func(t *testing.T, e Event) {
			// No top-level event_ts in this event.
			if e.EventTS != 0 {
				t.Errorf("event_ts = %d", e.EventTS)
			}
			p, err := e.Deauthorization()
			if err != nil {
				t.Fatal(err)
			}
			if p.AccountID != accountID || p.UserID != "abcD3ojfdbjfg" || p.ClientID != "ABCDEFGHIJKLMNOPQRST!V" || p.Signature == "" {
				t.Errorf("payload = %+v", p)
			}
			if want := mustTime(t, "2020-06-17T13:52:28.632Z"); !p.DeauthorizationTime.Equal(want) {
				t.Errorf("deauthorization_time = %v, want %v", p.DeauthorizationTime, want)
			}
		}},
		{EventURLValidation, "", func(t *testing.T, e Event) {
			p, err := e.URLValidation()
			if err != nil || p.PlainToken != "qgg8vlvZRS6UYooatFL8Aw" {
				t.Errorf("payload = %+v, %v", p, err)
			}
		}},
	}

	now := time.Unix(1_700_000_000, 0)
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			ex, ok := examples[tt.event]
			if !ok {
				t.Fatal("no example")
			}
			if ex.schemaIDType != tt.idType {
				t.Errorf("schema's payload.object.id type = %q, want %q", ex.schemaIDType, tt.idType)
			}

			h := http.Header{}
			SetHeaders(h, testSecret, now, ex.body)
			if err := Verify(testSecret, h, ex.body, now.Add(time.Minute), 0); err != nil {
				t.Errorf("Verify(signed example) = %v", err)
			}
			tampered := append([]byte{}, ex.body...)
			tampered[len(tampered)/2] ^= 1
			if err := Verify(testSecret, h, tampered, now, 0); !errors.Is(err, ErrBadSignature) {
				t.Errorf("Verify(tampered example) = %v, want ErrBadSignature", err)
			}

			e, err := Parse(ex.body)
			if err != nil {
				t.Fatal(err)
			}
			if e.Event != tt.event {
				t.Errorf("event = %q", e.Event)
			}
			if tt.event != EventAppDeauthorized && e.EventTS == 0 {
				t.Error("event_ts lost")
			}
			tt.check(t, e)
		})
	}
}

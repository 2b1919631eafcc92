package jobs

import (
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/zoom"
)

func testSpec() *store.ZoomMeetingSpec {
	start := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	return &store.ZoomMeetingSpec{Title: "Go勉強会", TimeZone: "Asia/Tokyo", StartsAt: start, EndsAt: start.Add(90 * time.Minute),
		Settings: event.ZoomSettings{Passcode: "abc123", WaitingRoom: true, Registration: true, HostVideo: true}}
}

func TestMeetingRequestIsKaisaisSide(t *testing.T) {
	r := meetingRequest(testSpec())
	b, _ := json.Marshal(r)
	want := `{"topic":"Go勉強会","type":2,"start_time":"2026-12-01T01:00:00Z","duration":90,"timezone":"Asia/Tokyo",` +
		`"agenda":"","password":"abc123","default_password":false,"settings":{"host_video":true,"participant_video":false,` +
		`"mute_upon_entry":false,"waiting_room":true,"meeting_authentication":false,"approval_type":1,` +
		`"registrants_email_notification":false,"registrants_confirmation_email":false}}`
	if string(b) != want {
		t.Errorf("request\n got %s\nwant %s", b, want)
	}
}

func TestMeetingPatchSendsOnlyWhatChanged(t *testing.T) {
	applied := meetingRequest(testSpec())
	same := meetingRequest(testSpec())
	if p, changed := meetingPatch(&applied, &same); changed {
		t.Errorf("nothing changed, yet the patch is %+v", p)
	}

	sp := testSpec()
	sp.Title, sp.Settings.WaitingRoom, sp.Settings.Registration = "新しい題", false, false
	want := meetingRequest(sp)
	p, changed := meetingPatch(&applied, &want)
	b, _ := json.Marshal(p)
	if !changed || string(b) != `{"topic":"新しい題","settings":{"waiting_room":false,"approval_type":2}}` {
		t.Errorf("patch %s (changed %v)", b, changed)
	}

	// Nothing known to be applied (再適用, an adopted meeting): everything
	// but the create-only fields.
	p, changed = meetingPatch(nil, &want)
	if !changed || p.Type != nil || p.DefaultPassword != nil || p.Topic == nil || p.Settings == nil ||
		p.Settings.ApprovalType == nil || p.Password == nil {
		t.Errorf("a full patch: %+v", p)
	}
}

func TestChangedOnZoom(t *testing.T) {
	applied, _ := json.Marshal(meetingRequest(testSpec()))
	sp := testSpec()
	sp.Title = "編集中の題"
	inflight, _ := json.Marshal(meetingRequest(sp))
	obj := func(s string) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tc := range []struct {
		name, object string
		want         []string
	}{
		{"kaisai's applied values", `{"id":1,"topic":"Go勉強会","settings":{"waiting_room":true}}`, nil},
		{"kaisai's in-flight values", `{"id":1,"topic":"編集中の題","join_url":"https://x/j/1"}`, nil},
		{"changed on Zoom", `{"id":1,"topic":"別の題","password":"zzz","settings":{"waiting_room":false,"mute_upon_entry":true}}`,
			[]string{"password", "settings.mute_upon_entry", "settings.waiting_room", "topic"}},
		{"fields kaisai does not manage", `{"id":1,"settings":{"auto_recording":"cloud","join_before_host":true},"registration_url":"u"}`, nil},
	} {
		got := changedOnZoom(obj(tc.object), string(applied), string(inflight))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: changed %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFailureKinds(t *testing.T) {
	now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	w := &SyncZoomMeetingsWorker{Options: ZoomMeetingOptions{}.withDefaults(), Now: func() time.Time { return now },
		Log: slog.New(slog.DiscardHandler)}
	creating := store.ZoomMeetingTask{Spec: testSpec()}
	updating := store.ZoomMeetingTask{Spec: testSpec(), ZoomID: 9}
	api := func(status, code int, msg string, fields ...zoom.FieldError) error {
		return &zoom.APIError{Status: status, Code: code, Message: msg, Fields: fields}
	}
	for _, tc := range []struct {
		name  string
		err   error
		task  store.ZoomMeetingTask
		kind  string
		retry time.Time // zero: waits for the organizer
	}{
		{"no answer to a create", errors.New("EOF"), creating, ZoomErrTransient, now.Add(30 * time.Second)},
		{"no answer to an update", errors.New("EOF"), updating, ZoomErrTransient, now.Add(30 * time.Second)},
		{"5xx to a create", api(503, 0, "Service Unavailable"), creating, ZoomErrTransient, now.Add(30 * time.Second)},
		{"per-second limit", &zoom.APIError{Status: 429, Message: "Too many requests", RetryAfter: 2 * time.Second},
			updating, ZoomErrRateLimited, now.Add(2 * time.Second)},
		{"daily limit", &zoom.APIError{Status: 429, Message: "You have exceeded the daily rate limit (100)",
			RetryAfter: 9 * time.Hour}, updating, ZoomErrDailyLimit, now.Add(9 * time.Hour)},
		{"passcode", api(400, 300, "Validation Failed.", zoom.FieldError{Field: "password", Message: "too short"}),
			creating, ZoomErrPasscode, time.Time{}},
		{"licence", api(400, 200, "Only available for paid users: x."), updating, ZoomErrLicense, time.Time{}},
		{"host gone", api(404, 1001, "User does not exist: x."), creating, ZoomErrHostGone, time.Time{}},
		{"other validation", api(400, 300, "Validation Failed.", zoom.FieldError{Field: "topic", Message: "x"}),
			updating, ZoomErrInvalid, time.Time{}},
		{"relink", store.ErrZoomRelinkRequired, updating, ZoomErrRelink, now},
	} {
		f := w.failure(tc.err, tc.task)
		if f.Kind != tc.kind || !f.RetryAt.Equal(tc.retry) {
			t.Errorf("%s: %+v, want kind %s retry %s", tc.name, f, tc.kind, tc.retry)
		}
	}
}

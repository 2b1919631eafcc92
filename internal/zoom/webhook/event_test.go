package webhook

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr bool
		event   string
		ts      int64
	}{
		{"minimal", `{"event":"meeting.started","event_ts":1626230691572,"payload":{}}`, false, "meeting.started", 1626230691572},
		{"unknown event kept", `{"event":"meeting.summary_completed","event_ts":1,"payload":{"x":1}}`, false, "meeting.summary_completed", 1},
		{"no event_ts (app_deauthorized)", `{"event":"app_deauthorized","payload":{"user_id":"u"}}`, false, "app_deauthorized", 0},
		{"trailing whitespace", "{\"event\":\"meeting.ended\"}\r\n", false, "meeting.ended", 0},
		{"empty body", ``, true, "", 0},
		{"not JSON", `event=meeting.started`, true, "", 0},
		{"truncated", `{"event":"meeting.started","payload":{`, true, "", 0},
		{"null", `null`, true, "", 0},
		{"array", `[{"event":"meeting.started"}]`, true, "", 0},
		{"string", `"meeting.started"`, true, "", 0},
		{"two objects", `{"event":"a"}{"event":"b"}`, true, "", 0},
		{"trailing garbage", `{"event":"a"} x`, true, "", 0},
		{"no event", `{"event_ts":1,"payload":{}}`, true, "", 0},
		{"empty event", `{"event":"","payload":{}}`, true, "", 0},
		{"blank event", `{"event":"  ","payload":{}}`, true, "", 0},
		{"event not a string", `{"event":7}`, true, "", 0},
		{"event_ts not a number", `{"event":"a","event_ts":"yesterday"}`, true, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse([]byte(tt.body))
			if tt.wantErr {
				if !errors.Is(err, ErrMalformedEvent) {
					t.Fatalf("Parse = %+v, %v; want ErrMalformedEvent", e, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Event != tt.event || e.EventTS != tt.ts {
				t.Errorf("Parse = %q %d, want %q %d", e.Event, e.EventTS, tt.event, tt.ts)
			}
		})
	}
}

func TestEventTime(t *testing.T) {
	if got, want := (Event{EventTS: 1626230691572}).Time(), time.Date(2021, 7, 14, 2, 44, 51, 572e6, time.UTC); !got.Equal(want) {
		t.Errorf("Time = %v, want %v", got, want)
	}
	if !(Event{}).Time().IsZero() {
		t.Error("no event_ts should give the zero time")
	}
}

func TestPayloadAccessors(t *testing.T) {
	participant := Event{Event: EventParticipantJoined, Payload: json.RawMessage(`{"account_id":"a","object":{"id":"85746065432","participant":{"user_id":"16778240","email":"","join_time":"2026-03-01T10:00:00Z"}}}`)}
	if _, err := participant.Meeting(); !errors.Is(err, ErrWrongEvent) {
		t.Errorf("Meeting() on a participant event: %v, want ErrWrongEvent", err)
	}
	p, err := participant.Participant()
	if err != nil {
		t.Fatal(err)
	}
	if p.Object.ID != 85746065432 || p.Object.Participant.UserID != "16778240" || !p.Object.Participant.JoinedAt().Equal(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("payload = %+v", p)
	}

	bad := []Event{
		{Event: EventMeetingCreated},
		{Event: EventMeetingCreated, Payload: json.RawMessage(`null`)},
		{Event: EventMeetingCreated, Payload: json.RawMessage(`[]`)},
		{Event: EventMeetingCreated, Payload: json.RawMessage(`{"object":{"id":"12a"}}`)},
		{Event: EventMeetingCreated, Payload: json.RawMessage(`{"object":{"id":1.5}}`)},
		{Event: EventMeetingCreated, Payload: json.RawMessage(`{"object":{"id":-3}}`)},
		{Event: EventMeetingCreated, Payload: json.RawMessage(`{"object":{"id":true}}`)},
		{Event: EventMeetingCreated, Payload: json.RawMessage(`{"object":{"id":99999999999999999999}}`)},
		{Event: EventMeetingCreated, Payload: json.RawMessage(`{"object":{"start_time":"13 July"}}`)},
		{Event: EventMeetingCreated, Payload: json.RawMessage(`{"object":{"start_time":1626230691}}`)},
		{Event: EventAppDeauthorized, Payload: json.RawMessage(`{}`)},
	}
	for _, e := range bad {
		var err error
		switch e.Event {
		case EventAppDeauthorized:
			_, err = e.Deauthorization()
		default:
			_, err = e.Meeting()
		}
		if !errors.Is(err, ErrMalformedEvent) {
			t.Errorf("%s %s: err = %v, want ErrMalformedEvent", e.Event, e.Payload, err)
		}
	}
}

func TestMeetingID(t *testing.T) {
	tests := []struct {
		in   string
		want MeetingID
	}{
		{`1234567890`, 1234567890},
		{`"1234567890"`, 1234567890},
		{`85746065432`, 85746065432}, // 11 digits, beyond int32
		{`" 85746065432 "`, 85746065432},
		{`""`, 0},
		{`null`, 0},
	}
	for _, tt := range tests {
		var got struct {
			ID MeetingID `json:"id"`
		}
		if err := json.Unmarshal([]byte(`{"id":`+tt.in+`}`), &got); err != nil || got.ID != tt.want {
			t.Errorf("%s: got %d, %v; want %d", tt.in, got.ID, err, tt.want)
		}
	}
	b, err := json.Marshal(struct {
		ID MeetingID `json:"id"`
	}{85746065432})
	if err != nil || string(b) != `{"id":85746065432}` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
	if MeetingID(85746065432).String() != "85746065432" {
		t.Error("String")
	}
}

func TestTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{`"2021-07-13T21:44:51Z"`, time.Date(2021, 7, 13, 21, 44, 51, 0, time.UTC)},
		{`"2020-06-17T13:52:28.632Z"`, time.Date(2020, 6, 17, 13, 52, 28, 632e6, time.UTC)},
		{`"2021-07-14T06:44:51+09:00"`, time.Date(2021, 7, 13, 21, 44, 51, 0, time.UTC)},
		{`"2024-09-08 15:58:40"`, time.Date(2024, 9, 8, 15, 58, 40, 0, time.UTC)},
		{`"2024-09-08T15:58:40"`, time.Date(2024, 9, 8, 15, 58, 40, 0, time.UTC)},
		{`""`, time.Time{}},
		{`"   "`, time.Time{}},
		{`null`, time.Time{}},
	}
	for _, tt := range tests {
		var got Time
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("%s: got %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	b, err := json.Marshal(Time{time.Date(2021, 7, 14, 6, 44, 51, 0, time.FixedZone("JST", 9*3600))})
	if err != nil || string(b) != `"2021-07-13T21:44:51Z"` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
}

package zoomsim

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"kaisai/internal/zoom/webhook"
)

// newMeeting creates a meeting for licensed@example.com with settings.
func newMeeting(t *testing.T, c *apiClient, body map[string]any) (int64, map[string]any) {
	t.Helper()
	if body["type"] == nil {
		body["type"] = 2
		body["start_time"] = "2030-05-01T10:00:00Z"
	}
	out := c.must(201, "POST", "/users/me/meetings", body)
	return int64(out["id"].(float64)), out
}

func TestJoinRules(t *testing.T) {
	ts := startSim(t, Options{})
	t.Cleanup(ts.Close)
	c := ts.client(t, "licensed@example.com")
	outsider, _ := ts.AddUser(User{Email: "other@example.net", Password: "password"})
	_ = outsider

	pass, passM := newMeeting(t, c, map[string]any{"password": "abc123", "settings": map[string]any{"waiting_room": false}})
	auth, _ := newMeeting(t, c, map[string]any{"password": "", "settings": map[string]any{"meeting_authentication": true}})
	reg, _ := newMeeting(t, c, map[string]any{"password": "", "settings": map[string]any{"approval_type": 1, "meeting_authentication": true}})
	ok := c.must(201, "POST", fmt.Sprintf("/meetings/%d/registrants", reg), map[string]any{"email": "ok@example.org", "first_name": "Ok", "auto_approve": true})
	pending := c.must(201, "POST", fmt.Sprintf("/meetings/%d/registrants", reg), map[string]any{"email": "wait@example.org", "first_name": "Wait"})

	tests := []struct {
		name string
		req  JoinRequest
		want error
	}{
		{"unknown meeting", JoinRequest{MeetingID: 1}, ErrNoMeeting},
		{"no passcode", JoinRequest{MeetingID: pass}, ErrPasscodeRequired},
		{"wrong passcode", JoinRequest{MeetingID: pass, Passcode: "nope12"}, ErrWrongPasscode},
		{"passcode", JoinRequest{MeetingID: pass, Passcode: "abc123"}, nil},
		{"join_url with pwd", JoinRequest{JoinURL: passM["join_url"].(string)}, nil},
		{"host needs no passcode", JoinRequest{MeetingID: pass, Email: "licensed@example.com"}, nil},
		{"guest refused by authentication", JoinRequest{MeetingID: auth}, ErrSignInRequired},
		{"signed in", JoinRequest{MeetingID: auth, Email: "anyone@example.com"}, nil},
		{"registration: not registered", JoinRequest{MeetingID: reg, Email: "ok@example.org"}, ErrRegistrationNeeded},
		{"registration: pending", JoinRequest{JoinURL: pending["join_url"].(string), Email: "wait@example.org"}, ErrRegistrationStatus},
		{"registration + authentication: guest", JoinRequest{JoinURL: ok["join_url"].(string)}, ErrSignInRequired},
		{"registration: approved link", JoinRequest{JoinURL: ok["join_url"].(string), Email: "ok@example.org"}, nil},
		{"registration: registrant id", JoinRequest{MeetingID: reg, RegistrantID: ok["registrant_id"].(string), Email: "x@example.org"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ts.Join(tt.req)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Join: %v, want %v", err, tt.want)
			}
			if err != nil && err.Error() == "" {
				t.Error("a refusal without a reason")
			}
			if tt.want == nil && p.ID == "" {
				t.Error("no participant id")
			}
		})
	}
}

func TestWaitingRoom(t *testing.T) {
	ts := startSim(t, Options{})
	t.Cleanup(ts.Close)
	c := ts.client(t, "licensed@example.com")
	id, _ := newMeeting(t, c, map[string]any{"password": "", "settings": map[string]any{"waiting_room": true}})
	p, err := ts.Join(JoinRequest{MeetingID: id, Name: "Guest One"})
	if err != nil || !p.Waiting {
		t.Fatalf("Join: %+v %v, want waiting", p, err)
	}
	path := fmt.Sprintf("/past_meetings/%d/participants", id)
	if got := c.must(200, "GET", path, nil); got["total_records"] != float64(0) {
		t.Errorf("a waiting participant is in the report: %v", got)
	}
	if err := ts.Admit(id, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := ts.Admit(id, p.ID); !errors.Is(err, ErrNotInMeeting) {
		t.Errorf("admitting twice: %v", err)
	}
	if got := c.must(200, "GET", path, nil); got["total_records"] != float64(1) {
		t.Errorf("report after admission: %v", got)
	}
}

// TestParticipantEventsAndReport follows a meeting from the first join to
// its end: the webhooks (each checked against its schema), the email
// display rules, and the past participants report.
func TestParticipantEventsAndReport(t *testing.T) {
	ts, rc := startHookedSim(t)
	c := ts.client(t, "licensed@example.com")
	if _, err := ts.AddUser(User{Email: "colleague@example.com", Password: "password", AccountID: mustUser(t, ts, "licensed@example.com").AccountID}); err != nil {
		t.Fatal(err)
	}
	id, _ := newMeeting(t, c, map[string]any{"password": "", "settings": map[string]any{"approval_type": 0, "waiting_room": false, "meeting_authentication": true}})
	r := c.must(201, "POST", fmt.Sprintf("/meetings/%d/registrants", id), map[string]any{"email": "reg@example.org", "first_name": "Reg", "last_name": "Istrant"})

	host, err := ts.Join(JoinRequest{MeetingID: id, Email: "licensed@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	colleague, err := ts.Join(JoinRequest{JoinURL: r["join_url"].(string), Email: "reg@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if colleague.Email != "reg@example.org" || colleague.RegistrantID != r["registrant_id"] {
		t.Errorf("registrant: %+v", colleague)
	}
	sameAccount, err := ts.Join(JoinRequest{MeetingID: id, RegistrantID: r["registrant_id"].(string), Email: "colleague@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	_ = sameAccount
	// Deliveries are signed when sent: let them go before the clock moves.
	waitEvents(t, ts, "meeting.created", "meeting.registration_created", "meeting.started",
		"meeting.participant_joined", "meeting.participant_joined", "meeting.participant_joined")
	ts.clock.Advance(30 * time.Minute)
	if err := ts.Leave(id, colleague.ID); err != nil {
		t.Fatal(err)
	}
	if err := ts.EndMeeting(id); err != nil {
		t.Fatal(err)
	}
	waitEvents(t, ts, "meeting.created", "meeting.registration_created", "meeting.started",
		"meeting.participant_joined", "meeting.participant_joined", "meeting.participant_joined",
		"meeting.participant_left", "meeting.participant_left", "meeting.participant_left", "meeting.ended")
	rc.mu.Lock()
	for i, body := range rc.bodies {
		v := checkBody(t, body)
		if e := rc.got[i].Event; e == webhook.EventParticipantJoined || e == webhook.EventMeetingStarted {
			obj := v["payload"].(map[string]any)["object"].(map[string]any)
			if obj["id"] != fmt.Sprint(id) {
				t.Errorf("%s: object.id %v, want the string %d", e, obj["id"], id)
			}
		}
	}
	joined, err := rc.got[3].Participant()
	rc.mu.Unlock()
	if err != nil || joined.Object.Participant.Email != "licensed@example.com" || joined.Object.Participant.JoinedAt().IsZero() {
		t.Errorf("host's participant_joined: %+v %v", joined, err)
	}

	// Report: the host (same account: email shown), the registrant (email
	// shown), and a signed-in user: here joined through the registrant's
	// link, so the registrant's email is shown.
	got := c.must(200, "GET", fmt.Sprintf("/past_meetings/%d/participants?page_size=2", id), nil)
	if got["total_records"] != float64(3) || got["next_page_token"] == "" {
		t.Fatalf("report: %v", got)
	}
	ps := got["participants"].([]any)
	first := ps[0].(map[string]any)
	if first["user_email"] != "licensed@example.com" || first["id"] != host.UserID || first["duration"] != float64(1800) {
		t.Errorf("host's line: %v", first)
	}
	second := ps[1].(map[string]any)
	if second["registrant_id"] != r["registrant_id"] || second["user_email"] != "reg@example.org" {
		t.Errorf("registrant's line: %v", second)
	}
}

func TestEmailDisplayRules(t *testing.T) {
	ts := startSim(t, Options{})
	t.Cleanup(ts.Close)
	c := ts.client(t, "licensed@example.com")
	lic := mustUser(t, ts, "licensed@example.com")
	if _, err := ts.AddUser(User{Email: "colleague@example.com", Password: "password", AccountID: lic.AccountID}); err != nil {
		t.Fatal(err)
	}
	id, _ := newMeeting(t, c, map[string]any{"password": "", "settings": map[string]any{"meeting_authentication": true}})
	for _, tt := range []struct{ email, shown string }{
		{"colleague@example.com", "colleague@example.com"}, // on the host's account
		{"numeric@example.com", ""},                        // a simulated user of another account
		{"stranger@example.net", ""},                       // any other Zoom account
	} {
		p, err := ts.Join(JoinRequest{MeetingID: id, Email: tt.email})
		if err != nil {
			t.Fatal(err)
		}
		if p.Email != tt.shown || p.UserID == "" {
			t.Errorf("%s: email %q user id %q, want %q", tt.email, p.Email, p.UserID, tt.shown)
		}
	}
}

func mustUser(t *testing.T, ts *testSim, email string) User {
	t.Helper()
	u, ok := ts.User(email)
	if !ok {
		t.Fatalf("no user %s", email)
	}
	return u
}

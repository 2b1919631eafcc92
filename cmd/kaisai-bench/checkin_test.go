package main

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"kaisai/internal/zoom/webhook"
)

// checkinLineRE is the checkin result line exactly as its issue asks.
var checkinLineRE = regexp.MustCompile(`^checkin webhooks=(\d+) p99_ack_ms=\d+\.\d all_checked_in_s=\d+\.\d\d lost=(\d+)$`)

var checkinReplayRE = regexp.MustCompile(`^checkin replay webhooks=(\d+) changed=(\d+)$`)

// TestCheckinSmoke runs checkin with a small burst: every delivery must be
// acknowledged and every application checked in, the replay must change
// nothing, and the last lines must be the replay and result lines.
func TestCheckinSmoke(t *testing.T) {
	eachSmokeRun(t, []string{"checkin", "-n", "60", "--duration", "1s", "--clients", "8", "--timeout", "30s"},
		func(t *testing.T, out string, lines []string) {
			if len(lines) < 2 {
				t.Fatalf("too little output:\n%s", out)
			}
			m := checkinLineRE.FindStringSubmatch(lines[len(lines)-1])
			if m == nil {
				t.Fatalf("last line %q is not the result line\n%s", lines[len(lines)-1], out)
			}
			if m[1] != "60" || m[2] != "0" {
				t.Errorf("webhooks=%s lost=%s, want 60, 0\n%s", m[1], m[2], out)
			}
			r := checkinReplayRE.FindStringSubmatch(lines[len(lines)-2])
			if r == nil || r[1] != "60" || r[2] != "0" {
				t.Errorf("line before the last = %q, want checkin replay webhooks=60 changed=0\n%s", lines[len(lines)-2], out)
			}
		})
}

func TestCheckinFlags(t *testing.T) {
	bad := [][]string{{"-n", "0"}, {"--duration", "0s"}, {"--clients", "0"}, {"--timeout", "0s"}, {"extra"}}
	for _, args := range bad {
		if _, err := parseCheckinFlags(args, io.Discard); err == nil {
			t.Errorf("parseCheckinFlags(%q) accepted", args)
		}
	}
	c, err := parseCheckinFlags(nil, io.Discard)
	if err != nil || c.N != 5000 || c.Spread != 10*time.Second || c.Clients != 32 || c.Timeout != time.Minute || c.PostgresURL != "" {
		t.Errorf("defaults = %+v, %v", c, err)
	}
}

func TestCheckinLine(t *testing.T) {
	r := checkinResult{Webhooks: 5000, P99Ack: 12345 * time.Microsecond, AllCheckedIn: 843 * time.Millisecond}
	want := "checkin webhooks=5000 p99_ack_ms=12.3 all_checked_in_s=0.84 lost=0"
	if got := r.Line(); got != want || !checkinLineRE.MatchString(got) {
		t.Errorf("Line() = %q, want %q", got, want)
	}
}

// TestJoinedBody checks that a burst's body is a participant_joined that
// kaisai's parser reads as the simulator's: the meeting id a string, the
// join time and registrant id as given.
func TestJoinedBody(t *testing.T) {
	m := joinedMeeting{AccountID: "acct", Object: joinedObject{ID: "81234567890", UUID: "uuid==", HostID: "host",
		Topic: "ベンチ", Type: 2, StartTime: "2026-12-01T01:00:00Z", Timezone: "Asia/Tokyo", Duration: 90}}
	at := time.Date(2026, 12, 1, 1, 2, 3, 456_000_000, time.UTC)
	body := m.joined(7, participant{Name: "参加者", Email: "a@example.com", RegistrantID: "reg7"}, at)
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	if id := raw["payload"].(map[string]any)["object"].(map[string]any)["id"]; id != "81234567890" {
		t.Errorf("object.id = %#v, want the string", id)
	}
	e, err := webhook.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.Participant()
	if err != nil {
		t.Fatal(err)
	}
	who := p.Object.Participant
	if e.Event != webhook.EventParticipantJoined || e.EventTS != at.UnixMilli() || p.Object.ID != 81234567890 ||
		p.Object.UUID != "uuid==" || who.RegistrantID != "reg7" || who.Email != "a@example.com" ||
		!who.JoinedAt().Equal(at.Truncate(time.Second)) || who.UserID == "" || who.ParticipantUUID == "" {
		t.Errorf("parsed %+v, event %+v", p, e)
	}
	other := m.joined(8, participant{Name: "参加者", Email: "b@example.com"}, at)
	if bytes.Equal(body, other) || strings.Contains(string(other), "registrant_id") {
		t.Errorf("the 8th body without a registrant: %s", other)
	}
}

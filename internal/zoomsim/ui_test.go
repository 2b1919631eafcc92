package zoomsim

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func (ts *testSim) page(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get(ts.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return string(b)
}

// form posts a UI form and returns the message it redirects back with.
func (ts *testSim) form(t *testing.T, path string, f url.Values) string {
	t.Helper()
	resp, err := noRedirect.PostForm(ts.base+path, f)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST %s: %d, want 303", path, resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Path != "/" {
		t.Fatalf("POST %s redirects to %q", path, resp.Header.Get("Location"))
	}
	return loc.Query().Get("msg")
}

func TestUIShowsMeetings(t *testing.T) {
	ts := startSim(t, Options{})
	t.Cleanup(ts.Close)
	c := ts.client(t, "licensed@example.com")
	id, m := newMeeting(t, c, map[string]any{"topic": "Spring <seminar>", "password": "abc123",
		"settings": map[string]any{"approval_type": 0, "waiting_room": false}})
	c.must(201, "POST", fmt.Sprintf("/meetings/%d/registrants", id), map[string]any{"email": "reg@example.org", "first_name": "Rei"})
	if _, err := ts.Join(JoinRequest{MeetingID: id, Email: "licensed@example.com", Name: "Host Hanako"}); err != nil {
		t.Fatal(err)
	}
	body := ts.page(t, "/")
	for _, want := range []string{"Zoom simulator", "not the real Zoom", "Spring &lt;seminar&gt;", "licensed@example.com",
		m["join_url"].(string), "abc123", "reg@example.org", "Host Hanako", "basic@example.com", testClientID,
		fmt.Sprintf(`action="/_ui/meetings/%d/edit"`, id)} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "<seminar>") {
		t.Error("the topic is not escaped")
	}
	if msg := ts.page(t, "/?msg=Hello+there"); !strings.Contains(msg, "Hello there") {
		t.Error("the page does not show ?msg=")
	}
}

func TestUIActions(t *testing.T) {
	ts, _ := startHookedSim(t)
	c := ts.client(t, "licensed@example.com")
	id, _ := newMeeting(t, c, map[string]any{"topic": "Before", "password": "abc123", "timezone": "Asia/Tokyo",
		"settings": map[string]any{"waiting_room": false}})
	mp := fmt.Sprintf("/_ui/meetings/%d", id)

	if msg := ts.form(t, mp+"/join", url.Values{"name": {"Aiko"}, "passcode": {"wrong1"}}); !strings.Contains(msg, "Refused") {
		t.Errorf("a wrong passcode: %q", msg)
	}
	if msg := ts.form(t, mp+"/join", url.Values{"name": {"Aiko"}, "passcode": {"abc123"}}); msg != "Aiko joined." {
		t.Errorf("join: %q", msg)
	}
	snap := ts.State()
	if len(snap.Meetings) != 1 || len(snap.Meetings[0].Participants) != 1 || snap.Meetings[0].Participants[0].Name != "Aiko" {
		t.Fatalf("after joining by the form: %+v", snap.Meetings)
	}
	ts.form(t, mp+"/leave", url.Values{"participant_id": {snap.Meetings[0].Participants[0].ID}})
	ts.form(t, mp+"/end", nil)

	if msg := ts.form(t, mp+"/edit", url.Values{"topic": {"After"}, "start_time": {"2030-06-01T19:30"},
		"duration": {"90"}, "passcode": {"xyz789"}}); msg != "The meeting was updated." {
		t.Fatalf("edit: %q", msg)
	}
	got := ts.State().Meetings[0]
	if got.Topic != "After" || got.StartTime != "2030-06-01T10:30:00Z" || got.Duration != 90 || got.Password != "xyz789" {
		t.Errorf("after the edit form: topic %v start %v duration %v passcode %v", got.Topic, got.StartTime, got.Duration, got.Password)
	}
	if msg := ts.form(t, mp+"/edit", url.Values{"topic": {"After"}, "duration": {"long"}}); !strings.Contains(msg, "Refused") {
		t.Errorf("a bad duration: %q", msg)
	}
	if msg := ts.form(t, mp+"/edit", url.Values{"topic": {"After"}, "duration": {"5000"}}); !strings.Contains(msg, "duration") {
		t.Errorf("a duration Zoom refuses: %q", msg)
	}
	if msg := ts.form(t, mp+"/delete", nil); msg != "The meeting was deleted." {
		t.Errorf("delete: %q", msg)
	}
	if _, ok := ts.Meeting(id); ok {
		t.Error("the meeting is still there after delete")
	}
	if msg := ts.form(t, "/_ui/remove-app", url.Values{"email": {"licensed@example.com"}, "client_id": {testClientID}}); msg != "The app was removed." {
		t.Errorf("remove app: %q", msg)
	}
	waitEvents(t, ts, "meeting.created", "meeting.started", "meeting.participant_joined", "meeting.participant_left",
		"meeting.ended", "meeting.updated", "meeting.deleted", "app_deauthorized")
}

package zoomsim

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestUsers(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	me := c.must(200, "GET", "/users/me", nil)
	if me["email"] != "licensed@example.com" || me["type"] != float64(2) || me["account_id"] == "" {
		t.Errorf("users/me: %v", me)
	}
	set := c.must(200, "GET", "/users/me/settings", nil)
	req := set["schedule_meeting"].(map[string]any)["meeting_password_requirement"].(map[string]any)
	if req["length"] != float64(6) || req["have_letter"] != true || req["have_number"] != true {
		t.Errorf("passcode policy: %v", req)
	}
	if status, out := c.do("GET", "/users/someone-else/settings", nil); status != 404 || out["code"] != float64(1001) {
		t.Errorf("another user's settings: %d %v", status, out)
	}
}

func TestBadTokens(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	c.access = "nonsense"
	status, out := c.do("GET", "/users/me", nil)
	if status != 401 || out["code"] != float64(124) || out["message"] != "Invalid access token." {
		t.Errorf("bad token: %d %v", status, out)
	}
}

var pwdParam = regexp.MustCompile(`[?&]pwd=([^&]+)`)

func TestMeetingLifecycle(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	// Zoom documents start_time as local time in `timezone`
	// (yyyy-MM-ddTHH:mm:ss), yet the spec declares format date-time, which
	// refuses it: this one request goes around the spec check.
	created := c.unchecked().must(201, "POST", "/users/me/meetings", map[string]any{
		"topic": "セミナー", "type": 2, "start_time": "2030-05-01T10:00:00", "timezone": "Asia/Tokyo", "duration": 90,
		"settings": map[string]any{"approval_type": 1, "waiting_room": false, "host_video": true},
	})
	id := int64(created["id"].(float64))
	if id < 10_000_000_000 || id > 99_999_999_999 {
		t.Errorf("meeting id %d is not 11 digits", id)
	}
	pw := created["password"].(string)
	if len(pw) < 6 || checkPasscode(pw, PasscodePolicy{Length: 6, HaveLetter: true, HaveNumber: true}) != nil {
		t.Errorf("default_password generated %q against the policy", pw)
	}
	if created["start_time"] != "2030-05-01T01:00:00Z" {
		t.Errorf("start_time %v, want Tokyo 10:00 in UTC", created["start_time"])
	}
	join := created["join_url"].(string)
	if !pwdParam.MatchString(join) {
		t.Errorf("join_url lacks pwd=: %s", join)
	}
	path := meetingPath(created)
	got := c.must(200, "GET", path, nil)
	if got["topic"] != "セミナー" || got["join_url"] != join {
		t.Errorf("GET: %v", got)
	}
	if out := c.must(204, "PATCH", path, map[string]any{"password": "abc123", "topic": "新しい"}); out != nil {
		t.Errorf("PATCH answered a body: %v", out)
	}
	got = c.must(200, "GET", path, nil)
	if got["password"] != "abc123" || got["topic"] != "新しい" || got["join_url"] == join || !pwdParam.MatchString(got["join_url"].(string)) {
		t.Errorf("after PATCH: %v (old join_url %s)", got, join)
	}
	c.must(204, "DELETE", path, nil)
	status, out := c.do("GET", path, nil)
	if status != 404 || out["code"] != float64(3001) || out["message"] != fmt.Sprintf("Meeting does not exist: %d.", id) {
		t.Errorf("GET after DELETE: %d %v", status, out)
	}
}

func TestMeetingSecurityDefaults(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	// No passcode, no waiting room, no authentication: Zoom turns the waiting room on.
	m := c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "t", "type": 2, "default_password": false,
		"settings": map[string]any{"waiting_room": false, "join_before_host": true}})
	st := m["settings"].(map[string]any)
	if m["password"] != "" || st["waiting_room"] != true || st["join_before_host"] != false {
		t.Errorf("no security asked for: password %q, settings %v", m["password"], st)
	}
	// Authentication alone is enough.
	m = c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "t", "type": 2, "default_password": false,
		"settings": map[string]any{"waiting_room": false, "meeting_authentication": true}})
	if st := m["settings"].(map[string]any); st["waiting_room"] != false {
		t.Errorf("authentication only: waiting room turned on")
	}
	// Numeric-only policy.
	n := ts.client(t, "numeric@example.com")
	m = n.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "t", "type": 2})
	if ok, _ := regexp.MatchString(`^[0-9]{8}$`, m["password"].(string)); !ok {
		t.Errorf("numeric policy generated %q", m["password"])
	}
}

func TestMeetingValidation(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	basic := ts.client(t, "basic@example.com")
	long := strings.Repeat("あ", 201)
	// The first four break the spec's own limits, so they skip its check.
	u := c.unchecked()
	tests := []struct {
		name   string
		c      *apiClient
		body   any
		status int
		code   float64
	}{
		{"topic too long", u, map[string]any{"topic": long}, 400, 300},
		{"agenda too long", u, map[string]any{"agenda": strings.Repeat("a", 2001)}, 400, 300},
		{"duration zero", u, map[string]any{"duration": 0}, 400, 300},
		{"passcode too long", u, map[string]any{"password": "abcdef123456"}, 400, 300},
		{"passcode bad character", c, map[string]any{"password": "abc12#"}, 400, 300},
		{"passcode too short for policy", c, map[string]any{"password": "ab1"}, 400, 300},
		{"passcode without number", c, map[string]any{"password": "abcdefg"}, 400, 300},
		{"registration on an instant meeting", c, map[string]any{"type": 1, "settings": map[string]any{"approval_type": 0}}, 400, 300},
		{"registration for a Basic host", basic, map[string]any{"type": 2, "settings": map[string]any{"approval_type": 1}}, 400, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := tt.c.do("POST", "/users/me/meetings", tt.body)
			if status != tt.status || out["code"] != tt.code {
				t.Errorf("got %d %v, want %d code %v", status, out, tt.status, tt.code)
			}
		})
	}
	if status, out := c.do("POST", "/users/nobody@example.com/meetings", map[string]any{"topic": "t"}); status != 404 || out["code"] != float64(1001) {
		t.Errorf("unknown user: %d %v", status, out)
	}
}

// TestBadInput sends what the spec forbids, so it bypasses the spec client.
func TestBadInput(t *testing.T) {
	ts := startSim(t, Options{})
	other, _ := ts.login(t, "numeric@example.com")
	c := ts.client(t, "licensed@example.com")
	m := c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "t", "settings": map[string]any{"approval_type": 0}})
	path := meetingPath(m)
	raw := c.unchecked()
	tests := []struct {
		method, path string
		body         any
		status       int
		code         float64
	}{
		{"POST", "/users/me/meetings", `{"topic":`, 400, 300},
		{"POST", "/users/me/meetings", `[]`, 400, 300},
		{"POST", "/users/me/meetings", `{"topic": 5}`, 400, 300},
		{"POST", "/users/me/meetings", `{"duration": "60"}`, 400, 300},
		{"POST", "/users/me/meetings", `{"settings": {"approval_type": 1.5}}`, 400, 300},
		{"POST", "/users/me/meetings", ``, 400, 300},
		{"PATCH", path, `{"settings": "x"}`, 400, 300},
		{"PATCH", path, `{"password": "abc"}`, 400, 300},
		{"GET", "/meetings/notanumber", nil, 404, 3001},
		{"GET", "/meetings/99999999999999999999", nil, 404, 3001},
		{"POST", path + "/registrants", `{"email": 3}`, 400, 300},
		{"POST", path + "/registrants", `{"email": "a@example.com"}`, 400, 300},
		{"POST", path + "/batch_registrants", `{"registrants": {}}`, 400, 300},
		{"PUT", path + "/registrants/status", `{"action": "eject"}`, 400, 300},
		{"GET", path + "/registrants?page_size=x", nil, 400, 300},
		{"GET", path + "/registrants?next_page_token=forged", nil, 400, 300},
		{"GET", "/nothing", nil, 404, 404},
	}
	for _, tt := range tests {
		status, out := raw.do(tt.method, tt.path, tt.body)
		if status != tt.status || out["code"] != tt.code {
			t.Errorf("%s %s %v: got %d %v, want %d code %v", tt.method, tt.path, tt.body, status, out, tt.status, tt.code)
		}
	}
	// Another user's meeting is not theirs to read.
	raw.access = other
	if status, out := raw.do("GET", path, nil); status != 400 || out["code"] != float64(3000) {
		t.Errorf("another host's meeting: %d %v", status, out)
	}
}

// An unknown meeting is answered 404 with the error code each operation's
// spec documents for it: 3001 for most, 1001 for meetingRegistrantCreate.
func TestUnknownMeetingCodesAsDocumented(t *testing.T) {
	raw, err := os.ReadFile("../../../shared/zoom/Meetings.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Responses   map[string]struct {
				Description string `json:"description"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]float64{} // operationId → the 404's error code
	codeRE := regexp.MustCompile("Error Code:\\*\\* `(\\d+)`")
	for _, ops := range doc.Paths {
		for _, op := range ops {
			if m := codeRE.FindStringSubmatch(op.Responses["404"].Description); m != nil {
				n, _ := strconv.Atoi(m[1])
				documented[op.OperationID] = float64(n)
			}
		}
	}
	ts := startSim(t, Options{Limits: &Limits{Off: true}})
	c := ts.client(t, "licensed@example.com")
	const unknown = "/meetings/12345678901"
	tests := []struct {
		op, method, path string
		body             any
	}{
		{"meeting", "GET", unknown, nil},
		{"meetingUpdate", "PATCH", unknown, map[string]any{"topic": "t"}},
		{"meetingDelete", "DELETE", unknown, nil},
		{"meetingRegistrantCreate", "POST", unknown + "/registrants", map[string]any{"email": "a@example.org", "first_name": "A"}},
		{"meetingRegistrants", "GET", unknown + "/registrants", nil},
		{"addBatchRegistrants", "POST", unknown + "/batch_registrants", map[string]any{"registrants": []any{map[string]any{"email": "a@example.org", "first_name": "A"}}}},
		{"meetingRegistrantStatus", "PUT", unknown + "/registrants/status", map[string]any{"action": "approve"}},
		{"meetingregistrantdelete", "DELETE", unknown + "/registrants/abc", nil},
		{"pastMeetingParticipants", "GET", "/past_meetings/12345678901/participants", nil},
	}
	for _, tt := range tests {
		want, ok := documented[tt.op]
		if !ok {
			t.Errorf("%s: the spec documents no 404 code", tt.op)
			continue
		}
		status, out := c.do(tt.method, tt.path, tt.body)
		if status != 404 || out["code"] != want || out["message"] != "Meeting does not exist: 12345678901." {
			t.Errorf("%s: %d %v, want 404 code %v", tt.op, status, out, want)
		}
	}
}

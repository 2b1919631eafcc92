package zoomsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
)

// ctl calls the control API; body is JSON-encoded unless it is a string
// (sent as is, to test malformed input).
func (ts *testSim) ctl(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, ts.base+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		var e struct{ Error string }
		if json.Unmarshal(out, &e) != nil || e.Error == "" {
			t.Errorf("%s %s: %d without a JSON error: %s", method, path, resp.StatusCode, out)
		}
	}
	return resp.StatusCode, out
}

func (ts *testSim) ctlMust(t *testing.T, want int, method, path string, body any) []byte {
	t.Helper()
	status, out := ts.ctl(t, method, path, body)
	if status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, out)
	}
	return out
}

func (ts *testSim) state(t *testing.T) Snapshot {
	t.Helper()
	var snap Snapshot
	if err := json.Unmarshal(ts.ctlMust(t, 200, "GET", "/_sim/state", nil), &snap); err != nil {
		t.Fatal(err)
	}
	return snap
}

func TestControlBadInput(t *testing.T) {
	ts := startSim(t, Options{})
	t.Cleanup(ts.Close)
	tests := []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", "/_sim/users", `{"email":`, 400},
		{"POST", "/_sim/users", map[string]any{"email": "x@example.com", "typo": 1}, 400},
		{"POST", "/_sim/users", map[string]any{"email": "x@example.com", "type": 3}, 400},
		{"POST", "/_sim/users", map[string]any{"email": "not-an-email"}, 400},
		{"POST", "/_sim/users", map[string]any{"email": "licensed@example.com"}, 400}, // exists
		{"POST", "/_sim/users", map[string]any{"email": 5}, 400},
		{"POST", "/_sim/apps", map[string]any{"client_id": "x"}, 400},
		{"POST", "/_sim/apps", map[string]any{"redirect_uris": []string{"http://a/cb"}, "event_url": "http://a/hook"}, 400},
		{"POST", "/_sim/apps", map[string]any{"client_id": testClientID, "redirect_uris": []string{"http://a/cb"}}, 400},
		{"POST", "/_sim/plan", map[string]any{"email": "licensed@example.com", "plan": "Gold"}, 400},
		{"POST", "/_sim/plan", map[string]any{"email": "nobody@example.com", "plan": "Pro"}, 400},
		{"POST", "/_sim/plan", map[string]any{"plan": "Pro"}, 400},
		{"POST", "/_sim/faults", map[string]any{"faults": []any{map[string]any{"kind": "meteor"}}}, 400},
		{"POST", "/_sim/faults", map[string]any{"faults": []any{map[string]any{"kind": "status", "rate": 2}}}, 400},
		{"POST", "/_sim/faults", map[string]any{"faults": []any{map[string]any{"kind": "latency", "delay": "soon"}}}, 400},
		{"POST", "/_sim/faults", map[string]any{"faults": []any{map[string]any{"kind": "status", "status": 404}}}, 400},
		{"POST", "/_sim/faults", map[string]any{"faults": []any{map[string]any{"kind": "status", "count": -1}}}, 400},
		{"POST", "/_sim/faults", map[string]any{"faults": []any{map[string]any{"kind": "rate_limit", "rate_limit_type": "Hourly"}}}, 400},
		{"POST", "/_sim/meetings/abc/join", map[string]any{}, 400},
		{"POST", "/_sim/meetings/123/join", map[string]any{}, 404},
		{"POST", "/_sim/meetings/123/leave", map[string]any{"participant_id": "1"}, 404},
		{"POST", "/_sim/meetings/123/end", nil, 409},
		{"POST", "/_sim/remove-app", map[string]any{"email": "licensed@example.com", "client_id": testClientID}, 400}, // not added
		{"GET", "/_sim/nothing", nil, 404},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s %v", tt.method, tt.path, tt.body), func(t *testing.T) {
			if status, out := ts.ctl(t, tt.method, tt.path, tt.body); status != tt.want {
				t.Errorf("%d, want %d: %s", status, tt.want, out)
			}
		})
	}
}

func TestControlUsersAppsPlan(t *testing.T) {
	ts := startSim(t, Options{})
	t.Cleanup(ts.Close)
	var u User
	out := ts.ctlMust(t, 201, "POST", "/_sim/users", map[string]any{"email": "free@example.com", "type": UserBasic,
		"require_passcode": true, "policy": map[string]any{"length": 8, "only_allow_numeric": true}})
	if err := json.Unmarshal(out, &u); err != nil || u.ID == "" || u.Type != UserBasic || u.Policy.Length != 8 {
		t.Fatalf("created user: %s (%v)", out, err)
	}
	// The new user can sign in on the consent page with the default password.
	ts.login(t, "free@example.com")
	ts.ctlMust(t, 201, "POST", "/_sim/apps", map[string]any{"client_id": "other-app", "redirect_uris": []string{"http://a.example/cb"}})
	ts.ctlMust(t, 204, "POST", "/_sim/plan", map[string]any{"email": "free@example.com", "plan": "Free"})
	ts.ctlMust(t, 204, "POST", "/_sim/plan", map[string]any{"account_id": u.AccountID, "plan": "Business"})

	snap := ts.state(t)
	if snap.Summary.Users != 4 || snap.Summary.Apps != 2 {
		t.Errorf("summary %+v, want 4 users and 2 apps", snap.Summary)
	}
	if !slices.ContainsFunc(snap.Apps, func(a AppState) bool { return a.ClientID == "other-app" }) {
		t.Errorf("state lacks the new app: %+v", snap.Apps)
	}
	i := slices.IndexFunc(snap.Apps, func(a AppState) bool { return a.ClientID == testClientID })
	if i < 0 || !slices.Equal(snap.Apps[i].AuthorizedUsers, []string{"free@example.com"}) {
		t.Errorf("authorized users of the test app: %+v", snap.Apps)
	}
}

func TestControlParticipants(t *testing.T) {
	ts, _ := startHookedSim(t)
	c := ts.client(t, "licensed@example.com")
	id, _ := newMeeting(t, c, map[string]any{"password": "abc123", "settings": map[string]any{"waiting_room": false}})
	wr, _ := newMeeting(t, c, map[string]any{"password": "", "settings": map[string]any{"waiting_room": true}})
	base := fmt.Sprintf("/_sim/meetings/%d", id)

	ts.ctlMust(t, 403, "POST", base+"/join", map[string]any{"name": "Guest", "passcode": "wrong1"})
	var p Participant
	if err := json.Unmarshal(ts.ctlMust(t, 200, "POST", base+"/join", map[string]any{"name": "Aiko", "passcode": "abc123"}), &p); err != nil || p.ID == "" || p.Waiting {
		t.Fatalf("join: %+v %v", p, err)
	}
	snap := ts.state(t)
	if len(snap.Meetings) != 2 || snap.Summary.Running != 1 || snap.Summary.Participants != 1 {
		t.Fatalf("state after join: %+v", snap.Summary)
	}
	for _, m := range snap.Meetings {
		if m.ID == id && (len(m.Participants) != 1 || m.Participants[0].Name != "Aiko" || m.Password != "abc123") {
			t.Errorf("meeting in state: %+v", m)
		}
	}
	ts.ctlMust(t, 204, "POST", base+"/leave", map[string]any{"participant_id": p.ID})
	ts.ctlMust(t, 404, "POST", base+"/leave", map[string]any{"participant_id": p.ID})

	wbase := fmt.Sprintf("/_sim/meetings/%d", wr)
	var w Participant
	_ = json.Unmarshal(ts.ctlMust(t, 200, "POST", wbase+"/join", map[string]any{"name": "Ken"}), &w)
	if !w.Waiting {
		t.Fatalf("join with a waiting room: %+v, want waiting", w)
	}
	ts.ctlMust(t, 204, "POST", wbase+"/admit", map[string]any{"participant_id": w.ID})
	ts.ctlMust(t, 204, "POST", wbase+"/end", nil)
	ts.ctlMust(t, 204, "POST", base+"/end", nil)

	waitEvents(t, ts, "meeting.created", "meeting.created", "meeting.started", "meeting.participant_joined",
		"meeting.participant_left", "meeting.started", "meeting.participant_joined", "meeting.participant_left",
		"meeting.ended", "meeting.ended")
	var ds []deliveryJSON
	if err := json.Unmarshal(ts.ctlMust(t, 200, "GET", "/_sim/webhooks?event=meeting.participant_joined", nil), &ds); err != nil || len(ds) != 2 {
		t.Fatalf("webhooks: %d %v", len(ds), err)
	}
	var body struct {
		Event   string `json:"event"`
		Payload struct {
			Object struct {
				ID string `json:"id"`
			} `json:"object"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(ds[0].Body, &body); err != nil || body.Event != "meeting.participant_joined" || body.Payload.Object.ID != fmt.Sprint(id) || !ds[0].Delivered {
		t.Errorf("delivery body is not the event as JSON: %s (%v)", ds[0].Body, err)
	}
}

func TestControlFaults(t *testing.T) {
	ts := startSim(t, Options{})
	t.Cleanup(ts.Close)
	c := ts.client(t, "licensed@example.com").unchecked()
	ts.ctlMust(t, 204, "POST", "/_sim/faults", map[string]any{"seed": 7, "faults": []any{
		map[string]any{"kind": "status", "op": "userSettings", "rate": 1, "status": 503}}})
	if status, _ := c.do("GET", "/users/me/settings", nil); status != 503 {
		t.Errorf("with a status fault: %d, want 503", status)
	}
	// A 429 status is the rate limit fault, with Zoom's headers.
	ts.ctlMust(t, 204, "POST", "/_sim/faults", map[string]any{"faults": []any{
		map[string]any{"kind": "status", "op": "userSettings", "status": 429}}})
	if status, h, _ := c.doH("GET", "/users/me/settings", nil); status != 429 || h.Get("Retry-After") != "1" || h.Get("X-RateLimit-Type") != "QPS" {
		t.Errorf("with a 429 status fault: %d %v", status, h)
	}
	ts.ctlMust(t, 204, "DELETE", "/_sim/faults", nil)
	if status, _ := c.do("GET", "/users/me/settings", nil); status != 200 {
		t.Errorf("after DELETE /_sim/faults: %d, want 200", status)
	}
}

func TestControlRemoveAppAndReset(t *testing.T) {
	ts, _ := startHookedSim(t)
	c := ts.client(t, "licensed@example.com")
	newMeeting(t, c, map[string]any{})
	ts.ctlMust(t, 204, "POST", "/_sim/remove-app", map[string]any{"email": "licensed@example.com", "client_id": testClientID})
	waitEvents(t, ts, "meeting.created", "app_deauthorized")
	for _, a := range ts.state(t).Apps {
		if len(a.AuthorizedUsers) != 0 {
			t.Errorf("after remove-app, %s is still authorized by %v", a.ClientID, a.AuthorizedUsers)
		}
	}
	if status, _ := c.unchecked().do("GET", "/users/me", nil); status != 401 {
		t.Errorf("a removed app's token: %d, want 401", status)
	}

	ts.ctlMust(t, 201, "POST", "/_sim/users", map[string]any{"email": "extra@example.com"})
	ts.ctlMust(t, 204, "POST", "/_sim/reset", nil)
	snap := ts.state(t)
	if snap.Summary.Users != 3 || snap.Summary.Apps != 1 || snap.Summary.Meetings != 0 || snap.Summary.Deliveries != 0 {
		t.Errorf("after reset: %+v, want the seed only", snap.Summary)
	}
	if _, ok := ts.User("licensed@example.com"); !ok {
		t.Error("after reset the seed users are back")
	}
}

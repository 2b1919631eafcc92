package zoomsim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"testing"
	"time"
)

// rivetReport is what rivettest/rivet.mjs prints.
type rivetReport struct {
	Failure string `json:"failure"`
	Steps   []struct {
		Name   string  `json:"name"`
		Status int     `json:"status"`
		Error  *string `json:"error"`
		Data   any     `json:"data"` // the answer's JSON ("" when empty)
	} `json:"steps"`
	TokenRequests []struct {
		URL          string `json:"url"`
		GrantType    string `json:"grant_type"`
		CodeVerifier bool   `json:"code_verifier"`
	} `json:"token_requests"`
	Events []map[string]any `json:"events"`
}

// Every event type the simulator sends, each of which Rivet must accept.
var sentEvents = []string{
	"meeting.created", "meeting.updated", "meeting.deleted", "meeting.started", "meeting.ended",
	"meeting.participant_joined", "meeting.participant_left", "meeting.registration_created",
	"meeting.registration_approved", "meeting.registration_cancelled", "app_deauthorized",
}

const rivetAppID = "rivet-test-app" // the app rivet.mjs adds

// TestRivet checks the simulator against Zoom's own Node SDK, @zoom/rivet:
// rivettest/rivet.mjs drives a simulator with Rivet's OAuth installer,
// Meetings API client and webhook receiver, and this test checks what it
// reports against the simulator's state. Rivet's API calls go through a
// proxy that checks each request and answer against Zoom's spec. It needs
// node and `npm ci` in rivettest (.ci/run does it).
func TestRivet(t *testing.T) {
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat("rivettest/node_modules/@zoom/rivet/package.json")
	}
	if err != nil {
		msg := "needs node and Zoom's Node SDK: cd internal/zoomsim/rivettest && npm ci (" + err.Error() + ")"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// The real clock (Rivet keeps its tokens' expiry by it). Zoom gives an
	// endpoint 3 s to answer; a loaded machine may need more, and that is
	// not what this test is about.
	sim, err := New(Options{Seed: DefaultSeed(), Webhooks: WebhookOptions{Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	t.Cleanup(sim.Close)
	base, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(base)
	checked := httputil.NewSingleHostReverseProxy(target)
	checked.Transport = &specTransport{t: t, routers: specRouters(t, base)}
	api := httptest.NewServer(checked)
	t.Cleanup(api.Close)

	runCtx, stop := context.WithTimeout(ctx, 5*time.Minute)
	defer stop()
	cmd := exec.CommandContext(runCtx, node, "rivet.mjs")
	cmd.Dir = "rivettest"
	cmd.Env = append(os.Environ(), "SIM_URL="+base, "SIM_API_URL="+api.URL+"/v2")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var rep rivetReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("rivet.mjs: %v; its report does not parse (%v):\n%s\nstderr:\n%s", runErr, err, stdout.Bytes(), stderr.Bytes())
	}
	if runErr != nil || rep.Failure != "" {
		t.Fatalf("rivet.mjs: %v: %s\nstderr:\n%s", runErr, rep.Failure, stderr.Bytes())
	}

	step := func(name string, status int) map[string]any {
		t.Helper()
		for _, s := range rep.Steps {
			if s.Name == name {
				if s.Status != status || s.Error != nil {
					t.Errorf("%s: status %d error %v, want %d", name, s.Status, s.Error, status)
				}
				data, _ := s.Data.(map[string]any)
				return data
			}
		}
		t.Errorf("no step %s in the report", name)
		return nil
	}

	// OAuth: the authorization code without a verifier, then refreshes (the
	// tokens lived 30 s, under Rivet's 60 s margin).
	step("callback", 200)
	if n := len(rep.TokenRequests); n < 2 || rep.TokenRequests[0].GrantType != "authorization_code" || rep.TokenRequests[0].CodeVerifier {
		t.Errorf("token requests %+v, want authorization_code without code_verifier first", rep.TokenRequests)
	}
	for _, r := range rep.TokenRequests[1:] {
		if r.GrantType != "refresh_token" || r.URL != "https://zoom.us/oauth/token" {
			t.Errorf("token request %+v, want refresh_token to Zoom's token URL", r)
		}
	}

	// Meetings and registrants, as the simulator has them.
	created := step("createMeeting", 201)
	id, _ := created["id"].(float64)
	step("getMeeting", 200)
	step("updateMeeting", 204)
	step("getMeeting after update", 200)
	added := step("addMeetingRegistrant", 201)
	step("listMeetingRegistrants pending", 200)
	step("updateRegistrantsStatus approve", 204)
	batch := step("performBatchRegistration", 201)
	step("updateRegistrantsStatus cancel", 204)
	step("listMeetingRegistrants approved", 200)
	past := step("getPastMeetingParticipants", 200)
	step("deleteMeeting", 204)
	if _, ok := sim.Meeting(int64(id)); ok || id == 0 {
		t.Errorf("meeting %v: still on the simulator after deleteMeeting (or never created)", id)
	}
	if ps, _ := past["participants"].([]any); len(ps) != 1 || ps[0].(map[string]any)["registrant_id"] != added["registrant_id"] {
		t.Errorf("past participants %v, want the registrant %v", past, added["registrant_id"])
	}
	if rs, _ := batch["registrants"].([]any); len(rs) != 2 {
		t.Errorf("batch registration answered %v", batch)
	}
	for _, s := range rep.Steps {
		if s.Name == "getMeeting after removal" && (s.Error == nil || *s.Error != "OAuthTokenRefreshFailedError") {
			t.Errorf("after the app's removal: %v, want OAuthTokenRefreshFailedError", s.Error)
		}
	}

	// Webhooks: every delivery to the app accepted by Rivet's receiver at
	// the first attempt (it verifies x-zm-signature over the body as
	// JSON.stringify writes it), the same events in the same order in its
	// listeners, and every event type the simulator sends among them.
	var ds []Delivery
	for _, d := range sim.Deliveries() {
		if d.ClientID != rivetAppID {
			continue
		}
		if len(d.Attempts) != 1 || d.Attempts[0].Status != 200 {
			t.Errorf("%s: attempts %+v, want one answered 200", d.Event, d.Attempts)
		}
		if d.Event != "endpoint.url_validation" {
			ds = append(ds, d)
		}
	}
	if len(ds) != len(rep.Events) {
		t.Fatalf("%d deliveries, %d events in Rivet's listeners", len(ds), len(rep.Events))
	}
	var sent []string
	for i, d := range ds {
		var body map[string]any
		if err := json.Unmarshal(d.Body, &body); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(body, rep.Events[i]) {
			t.Errorf("event %d: Rivet got\n%v\nthe simulator sent\n%s", i, rep.Events[i], d.Body)
		}
		if !slices.Contains(sent, d.Event) {
			sent = append(sent, d.Event)
		}
	}
	slices.Sort(sent)
	want := slices.Sorted(slices.Values(sentEvents))
	if !slices.Equal(sent, want) {
		t.Errorf("event types delivered %v, want every one the simulator sends %v", sent, want)
	}
}

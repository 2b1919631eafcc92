package zoomsim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaultStatus(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com").unchecked()
	for _, op := range []string{"POST /v2/users/{userId}/meetings", "meetingCreate"} {
		for _, code := range []int{500, 502, 503} {
			ts.SetFaults(1, Fault{Kind: FaultStatus, Op: op, Rate: 1, Count: 1, Status: code})
			c.must(200, "GET", "/users/me", nil) // another operation
			status, out := c.do("POST", "/users/me/meetings", map[string]any{"topic": "t"})
			if status != code || out["code"] != float64(code) || out["message"] != http.StatusText(code) {
				t.Errorf("%s %d: %d %v", op, code, status, out)
			}
			c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "t"}) // Count spent
		}
	}
}

func TestFaultRateIsSeeded(t *testing.T) {
	ts := startSim(t, Options{Limits: &Limits{Off: true}})
	c := ts.client(t, "licensed@example.com").unchecked()
	run := func() []int {
		ts.SetFaults(42, Fault{Kind: FaultStatus, Rate: 0.3, Status: 503})
		var got []int
		for range 100 {
			status, _ := c.do("GET", "/users/me", nil)
			got = append(got, status)
		}
		return got
	}
	a, b := run(), run()
	hits := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different draws at %d: %v / %v", i, a, b)
		}
		if a[i] == 503 {
			hits++
		}
	}
	if hits < 10 || hits > 60 {
		t.Errorf("%d of 100 calls failed at rate 0.3", hits)
	}
	ts.ClearFaults()
	c.must(200, "GET", "/users/me", nil)
}

func TestFaultLatency(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	ts.SetFaults(1, Fault{Kind: FaultLatency, Op: "user", Rate: 1, Delay: 200 * time.Millisecond})
	start := time.Now()
	c.must(200, "GET", "/users/me", nil)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("answered after %v, want at least the 200ms injected", d)
	}
}

func TestFaultTimeout(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	get := func(hc *http.Client) error {
		req, _ := http.NewRequest("GET", ts.base+"/v2/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+c.access)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	// Held until the client gives up.
	ts.SetFaults(1, Fault{Kind: FaultTimeout, Rate: 1, Count: 1})
	err := get(&http.Client{Timeout: 300 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("client timeout: %v, want a deadline exceeded", err)
	}
	// Held for Delay, then the connection is dropped without an answer.
	ts.SetFaults(1, Fault{Kind: FaultTimeout, Rate: 1, Count: 1, Delay: 100 * time.Millisecond})
	if err := get(&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}); err == nil {
		t.Error("dropped connection: the client got an answer")
	}
	c.must(200, "GET", "/users/me", nil)
}

func TestFaultTokens(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	ts.SetFaults(1, Fault{Kind: FaultTokenExpired, Rate: 1, Count: 2})
	for range 2 {
		if status, out := c.do("GET", "/users/me", nil); status != 401 || out["code"] != float64(124) || out["message"] != "Access token is expired." {
			t.Errorf("expired: %d %v", status, out)
		}
	}
	c.must(200, "GET", "/users/me", nil)

	ts.SetFaults(1, Fault{Kind: FaultTokenRevoked, Op: "GET /v2/users/{userId}", Rate: 1, Count: 1})
	if status, out := c.do("GET", "/users/me", nil); status != 401 || out["code"] != float64(124) || out["message"] != "Invalid access token." {
		t.Errorf("revoked: %d %v", status, out)
	}
	// A revoked token stays revoked, for every operation.
	if status, out := c.do("GET", "/users/me/settings", nil); status != 401 || out["code"] != float64(124) {
		t.Errorf("after revocation: %d %v", status, out)
	}
	c2 := ts.client(t, "licensed@example.com") // authorizing again gives a working token
	c2.must(200, "GET", "/users/me", nil)
}

func TestDropWebhook(t *testing.T) {
	ts := startSim(t, Options{})
	if ts.dropWebhook("meeting.created") {
		t.Error("dropped without a fault")
	}
	ts.SetFaults(1, Fault{Kind: FaultDropWebhook, Op: "meeting.created", Rate: 1, Count: 2},
		Fault{Kind: FaultStatus, Rate: 1}) // a REST fault is not a webhook fault
	if !ts.dropWebhook("meeting.created") || ts.dropWebhook("meeting.deleted") || !ts.dropWebhook("meeting.created") {
		t.Error("drop meeting.created twice, nothing else")
	}
	if ts.dropWebhook("meeting.created") {
		t.Error("dropped after the count was spent")
	}
	ts.SetFaults(1, Fault{Kind: FaultDropWebhook, Rate: 1})
	if !ts.dropWebhook("app_deauthorized") {
		t.Error("a fault with no Op drops every event")
	}
	ts.ClearFaults()
	if ts.dropWebhook("app_deauthorized") {
		t.Error("dropped after ClearFaults")
	}
}

// "Fail the next N calls": a fault with a Count and no Rate hits every
// matching call until the count is spent, with no draw involved.
func TestFaultNextCalls(t *testing.T) {
	ts := startSim(t, Options{Limits: &Limits{Off: true}})
	c := ts.client(t, "licensed@example.com").unchecked()
	ts.SetFaults(1, Fault{Kind: FaultStatus, Op: "meetingCreate", Count: 3, Status: 502})
	c.must(200, "GET", "/users/me", nil) // another operation spends nothing
	for i := range 3 {
		if status, _ := c.do("POST", "/users/me/meetings", map[string]any{"topic": "t"}); status != 502 {
			t.Fatalf("call %d: %d, want 502", i+1, status)
		}
	}
	c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "t"})

	// The same over the control API, for a 429 and a lost answer.
	ts.ctlMust(t, 204, "POST", "/_sim/faults", map[string]any{"faults": []any{
		map[string]any{"kind": "rate_limit", "op": "GET /v2/users/{userId}", "count": 2},
		map[string]any{"kind": "lost_answer", "op": "meetingCreate", "count": 1, "delay": "10ms"},
	}})
	for range 2 {
		// With the limits off, the answer carries Zoom's published figures.
		status, h, out := c.doH("GET", "/users/me", nil)
		want429(t, status, h, out, "Light", "QPS", "30", "1", perSecondMessage)
	}
	c.must(200, "GET", "/users/me", nil)
	before := len(ts.State().Meetings)
	req, _ := http.NewRequest("POST", ts.base+"/v2/users/me/meetings", strings.NewReader(`{"topic":"lost"}`))
	req.Header.Set("Authorization", "Bearer "+c.access)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("lost answer: got %d", resp.StatusCode)
	}
	if got := len(ts.State().Meetings); got != before+1 {
		t.Errorf("lost answer: %d meetings, want %d (created, answer lost)", got, before+1)
	}
	c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "t"})
}

// An injected 429 is answered exactly as the rate limiter answers a real
// one: the same status, body and headers.
func TestFaultRateLimitAnswersAsTheLimiter(t *testing.T) {
	tests := []struct {
		name   string
		user   string
		limits func(*Limits)
		method string
		path   string
		fault  Fault
	}{
		{"per second", "licensed@example.com", func(l *Limits) { l.Plans[PlanPro].Rate[Medium] = Rate{N: 1, Per: time.Second} },
			"GET", "/users/me/settings", Fault{Kind: FaultRateLimit, Op: "userSettings", Count: 1}},
		{"per minute", "licensed@example.com", func(l *Limits) { l.Plans[PlanPro].Rate[Medium] = Rate{N: 1, Per: time.Minute} },
			"GET", "/users/me/settings", Fault{Kind: FaultRateLimit, Op: "userSettings", Count: 1}},
		{"a 429 status fault", "licensed@example.com", func(l *Limits) { l.Plans[PlanPro].Rate[Light] = Rate{N: 1, Per: time.Second} },
			"GET", "/users/me", Fault{Kind: FaultStatus, Status: 429, Op: "user", Count: 1}},
		{"account daily", "basic@example.com", func(l *Limits) { l.Plans[PlanFree].Daily[Light] = 1 },
			"GET", "/users/me", Fault{Kind: FaultRateLimit, RateLimitType: "Daily-limit", Op: "user", Count: 1}},
		{"host daily", "licensed@example.com", func(l *Limits) { l.MeetingWritesPerHost = 1 },
			"POST", "/users/me/meetings", Fault{Kind: FaultRateLimit, RateLimitType: "Daily-limit", Op: "meetingCreate", Count: 1}},
	}
	ts := startSim(t, Options{})
	clients := map[string]*apiClient{}
	for _, tt := range tests {
		if clients[tt.user] == nil {
			clients[tt.user] = ts.client(t, tt.user)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clients[tt.user]
			body := map[string]any(nil)
			if tt.method == "POST" {
				body = map[string]any{"topic": "t"}
			}
			// The real one: limits shortened so that the second call is
			// refused (SetLimits forgets the counts so far).
			l := ZoomLimits()
			tt.limits(&l)
			ts.SetLimits(l)
			c.doH(tt.method, tt.path, body)
			ts.clock.Advance(100 * time.Millisecond) // Retry-After counts whole seconds, rounded up
			wantStatus, wantH, wantOut := c.doH(tt.method, tt.path, body)
			if wantStatus != 429 {
				t.Fatalf("the real limit: %d %v", wantStatus, wantOut)
			}
			// The injected one, at the same moment, with the counts forgotten.
			ts.SetLimits(l)
			ts.SetFaults(1, tt.fault)
			status, h, out := c.doH(tt.method, tt.path, body)
			want429(t, status, h, out, wantH.Get("X-RateLimit-Category"), wantH.Get("X-RateLimit-Type"),
				wantH.Get("X-RateLimit-Limit"), wantH.Get("Retry-After"), wantOut["message"].(string))
			if status, _, _ := c.doH(tt.method, tt.path, body); status == 429 {
				t.Error("refused again after the count was spent")
			}
		})
	}
}

// A fault with a Meeting hits only the calls on that meeting, by the Go API
// and the control API alike.
func TestFaultOnOneMeeting(t *testing.T) {
	ts := startSim(t, Options{Limits: &Limits{Off: true}})
	c := ts.client(t, "licensed@example.com").unchecked()
	id := func(out map[string]any) int64 { return int64(out["id"].(float64)) }
	a := id(c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "a"}))
	b := id(c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "b"}))
	check := func(how string) {
		t.Helper()
		for range 3 {
			if status, _ := c.do("GET", fmt.Sprintf("/meetings/%d", a), nil); status != 503 {
				t.Errorf("%s: meeting a answered %d, want 503", how, status)
			}
			c.must(200, "GET", fmt.Sprintf("/meetings/%d", b), nil)
			c.must(200, "GET", "/users/me", nil) // on no meeting
		}
	}
	ts.SetFaults(1, Fault{Kind: FaultStatus, Meeting: a, Status: 503})
	check("SetFaults")
	ts.ctlMust(t, 204, "POST", "/_sim/faults", map[string]any{"faults": []any{
		map[string]any{"kind": "status", "meeting": a, "status": 503}}})
	check("POST /_sim/faults")
}

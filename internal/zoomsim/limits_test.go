package zoomsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// doH is do with the answer's headers.
func (c *apiClient) doH(method, path string, body any) (int, http.Header, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+"/v2"+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.access)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, raw)
		}
	}
	return resp.StatusCode, resp.Header, out
}

// want429 checks a 429 answer: Zoom's body and rate limit headers.
func want429(t *testing.T, status int, h http.Header, out map[string]any, category, typ, limit, retry, message string) {
	t.Helper()
	if status != 429 || out["code"] != float64(429) || out["message"] != message {
		t.Errorf("got %d %v, want 429 %q", status, out, message)
	}
	for k, v := range map[string]string{"X-RateLimit-Category": category, "X-RateLimit-Type": typ,
		"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": "0", "Retry-After": retry} {
		if h.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, h.Get(k), v)
		}
	}
}

const perSecondMessage = "You have reached the maximum per-second rate limit for this API. Try again later."

func TestPerSecondLimitsByPlanAndCategory(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	me, _ := ts.User("licensed@example.com")
	for _, tc := range []struct {
		plan     Plan
		path     string
		category string
		n        int
	}{
		{PlanPro, "/users/me", "Light", 30},
		{PlanPro, "/users/me/settings", "Medium", 20},
		{PlanBusiness, "/users/me", "Light", 80},
		{PlanBusiness, "/users/me/settings", "Medium", 60},
	} {
		t.Run(fmt.Sprintf("%s %s", tc.plan, tc.category), func(t *testing.T) {
			ts.SetPlan(me.AccountID, tc.plan)
			ts.clock.Advance(time.Second) // a fresh window
			for i := range tc.n {
				if status, h, out := c.doH("GET", tc.path, nil); status != 200 || h.Get("X-RateLimit-Category") != tc.category {
					t.Fatalf("call %d: %d %v %v", i+1, status, h, out)
				}
			}
			status, h, out := c.doH("GET", tc.path, nil)
			want429(t, status, h, out, tc.category, "QPS", fmt.Sprint(tc.n), "1", perSecondMessage)
			ts.clock.Advance(time.Second)
			c.must(200, "GET", tc.path, nil)
		})
	}
}

func TestFreePlanDailyLimit(t *testing.T) {
	l := ZoomLimits()
	l.Plans[PlanFree].Daily[Light] = 5                                     // Zoom: 6,000
	ts := startSim(t, Options{Limits: &l, AccessTokenTTL: 48 * time.Hour}) // the test crosses midnight
	c := ts.client(t, "basic@example.com")                                 // a Basic user's account is on Free
	for i := range 4 {                                                     // Free: 4 Light calls a second
		if status, h, _ := c.doH("GET", "/users/me", nil); status != 200 || h.Get("X-RateLimit-Remaining") != fmt.Sprint(4-i) {
			t.Fatalf("call %d: %d remaining %q", i+1, status, h.Get("X-RateLimit-Remaining"))
		}
	}
	status, h, out := c.doH("GET", "/users/me", nil)
	want429(t, status, h, out, "Light", "QPS", "4", "1", perSecondMessage)
	ts.clock.Advance(time.Second)
	c.must(200, "GET", "/users/me", nil)
	status, h, out = c.doH("GET", "/users/me", nil)
	want429(t, status, h, out, "Light", "Daily-limit", "5", "2030-04-02T00:00:00Z",
		"You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request.")
	ts.clock.Advance(15 * time.Hour) // past 00:00 UTC
	c.must(200, "GET", "/users/me", nil)
}

func TestMeetingWritesPerHostPerDay(t *testing.T) {
	ts := startSim(t, Options{AccessTokenTTL: 48 * time.Hour})
	c := ts.client(t, "licensed@example.com")
	path := meetingPath(c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "t"}))
	for i := 1; i < 100; i++ { // creates and updates count together
		ts.clock.Advance(time.Second)
		if status, h, out := c.doH("PATCH", path, map[string]any{"topic": "t"}); status != 204 || h.Get("X-RateLimit-Remaining") != fmt.Sprint(99-i) {
			t.Fatalf("update %d: %d %v %v", i, status, h, out)
		}
	}
	c.must(200, "GET", path, nil) // reads are not counted
	msg := "You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00."
	status, h, out := c.doH("POST", "/users/me/meetings", map[string]any{"topic": "t"})
	want429(t, status, h, out, "Light", "Daily-limit", "100", "2030-04-02T00:00:00Z", msg)
	status, h, out = c.doH("PATCH", path, map[string]any{"topic": "t"})
	want429(t, status, h, out, "Light", "Daily-limit", "100", "2030-04-02T00:00:00Z", msg)
	// Another host has its own count.
	ts.client(t, "numeric@example.com").must(201, "POST", "/users/me/meetings", map[string]any{"topic": "t"})
	ts.clock.Advance(15 * time.Hour)
	c.must(204, "PATCH", path, map[string]any{"topic": "t"})
}

func TestRegistrantAddsPerEmailPerDay(t *testing.T) {
	ts := startSim(t, Options{AccessTokenTTL: 48 * time.Hour})
	c := ts.client(t, "licensed@example.com")
	path := registrationMeeting(t, c, 0)
	other := registrationMeeting(t, c, 0)
	add := map[string]any{"email": "a@example.com", "first_name": "A"}
	for range 3 {
		c.must(201, "POST", path+"/registrants", add)
	}
	msg := "You have exceeded the daily rate limit (3) of Add meeting registrant API requests permitted for (A@example.com) this particular registrant. You may resume these requests at GMT 00:00:00."
	status, h, out := c.doH("POST", path+"/registrants", map[string]any{"email": "A@example.com", "first_name": "A"})
	want429(t, status, h, out, "Light", "Daily-limit", "3", "2030-04-02T00:00:00Z", msg)
	// A batch counts too, and is refused whole.
	batch := map[string]any{"registrants": []any{map[string]any{"email": "b@example.com", "first_name": "B"}, map[string]any{"email": "A@example.com", "first_name": "A"}}}
	status, h, out = c.doH("POST", path+"/batch_registrants", batch)
	want429(t, status, h, out, "Heavy", "Daily-limit", "3", "2030-04-02T00:00:00Z", msg)
	// Another e-mail, or the same e-mail on another meeting, is not limited.
	c.must(201, "POST", path+"/registrants", map[string]any{"email": "b@example.com", "first_name": "B"})
	c.must(201, "POST", other+"/registrants", add)
	ts.clock.Advance(15 * time.Hour)
	c.must(201, "POST", path+"/registrants", add)
}

func TestRegistrantsPerMeeting(t *testing.T) {
	if got := ZoomLimits().RegistrantsPerMeeting; got != 4999 {
		t.Errorf("Zoom's capacity: %d, want 4999", got)
	}
	l := ZoomLimits()
	l.RegistrantsPerMeeting = 3
	ts := startSim(t, Options{Limits: &l})
	c := ts.client(t, "licensed@example.com")
	path := registrationMeeting(t, c, 0)
	reg := func(e string) map[string]any { return map[string]any{"email": e, "first_name": "X"} }
	c.must(201, "POST", path+"/batch_registrants", map[string]any{"registrants": []any{reg("a@example.com"), reg("b@example.com")}})
	full := map[string]any{"registrants": []any{reg("c@example.com"), reg("d@example.com")}}
	if status, out := c.do("POST", path+"/batch_registrants", full); status != 400 || out["code"] != float64(3043) {
		t.Errorf("batch beyond capacity: %d %v", status, out)
	}
	c.must(201, "POST", path+"/registrants", reg("c@example.com"))
	if status, out := c.do("POST", path+"/registrants", reg("d@example.com")); status != 400 || out["code"] != float64(3043) || out["message"] != "Meeting has reached maximum attendee capacity." {
		t.Errorf("add beyond capacity: %d %v", status, out)
	}
	c.must(201, "POST", path+"/registrants", reg("a@example.com")) // already registered: no new seat
}

func TestLimitsOff(t *testing.T) {
	ts := startSim(t, Options{Limits: &Limits{Off: true}})
	c := ts.client(t, "basic@example.com") // Free: 4 Light calls a second
	path := meetingPath(c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "t"}))
	for range 120 {
		c.must(204, "PATCH", path, map[string]any{"topic": "t"})
	}
	// and back on at run time
	ts.SetLimits(ZoomLimits())
	for range 4 {
		c.must(200, "GET", path, nil)
	}
	if status, _ := c.do("GET", path, nil); status != 429 {
		t.Errorf("limits on again: %d, want 429", status)
	}
}

package zoomsim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// listAll pages through GET /users/{user}/meetings with the query q
// (type, page_size), answering the meeting ids in order and the pages.
func listAll(t *testing.T, c *apiClient, user, q string) (ids []int64, pages []map[string]any) {
	t.Helper()
	next := ""
	for range 100 {
		path := "/users/" + user + "/meetings?" + q
		if next != "" {
			path += "&next_page_token=" + next
		}
		out := c.must(200, "GET", path, nil)
		pages = append(pages, out)
		for _, m := range out["meetings"].([]any) {
			ids = append(ids, int64(m.(map[string]any)["id"].(float64)))
		}
		next, _ = out["next_page_token"].(string)
		if next == "" {
			return ids, pages
		}
	}
	t.Fatal("the list never ends")
	return nil, nil
}

func TestListMeetings(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	now := ts.clock.Now()
	create := func(c *apiClient, typ int, start time.Time) int64 {
		out := c.must(201, "POST", "/users/me/meetings", map[string]any{
			"topic": "t", "type": typ, "start_time": start.UTC().Format(zoomTime), "duration": 60,
		})
		return int64(out["id"].(float64))
	}
	// Created out of order; listed by start time.
	in3days := create(c, 2, now.Add(3*day))
	in1day := create(c, 2, now.Add(day))
	in8months := create(c, 2, now.Add(240*day))
	in2days := create(c, 2, now.Add(2*day))
	in1hour := create(c, 2, now.Add(time.Hour))
	create(c, 1, now) // instant: never listed
	create(ts.client(t, "numeric@example.com"), 2, now.Add(day))

	want := []int64{in1hour, in1day, in2days, in3days, in8months}
	ids, pages := listAll(t, c, "me", "page_size=2")
	if !slices.Equal(ids, want) {
		t.Errorf("listed %v, want %v", ids, want)
	}
	if len(pages) != 3 {
		t.Errorf("%d pages of 2 for 5 meetings, want 3", len(pages))
	}
	for _, p := range pages {
		if p["page_size"] != float64(2) || p["total_records"] != float64(5) {
			t.Errorf("page: page_size %v, total_records %v, want 2 and 5", p["page_size"], p["total_records"])
		}
	}
	first := pages[0]["meetings"].([]any)[0].(map[string]any)
	got := c.must(200, "GET", fmt.Sprintf("/meetings/%d", in1hour), nil)
	for _, k := range []string{"uuid", "host_id", "topic", "type", "start_time", "duration", "timezone", "created_at", "join_url"} {
		if first[k] != got[k] {
			t.Errorf("listed %s = %v, get says %v", k, first[k], got[k])
		}
	}
	if _, ok := first["password"]; ok {
		t.Errorf("a listed meeting has a passcode: %v", first)
	}
	// The default page size is 30; the largest 300.
	if out := c.must(200, "GET", "/users/me/meetings", nil); out["page_size"] != float64(30) || out["next_page_token"] != "" {
		t.Errorf("default page: %v", out)
	}
	if out := c.unchecked().must(200, "GET", "/users/me/meetings?page_size=1000", nil); out["page_size"] != float64(300) {
		t.Errorf("page_size=1000 answers page_size %v, want 300", out["page_size"])
	}

	// upcoming gives six months; a deleted meeting between pages shifts nothing.
	if ids, _ := listAll(t, c, "me", "type=upcoming&page_size=3"); !slices.Equal(ids, want[:4]) {
		t.Errorf("upcoming %v, want %v (not the one in 8 months)", ids, want[:4])
	}
	out := c.must(200, "GET", "/users/me/meetings?page_size=2", nil)
	c.must(204, "DELETE", fmt.Sprintf("/meetings/%d", in1day), nil)
	out = c.must(200, "GET", "/users/me/meetings?page_size=2&next_page_token="+out["next_page_token"].(string), nil)
	if m := out["meetings"].([]any); len(m) != 2 || int64(m[0].(map[string]any)["id"].(float64)) != in2days {
		t.Errorf("after deleting a listed meeting, the next page is %v, want from %d", m, in2days)
	}

	// Live and previous meetings.
	if _, err := ts.Join(JoinRequest{MeetingID: in1hour, Email: "licensed@example.com", Name: "Host"}); err != nil {
		t.Fatal(err)
	}
	if ids, _ := listAll(t, c, "me", "type=live"); !slices.Equal(ids, []int64{in1hour}) {
		t.Errorf("live %v, want %v", ids, []int64{in1hour})
	}
	if err := ts.EndMeeting(in1hour); err != nil {
		t.Fatal(err)
	}
	ts.clock.Advance(2*day + 12*time.Hour)
	c = ts.client(t, "licensed@example.com") // the old token has expired
	if ids, _ := listAll(t, c, "me", "type=previous_meetings"); !slices.Equal(ids, []int64{in1hour, in2days}) {
		t.Errorf("previous %v, want %v", ids, []int64{in1hour, in2days})
	}
	// Thirty days after its start a meeting has expired and is not listed.
	ts.clock.Advance(28 * day)
	c = ts.client(t, "licensed@example.com")
	if ids, _ := listAll(t, c, "me", "type=scheduled"); !slices.Equal(ids, []int64{in2days, in3days, in8months}) {
		t.Errorf("scheduled after a month %v, want %v", ids, []int64{in2days, in3days, in8months})
	}
}

func TestListMeetingsRefusals(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	for range 3 {
		c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "t", "type": 2})
	}
	out := c.must(200, "GET", "/users/me/meetings?page_size=1", nil)
	next := out["next_page_token"].(string)

	tests := []struct {
		name, path string
		status     int
		code       float64
	}{
		{"another user", "/users/someone-else/meetings", 404, 1001},
		{"a token of another type", "/users/me/meetings?type=upcoming&page_size=1&next_page_token=" + next, 400, 300},
		{"a made-up token", "/users/me/meetings?next_page_token=bm9uc2Vuc2U", 400, 300},
	}
	for _, tt := range tests {
		if status, out := c.do("GET", tt.path, nil); status != tt.status || out["code"] != tt.code {
			t.Errorf("%s: %d %v, want %d code %v", tt.name, status, out, tt.status, tt.code)
		}
	}
	// The spec forbids these; Zoom answers them with a validation error.
	for _, q := range []string{"type=all", "page_size=ten"} {
		if status, out := c.unchecked().do("GET", "/users/me/meetings?"+q, nil); status != 400 || out["code"] != float64(300) {
			t.Errorf("%s: %d %v, want 400 code 300", q, status, out)
		}
	}
	// The token lasts 15 minutes.
	ts.clock.Advance(16 * time.Minute)
	if status, out := c.do("GET", "/users/me/meetings?page_size=1&next_page_token="+next, nil); status != 400 || !strings.Contains(fmt.Sprint(out["message"]), "expired") {
		t.Errorf("a token 16 minutes old: %d %v, want 400 expired", status, out)
	}
}

// TestListMeetingsRateLimit: List meetings is MEDIUM in the spec.
func TestListMeetingsRateLimit(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	l := ZoomLimits()
	l.Plans[PlanPro].Rate[Medium] = Rate{N: 1, Per: time.Second}
	ts.SetLimits(l)
	status, h, _ := c.doH("GET", "/users/me/meetings", nil)
	if status != 200 || h.Get("X-RateLimit-Category") != "Medium" {
		t.Fatalf("first list: %d, category %q, want 200 Medium", status, h.Get("X-RateLimit-Category"))
	}
	status, h, out := c.doH("GET", "/users/me/meetings", nil)
	want429(t, status, h, out, "Medium", "QPS", "1", "1",
		"You have reached the maximum per-second rate limit for this API. Try again later.")
}

package zoomsim

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
)

func registrationMeeting(t *testing.T, c *apiClient, approval int) string {
	t.Helper()
	m := c.must(201, "POST", "/users/me/meetings", map[string]any{"topic": "t", "type": 2,
		"start_time": "2030-05-01T01:00:00Z", "settings": map[string]any{"approval_type": approval}})
	return meetingPath(m)
}

func TestRegistrants(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	path := registrationMeeting(t, c, 1) // manual approval, as kaisai uses it

	// One registrant, pushed with auto_approve.
	r := c.must(201, "POST", path+"/registrants", map[string]any{"email": "a@example.com", "first_name": "A", "auto_approve": true})
	if r["registrant_id"] == "" || r["join_url"] == "" || !pwdParam.MatchString(r["join_url"].(string)) {
		t.Errorf("registrant: %v", r)
	}
	// The same e-mail again keeps its registrant id.
	again := c.must(201, "POST", path+"/registrants", map[string]any{"email": "A@example.com", "first_name": "A"})
	if again["registrant_id"] != r["registrant_id"] {
		t.Errorf("re-adding an e-mail: %v, want registrant %v", again["registrant_id"], r["registrant_id"])
	}
	// Without auto_approve a manual-approval meeting keeps them pending.
	c.must(201, "POST", path+"/registrants", map[string]any{"email": "p@example.com", "first_name": "P"})
	pending := c.must(200, "GET", path+"/registrants?status=pending", nil)
	if pending["total_records"] != float64(1) {
		t.Errorf("pending: %v", pending)
	}
	// The host cannot register.
	if status, out := c.do("POST", path+"/registrants", map[string]any{"email": "licensed@example.com", "first_name": "H"}); status != 400 || out["code"] != float64(3027) {
		t.Errorf("host registering: %d %v", status, out)
	}

	// Batches of at most 30.
	var batch []map[string]any
	for i := range 30 {
		batch = append(batch, map[string]any{"email": fmt.Sprintf("b%02d@example.com", i), "first_name": "B"})
	}
	out := c.must(201, "POST", path+"/batch_registrants", map[string]any{"auto_approve": true, "registrants": batch})
	if n := len(out["registrants"].([]any)); n != 30 {
		t.Errorf("batch answered %d registrants", n)
	}
	tooMany := append(batch, map[string]any{"email": "x@example.com", "first_name": "X"})
	if status, out := c.do("POST", path+"/batch_registrants", map[string]any{"registrants": tooMany}); status != 400 || out["code"] != float64(300) {
		t.Errorf("31 in a batch: %d %v", status, out)
	}

	// Paging through the 31 approved ones, 10 at a time.
	seen := map[string]bool{}
	token := ""
	for pages := 0; ; pages++ {
		q := url.Values{"page_size": {"10"}}
		if token != "" {
			q.Set("next_page_token", token)
		}
		page := c.must(200, "GET", path+"/registrants?"+q.Encode(), nil)
		if page["total_records"] != float64(31) {
			t.Fatalf("total_records %v", page["total_records"])
		}
		for _, r := range page["registrants"].([]any) {
			seen[r.(map[string]any)["id"].(string)] = true
		}
		token = page["next_page_token"].(string)
		if token == "" || pages > 5 {
			break
		}
	}
	if len(seen) != 31 {
		t.Errorf("paging saw %d registrants, want 31", len(seen))
	}

	// Cancel, then the list of approved ones shrinks; approve the pending one.
	c.must(204, "PUT", path+"/registrants/status", map[string]any{"action": "cancel",
		"registrants": []map[string]any{{"id": r["registrant_id"]}, {"email": "b00@example.com"}}})
	c.must(204, "PUT", path+"/registrants/status", map[string]any{"action": "approve",
		"registrants": []map[string]any{{"email": "p@example.com"}}})
	if got := c.must(200, "GET", path+"/registrants?page_size=300", nil)["total_records"]; got != float64(30) {
		t.Errorf("approved after cancel and approve: %v, want 30", got)
	}
	if got := c.must(200, "GET", path+"/registrants?status=denied", nil)["total_records"]; got != float64(2) {
		t.Errorf("cancelled: %v, want 2", got)
	}
	var ids []map[string]any
	for i := range 31 {
		ids = append(ids, map[string]any{"email": fmt.Sprintf("b%02d@example.com", i)})
	}
	if status, out := c.do("PUT", path+"/registrants/status", map[string]any{"action": "cancel", "registrants": ids}); status != 400 || out["code"] != float64(300) {
		t.Errorf("31 in a status call: %d %v", status, out)
	}

	// Delete.
	c.must(204, "DELETE", path+"/registrants/"+r["registrant_id"].(string), nil)
	if status, out := c.do("DELETE", path+"/registrants/"+r["registrant_id"].(string), nil); status != 400 || out["code"] != float64(300) {
		t.Errorf("deleting twice: %d %v", status, out)
	}

	// Past participants: none yet.
	p := c.must(200, "GET", "/past_meetings/"+path[len("/meetings/"):]+"/participants", nil)
	if p["total_records"] != float64(0) {
		t.Errorf("participants: %v", p)
	}
}

func TestRegistrationNotEnabled(t *testing.T) {
	ts := startSim(t, Options{})
	c := ts.client(t, "licensed@example.com")
	path := registrationMeeting(t, c, 2)
	if status, out := c.do("POST", path+"/registrants", map[string]any{"email": "a@example.com", "first_name": "A"}); status != 400 || out["code"] != float64(300) {
		t.Errorf("registrant on a meeting without registration: %d %v", status, out)
	}
	// Zoom documents error code 404 (in a 400 answer) for batches.
	if status, out := c.do("POST", path+"/batch_registrants", map[string]any{"registrants": []map[string]any{{"email": "a@example.com", "first_name": "A"}}}); status != 400 || out["code"] != float64(404) {
		t.Errorf("batch on a meeting without registration: %d %v", status, out)
	}
}

// TestConcurrentUse is meant for -race: many clients on one meeting.
func TestConcurrentUse(t *testing.T) {
	// The test clock stands still, so the per-second limits would never
	// reset: they are off here (limits_test.go tests them).
	ts := startSim(t, Options{StateFile: t.TempDir() + "/state.json", Limits: &Limits{Off: true}})
	c := ts.client(t, "licensed@example.com")
	path := registrationMeeting(t, c, 0)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 10 {
				c.must(201, "POST", path+"/registrants", map[string]any{"email": fmt.Sprintf("w%d-%d@example.com", w, i), "first_name": "W"})
				c.must(200, "GET", path, nil)
			}
		})
	}
	wg.Wait()
	if got := c.must(200, "GET", path+"/registrants?page_size=300", nil)["total_records"]; got != float64(80) {
		t.Errorf("registrants after concurrent adds: %v, want 80", got)
	}
}

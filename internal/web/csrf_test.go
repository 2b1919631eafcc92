package web_test

import (
	"net/http"
	"testing"

	"kaisai/internal/testdb"
)

// TestCrossOriginPostsAreRefused: a form posted from another site (as the
// browser's Sec-Fetch-Site or Origin header tells) is refused with 403 and
// changes nothing; the same request from kaisai's own pages goes through.
func TestCrossOriginPostsAreRefused(t *testing.T) {
	t.Parallel()
	a := startKaisai(t, testdb.SQLite(t))
	owner := newClient(t, a)
	owner.signup("CSRF対策", "csrf@example.com")
	eventID := owner.createEvent(eventSpec{Title: "公開イベント"})
	groupID := owner.addGroup(eventID, placeGroup("横浜市"))
	scheduleID := owner.addSchedule(eventID, groupID, 5)
	public := owner.publicPath(eventID)

	crossSite := [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"}, // a sibling subdomain is another site for kaisai
		{"Origin", "http://evil.example"},
	}
	for _, h := range crossSite {
		r := owner.post("/events/new", eventSpec{Title: "偽のイベント"}.form(), h...)
		wantStatus(t, r, http.StatusForbidden)
		wantText(t, r, ja("error.cross_origin"))

		participant := newClient(t, a)
		key := participant.applyForm(public)
		r = participant.postApply(public, applyValues(scheduleID, "偽の申込", "victim@example.com", key), h...)
		wantStatus(t, r, http.StatusForbidden)
		wantText(t, r, ja("error.cross_origin"))

		r = owner.post("/logout", nil, h...)
		wantStatus(t, r, http.StatusForbidden)
	}
	wantNoText(t, owner.get("/events"), "偽のイベント")
	if rows := owner.applications(eventID); len(rows) != 0 {
		t.Fatalf("cross-site apply created applications: %+v", rows)
	}
	// Still logged in: the cross-site logout did nothing.
	wantStatus(t, owner.get("/events"), http.StatusOK)

	// The control: the same requests from kaisai's own pages succeed, so
	// the 403s above are the guard's and not something else.
	sameOrigin := [][]string{{"Sec-Fetch-Site", "same-origin"}, {"Origin", owner.base}, {"Sec-Fetch-Site", "none"}}
	for _, h := range sameOrigin {
		id := eventPathRE.FindStringSubmatch(owner.post("/events/new", eventSpec{Title: "本物のイベント"}.form(), h...).LocationPath())
		if id == nil {
			t.Fatalf("same-origin event creation (%v) failed", h)
		}
	}
	participant := newClient(t, a)
	key := participant.applyForm(public)
	tokenOf(t, participant.postApply(public, applyValues(scheduleID, "本物の申込", "real@example.com", key),
		"Sec-Fetch-Site", "same-origin"))
	if rows := owner.applications(eventID); len(rows) != 1 || rows[0].Email != "real@example.com" {
		t.Fatalf("applications: %+v", rows)
	}
}

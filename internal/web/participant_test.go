package web_test

// The participant's side: a submit key belongs to one submission, the
// flash shown once, the 認証 (Zoom sign-in) notice, the application page's
// join button and the resending of application links.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kaisai/internal/testdb"
)

// TestSubmitKeyReusedByAnotherPerson: a form sent once and sent again with
// another name and e-mail (the next person at a shared browser, the back
// button) does not lead to the first person's page: the sender gets a
// fresh form with what they typed and a message, and nothing is created.
func TestSubmitKeyReusedByAnotherPerson(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("共用端末", "shared@example.com")
		eventID := owner.createEvent(eventSpec{Title: "共用端末テスト"})
		groupID := owner.addGroup(eventID, placeGroup("札幌市"))
		first := owner.addSchedule(eventID, groupID, 10)
		second := owner.addSchedule(eventID, groupID, 10)
		public := owner.publicPath(eventID)

		c := newClient(t, a)
		key := c.applyForm(public)
		token := tokenOf(t, c.postApply(public, applyValues(first, "最初 花子", "hanako@example.com", key)))

		for _, tc := range []struct {
			name, person, email string
			schedule            int64
		}{
			{"another person", "次の 太郎", "taro@example.com", first},
			{"same person, another date", "最初 花子", "hanako@example.com", second},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := len(owner.applications(eventID))
				r := c.postApply(public, applyValues(tc.schedule, tc.person, tc.email, key))
				wantStatus(t, r, http.StatusConflict)
				wantText(t, r, ja("apply.key_used"), tc.person, tc.email)
				wantNoText(t, r, token, "/a/")
				if tc.email != "hanako@example.com" {
					wantNoText(t, r, "hanako@example.com", "最初 花子")
				}
				fresh := valueRE.FindStringSubmatch(submitKeyRE.FindString(r.Body))
				if fresh == nil || fresh[1] == "" || fresh[1] == key {
					t.Fatalf("the refused form carries no fresh submit key: %s", r)
				}
				if n := len(owner.applications(eventID)); n != before {
					t.Fatalf("the refused submit changed the organizer's list from %d to %d applications", before, n)
				}
				// The fresh form goes through, to an application of its own.
				if tok := tokenOf(t, c.postApply(public, applyValues(tc.schedule, tc.person, tc.email, fresh[1]))); tok == token {
					t.Fatal("the fresh form led to the first person's application")
				}
			})
		}
		// The same person sending the same form again still finds theirs.
		if got := tokenOf(t, c.postApply(public, applyValues(first, "最初 花子", "HANAKO@example.com", key))); got != token {
			t.Fatalf("the same submission again led to %s, want %s", got, token)
		}
	})
}

// TestFlashShownOnce: the message of a redirect is shown on the page it
// leads to, once: not on a reload, not on a bookmark of that page (the old
// ?flash= link included), and not on another page opened meanwhile.
func TestFlashShownOnce(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("一度だけ", "once@example.com")
		eventID := owner.createEvent(eventSpec{Title: "一度だけの表示"})
		groupID := owner.addGroup(eventID, placeGroup("仙台市"))
		scheduleID := owner.addSchedule(eventID, groupID, 10)
		public := owner.publicPath(eventID)

		c := newClient(t, a)
		key := c.applyForm(public)
		r := c.postApply(public, applyValues(scheduleID, "一度 花子", "once-hanako@example.com", key))
		token := tokenOf(t, r)
		if strings.Contains(r.Location(), "flash") {
			t.Errorf("the redirect carries its message in the URL: %q", r.Location())
		}
		// Another page opened in between leaves the message alone.
		wantNoText(t, c.get(public), ja("flash.applied"))
		r = c.get(r.Location())
		wantText(t, r, ja("flash.applied"))
		// Shown once: a reload does not say it again.
		wantNoText(t, c.get("/a/"+token), ja("flash.applied"))
		// Nor does a link that still carries the message (a bookmark
		// made before), in this browser or another.
		wantNoText(t, c.get("/a/"+token+"?flash=flash.applied"), ja("flash.applied"))
		wantNoText(t, newClient(t, a).get("/a/"+token+"?flash=flash.applied"), ja("flash.applied"))

		// The same for an organizer's page.
		r = owner.post("/events/"+itoa(eventID)+"/mail/reset", url.Values{"kind": {"applied"}})
		loc := wantRedirect(t, r, "/events/"+itoa(eventID)+"/mail")
		wantText(t, owner.get(loc), ja("flash.mail_template_reset"))
		wantNoText(t, owner.get(loc), ja("flash.mail_template_reset"))
	})
}

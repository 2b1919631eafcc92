package web_test

// The participant's side: a submit key belongs to one submission, the
// flash shown once, the 認証 (Zoom sign-in) notice, the application page's
// join button and the resending of application links.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

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
				fresh := submitKey(t, r)
				if fresh == "" || fresh == key {
					t.Fatalf("the refused form carries no fresh submit key: %s", r)
				}
				if n := len(owner.applications(eventID)); n != before {
					t.Fatalf("the refused submit changed the organizer's list from %d to %d applications", before, n)
				}
				// The fresh form goes through, to an application of its own.
				if tok := tokenOf(t, c.postApply(public, applyValues(tc.schedule, tc.person, tc.email, fresh))); tok == token {
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

// mailTo is the body of the one mail of the log to email whose subject
// contains subject.
func mailTo(t *testing.T, rows []mailRow, email, subject string) string {
	t.Helper()
	var found []string
	for _, row := range rows {
		if strings.Contains(strings.ToLower(row.Text), email) && strings.Contains(row.Subject, subject) {
			found = append(found, row.Body)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d mails to %s with %q in the subject, want 1: %+v", len(found), email, subject, rows)
	}
	return found[0]
}

// TestAppliedMailSaysStatus: the 申込完了 mail says what is true of the
// application: a seat held for 申込済, the waitlist only for キャンセル待ち.
func TestAppliedMailSaysStatus(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("申込完了メール", "status-mail@example.com")
		eventID := owner.createEvent(eventSpec{Title: "一席だけの会", Waitlist: true})
		groupID := owner.addGroup(eventID, placeGroup("福岡市"))
		scheduleID := owner.addSchedule(eventID, groupID, 1)
		public := owner.publicPath(eventID)
		newClient(t, a).apply(public, scheduleID, "確定 花子", "seated@example.com")
		newClient(t, a).apply(public, scheduleID, "待機 次郎", "waiting@example.com")

		_, rows := owner.waitMailLog(2)
		subject := strings.TrimPrefix(ja("mail.default.applied.subject"), "【{event}】")
		seated := mailTo(t, rows, "seated@example.com", subject)
		waiting := mailTo(t, rows, "waiting@example.com", subject)
		if !strings.Contains(seated, ja("mail.status_note.applied")) || strings.Contains(seated, "キャンセル待ち") {
			t.Errorf("the 申込済 participant's mail should say the seat is held, and nothing of the waitlist:\n%s", seated)
		}
		if !strings.Contains(waiting, ja("mail.status_note.waitlisted")) || strings.Contains(waiting, ja("mail.status_note.applied")) {
			t.Errorf("the キャンセル待ち participant's mail should say they wait for a seat:\n%s", waiting)
		}
	})
}

// TestZoomSignInNotice: with 認証 (Zoomにサインイン) ON, the public page, the
// application page and the mail carrying the join URL say the participant
// must sign in to Zoom with the e-mail they applied with; with it OFF none
// does. The application page's join URL is a 「Zoomに参加する」 button.
func TestZoomSignInNotice(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		const host = "licensed@example.com"
		o := newZoomOrganizer(t, db, host)
		for i, tc := range []struct {
			name   string
			signIn bool
		}{{"認証ON", true}, {"認証OFF", false}} {
			var extra []string
			if tc.signIn {
				extra = []string{"zoom_authentication", "1"}
			}
			ev, sc, m := o.zoomScheduleEvent(t, eventSpec{Title: "サインイン" + tc.name}, host, extra...)
			if m.JoinURL == "" {
				t.Fatalf("%s: the meeting has no join URL: %+v", tc.name, m)
			}
			public := o.c.publicPath(ev)
			p := newClient(t, o.w.app)
			pub := p.get(public)
			wantStatus(t, pub, http.StatusOK)
			email := "signin" + itoa(int64(i)) + "@example.com"
			token := p.apply(public, sc, "参加 "+tc.name, email)
			page := p.get("/a/" + token)
			wantStatus(t, page, http.StatusOK)
			_, rows := o.c.waitMailLog(i + 1)
			body := mailTo(t, rows, email, strings.TrimPrefix(ja("mail.default.applied.subject"), "【{event}】"))

			texts := []struct {
				where string
				r     *resp
				text  string
			}{
				{"public page", pub, ja("public.zoom_signin")},
				{"application form", pub, ja("public.zoom_signin_email")},
				{"application page", page, ja("application.zoom_signin", email)},
				{"mail", &resp{Body: body}, ja("mail.zoom_signin", email)},
			}
			for _, x := range texts {
				if x.r.Has(x.text) != tc.signIn {
					t.Errorf("%s: %s shows the sign-in notice: %v, want %v:\n%s", tc.name, x.where, !tc.signIn, tc.signIn, x.r.Text())
				}
			}
			if !strings.Contains(body, m.JoinURL) {
				t.Errorf("%s: the mail has no join URL:\n%s", tc.name, body)
			}
			// The join URL is a button, its URL shown beside it to copy.
			btn := page.doc(t).First("a.button.join")
			if btn.Attr("href") != m.JoinURL || btn.Text() != ja("application.join_zoom") {
				t.Errorf("%s: no 「%s」 button to %s: %s", tc.name, ja("application.join_zoom"), m.JoinURL, page)
			}
		}
	})
}

// TestResendApplicationLinks: 申込内容の確認メールを再送 mails an address that
// applied the links to its applications of the event (and none of another
// address's), answers an address that did not apply the same and mails it
// nothing, refuses a bad address saying why, and limits requests per
// address and per client (429, saying when to try again, nothing recorded).
func TestResendApplicationLinks(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := &clock{}
		a := startKaisai(t, db, clk.option())
		owner := newClient(t, a)
		owner.signup("再送", "resend-owner@example.com")
		eventID := owner.createEvent(eventSpec{Title: "再送テスト"})
		groupID := owner.addGroup(eventID, placeGroup("那覇市"))
		first := owner.addSchedule(eventID, groupID, 10)
		second := owner.addSchedule(eventID, groupID, 10)
		public := owner.publicPath(eventID)
		p := newClient(t, a)
		t1 := p.apply(public, first, "再送 花子", "hanako@example.com")
		t2 := p.apply(public, second, "再送 花子", "Hanako@example.com")
		other := p.apply(public, first, "別人 次郎", "jiro@example.com")
		owner.waitMailLog(3)

		links := public + "/links"
		r := p.get(public)
		if !r.doc(t).Has(`a[href="` + links + `"]`) {
			t.Fatalf("the public page does not link to %s: %s", links, r)
		}
		wantText(t, p.get(links), ja("links.title"), ja("links.intro"))

		// A bad address: said so, nothing sent.
		r = p.post(links, url.Values{"email": {"not-an-address"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.email"), "not-an-address")

		// The address that applied, typed differently.
		answer := func(email string) *resp {
			t.Helper()
			c := newClient(t, a)
			r := c.post(links, url.Values{"email": {email}})
			wantRedirect(t, r, links)
			if flashOf(r) != "flash.links_sent" {
				t.Fatalf("request for %s: want the links_sent flash, got %s", email, r)
			}
			page := c.get(r.Location())
			wantText(t, page, ja("flash.links_sent"))
			return page
		}
		applied := answer(" HANAKO@example.com ")
		_, rows := owner.waitMailLog(4)
		subject := strings.TrimPrefix(ja("mail.default.application_links.subject"), "【{event}】")
		body := mailTo(t, rows, "hanako@example.com", subject)
		for _, tok := range []string{t1, t2} {
			if !strings.Contains(body, "/a/"+tok) {
				t.Errorf("the mail lacks the link to /a/%s:\n%s", tok, body)
			}
		}
		if strings.Contains(body, other) {
			t.Errorf("the mail links another person's application:\n%s", body)
		}

		// An address that never applied: the same answer, no mail.
		notApplied := answer("nobody@example.com")
		if applied.Text() != notApplied.Text() {
			t.Errorf("the answers differ for an address that applied and one that did not:\n%s\n%s", applied, notApplied)
		}
		wantNoText(t, applied, "hanako@example.com", t1)
		owner.waitMailLog(4)
		for _, row := range func() []mailRow { _, rs := owner.mailLog(); return rs }() {
			if strings.Contains(row.Text, "nobody@example.com") {
				t.Fatalf("a mail went to an address that never applied: %+v", row)
			}
		}

		// Per address: the limit, then 429 saying when.
		c := newClient(t, a)
		for i := 1; i < 3; i++ { // one was made above
			wantRedirect(t, c.post(links, url.Values{"email": {"hanako@example.com"}}), links)
		}
		_, rows = owner.waitMailLog(6)
		r = c.post(links, url.Values{"email": {"hanako@example.com"}})
		wantStatus(t, r, http.StatusTooManyRequests)
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After: %s", r)
		}
		if !strings.Contains(r.Text(), strings.SplitN(ja("links.too_many", "%s"), "%s", 2)[0]) {
			t.Fatalf("the refusal does not say why: %s", r)
		}
		// Another address from a fresh client still goes.
		wantRedirect(t, newClient(t, a).post(links, url.Values{"email": {"jiro@example.com"}}), links)
		_, after := owner.waitMailLog(7)
		if len(after) != len(rows)+1 {
			t.Fatalf("mails: %d, want %d", len(after), len(rows)+1)
		}

		// Per client (every test client is 127.0.0.1): five requests so
		// far; five more addresses, then 429 whatever the address.
		for i := 0; i < 5; i++ {
			wantRedirect(t, c.post(links, url.Values{"email": {"probe" + itoa(int64(i)) + "@example.com"}}), links)
		}
		r = c.post(links, url.Values{"email": {"probe-next@example.com"}})
		wantStatus(t, r, http.StatusTooManyRequests)
		// An hour later both limits have passed.
		clk.Advance(61 * time.Minute)
		wantRedirect(t, c.post(links, url.Values{"email": {"hanako@example.com"}}), links)
		owner.waitMailLog(8)
	})
}

package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaisai/internal/eventually"
	"kaisai/internal/htmltest"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// holdRegistrantList keeps the job workers off a meeting's registrant list
// (held by a lease that lasts a day), once any sync in flight is over: the
// test then sets the registrant rows itself under that lease, as the sync
// would record them.
func (o *zoomOrganizer) holdRegistrantList(t *testing.T, meetingRowID int64) store.Lease {
	t.Helper()
	db := o.st.WriteDB()
	eventually.True(t, fmt.Sprintf("the registrant list of meeting %d to settle", meetingRowID), func() bool {
		var busy int
		if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM zoom_meetings
			WHERE id = $1 AND (reg_due_at IS NOT NULL OR reg_lease_owner IN (SELECT owner FROM work_leases))`,
			meetingRowID).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		return busy == 0
	})
	l, err := o.st.TakeLease(context.Background(), "test", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), `UPDATE zoom_meetings SET reg_lease_owner = $1 WHERE id = $2`,
		l.Owner, meetingRowID); err != nil {
		t.Fatal(err)
	}
	return l
}

// registrantListDue reads whether a meeting's list is due, and its attempts.
func (o *zoomOrganizer) registrantListDue(t *testing.T, meetingRowID int64) (due bool, attempts int) {
	t.Helper()
	var n int
	if err := o.st.WriteDB().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM zoom_meetings
		WHERE id = $1 AND reg_due_at IS NOT NULL`, meetingRowID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := o.st.WriteDB().QueryRowContext(context.Background(), `SELECT reg_attempts FROM zoom_meetings
		WHERE id = $1`, meetingRowID).Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	return n > 0, attempts
}

// zoomScheduleEvent creates an event with a Zoom group of host (extra: more
// group form fields) and one schedule, and waits for its meeting.
func (o *zoomOrganizer) zoomScheduleEvent(t *testing.T, spec eventSpec, host string, extra ...string) (eventID, scheduleID int64, m store.ZoomMeeting) {
	t.Helper()
	eventID = o.c.createEvent(spec)
	groupID := o.c.addGroup(eventID, zoomGroup(o.hosts[host], "a1b2c3d4", extra...))
	scheduleID = o.c.addSchedule(eventID, groupID, 10)
	ms := o.meetings(t, eventID)
	if len(ms) != 1 {
		t.Fatalf("want one meeting row, got %+v", ms)
	}
	return eventID, scheduleID, o.waitMeeting(t, ms[0].ID, "created", created)
}

// zoomCell is the Zoom column of an application's row in 申込者一覧.
func zoomCell(t *testing.T, r *resp, appID int64) htmltest.Node {
	t.Helper()
	c := r.doc(t).First(fmt.Sprintf(`tr.application[data-id="%d"] td.zoom-cell`, appID))
	if !c.Valid() {
		t.Fatalf("application %d has no Zoom cell: %s", appID, r)
	}
	return c
}

// TestZoomRegistrantStates: with 登録, 申込者一覧 and the applicant's page
// show each application's place on the meeting's registrant list, エラー
// with why and 再試行 (which makes the list due), and the participant's page
// gives the personal join URL once registered, a wait message before; never
// the meeting's URL. Another organization cannot retry.
func TestZoomRegistrantStates(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		const host = "licensed@example.com"
		o := newZoomOrganizer(t, db, host)
		c := o.c
		ev, sc, m := o.zoomScheduleEvent(t, eventSpec{Title: "Zoom登録セミナー"}, host, "zoom_registration", "1")
		l := o.holdRegistrantList(t, m.ID)

		pub := c.publicPath(ev)
		p := newClient(t, o.w.app)
		emails := []string{"none@example.com", "adding@example.com", "registered@example.com",
			"cancelled@example.com", "failed@example.com"}
		tokens := map[string]string{}
		for _, e := range emails {
			tokens[e] = p.apply(pub, sc, "参加 "+e, e)
		}
		ids := map[string]int64{}
		for _, row := range c.applications(ev) {
			ids[row.Email] = row.ID
		}
		var news []store.NewRegistrantRow
		for _, e := range emails[1:] {
			news = append(news, store.NewRegistrantRow{ApplicationID: ids[e], Email: e})
		}
		rows, err := o.st.RegistrantsAdding(ctx, l, o.orgID, m.ID, news)
		if err != nil {
			t.Fatal(err)
		}
		const personal = "https://zoom.example/w/123?tk=personal-token"
		if err := o.st.RegistrantsRegistered(ctx, l, m.ID, []store.RegisteredRow{{ID: rows[1], RegistrantID: "reg-1",
			JoinURL: personal}}); err != nil {
			t.Fatal(err)
		}
		if err := o.st.RegistrantsCancelled(ctx, l, m.ID, []int64{rows[2]}); err != nil {
			t.Fatal(err)
		}
		if err := o.st.RegistrantsFailed(ctx, l, m.ID, []int64{rows[3]}, "invalid", "Invalid email address."); err != nil {
			t.Fatal(err)
		}

		// 申込者一覧: every state, エラー with why and 再試行.
		list := c.get(fmt.Sprintf("/events/%d/applications", ev))
		wantStatus(t, list, http.StatusOK)
		wantText(t, list, ja("applications.zoom"))
		retryPath := func(e string) string { return fmt.Sprintf("/events/%d/applications/%d/zoom-retry", ev, ids[e]) }
		for e, state := range map[string]string{"none@example.com": "none", "adding@example.com": "adding",
			"registered@example.com": "registered", "cancelled@example.com": "cancelled", "failed@example.com": "failed"} {
			cell := zoomCell(t, list, ids[e])
			if !cell.Has(`[data-zoom="` + state + `"]`) {
				t.Errorf("%s: want state %s, got cell %s", e, state, cell.HTML())
			}
			if got := cell.Has(`form[action="` + retryPath(e) + `"]`); got != (state == "failed") {
				t.Errorf("%s: 再試行 offered %v, want %v: %s", e, got, state == "failed", cell.HTML())
			}
		}
		wantText(t, list, ja("zoom.registrant_state.none"), ja("zoom.registrant_state.adding"),
			ja("zoom.registrant_state.registered"), ja("zoom.registrant_state.cancelled"),
			ja("zoom.registrant_state.failed"), ja("zoom.registrant_error.invalid"), "Invalid email address.", ja("zoom.retry"))

		// The applicant's page shows the same.
		detail := c.get(fmt.Sprintf("/events/%d/applications/%d", ev, ids["failed@example.com"]))
		wantStatus(t, detail, http.StatusOK)
		wantText(t, detail, ja("zoom.registrant_state.failed"), ja("zoom.registrant_error.invalid"), "Invalid email address.")
		if !detail.doc(t).Has(`form[action="` + retryPath("failed@example.com") + `"]`) {
			t.Fatalf("no 再試行 on the applicant's page: %s", detail)
		}
		detail = c.get(fmt.Sprintf("/events/%d/applications/%d", ev, ids["registered@example.com"]))
		wantText(t, detail, ja("zoom.registrant_state.registered"))
		wantNoText(t, detail, ja("zoom.retry"))

		// 再試行 makes the list due at once, its backoff forgotten.
		if _, err := o.st.WriteDB().ExecContext(ctx, `UPDATE zoom_meetings SET reg_due_at = NULL, reg_attempts = 3
			WHERE id = $1`, m.ID); err != nil {
			t.Fatal(err)
		}
		back := fmt.Sprintf("/events/%d/applications?schedule=%d", ev, sc)
		r := c.post(retryPath("failed@example.com"), url.Values{"back": {back}})
		if r.Status != http.StatusSeeOther || r.LocationPath() != fmt.Sprintf("/events/%d/applications", ev) {
			t.Fatalf("再試行: %s", r)
		}
		if due, attempts := o.registrantListDue(t, m.ID); !due || attempts != 0 {
			t.Fatalf("after 再試行 the list is due %v with %d attempts, want due with 0", due, attempts)
		}

		// Another organization's member gets a 404 and changes nothing.
		if _, err := o.st.WriteDB().ExecContext(ctx, `UPDATE zoom_meetings SET reg_due_at = NULL WHERE id = $1`, m.ID); err != nil {
			t.Fatal(err)
		}
		other := newClient(t, o.w.app)
		other.signup("別の会社", "other@zoomweb.example")
		wantStatus(t, other.post(retryPath("failed@example.com"), url.Values{}), http.StatusNotFound)
		if due, _ := o.registrantListDue(t, m.ID); due {
			t.Fatal("another organization's 再試行 made the list due")
		}

		// The participant's page: the personal URL once registered, else a
		// wait; never the meeting's URL, which would lead to Zoom's own form.
		page := p.get("/a/" + tokens["registered@example.com"])
		wantStatus(t, page, http.StatusOK)
		wantText(t, page, personal, ja("application.personal_url_note"))
		wantNoText(t, page, m.JoinURL, ja("application.personal_url_pending"))
		for _, e := range []string{"none@example.com", "adding@example.com", "failed@example.com", "cancelled@example.com"} {
			page := p.get("/a/" + tokens[e])
			wantStatus(t, page, http.StatusOK)
			wantText(t, page, ja("application.personal_url_pending"))
			wantNoText(t, page, m.JoinURL, personal)
		}
	})
}

// TestZoomMeetingURLWithoutRegistration: without 登録 the participant's page
// gives the meeting's join URL and says its passcode is in it; the list has
// no Zoom column.
func TestZoomMeetingURLWithoutRegistration(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		const host = "licensed@example.com"
		o := newZoomOrganizer(t, db, host)
		ev, sc, m := o.zoomScheduleEvent(t, eventSpec{Title: "Zoomセミナー"}, host)
		if m.JoinURL == "" {
			t.Fatalf("the meeting has no join URL: %+v", m)
		}
		p := newClient(t, o.w.app)
		token := p.apply(o.c.publicPath(ev), sc, "参加 太郎", "taro@example.com")
		page := p.get("/a/" + token)
		wantStatus(t, page, http.StatusOK)
		wantText(t, page, m.JoinURL, ja("application.passcode_embedded"))
		wantNoText(t, page, ja("application.personal_url_pending"), ja("application.personal_url_note"))
		list := o.c.get(fmt.Sprintf("/events/%d/applications", ev))
		wantStatus(t, list, http.StatusOK)
		if list.doc(t).Has(".zoom-cell") {
			t.Fatalf("a Zoom column without 登録: %s", list)
		}
	})
}

// TestZoomPersonalURLInMail: with 登録 the mail's {online_url} is the
// participant's personal join URL once registered on Zoom, else a sentence
// that it will be on the application page; never the meeting's URL.
func TestZoomPersonalURLInMail(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		const host = "licensed@example.com"
		o := newZoomOrganizer(t, db, host)
		c := o.c
		ev, sc, m := o.zoomScheduleEvent(t, eventSpec{Title: "有料Zoom登録セミナー", Paid: true, Price: 2000},
			host, "zoom_registration", "1")
		l := o.holdRegistrantList(t, m.ID)
		pub := c.publicPath(ev)
		p := newClient(t, o.w.app)
		p.apply(pub, sc, "登録 花子", "hanako@example.com")
		p.apply(pub, sc, "未登録 次郎", "jiro@example.com")
		c.waitMailLog(2) // 申込完了, before payment: no URL yet
		ids := map[string]int64{}
		for _, row := range c.applications(ev) {
			ids[row.Email] = row.ID
		}
		rows, err := o.st.RegistrantsAdding(ctx, l, o.orgID, m.ID,
			[]store.NewRegistrantRow{{ApplicationID: ids["hanako@example.com"], Email: "hanako@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		const personal = "https://zoom.example/w/456?tk=hanako-token"
		if err := o.st.RegistrantsRegistered(ctx, l, m.ID, []store.RegisteredRow{{ID: rows[0], RegistrantID: "reg-h",
			JoinURL: personal}}); err != nil {
			t.Fatal(err)
		}
		for _, e := range []string{"hanako@example.com", "jiro@example.com"} {
			wantRedirect(t, c.post(fmt.Sprintf("/events/%d/applications/%d/payment", ev, ids[e]),
				url.Values{"payment": {"paid"}}), fmt.Sprintf("/events/%d/applications", ev))
		}
		_, mails := c.waitMailLog(4)
		var hanako, jiro string
		paidSubject := strings.TrimPrefix(ja("mail.default.paid.subject"), "【{event}】")
		for _, row := range mails {
			if !strings.Contains(row.Subject, paidSubject) {
				continue
			}
			switch {
			case strings.Contains(row.Body, "登録 花子"):
				hanako = row.Body
			case strings.Contains(row.Body, "未登録 次郎"):
				jiro = row.Body
			}
		}
		if !strings.Contains(hanako, personal) || strings.Contains(hanako, m.JoinURL) {
			t.Errorf("the registered participant's 入金確認 mail should give the personal URL only:\n%s", hanako)
		}
		if !strings.Contains(jiro, ja("mail.online_url.personal_pending")) || strings.Contains(jiro, m.JoinURL) ||
			strings.Contains(jiro, personal) {
			t.Errorf("the unregistered participant's 入金確認 mail should say the URL is coming:\n%s", jiro)
		}
	})
}

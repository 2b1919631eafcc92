package web_test

// The participant's calendar entry: GET /a/{token}/calendar.ics and the
// application page's links, with the join URL only where they may join.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"

	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// icsEvent fetches the application's .ics and reads its VEVENT with
// emersion/go-ical (kaisai writes it by hand).
func icsEvent(t *testing.T, c *client, token string) ical.Event {
	t.Helper()
	r := c.get("/a/" + token + "/calendar.ics")
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	cal, err := ical.NewDecoder(strings.NewReader(r.Body)).Decode()
	if err != nil {
		t.Fatalf("parse .ics: %v\n%s", err, r.Body)
	}
	if m := cal.Props.Get("METHOD"); m == nil || m.Value != "PUBLISH" {
		t.Errorf("METHOD = %+v, want PUBLISH", m)
	}
	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events in\n%s", len(evs), r.Body)
	}
	return evs[0]
}

func icsText(t *testing.T, ev ical.Event, name string) string {
	t.Helper()
	p := ev.Props.Get(name)
	if p == nil {
		return ""
	}
	s, err := p.Text()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

func TestCalendarEntry(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("カレンダー主催", "calendar-owner@example.com")

		const freeURL, paidURL = "https://meet.example.com/cal-free", "https://meet.example.com/cal-paid"
		freeEvent := owner.createEvent(eventSpec{Title: "年末特別セミナー「確定申告の基礎」, 第1回; 入門編", Waitlist: true})
		freeSchedule := owner.addSchedule(freeEvent, owner.addGroup(freeEvent, urlGroup(freeURL)), 1)
		freePublic := owner.publicPath(freeEvent)
		applied := newClient(t, a)
		appliedToken := applied.apply(freePublic, freeSchedule, "申込 一郎", "cal-applied@example.com")
		waitlisted := newClient(t, a)
		waitlistedToken := waitlisted.apply(freePublic, freeSchedule, "待ち 二郎", "cal-waitlisted@example.com")
		if st, _ := applicationStatus(t, waitlisted.get("/a/"+waitlistedToken)); st != ja("application_status.waitlisted") {
			t.Fatalf("second applicant: %s, want キャンセル待ち", st)
		}

		paidEvent := owner.createEvent(eventSpec{Title: "有料講座", Paid: true, Price: 3000})
		paidSchedule := owner.addSchedule(paidEvent, owner.addGroup(paidEvent, urlGroup(paidURL)), 5)
		payer := newClient(t, a)
		paidToken := payer.apply(owner.publicPath(paidEvent), paidSchedule, "有料 三郎", "cal-paid@example.com")

		const address = "東京都千代田区丸の内1-1-1、ビル3F"
		placeEvent := owner.createEvent(eventSpec{Title: "会場セミナー"})
		placeSchedule := owner.addSchedule(placeEvent, owner.addGroup(placeEvent, placeGroup(address)), 5)
		visitor := newClient(t, a)
		placeToken := visitor.apply(owner.publicPath(placeEvent), placeSchedule, "会場 四郎", "cal-place@example.com")

		host := strings.Split(strings.TrimPrefix(a.URL(), "http://"), ":")[0]
		uidRE := regexp.MustCompile(`^application-\d+-schedule-` + itoa(freeSchedule) + `@` + regexp.QuoteMeta(host) + `$`)

		// Eligible: the join URL in DESCRIPTION and LOCATION, the page's URL.
		ev := icsEvent(t, applied, appliedToken)
		if got := icsText(t, ev, "SUMMARY"); got != "年末特別セミナー「確定申告の基礎」, 第1回; 入門編" {
			t.Errorf("SUMMARY = %q", got)
		}
		uid := icsText(t, ev, "UID")
		if !uidRE.MatchString(uid) {
			t.Errorf("UID = %q, want %s", uid, uidRE)
		}
		desc := icsText(t, ev, "DESCRIPTION")
		if !strings.Contains(desc, freeURL) || !strings.Contains(desc, a.URL()+"/a/"+appliedToken) {
			t.Errorf("eligible DESCRIPTION = %q, want the join URL and the application page", desc)
		}
		if got := icsText(t, ev, "LOCATION"); got != freeURL {
			t.Errorf("eligible LOCATION = %q, want %q", got, freeURL)
		}
		start, err := ev.DateTimeStart(time.UTC)
		if err != nil || start.Hour() != 4 || !strings.HasSuffix(ev.Props.Get("DTSTART").Value, "Z") {
			t.Errorf("DTSTART = %v (%v), want 13:00 JST written as 04:00Z", ev.Props.Get("DTSTART"), err)
		}

		// キャンセル待ち: no join URL anywhere, a different UID.
		ev = icsEvent(t, waitlisted, waitlistedToken)
		if desc, loc := icsText(t, ev, "DESCRIPTION"), icsText(t, ev, "LOCATION"); strings.Contains(desc+loc, freeURL) {
			t.Errorf("キャンセル待ち: join URL in DESCRIPTION %q / LOCATION %q", desc, loc)
		}
		if st, _ := ev.Status(); st != ical.EventTentative {
			t.Errorf("キャンセル待ち: STATUS %q, want TENTATIVE", st)
		}
		if other := icsText(t, ev, "UID"); other == uid || !uidRE.MatchString(other) {
			t.Errorf("キャンセル待ち UID %q (the applied one's: %q)", other, uid)
		}

		// 未入金 in a paid event: none; 入金済: the URL.
		ev = icsEvent(t, payer, paidToken)
		if desc, loc := icsText(t, ev, "DESCRIPTION"), icsText(t, ev, "LOCATION"); strings.Contains(desc+loc, paidURL) {
			t.Errorf("未入金: join URL in DESCRIPTION %q / LOCATION %q", desc, loc)
		}
		r := payer.get("/a/" + paidToken)
		if g := r.doc(t).First("#calendar-google").Attr("href"); g == "" || strings.Contains(g, url.QueryEscape(paidURL)) {
			t.Errorf("未入金: Google link %q, want one without the join URL", g)
		}
		wantText(t, r, ja("calendar.join_url_later"))
		rows := owner.applications(paidEvent)
		wantRedirect(t, owner.post(fmt.Sprintf("/events/%d/applications/%d/payment", paidEvent, rows[0].ID),
			url.Values{"payment": {"paid"}}), fmt.Sprintf("/events/%d/applications", paidEvent))
		ev = icsEvent(t, payer, paidToken)
		if desc, loc := icsText(t, ev, "DESCRIPTION"), icsText(t, ev, "LOCATION"); !strings.Contains(desc, paidURL) || loc != paidURL {
			t.Errorf("入金済: DESCRIPTION %q / LOCATION %q, want the join URL", desc, loc)
		}

		// 会場: the address is the LOCATION.
		ev = icsEvent(t, visitor, placeToken)
		if got := icsText(t, ev, "LOCATION"); got != address {
			t.Errorf("会場 LOCATION = %q, want %q", got, address)
		}

		// The page offers both, in Japanese and in English.
		r = applied.get("/a/" + appliedToken)
		doc := r.doc(t)
		if href := doc.First("#calendar-ics").Attr("href"); href != "/a/"+appliedToken+"/calendar.ics" {
			t.Errorf(".ics link %q", href)
		}
		g, err := url.Parse(doc.First("#calendar-google").Attr("href"))
		if err != nil || g.Host != "calendar.google.com" || g.Query().Get("action") != "TEMPLATE" ||
			!strings.Contains(g.Query().Get("details"), freeURL) || g.Query().Get("location") != freeURL ||
			!regexp.MustCompile(`^\d{8}T040000Z/\d{8}T060000Z$`).MatchString(g.Query().Get("dates")) {
			t.Errorf("Google link %v (%v)", g, err)
		}
		wantText(t, r, ja("calendar.google"), ja("calendar.download"))
		wantNoText(t, r, ja("calendar.join_url_later"))
		applied.setCookie("kaisai_lang", "en")
		wantText(t, applied.get("/a/"+appliedToken), en("calendar.google"), en("calendar.download"))
		ev = icsEvent(t, applied, appliedToken)
		if desc := icsText(t, ev, "DESCRIPTION"); !strings.Contains(desc, en("calendar.join_url")+": "+freeURL) {
			t.Errorf("English DESCRIPTION = %q", desc)
		}

		// The 日程 moves: same UID, SEQUENCE 1, the new times.
		wantRedirect(t, owner.post(fmt.Sprintf("/events/%d/schedules/%d/edit", freeEvent, freeSchedule),
			scheduleForm(futureDate(61), "18:00", "20:00", "1")), fmt.Sprintf("/events/%d", freeEvent))
		ev = icsEvent(t, applied, appliedToken)
		if seq, err := ev.Props.Get("SEQUENCE").Int(); err != nil || seq != 1 {
			t.Errorf("moved: SEQUENCE %d (%v), want 1", seq, err)
		}
		if got := icsText(t, ev, "UID"); got != uid {
			t.Errorf("moved: UID %q, want %q", got, uid)
		}
		if start, err := ev.DateTimeStart(time.UTC); err != nil || start.Hour() != 9 {
			t.Errorf("moved: DTSTART %v (%v), want 18:00 JST = 09:00Z", start, err)
		}

		// A link nobody was given.
		wantStatus(t, applied.get("/a/no-such-token/calendar.ics"), http.StatusNotFound)
	})
}

// TestCalendarEntryZoomPersonalURL: in a Zoom group with 登録 the entry
// carries the participant's personal join URL once they are registered,
// and no URL before: never the meeting's, which leads to Zoom's own form.
func TestCalendarEntryZoomPersonalURL(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		const host = "licensed@example.com"
		o := newZoomOrganizer(t, db, host)
		ev, sc, m := o.zoomScheduleEvent(t, eventSpec{Title: "Zoomカレンダー"}, host, "zoom_registration", "1")
		l := o.holdRegistrantList(t, m.ID)
		pub := o.c.publicPath(ev)
		p := newClient(t, o.w.app)
		registered := p.apply(pub, sc, "登録 済子", "registered@example.com")
		pending := p.apply(pub, sc, "登録 待子", "pending@example.com")
		ids := map[string]int64{}
		for _, row := range o.c.applications(ev) {
			ids[row.Email] = row.ID
		}
		rows, err := o.st.RegistrantsAdding(ctx, l, o.orgID, m.ID, []store.NewRegistrantRow{
			{ApplicationID: ids["registered@example.com"], Email: "registered@example.com"},
			{ApplicationID: ids["pending@example.com"], Email: "pending@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		const personal = "https://zoom.example/w/123?tk=calendar-token"
		if err := o.st.RegistrantsRegistered(ctx, l, m.ID, []store.RegisteredRow{{ID: rows[0], RegistrantID: "reg-cal",
			JoinURL: personal}}); err != nil {
			t.Fatal(err)
		}

		e := icsEvent(t, p, registered)
		if desc, loc := icsText(t, e, "DESCRIPTION"), icsText(t, e, "LOCATION"); !strings.Contains(desc, personal) ||
			loc != personal || strings.Contains(desc, m.JoinURL) {
			t.Errorf("registered: DESCRIPTION %q, LOCATION %q: want the personal URL only", desc, loc)
		}
		e = icsEvent(t, p, pending)
		if desc, loc := icsText(t, e, "DESCRIPTION"), icsText(t, e, "LOCATION"); strings.Contains(desc+loc, m.JoinURL) ||
			strings.Contains(desc+loc, personal) || loc != "" {
			t.Errorf("not yet registered: DESCRIPTION %q, LOCATION %q: want no join URL", desc, loc)
		}
	})
}

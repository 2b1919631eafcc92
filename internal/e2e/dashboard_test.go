package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kaisai/internal/app/apptest"
	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

// TestDashboardFitsAndPassesAxe shows the event page's charts and the
// events list at 1280 px and on a 390 px phone: the page never scrolls
// sideways, every chart's SVG is drawn with a size, and axe-core finds no
// serious or critical violation.
func TestDashboardFitsAndPassesAxe(t *testing.T) {
	chrome := findChrome(t)
	axeJS := findAxe(t)
	kaisai := apptest.Start(t, testdb.SQLite(t))
	browserCtx := startBrowserWithin(t, chrome, screensTimeout)
	org := newTab(t, browserCtx, "organizer", kaisai.URL())
	org.open("/signup", `^/signup$`)
	org.fill(`input[name="org_name"]`, "集計の会")
	org.fill(`input[name="name"]`, "主催 花子")
	org.fill(`input[name="email"]`, "owner@dashboard-e2e.example")
	org.fill(`input[name="password"]`, "correct-horse-battery")
	org.follow("sign up", `form[action="/signup"] button[type="submit"]`, `^/events$`)
	eventID := dashboardWorld(t, kaisai.Store, "owner@dashboard-e2e.example")
	// With KAISAI_SCREENSHOTS=/some/dir, full-page screenshots for a person.
	shoot := func(name string) {
		if dir := os.Getenv("KAISAI_SCREENSHOTS"); dir != "" {
			org.screenshot(filepath.Join(dir, name+".png"))
		}
	}

	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"1280", 1280, 900, false}, {"390", 390, 844, true}} {
		if size.mobile {
			org.do("emulate a 390 px phone", chromedp.EmulateViewport(size.width, size.height, chromedp.EmulateMobile, chromedp.EmulateTouch))
		} else {
			org.do("emulate a 1280 px screen", chromedp.EmulateViewport(size.width, size.height))
		}
		where := "event dashboard at " + size.name + " px"
		org.open(fmt.Sprintf("/events/%d", eventID), `^/events/\d+$`)
		// Every chart: daily, fill, attendance and the minutes of the ended 日程.
		sizes := org.evalStrings(`Array.from(document.querySelectorAll("#dashboard figure.chart svg[role=img]")).map(s => {
			const r = s.getBoundingClientRect(); return s.closest("figure").id + " " + Math.round(r.width) + "x" + Math.round(r.height); })`)
		if len(sizes) != 4 {
			t.Errorf("%s: %d charts drawn (%q), want 4", where, len(sizes), sizes)
		}
		for _, s := range sizes {
			f := strings.Fields(s)
			wh := strings.Split(f[len(f)-1], "x")
			w, _ := strconv.Atoi(wh[0])
			h, _ := strconv.Atoi(wh[1])
			if w < 100 || h < 20 || w > int(size.width) {
				t.Errorf("%s: chart %s", where, s)
			}
		}
		org.checkFits(where)
		// The tables of figures, opened, fit too.
		org.eval(`document.querySelectorAll("#dashboard details").forEach(d => d.open = true); ""`)
		org.checkFits(where + ", tables open")
		org.checkAxe(where, axeJS)
		shoot("dashboard-" + size.name)

		where = "events list at " + size.name + " px"
		org.open("/events", `^/events$`)
		meters := org.evalStrings(`Array.from(document.querySelectorAll("td.event-fill svg.meter")).map(s => String(Math.round(s.getBoundingClientRect().width)))`)
		if len(meters) != 2 || meters[0] == "0" || meters[1] == "0" {
			t.Errorf("%s: fill bars %q, want two drawn", where, meters)
		}
		org.checkFits(where)
		org.checkAxe(where, axeJS)
		shoot("events-" + size.name)
	}
}

// dashboardWorld gives the organization of ownerEmail a ¥3,000 event with
// two 日程: one ended, 12 applications over 20 days, 5 of them 入金済,
// 3 checked in, 4 seen in its Zoom meeting; one to come with 3. And a
// second event, free, with a 日程 to come. It returns the first event.
func dashboardWorld(t *testing.T, st *store.Store, ownerEmail string) int64 {
	t.Helper()
	ctx := context.Background()
	db := st.WriteDB()
	var orgID int64
	if err := db.QueryRowContext(ctx, `SELECT org_id FROM members WHERE email = $1`, ownerEmail).Scan(&orgID); err != nil {
		t.Fatalf("find the organization of %s: %v", ownerEmail, err)
	}
	newEvent := func(title string, paid bool) (event.Event, event.ScheduleGroup) {
		e := event.Event{OrgID: orgID, Title: title, Fee: event.FeeFree, TimeZone: "Asia/Tokyo", Status: event.StatusPublished}
		if paid {
			e.Fee, e.PriceJPY, e.PaymentDays = event.FeePaid, 3000, 3
		}
		if _, err := st.CreateEvent(ctx, &e, ""); err != nil {
			t.Fatal(err)
		}
		g := event.ScheduleGroup{OrgID: orgID, EventID: e.ID, Venue: event.VenueURL, OnlineURL: "https://example.com/live"}
		if _, err := st.CreateGroup(ctx, &g, ""); err != nil {
			t.Fatal(err)
		}
		return e, g
	}
	newSchedule := func(e event.Event, g event.ScheduleGroup, days, capacity int) event.Schedule {
		start := time.Now().AddDate(0, 0, days).Truncate(time.Hour)
		sc := event.Schedule{OrgID: orgID, EventID: e.ID, GroupID: g.ID, StartsAt: start, EndsAt: start.Add(2 * time.Hour), Capacity: capacity}
		if _, err := st.CreateSchedule(ctx, &sc, ""); err != nil {
			t.Fatal(err)
		}
		return sc
	}
	e, g := newEvent("Go言語で作るWebサービス入門 — 実践ハンズオン（秋の集中講座・オンライン開催）", true)
	ended := newSchedule(e, g, 7, 20)
	coming := newSchedule(e, g, 30, 8)
	apply := func(sc event.Schedule, i int) event.Application {
		res, err := st.Apply(ctx, &e, event.ApplicationInput{ScheduleID: sc.ID, Name: fmt.Sprintf("参加 花子%d", i),
			Email: fmt.Sprintf("hanako%d@example.com", i), SubmitKey: fmt.Sprintf("dashboard-e2e-key-%d-abcdefghijkl", i)})
		if err != nil {
			t.Fatal(err)
		}
		return res.Application
	}
	var sessions []store.ZoomSession
	for i := range 12 {
		a := apply(ended, i)
		// Spread over 20 days before now, as applications come.
		if _, err := db.ExecContext(ctx, `UPDATE applications SET created_at = $1 WHERE id = $2`,
			time.Now().UTC().AddDate(0, 0, -22+2*i), a.ID); err != nil {
			t.Fatal(err)
		}
		if i < 5 {
			if err := st.SetPayment(ctx, orgID, e.ID, a.ID, 0, event.PaymentPaid); err != nil {
				t.Fatal(err)
			}
		}
		if i >= 8 {
			join := ended.StartsAt.Add(time.Duration(i-8) * 20 * time.Minute)
			sessions = append(sessions, store.ZoomSession{InstanceUUID: "dash/1==", ParticipantID: strconv.Itoa(i),
				Name: a.Name, ApplicationID: a.ID, MatchedBy: zoompolicy.MatchedByRegistrant, JoinedAt: join, LeftAt: ended.EndsAt})
		}
	}
	for i := 12; i < 15; i++ {
		apply(coming, i)
	}
	// The first 日程 took place a week ago: move it there.
	if _, err := db.ExecContext(ctx, `UPDATE schedules SET starts_at = $1, ends_at = $2 WHERE id = $3`,
		ended.StartsAt.AddDate(0, 0, -14).UTC(), ended.EndsAt.AddDate(0, 0, -14).UTC(), ended.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordZoomSessions(ctx, store.CheckInMeeting{OrgID: orgID, ScheduleID: ended.ID, ZoomID: 1}, sessions); err != nil {
		t.Fatal(err)
	}
	free, fg := newEvent("無料のもくもく会", false)
	newSchedule(free, fg, 3, 5)
	return e.ID
}

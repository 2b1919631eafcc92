package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoom"
	"kaisai/internal/zoomconn"
	"kaisai/internal/zoompolicy"
	"kaisai/internal/zoomsim"
)

// approvedOnZoom are the e-mails of a meeting's approved registrants on the
// simulator, sorted; with each one's join URL.
func approvedOnZoom(sim *zoomsim.Server, zoomID int64) ([]string, map[string]string) {
	var emails []string
	urls := map[string]string{}
	for _, m := range sim.State().Meetings {
		if m.ID != zoomID {
			continue
		}
		for _, r := range m.Registrants {
			if r.Status == "approved" {
				emails = append(emails, r.Email)
				urls[r.Email] = r.JoinURL
			}
		}
	}
	slices.Sort(emails)
	return emails, urls
}

// waitRegistrants waits until the meeting's registrant list and kaisai's
// records are in step, then checks Zoom's list is exactly want.
func waitRegistrants(t *testing.T, w *meetingWorld, ze zoomEvent, want ...string) map[string]string {
	t.Helper()
	slices.Sort(want)
	row := w.rows(t, ze.event.ID)[0]
	type seen struct {
		Idle bool
		Got  []string
		urls map[string]string
	}
	return eventually.Value(t, fmt.Sprintf("Zoom's registrants to be %v, the lists idle", want), func() (seen, bool) {
		idle, err := w.app.Store.RegistrantListsIdle(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got, urls := approvedOnZoom(w.sim, row.ZoomID)
		return seen{idle, got, urls}, idle && slices.Equal(got, want)
	}).urls
}

// TestZoomRegistrantsFollowApplications walks DESIGN.md §3's triggers on a
// paid event with 登録: 未入金 is never pushed, 入金済 is, back to 未入金,
// キャンセル and 削除 cancel, an e-mail change moves the registrant, and the
// host's own address is never registered. The participant's page then shows
// the personal join URL.
func TestZoomRegistrantsFollowApplications(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := startMeetingWorld(t, db)
		st := w.app.Store
		z := licensedZoom
		z.ConnID = w.link(t, "licensed@example.com")
		ze := newZoomEvent(t, st, w.org.ID, z, 1)
		ze.event.Fee, ze.event.PriceJPY = event.FeePaid, 3000
		if err := st.UpdateEvent(ctx, &ze.event); err != nil {
			t.Fatal(err)
		}
		w.waitInStep(t)
		apps := map[string]event.Application{}
		for i, email := range []string{"a@example.com", "B@Example.com", "c@example.com", "licensed@example.com"} {
			res, err := st.Apply(ctx, &ze.event, event.ApplicationInput{ScheduleID: ze.schedules[0].ID,
				Name: fmt.Sprintf("参加者 %d", i), Email: email,
				SubmitKey: fmt.Sprintf("reg-key-%d-%06d-abcdefgh", ze.event.ID, i)})
			if err != nil {
				t.Fatal(err)
			}
			apps[strings.ToLower(email)] = res.Application
		}
		waitRegistrants(t, w, ze) // 未入金: nobody
		pay := func(email string, p event.Payment) {
			if err := st.SetPayment(ctx, w.org.ID, ze.event.ID, apps[email].ID, 0, p); err != nil {
				t.Fatal(err)
			}
		}
		for email := range apps {
			pay(email, event.PaymentPaid)
		}
		urls := waitRegistrants(t, w, ze, "a@example.com", "b@example.com", "c@example.com")
		regs, err := st.ApplicationRegistrantsUnscoped(ctx, []int64{apps["a@example.com"].ID, apps["licensed@example.com"].ID})
		if err != nil {
			t.Fatal(err)
		}
		if r := regs[apps["a@example.com"].ID]; r.Status != zoompolicy.RegistrantRegistered || r.JoinURL != urls["a@example.com"] {
			t.Errorf("a@example.com: %+v, Zoom's join URL %s", r, urls["a@example.com"])
		}
		if r, ok := regs[apps["licensed@example.com"].ID]; ok {
			t.Errorf("the host's own address was registered: %+v", r)
		}

		pay("a@example.com", event.PaymentUnpaid)
		if _, err := st.CancelApplication(ctx, w.org.ID, ze.event.ID, apps["b@example.com"].ID, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := st.EditApplicant(ctx, w.org.ID, ze.event.ID, apps["c@example.com"].ID, 0, "参加者 C", "c2@example.com"); err != nil {
			t.Fatal(err)
		}
		waitRegistrants(t, w, ze, "c2@example.com")
		if err := st.DeleteApplication(ctx, w.org.ID, ze.event.ID, apps["c@example.com"].ID); err != nil {
			t.Fatal(err)
		}
		waitRegistrants(t, w, ze)
	})
}

// TestZoomRegistrantsBackfillAndRecreate: turning 登録 on pushes the
// eligible applicants already there; a meeting re-created after a deletion
// on Zoom's side gets them again; registrants removed on Zoom's side are
// restored by the periodic check.
func TestZoomRegistrantsBackfillAndRecreate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := startMeetingWorld(t, db)
		st := w.app.Store
		z := licensedZoom
		z.ConnID, z.Registration = w.link(t, "licensed@example.com"), false
		ze := newZoomEvent(t, st, w.org.ID, z, 1)
		w.waitInStep(t)
		var want []string
		for i := range 35 { // more than one batch
			email := fmt.Sprintf("p%02d@example.com", i)
			if _, err := st.Apply(ctx, &ze.event, event.ApplicationInput{ScheduleID: ze.schedules[0].ID,
				Name: "参加者", Email: email, SubmitKey: fmt.Sprintf("bf-key-%d-%06d-abcdefgh", ze.event.ID, i)}); err != nil {
				t.Fatal(err)
			}
			want = append(want, email)
		}
		// The applications made the list due; idle again, it has been synced.
		until(t, "the registrant list to be synced", func() bool {
			idle, err := st.RegistrantListsIdle(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return idle
		})
		row := w.rows(t, ze.event.ID)[0]
		if got, _ := approvedOnZoom(w.sim, row.ZoomID); len(got) != 0 {
			t.Fatalf("without 登録, %d registrants were pushed", len(got))
		}
		ze.group.Zoom.Registration = true
		if err := st.UpdateGroup(ctx, &ze.group); err != nil {
			t.Fatal(err)
		}
		w.waitInStep(t)
		waitRegistrants(t, w, ze, want...)

		if err := w.sim.DeleteMeeting(row.ZoomID); err != nil {
			t.Fatal(err)
		}
		until(t, "the deletion on Zoom's side", func() bool { return w.rows(t, ze.event.ID)[0].State() == zoompolicy.MeetingDeleted })
		if err := st.RecreateZoomMeeting(ctx, w.org.ID, row.ID); err != nil {
			t.Fatal(err)
		}
		w.waitInStep(t)
		waitRegistrants(t, w, ze, want...)
	})
}

// registrantsExact checks Zoom's approved registrants are exactly the
// eligible applications: none lost, none twice, nobody else.
func registrantsExact(t *testing.T, sim *zoomsim.Server, zoomID int64, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, m := range sim.State().Meetings {
		if m.ID != zoomID {
			continue
		}
		for _, r := range m.Registrants {
			if r.Status == "approved" {
				seen[r.Email]++
			}
		}
	}
	for _, e := range want {
		if seen[e] != 1 {
			t.Errorf("%s is on Zoom %d times, want once", e, seen[e])
		}
		delete(seen, e)
	}
	for e, n := range seen {
		t.Errorf("%s is on Zoom (%d times) but not eligible", e, n)
	}
}

// applyMany applies n participants (a free event: all eligible) and
// returns their e-mails.
func applyMany(t *testing.T, st *store.Store, ze zoomEvent, prefix string, n int) ([]string, []event.Application) {
	t.Helper()
	var emails []string
	var apps []event.Application
	for i := range n {
		email := fmt.Sprintf("%s%03d@example.com", prefix, i)
		res, err := st.Apply(context.Background(), &ze.event, event.ApplicationInput{ScheduleID: ze.schedules[0].ID,
			Name: "参加者", Email: email, SubmitKey: fmt.Sprintf("%s-key-%d-%06d-abcdefgh", prefix, ze.event.ID, i)})
		if err != nil {
			t.Fatal(err)
		}
		emails, apps = append(emails, email), append(apps, res.Application)
	}
	return emails, apps
}

// TestZoomRegistrantsFaultRun: with 5xx answers, timeouts, lost answers and
// 429s injected, and two kaisai instances on one database (PostgreSQL; one
// on SQLite), applications, cancellations and e-mail changes end with Zoom's
// list exactly the eligible applications.
func TestZoomRegistrantsFaultRun(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := startMeetingWorld(t, db)
		if db.DatabaseURL != "" {
			second := apptest.Start(t, db, fastZoom, func(c *app.Config) {
				c.ZoomClientID, c.ZoomClientSecret = "kaisai-dev", "kaisai-dev-secret"
				c.ZoomOAuthURL, c.ZoomHTTPClient = w.sim.BaseURL(), &http.Client{Transport: w.calls}
			})
			_ = second
		}
		st := w.app.Store
		z := licensedZoom
		z.ConnID = w.link(t, "licensed@example.com")
		ze := newZoomEvent(t, st, w.org.ID, z, 1)
		w.waitInStep(t)
		w.sim.SetFaults(11,
			zoomsim.Fault{Kind: zoomsim.FaultStatus, Rate: 0.2, Status: http.StatusBadGateway},
			zoomsim.Fault{Kind: zoomsim.FaultStatus, Rate: 0.1, Status: http.StatusTooManyRequests},
			zoomsim.Fault{Kind: zoomsim.FaultTimeout, Rate: 0.1, Delay: 50 * time.Millisecond},
			zoomsim.Fault{Kind: zoomsim.FaultLostAnswer, Rate: 0.15, Delay: 20 * time.Millisecond},
		)
		emails, apps := applyMany(t, st, ze, "f", 45) // the schedule seats 50
		want := map[string]bool{}
		for _, e := range emails {
			want[e] = true
		}
		for i := 0; i < 5; i++ {
			if _, err := st.CancelApplication(ctx, w.org.ID, ze.event.ID, apps[i].ID, 0); err != nil {
				t.Fatal(err)
			}
			delete(want, emails[i])
		}
		for i := 5; i < 10; i++ {
			email := fmt.Sprintf("moved%03d@example.com", i)
			if _, err := st.EditApplicant(ctx, w.org.ID, ze.event.ID, apps[i].ID, 0, "参加者", email); err != nil {
				t.Fatal(err)
			}
			delete(want, emails[i])
			want[email] = true
		}
		var list []string
		for e := range want {
			list = append(list, e)
		}
		waitRegistrants(t, w, ze, list...)
		registrantsExact(t, w.sim, w.rows(t, ze.event.ID)[0].ZoomID, list)
	})
}

// TestZoomRegistrantsEmailDailyLimit: Zoom refuses a whole batch when one
// e-mail has used up its adds for the day; that one waits, shown as such,
// and the others are registered at once.
func TestZoomRegistrantsEmailDailyLimit(t *testing.T) {
	ctx := context.Background()
	w := startMeetingWorld(t, testdb.SQLite(t))
	limits := zoomsim.ZoomLimits()
	limits.RegistrantAddsPerEmail = 1
	w.sim.SetLimits(limits)
	st := w.app.Store
	z := licensedZoom
	z.ConnID = w.link(t, "licensed@example.com")
	ze := newZoomEvent(t, st, w.org.ID, z, 1)
	w.waitInStep(t)
	_, first := applyMany(t, st, ze, "once", 1)
	waitRegistrants(t, w, ze, "once000@example.com")
	if _, err := st.CancelApplication(ctx, w.org.ID, ze.event.ID, first[0].ID, 0); err != nil {
		t.Fatal(err)
	}
	waitRegistrants(t, w, ze)
	// The same e-mail applies again: its one add today is used.
	res, err := st.Apply(ctx, &ze.event, event.ApplicationInput{ScheduleID: ze.schedules[0].ID, Name: "参加者",
		Email: "once000@example.com", SubmitKey: fmt.Sprintf("again-key-%d-000000-abcdefgh", ze.event.ID)})
	if err != nil {
		t.Fatal(err)
	}
	again := []event.Application{res.Application}
	_, others := applyMany(t, st, ze, "other", 3)
	waitRegistrants(t, w, ze, "other000@example.com", "other001@example.com", "other002@example.com")
	regs, err := st.ApplicationRegistrantsUnscoped(ctx, []int64{again[0].ID, others[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if r := regs[again[0].ID]; r.Status != zoompolicy.RegistrantFailed || r.ErrorKind != "daily_limit" {
		t.Errorf("the e-mail over its daily adds: %+v", r)
	}
	if r := regs[others[0].ID]; r.Status != zoompolicy.RegistrantRegistered {
		t.Errorf("another applicant of the same batch: %+v", r)
	}
}

// TestZoomRegistrantsDriftRepaired: a registrant cancelled on Zoom's side
// (by the host, by hand) is found by the periodic read of Zoom's list and
// registered again.
func TestZoomRegistrantsDriftRepaired(t *testing.T) {
	ctx := context.Background()
	w := startMeetingWorld(t, testdb.SQLite(t), func(c *app.Config) { c.ZoomCheckRegistrants = time.Second })
	st := w.app.Store
	z := licensedZoom
	z.ConnID = w.link(t, "licensed@example.com")
	ze := newZoomEvent(t, st, w.org.ID, z, 1)
	w.waitInStep(t)
	emails, _ := applyMany(t, st, ze, "drift", 3)
	urls := waitRegistrants(t, w, ze, emails...)
	tok, err := st.ZoomAccessToken(ctx, w.org.ID, z.ConnID, "", zoomconn.Refresher(w.oauth))
	if err != nil {
		t.Fatal(err)
	}
	cl := zoom.NewClient(nil, tok.APIURL, func(context.Context) (string, error) { return tok.AccessToken, nil })
	zoomID := w.rows(t, ze.event.ID)[0].ZoomID
	if err := cl.UpdateRegistrantStatus(ctx, zoomID, zoom.RegistrantCancel,
		[]zoom.RegistrantRef{{Email: emails[1]}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := approvedOnZoom(w.sim, zoomID); len(got) != 2 {
		t.Fatalf("after the host's cancel Zoom has %v", got)
	}
	// The check runs every second, on River's leader.
	eventually.Value(t, "the drift to be repaired", func() ([]string, bool) {
		got, _ := approvedOnZoom(w.sim, zoomID)
		return got, len(got) == 3
	})
	registrantsExact(t, w.sim, zoomID, emails)
	if _, after := approvedOnZoom(w.sim, zoomID); after[emails[0]] != urls[emails[0]] {
		t.Errorf("an untouched registrant changed: %s → %s", urls[emails[0]], after[emails[0]])
	}
}

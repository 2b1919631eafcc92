package app_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
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
	var got []string
	var urls map[string]string
	deadline := time.Now().Add(30 * time.Second)
	for {
		var due int
		if err := w.app.Store.WriteDB().QueryRowContext(context.Background(),
			`SELECT COUNT(*) FROM zoom_meetings WHERE reg_due_at IS NOT NULL OR reg_lease_until IS NOT NULL`).Scan(&due); err != nil {
			t.Fatal(err)
		}
		got, urls = approvedOnZoom(w.sim, row.ZoomID)
		if due == 0 && slices.Equal(got, want) {
			return urls
		}
		if time.Now().After(deadline) {
			t.Fatalf("Zoom's registrants %v, want %v (lists due: %d)", got, want, due)
		}
		time.Sleep(50 * time.Millisecond)
	}
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
		regs, err := st.ApplicationRegistrants(ctx, []int64{apps["a@example.com"].ID, apps["licensed@example.com"].ID})
		if err != nil {
			t.Fatal(err)
		}
		if r := regs[apps["a@example.com"].ID]; r.Status != store.RegistrantRegistered || r.JoinURL != urls["a@example.com"] {
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
	ctx := context.Background()
	w := startMeetingWorld(t, testdb.SQLite(t))
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
	time.Sleep(500 * time.Millisecond)
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
	until(t, "the deletion on Zoom's side", func() bool { return w.rows(t, ze.event.ID)[0].State() == store.MeetingDeleted })
	if err := st.RecreateZoomMeeting(ctx, w.org.ID, row.ID); err != nil {
		t.Fatal(err)
	}
	w.waitInStep(t)
	waitRegistrants(t, w, ze, want...)
}

package app_test

import (
	"context"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/testdb"
	"kaisai/internal/zoomsim"
)

// checkedIn reads an application's check-in.
func checkedIn(t *testing.T, w *meetingWorld, e event.Event, id int64) event.Application {
	t.Helper()
	a, err := w.app.Store.Application(context.Background(), w.org.ID, e.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestZoomCheckInByRegistrant: with 登録 (認証 OFF), joining through a
// personal link checks that application in, source zoom, at the first
// join; a guest checks nobody in, and a second join keeps the first time.
func TestZoomCheckInByRegistrant(t *testing.T) {
	w := startMeetingWorld(t, testdb.SQLite(t))
	st := w.app.Store
	z := licensedZoom
	z.ConnID, z.WaitingRoom = w.link(t, "licensed@example.com"), false // joins go straight in
	ze := newZoomEvent(t, st, w.org.ID, z, 1)
	w.waitInStep(t)
	emails, apps := applyMany(t, st, ze, "join", 2)
	waitRegistrants(t, w, ze, emails...)
	zoomID := w.rows(t, ze.event.ID)[0].ZoomID
	var regID string
	for _, m := range w.sim.State().Meetings {
		for _, r := range m.Registrants {
			if m.ID == zoomID && r.Email == emails[0] {
				regID = r.ID
			}
		}
	}
	if _, err := w.sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, Name: "ゲスト"}); err != nil {
		t.Logf("a guest without the personal link: %v", err) // 登録 keeps guests out; that is fine too
	}
	if _, err := w.sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, RegistrantID: regID, Name: "参加者", Passcode: z.Passcode}); err != nil {
		t.Fatal(err)
	}
	var first time.Time
	until(t, "the Zoom check-in", func() bool {
		a := checkedIn(t, w, ze.event, apps[0].ID)
		first = a.CheckedInAt
		return !first.IsZero()
	})
	if a := checkedIn(t, w, ze.event, apps[0].ID); a.CheckinSource != event.CheckinZoom {
		t.Errorf("checked in from %q, want zoom", a.CheckinSource)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, err := w.sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, RegistrantID: regID, Name: "参加者", Passcode: z.Passcode}); err != nil {
		t.Fatal(err)
	}
	waitWebhooksDone(t, w, "meeting.participant_joined", 2)
	if a := checkedIn(t, w, ze.event, apps[0].ID); !a.CheckedInAt.Equal(first) {
		t.Errorf("a second join moved the check-in from %s to %s", first, a.CheckedInAt)
	}
	if a := checkedIn(t, w, ze.event, apps[1].ID); !a.CheckedInAt.IsZero() {
		t.Errorf("an applicant who did not join was checked in: %+v", a)
	}
}

// TestZoomCheckInByEmail: with 認証 and without 登録, a join signed in with
// the application's e-mail (a user of the host's account, whose e-mail Zoom
// shows) checks it in; another e-mail checks nobody in.
func TestZoomCheckInByEmail(t *testing.T) {
	w := startMeetingWorld(t, testdb.SQLite(t))
	st := w.app.Store
	host, _ := w.sim.User("licensed@example.com")
	if _, err := w.sim.AddUser(zoomsim.User{Email: "colleague@example.com", Password: "password", FirstName: "Ko",
		LastName: "Sato", AccountID: host.AccountID, Type: zoomsim.UserBasic}); err != nil {
		t.Fatal(err)
	}
	z := licensedZoom
	z.ConnID, z.Registration, z.Authentication = w.link(t, "licensed@example.com"), false, true
	z.WaitingRoom = false // joins go straight in
	ze := newZoomEvent(t, st, w.org.ID, z, 1)
	w.waitInStep(t)
	var apps []event.Application
	for i, email := range []string{"colleague@example.com", "outsider@example.com"} {
		res, err := st.Apply(context.Background(), &ze.event, event.ApplicationInput{ScheduleID: ze.schedules[0].ID,
			Name: "参加者", Email: email, SubmitKey: "email-join-key-" + string(rune('a'+i)) + "-0000000000000000"})
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, res.Application)
	}
	zoomID := w.rows(t, ze.event.ID)[0].ZoomID
	for _, email := range []string{"colleague@example.com", "stranger@example.com"} {
		if _, err := w.sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, Email: email, Name: email, Passcode: z.Passcode}); err != nil {
			t.Fatalf("join as %s: %v", email, err)
		}
	}
	until(t, "the check-in by e-mail", func() bool { return !checkedIn(t, w, ze.event, apps[0].ID).CheckedInAt.IsZero() })
	waitWebhooksDone(t, w, "meeting.participant_joined", 2)
	if a := checkedIn(t, w, ze.event, apps[1].ID); !a.CheckedInAt.IsZero() {
		t.Errorf("an application of another e-mail was checked in: %+v", a)
	}
}

package app_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/event"
	"kaisai/internal/jobs"
	"kaisai/internal/testdb"
	"kaisai/internal/zoom/webhook"
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
// join; Zoom keeps a guest out, and a second join keeps the first time.
func TestZoomCheckInByRegistrant(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startMeetingWorld(t, db)
		z := licensedZoom
		z.ConnID, z.WaitingRoom = w.link(t, "licensed@example.com"), false // joins go straight in
		ze, emails, apps, zoomID, reg := registeredMeeting(t, w, z, "join", 2)
		regID := reg[emails[0]]
		if _, err := w.sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, Name: "ゲスト", Passcode: z.Passcode}); !errors.Is(err, zoomsim.ErrRegistrationNeeded) {
			t.Errorf("a guest without the personal link: %v, want Zoom to ask for the registration", err)
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
		// Zoom's clock moves on, so that the second join has a later time.
		w.sim.SetClock(func() time.Time { return time.Now().Add(2 * time.Second) })
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
	})
}

// TestZoomCheckInByEmail: with 認証 and without 登録, a join signed in with
// the application's e-mail (a user of the host's account, whose e-mail Zoom
// shows) checks it in; another e-mail checks nobody in.
func TestZoomCheckInByEmail(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startMeetingWorld(t, db)
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
	})
}

// fakeClock is the simulator's clock, moved by hand. Zoom signs webhooks
// with it and kaisai accepts them only within five minutes of its own
// time, so it stays within a few minutes of now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// registeredMeeting makes an event of one schedule whose Zoom meeting has
// the settings z and n applicants registered, and returns it, their
// e-mails and applications, the meeting's Zoom id and the registrant ids
// by e-mail.
func registeredMeeting(t *testing.T, w *meetingWorld, z event.ZoomSettings, prefix string, n int) (
	zoomEvent, []string, []event.Application, int64, map[string]string) {
	t.Helper()
	ze := newZoomEvent(t, w.app.Store, w.org.ID, z, 1)
	w.waitInStep(t)
	emails, apps := applyMany(t, w.app.Store, ze, prefix, n)
	waitRegistrants(t, w, ze, emails...)
	zoomID := w.rows(t, ze.event.ID)[0].ZoomID
	return ze, emails, apps, zoomID, registrantIDs(w.sim, zoomID)
}

// registrantIDs are the simulator's registrant ids of a meeting by e-mail.
func registrantIDs(sim *zoomsim.Server, zoomID int64) map[string]string {
	out := map[string]string{}
	for _, m := range sim.State().Meetings {
		if m.ID == zoomID {
			for _, r := range m.Registrants {
				out[r.Email] = r.ID
			}
		}
	}
	return out
}

// TestZoomAttendanceAndReport, on both databases: joins and leaves make
// each applicant's attendance (all stays counted); a join and a leave Zoom
// never delivered are recovered from the past-participants report read
// after meeting.ended; an applicant who never came is not checked in.
func TestZoomAttendanceAndReport(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startMeetingWorld(t, db)
		st := w.app.Store
		clock := &fakeClock{now: time.Now().UTC().Add(-4 * time.Minute).Truncate(time.Second)}
		t0 := clock.Now()
		at := func(min int) { clock.Set(t0.Add(time.Duration(min) * time.Minute)) }
		z := licensedZoom
		z.ConnID, z.WaitingRoom = w.link(t, "licensed@example.com"), false // joins go straight in
		ze, emails, apps, zoomID, reg := registeredMeeting(t, w, z, "attend", 3)
		w.sim.SetClock(clock.Now)
		join := func(i int) zoomsim.Participant {
			t.Helper()
			p, err := w.sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, RegistrantID: reg[emails[i]], Passcode: z.Passcode})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		leave := func(p zoomsim.Participant) {
			t.Helper()
			if err := w.sim.Leave(zoomID, p.ID); err != nil {
				t.Fatal(err)
			}
		}
		at(0)
		p0 := join(0)
		until(t, "the first check-in", func() bool { return !checkedIn(t, w, ze.event, apps[0].ID).CheckedInAt.IsZero() })
		// Zoom never delivers the second applicant's join and leave.
		w.sim.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultDropWebhook, Op: "meeting.participant_joined", Rate: 1, Count: 1},
			zoomsim.Fault{Kind: zoomsim.FaultDropWebhook, Op: "meeting.participant_left", Rate: 1, Count: 1})
		at(1)
		p1 := join(1)
		at(2)
		leave(p1)
		w.sim.ClearFaults()
		at(3)
		leave(p0)
		at(5)
		join(0) // back again
		waitWebhooksDone(t, w, "meeting.participant_joined", 2)
		if a := checkedIn(t, w, ze.event, apps[1].ID); !a.CheckedInAt.IsZero() {
			t.Fatalf("checked in without a delivered join (the fault did not hold): %+v", a)
		}
		at(7)
		if err := w.sim.EndMeeting(zoomID); err != nil {
			t.Fatal(err)
		}
		waitWebhooksDone(t, w, "meeting.ended", 1)
		if n := w.calls.count("GET /v2/past_meetings/{id}/participants"); n != 1 {
			t.Errorf("the report was read %d times, want once", n)
		}
		for i, want := range []time.Time{t0, t0.Add(time.Minute), {}} {
			a := checkedIn(t, w, ze.event, apps[i].ID)
			if !a.CheckedInAt.Equal(want) || (!want.IsZero() && a.CheckinSource != event.CheckinZoom) {
				t.Errorf("applicant %d checked in at %s from %q, want %s from zoom", i, a.CheckedInAt, a.CheckinSource, want)
			}
		}
		att, err := st.Attendances(context.Background(), w.org.ID, ze.event.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := att[apps[0].ID]; got.Minutes() != 5 || got.Sessions != 2 || got.InMeeting {
			t.Errorf("attendance of the one who came back = %+v, want 5 minutes over 2 stays", got)
		}
		if got := att[apps[1].ID]; got.Minutes() != 1 || got.Sessions != 1 {
			t.Errorf("attendance from the report alone = %+v, want 1 minute", got)
		}
		if got, ok := att[apps[2].ID]; ok {
			t.Errorf("an applicant who never came has attendance %+v", got)
		}
		if un, err := st.UnmatchedParticipants(context.Background(), w.org.ID, ze.event.ID); err != nil || len(un) != 0 {
			t.Errorf("unmatched participants %+v, %v; want none", un, err)
		}
	})
}

// postWebhook posts body to kaisai's webhook endpoint signed with secret at
// signedAt, and returns the status.
func postWebhook(t *testing.T, w *meetingWorld, secret string, signedAt time.Time, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.app.URL()+"/webhooks/zoom", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	webhook.SetHeaders(req.Header, secret, signedAt, body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestZoomCheckInForgedAndReplayed: a participant_joined with a forged
// signature or an old timestamp is refused and checks nobody in; a
// genuine one delivered again is stored once and changes nothing, even
// after the organizer undid the check-in it made.
func TestZoomCheckInForgedAndReplayed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startMeetingWorld(t, db)
		st := w.app.Store
		ctx := context.Background()
		z := licensedZoom
		z.ConnID, z.WaitingRoom = w.link(t, "licensed@example.com"), false
		ze, emails, apps, zoomID, reg := registeredMeeting(t, w, z, "forge", 2)
		if _, err := w.sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, RegistrantID: reg[emails[0]], Passcode: z.Passcode}); err != nil {
			t.Fatal(err)
		}
		until(t, "the check-in", func() bool { return !checkedIn(t, w, ze.event, apps[0].ID).CheckedInAt.IsZero() })
		waitWebhooksDone(t, w, "meeting.participant_joined", 1)
		var genuine []byte
		for _, d := range w.sim.Deliveries() {
			if d.Event == "meeting.participant_joined" && d.Delivered {
				genuine = d.Body
			}
		}
		stored := func() (n int) {
			t.Helper()
			if err := st.WriteDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM zoom_webhook_events`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := stored()
		// The same join for the other applicant, forged: a wrong secret, and
		// the right secret with a timestamp ten minutes old.
		forged := bytes.Replace(genuine, []byte(reg[emails[0]]), []byte(reg[emails[1]]), 1)
		if bytes.Equal(forged, genuine) {
			t.Fatal("the delivered body does not carry the registrant id")
		}
		if code := postWebhook(t, w, "not-the-secret", time.Now(), forged); code != http.StatusUnauthorized {
			t.Errorf("a forged signature answered %d, want 401", code)
		}
		if code := postWebhook(t, w, "sim-webhook-secret", time.Now().Add(-10*time.Minute), forged); code != http.StatusUnauthorized {
			t.Errorf("a ten-minute-old timestamp answered %d, want 401", code)
		}
		// The organizer undoes the check-in; Zoom (or anyone who captured it)
		// delivers the genuine join again, freshly signed.
		owner, err := st.Members(ctx, w.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.SetCheckIn(ctx, w.org.ID, ze.event.ID, apps[0].ID, owner[0].ID, false); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if code := postWebhook(t, w, "sim-webhook-secret", time.Now(), genuine); code != http.StatusOK {
				t.Errorf("a replayed genuine delivery answered %d, want 200", code)
			}
		}
		waitWebhooksDone(t, w, "meeting.participant_joined", 1)
		if n := stored(); n != before {
			t.Errorf("%d events stored by forged and replayed deliveries, want none", n-before)
		}
		for _, a := range apps {
			if got := checkedIn(t, w, ze.event, a.ID); !got.CheckedInAt.IsZero() {
				t.Errorf("checked in by a forged or replayed delivery: %+v", got)
			}
		}
	})
}

// TestZoomManualOnlyListsParticipants: without 認証 and 登録 anyone with
// the URL joins and nobody is checked in automatically, not even an
// e-mail Zoom shows that equals an application's; everyone is listed
// for manual 受付.
func TestZoomManualOnlyListsParticipants(t *testing.T) {
	w := startMeetingWorld(t, testdb.SQLite(t))
	st := w.app.Store
	host, _ := w.sim.User("licensed@example.com")
	if _, err := w.sim.AddUser(zoomsim.User{Email: "colleague2@example.com", Password: "password", FirstName: "Ko",
		LastName: "Ito", AccountID: host.AccountID, Type: zoomsim.UserBasic}); err != nil {
		t.Fatal(err)
	}
	z := licensedZoom
	z.ConnID, z.Registration, z.Authentication, z.WaitingRoom = w.link(t, "licensed@example.com"), false, false, false
	ze := newZoomEvent(t, st, w.org.ID, z, 1)
	w.waitInStep(t)
	res, err := st.Apply(context.Background(), &ze.event, event.ApplicationInput{ScheduleID: ze.schedules[0].ID,
		Name: "伊藤", Email: "colleague2@example.com", SubmitKey: "manual-only-key-00000000000000000"})
	if err != nil {
		t.Fatal(err)
	}
	zoomID := w.rows(t, ze.event.ID)[0].ZoomID
	for _, req := range []zoomsim.JoinRequest{
		{MeetingID: zoomID, Email: "colleague2@example.com", Passcode: z.Passcode},
		{MeetingID: zoomID, Name: "ゲスト", Passcode: z.Passcode},
	} {
		if _, err := w.sim.Join(req); err != nil {
			t.Fatal(err)
		}
	}
	waitWebhooksDone(t, w, "meeting.participant_joined", 2)
	if a := checkedIn(t, w, ze.event, res.Application.ID); !a.CheckedInAt.IsZero() {
		t.Errorf("checked in without 認証 and 登録: %+v", a)
	}
	un, err := st.UnmatchedParticipants(context.Background(), w.org.ID, ze.event.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(un) != 2 || !un[0].Attendance.InMeeting {
		t.Errorf("unmatched participants = %+v, want the two in the meeting", un)
	}
}

// TestZoomReportWithoutMeetingEnded: when Zoom never delivers meeting.ended
// (nor the leaves, nor one join), the stays left open after the
// schedule's end make kaisai read the report anyway.
func TestZoomReportWithoutMeetingEnded(t *testing.T) {
	w := startMeetingWorld(t, testdb.SQLite(t), func(c *app.Config) {
		// The test's schedules start a week ahead: count them as ended.
		c.ZoomReports = jobs.ReportOptions{Every: 300 * time.Millisecond, After: -30 * 24 * time.Hour}
	})
	st := w.app.Store
	z := licensedZoom
	z.ConnID, z.WaitingRoom = w.link(t, "licensed@example.com"), false
	ze, emails, apps, zoomID, reg := registeredMeeting(t, w, z, "missed", 2)
	p0, err := w.sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, RegistrantID: reg[emails[0]], Passcode: z.Passcode})
	if err != nil {
		t.Fatal(err)
	}
	until(t, "the first check-in", func() bool { return !checkedIn(t, w, ze.event, apps[0].ID).CheckedInAt.IsZero() })
	w.sim.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultDropWebhook, Op: "meeting.participant_joined", Rate: 1},
		zoomsim.Fault{Kind: zoomsim.FaultDropWebhook, Op: "meeting.participant_left", Rate: 1},
		zoomsim.Fault{Kind: zoomsim.FaultDropWebhook, Op: "meeting.ended", Rate: 1})
	if _, err := w.sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, RegistrantID: reg[emails[1]], Passcode: z.Passcode}); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.Leave(zoomID, p0.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.EndMeeting(zoomID); err != nil {
		t.Fatal(err)
	}
	until(t, "the report's check-in", func() bool { return !checkedIn(t, w, ze.event, apps[1].ID).CheckedInAt.IsZero() })
	until(t, "every stay closed", func() bool {
		att, err := st.Attendances(context.Background(), w.org.ID, ze.event.ID, nil)
		return err == nil && !att[apps[0].ID].InMeeting && !att[apps[1].ID].InMeeting && att[apps[1].ID].Sessions == 1
	})
	for _, d := range w.sim.Deliveries() {
		if d.Event == "meeting.ended" && !d.Dropped {
			t.Errorf("meeting.ended was delivered: the test proves nothing")
		}
	}
}

// TestZoomCheckInSignedInRegistrant: with 認証 and 登録 a registrant joins
// through the personal link signed in to Zoom and is checked in by the
// registrant id; an applicant whose registration kaisai did not make is
// not let in by Zoom at all.
func TestZoomCheckInSignedInRegistrant(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startMeetingWorld(t, db)
		z := licensedZoom
		z.ConnID, z.WaitingRoom, z.Authentication = w.link(t, "licensed@example.com"), false, true
		ze, emails, apps, zoomID, reg := registeredMeeting(t, w, z, "signed", 2)
		if _, err := w.sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, RegistrantID: reg[emails[0]], Email: emails[0],
			Passcode: z.Passcode}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, Email: emails[1], Passcode: z.Passcode}); err == nil {
			t.Error("Zoom let a signed-in user in without the registration")
		}
		until(t, "the check-in", func() bool { return !checkedIn(t, w, ze.event, apps[0].ID).CheckedInAt.IsZero() })
		waitWebhooksDone(t, w, "meeting.participant_joined", 1)
		if a := checkedIn(t, w, ze.event, apps[1].ID); !a.CheckedInAt.IsZero() {
			t.Errorf("checked in without joining: %+v", a)
		}
	})
}

// TestZoomBasicHostStaysEndAtMeetingEnd: a Basic host's account has no
// participants report, so when a leave was never delivered the stay ends
// at the meeting's end rather than staying 参加中 for ever.
func TestZoomBasicHostStaysEndAtMeetingEnd(t *testing.T) {
	w := startMeetingWorld(t, testdb.SQLite(t))
	st := w.app.Store
	host, _ := w.sim.User("basic@example.com")
	if _, err := w.sim.AddUser(zoomsim.User{Email: "colleague3@example.com", Password: "password", FirstName: "Ko",
		LastName: "Mori", AccountID: host.AccountID, Type: zoomsim.UserBasic}); err != nil {
		t.Fatal(err)
	}
	z := event.ZoomSettings{ConnID: w.link(t, "basic@example.com"), Passcode: "abc123", Authentication: true}
	ze := newZoomEvent(t, st, w.org.ID, z, 1)
	w.waitInStep(t)
	res, err := st.Apply(context.Background(), &ze.event, event.ApplicationInput{ScheduleID: ze.schedules[0].ID,
		Name: "森", Email: "colleague3@example.com", SubmitKey: "basic-host-key-000000000000000000"})
	if err != nil {
		t.Fatal(err)
	}
	zoomID := w.rows(t, ze.event.ID)[0].ZoomID
	if _, err := w.sim.Join(zoomsim.JoinRequest{MeetingID: zoomID, Email: "colleague3@example.com", Passcode: z.Passcode}); err != nil {
		t.Fatal(err)
	}
	until(t, "the check-in by e-mail", func() bool { return !checkedIn(t, w, ze.event, res.Application.ID).CheckedInAt.IsZero() })
	w.sim.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultDropWebhook, Op: "meeting.participant_left", Rate: 1})
	if err := w.sim.EndMeeting(zoomID); err != nil {
		t.Fatal(err)
	}
	waitWebhooksDone(t, w, "meeting.ended", 1)
	if n := w.calls.count("GET /v2/past_meetings/{id}/participants"); n != 1 {
		t.Errorf("the report was asked for %d times, want once (Zoom refuses it for a Basic host)", n)
	}
	att, err := st.Attendances(context.Background(), w.org.ID, ze.event.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := att[res.Application.ID]; a.InMeeting || a.Sessions != 1 {
		t.Errorf("attendance after the end = %+v, want one closed stay", a)
	}
}

package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

// TestZoomSessionsInAnyOrder records one applicant's sessions the way Zoom
// may deliver them — a leave before its join, a second device, a replay —
// on both databases: the check-in lands on the first join, attendance is
// the union of the stays, and a replay changes nothing.
func TestZoomSessionsInAnyOrder(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "attend@example.com", 10, false)
		a1 := applyTo(t, st, &f.event, f.schedule.ID, "出席者", "a1@example.com")
		a2 := applyTo(t, st, &f.event, f.schedule.ID, "参加中", "a2@example.com")
		m := store.CheckInMeeting{OrgID: f.org.ID, ScheduleID: f.schedule.ID, ZoomID: 85012345678}
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
		session := func(pid string, app int64, join, leave time.Time) store.ZoomSession {
			return store.ZoomSession{InstanceUUID: "inst/1==", ParticipantID: pid, Name: "出席者",
				ApplicationID: app, MatchedBy: zoompolicy.MatchedByRegistrant, JoinedAt: join, LeftAt: leave}
		}
		record := func(want int, ss ...store.ZoomSession) {
			t.Helper()
			n, err := st.RecordZoomSessions(ctx, m, ss)
			if err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("%d check-ins changed, want %d", n, want)
			}
		}
		// The leave arrives first: checked in at the leave, the only time known.
		record(1, session("16778241", a1.ID, time.Time{}, at(30)))
		if got := reload(t, st, f, a1.ID); !got.CheckedInAt.Equal(at(30)) || got.CheckinSource != event.CheckinZoom {
			t.Fatalf("after a leave alone: checked in %s from %q, want %s from zoom", got.CheckedInAt, got.CheckinSource, at(30))
		}
		// Its join, late: the check-in moves to the join.
		record(1, session("16778241", a1.ID, at(0), time.Time{}))
		// A second device inside the first stay, and a later stay.
		record(0, session("16778242", a1.ID, at(10), at(20)), session("16778243", a1.ID, at(40), at(50)))
		record(1, session("16778244", a2.ID, at(5), time.Time{}))
		if got := reload(t, st, f, a1.ID); !got.CheckedInAt.Equal(at(0)) {
			t.Errorf("checked in at %s, want the first join %s", got.CheckedInAt, at(0))
		}
		logged := len(activity(t, st, f, a1.ID))
		// The report repeats everything: nothing changes.
		record(0, session("16778241", a1.ID, at(0), at(30)), session("16778242", a1.ID, at(10), at(20)),
			session("16778243", a1.ID, at(40), at(50)), session("16778244", a2.ID, at(5), time.Time{}))
		if n := len(activity(t, st, f, a1.ID)); n != logged {
			t.Errorf("the replay logged %d more activities", n-logged)
		}
		att, err := st.Attendances(ctx, f.org.ID, f.event.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := att[a1.ID]; got.Seconds != 40*60 || got.Minutes() != 40 || got.Sessions != 3 || got.InMeeting {
			t.Errorf("attendance of a1 = %+v, want 40 minutes over 3 sessions (the overlap counted once)", got)
		}
		if got := att[a2.ID]; !got.InMeeting || got.Seconds != 0 {
			t.Errorf("attendance of a2 = %+v, want in the meeting, no closed stay", got)
		}
		page, err := st.Attendances(ctx, f.org.ID, f.event.ID, []int64{a2.ID})
		if err != nil || len(page) != 1 {
			t.Errorf("attendance of the page [a2] = %v, %v; want a2 only", page, err)
		}
		if other, err := st.Attendances(ctx, f.org.ID+1000, f.event.ID, nil); err != nil || len(other) != 0 {
			t.Errorf("another organization sees %v, %v", other, err)
		}
	})
}

// TestZoomCheckInRespectsTheOrganizer: a Zoom session never overrides a
// manual check-in, never checks in a cancelled application, and after the
// organizer undoes a Zoom check-in a replay of the same session does not
// bring it back.
func TestZoomCheckInRespectsTheOrganizer(t *testing.T) {
	st := open(t, testdb.SQLite(t))
	ctx := context.Background()
	f := newFixture(t, st, "respect@example.com", 10, false)
	me := owner(t, st, f)
	manual := applyTo(t, st, &f.event, f.schedule.ID, "手動", "manual@example.com")
	gone := applyTo(t, st, &f.event, f.schedule.ID, "取消", "gone@example.com")
	undone := applyTo(t, st, &f.event, f.schedule.ID, "取消し", "undone@example.com")
	if _, err := st.SetCheckIn(ctx, f.org.ID, f.event.ID, manual.ID, me.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CancelApplication(ctx, f.org.ID, f.event.ID, gone.ID, me.ID); err != nil {
		t.Fatal(err)
	}
	m := store.CheckInMeeting{OrgID: f.org.ID, ScheduleID: f.schedule.ID, ZoomID: 1}
	join := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	ss := []store.ZoomSession{
		{InstanceUUID: "u", ParticipantID: "1", ApplicationID: manual.ID, MatchedBy: zoompolicy.MatchedByEmail, JoinedAt: join},
		{InstanceUUID: "u", ParticipantID: "2", ApplicationID: gone.ID, MatchedBy: zoompolicy.MatchedByEmail, JoinedAt: join},
		{InstanceUUID: "u", ParticipantID: "3", ApplicationID: undone.ID, MatchedBy: zoompolicy.MatchedByEmail, JoinedAt: join},
	}
	before := reload(t, st, f, manual.ID).CheckedInAt
	if n, err := st.RecordZoomSessions(ctx, m, ss); err != nil || n != 1 {
		t.Fatalf("recorded: %d check-ins, %v; want 1 (undone's)", n, err)
	}
	if got := reload(t, st, f, manual.ID); !got.CheckedInAt.Equal(before) || got.CheckinSource != event.CheckinManual {
		t.Errorf("a manual check-in became %s from %q", got.CheckedInAt, got.CheckinSource)
	}
	if got := reload(t, st, f, gone.ID); !got.CheckedInAt.IsZero() {
		t.Errorf("a cancelled application was checked in: %+v", got)
	}
	if _, err := st.SetCheckIn(ctx, f.org.ID, f.event.ID, undone.ID, me.ID, false); err != nil {
		t.Fatal(err)
	}
	if n, err := st.RecordZoomSessions(ctx, m, ss); err != nil || n != 0 {
		t.Errorf("replayed: %d check-ins, %v; want none", n, err)
	}
	if got := reload(t, st, f, undone.ID); !got.CheckedInAt.IsZero() {
		t.Errorf("the organizer's undo was overridden by a replay: %+v", got)
	}
}

// TestMatchZoomParticipantByHand: a guest's stays are one unmatched
// participant; matching them to an application of the same schedule
// checks it in at the first join and moves the stays to it; another
// schedule's application, or another organization, is refused.
func TestMatchZoomParticipantByHand(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		st := open(t, db)
		ctx := context.Background()
		f := newFixture(t, st, "byhand@example.com", 10, false)
		me := owner(t, st, f)
		a := applyTo(t, st, &f.event, f.schedule.ID, "山田", "yamada@example.com")
		other := addSchedule(t, st, f, 10)
		b := applyTo(t, st, &f.event, other.ID, "別日", "other@example.com")
		m := store.CheckInMeeting{OrgID: f.org.ID, ScheduleID: f.schedule.ID, ZoomID: 2}
		t0 := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
		if _, err := st.RecordZoomSessions(ctx, m, []store.ZoomSession{
			{InstanceUUID: "g", ParticipantID: "1", Name: "やまだ (iPhone)", JoinedAt: t0.Add(3 * time.Minute), LeftAt: t0.Add(13 * time.Minute)},
			{InstanceUUID: "g", ParticipantID: "2", Name: "やまだ (iPhone)", JoinedAt: t0.Add(20 * time.Minute), LeftAt: t0.Add(25 * time.Minute)},
			{InstanceUUID: "g", ParticipantID: "3", Name: "別の人", JoinedAt: t0},
		}); err != nil {
			t.Fatal(err)
		}
		un, err := st.UnmatchedParticipants(ctx, f.org.ID, f.event.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(un) != 2 || un[0].Name != "別の人" || un[1].Name != "やまだ (iPhone)" || un[1].Attendance.Minutes() != 15 ||
			un[1].Attendance.Sessions != 2 || !un[1].FirstJoin.Equal(t0.Add(3*time.Minute)) || !un[0].Attendance.InMeeting {
			t.Fatalf("unmatched = %+v, want 別の人 (in the meeting) and やまだ (15 minutes over 2 stays)", un)
		}
		var ee *event.Error
		if err := st.MatchZoomParticipant(ctx, f.org.ID, f.event.ID, un[1].ID, b.ID, me.ID); !errors.As(err, &ee) || ee.Key != "zoom.attendance.other_schedule" {
			t.Errorf("matching to another schedule's application: %v", err)
		}
		gone := applyTo(t, st, &f.event, f.schedule.ID, "取消済", "gone@example.com")
		if _, err := st.CancelApplication(ctx, f.org.ID, f.event.ID, gone.ID, me.ID); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			app int64
			key string
		}{{gone.ID, "applications.checkin_not_applied"}, {gone.ID + 1000, "zoom.unmatched.no_application"}} {
			if err := st.MatchZoomParticipant(ctx, f.org.ID, f.event.ID, un[1].ID, c.app, me.ID); !errors.As(err, &ee) || ee.Key != c.key {
				t.Errorf("matching to application %d: %v, want %s", c.app, err, c.key)
			}
		}
		if err := st.MatchZoomParticipant(ctx, f.org.ID+1000, f.event.ID, un[1].ID, a.ID, me.ID); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("another organization matching: %v, want not found", err)
		}
		if err := st.MatchZoomParticipant(ctx, f.org.ID, f.event.ID, un[1].ID, a.ID, me.ID); err != nil {
			t.Fatal(err)
		}
		got := reload(t, st, f, a.ID)
		if !got.CheckedInAt.Equal(t0.Add(3*time.Minute)) || got.CheckinSource != event.CheckinZoom {
			t.Errorf("matched by hand: checked in %s from %q, want the first join from zoom", got.CheckedInAt, got.CheckinSource)
		}
		if err := st.MatchZoomParticipant(ctx, f.org.ID, f.event.ID, un[1].ID, a.ID, me.ID); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("matching an already matched participant again: %v, want not found", err)
		}
		un, _ = st.UnmatchedParticipants(ctx, f.org.ID, f.event.ID)
		att, _ := st.Attendances(ctx, f.org.ID, f.event.ID, []int64{a.ID})
		if len(un) != 1 || att[a.ID].Minutes() != 15 {
			t.Errorf("after matching: %d unmatched, %+v attendance; want 1 and 15 minutes", len(un), att[a.ID])
		}
	})
}

package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

// perDayString writes days as "MM-DD a/p" for a short comparison.
func perDayString(ds []store.DayCount) string {
	s := ""
	for _, d := range ds {
		s += fmt.Sprintf("%s %d/%d ", d.Day.Format("01-02"), d.Applied, d.Paid)
	}
	return s
}

// The dashboard's figures: applications and 入金 on several days, counted
// by the days of two time zones; who came to the 日程; and the home's
// fill and 未入金.
func TestEventActivity(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	la, _ := time.LoadLocation("America/Los_Angeles")
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clock := newTestClock()
		// 14:30 UTC is 23:30 in Tokyo and 06:30 in Los Angeles.
		base := time.Date(2026, 11, 28, 14, 30, 0, 0, time.UTC)
		clock.unixNano.Store(base.UnixNano())
		st := openAt(t, db, clock)
		ctx := context.Background()
		f := newFixture(t, st, "dash@example.com", 10, false)
		other := newFixture(t, st, "dash-other@example.com", 5, false)
		applyTo(t, st, &other.event, other.schedule.ID, "他団体", "x@example.com")
		m := owner(t, st, f)
		e := f.event
		e.Fee, e.PriceJPY = event.FeePaid, 3000
		if err := st.UpdateEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
		a1 := applyTo(t, st, &e, f.schedule.ID, "一", "a1@example.com") // 11-28 14:30 UTC
		clock.Advance(time.Hour)
		a2 := applyTo(t, st, &e, f.schedule.ID, "二", "a2@example.com") // 11-28 15:30 UTC: 11-29 in Tokyo
		clock.Advance(48 * time.Hour)
		a3 := applyTo(t, st, &e, f.schedule.ID, "三", "a3@example.com") // 11-30 15:30 UTC
		gone := applyTo(t, st, &e, f.schedule.ID, "取消", "gone@example.com")
		if _, err := st.CancelApplication(ctx, f.org.ID, e.ID, gone.ID, m.ID); err != nil {
			t.Fatal(err)
		}
		setPaid := func(a event.Application, p event.Payment) {
			t.Helper()
			if err := st.SetPayment(ctx, f.org.ID, e.ID, a.ID, m.ID, p); err != nil {
				t.Fatal(err)
			}
		}
		setPaid(a1, event.PaymentPaid) // 11-30 15:30 UTC
		setPaid(a2, event.PaymentPaid)
		setPaid(a2, event.PaymentUnpaid)
		clock.Advance(24 * time.Hour)
		setPaid(a2, event.PaymentPaid) // 12-01 15:30 UTC: only this one counts
		if _, err := st.SetCheckIn(ctx, f.org.ID, e.ID, a1.ID, m.ID, true); err != nil {
			t.Fatal(err)
		}
		// a2 stays 45 minutes (two devices overlapping), a3 10.
		t0 := f.schedule.StartsAt
		at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
		session := func(pid string, app int64, join, leave time.Time) store.ZoomSession {
			return store.ZoomSession{InstanceUUID: "inst/1==", ParticipantID: pid, Name: "参加者",
				ApplicationID: app, MatchedBy: zoompolicy.MatchedByRegistrant, JoinedAt: join, LeftAt: leave}
		}
		if _, err := st.RecordZoomSessions(ctx, store.CheckInMeeting{OrgID: f.org.ID, ScheduleID: f.schedule.ID, ZoomID: 1},
			[]store.ZoomSession{session("p1", a2.ID, at(0), at(40)), session("p2", a2.ID, at(30), at(45)),
				session("p3", a3.ID, at(5), at(15))}); err != nil {
			t.Fatal(err)
		}

		act, err := st.EventActivity(ctx, f.org.ID, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(act.Applied) != 3 || !act.Applied[0].Equal(base) || !act.Applied[2].Equal(base.Add(49*time.Hour)) {
			t.Errorf("applied at %v, want 3 from %s", act.Applied, base)
		}
		if len(act.Paid) != 2 || !act.Paid[1].Equal(base.Add(73*time.Hour)) {
			t.Errorf("paid at %v, want 2, the last at %s", act.Paid, base.Add(73*time.Hour))
		}
		for _, tt := range []struct {
			loc     *time.Location
			through time.Time
			want    string
		}{
			{tokyo, time.Time{}, "11-28 1/0 11-29 1/0 11-30 0/0 12-01 1/1 12-02 0/1 "},
			{la, time.Time{}, "11-28 2/0 11-29 0/0 11-30 1/1 12-01 0/1 "},
			{time.UTC, time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC), "11-28 2/0 11-29 0/0 11-30 1/1 12-01 0/1 12-02 0/0 12-03 0/0 "},
			{tokyo, base, "11-28 1/0 11-29 1/0 11-30 0/0 12-01 1/1 12-02 0/1 "}, // through before the last day: no change
		} {
			if got := perDayString(act.PerDay(tt.loc, tt.through)); got != tt.want {
				t.Errorf("per day in %s through %s:\n got %s\nwant %s", tt.loc, tt.through, got, tt.want)
			}
		}
		got := act.Attendance[f.schedule.ID]
		if got.Applied != 3 || got.CheckedIn != 3 || fmt.Sprint(got.Minutes) != "[10 45]" {
			t.Errorf("attendance %+v, want 3 applied, 3 checked in, minutes [10 45]", got)
		}

		os, err := st.EventOverviews(ctx, f.org.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(os) != 1 {
			t.Fatalf("%d events, want the organization's one", len(os))
		}
		o := os[0]
		taken, capacity := o.Fill()
		if taken != 3 || capacity != 10 || o.Unpaid != 1 || !o.Next(base).Equal(f.schedule.StartsAt) {
			t.Errorf("overview: %d/%d, %d unpaid, next %s; want 3/10, 1 unpaid, next %s", taken, capacity, o.Unpaid,
				o.Next(base), f.schedule.StartsAt)
		}
		if !o.Next(f.schedule.EndsAt).IsZero() {
			t.Errorf("next after the last 日程 ended: %s, want none", o.Next(f.schedule.EndsAt))
		}
	})
}

func TestPerDayEmptyAndSummerTime(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	if got := (store.EventActivity{}).PerDay(la, time.Now()); got != nil {
		t.Errorf("no activity: %v, want none", got)
	}
	// 2026-11-01 is 25 hours long in Los Angeles: the days still follow the calendar.
	a := store.EventActivity{Applied: []time.Time{time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 3, 7, 30, 0, 0, time.UTC)}}
	// 11-03 07:30 UTC is 11-02 23:30 in Los Angeles.
	if got := perDayString(a.PerDay(la, time.Time{})); got != "10-31 1/0 11-01 0/0 11-02 1/0 " {
		t.Errorf("per day across the change: %s", got)
	}
}

// BenchmarkEventActivity10k measures the event page's dashboard figures
// for an event of 10,000 applications.
//
//	go test -run '^$' -bench EventActivity10k ./internal/store/
func BenchmarkEventActivity10k(b *testing.B) {
	for _, newDB := range []func(testing.TB) testdb.DB{testdb.SQLite, testdb.Postgres} {
		db := newDB(b)
		st := open(b, db)
		f := newFixture(b, st, "owner@example.com", 20000, false)
		seedApplicants(b, st, f, 10000)
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		b.Run(db.Name, func(b *testing.B) {
			for b.Loop() {
				act, err := st.EventActivity(ctx, f.org.ID, f.event.ID)
				if err != nil || len(act.Applied) != 10000 || len(act.PerDay(tokyo, time.Time{})) == 0 {
					b.Fatalf("%d applied, %v", len(act.Applied), err)
				}
			}
		})
	}
}

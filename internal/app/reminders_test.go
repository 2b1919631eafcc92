package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"io"
	"log/slog"
	"net"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/mail/mailtest"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// testClock is kaisai's clock, moved forward by the test; several apps
// may share it.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// to moves the clock to at (never back).
func (c *testClock) to(at time.Time) {
	if d := time.Until(at); d > time.Duration(c.offset.Load()) {
		c.offset.Store(int64(d))
	}
}

// remindersOn delivers through srv, with kaisai's clock c and the
// reminders' sweep in milliseconds.
func remindersOn(srv *mailtest.Server, c *testClock) func(*app.Config) {
	return func(cfg *app.Config) {
		fastMail(srv)(cfg)
		cfg.Now = c.Now
		cfg.Reminders.Sweep = 200 * time.Millisecond
	}
}

// reminderFixture is an organization with a published event of fee and
// one online 日程 starting at start.
type reminderFixture struct {
	org      event.Organization
	owner    event.Member
	event    event.Event
	schedule event.Schedule
}

var jst, _ = time.LoadLocation("Asia/Tokyo")

func newReminderFixture(t *testing.T, st *store.Store, org *event.Organization, owner *event.Member, title string, fee event.Fee,
	capacity int, start time.Time) reminderFixture {
	t.Helper()
	ctx := context.Background()
	if org.ID == 0 {
		o, m, err := st.CreateOrganization(ctx, event.SignupInput{OrgName: "リマインド主催者", Name: "オーナー",
			Email: fmt.Sprintf("owner-%d@example.com", time.Now().UnixNano())}, "hash")
		if err != nil {
			t.Fatal(err)
		}
		*org, *owner = o, m
	}
	e := event.Event{OrgID: org.ID, Title: title, Fee: fee, TimeZone: "Asia/Tokyo", Status: event.StatusPublished,
		WaitlistEnabled: true}
	if fee == event.FeePaid {
		e.PriceJPY, e.PaymentDays = 1000, 14
	}
	if _, err := st.CreateEvent(ctx, &e, ""); err != nil {
		t.Fatal(err)
	}
	g := event.ScheduleGroup{OrgID: org.ID, EventID: e.ID, Venue: event.VenueURL, OnlineURL: "https://meet.example/" + title}
	if _, err := st.CreateGroup(ctx, &g, ""); err != nil {
		t.Fatal(err)
	}
	sc := event.Schedule{OrgID: org.ID, EventID: e.ID, GroupID: g.ID, StartsAt: start, EndsAt: start.Add(2 * time.Hour), Capacity: capacity}
	if _, err := st.CreateSchedule(ctx, &sc, ""); err != nil {
		t.Fatal(err)
	}
	return reminderFixture{org: *org, owner: *owner, event: e, schedule: sc}
}

func (f reminderFixture) apply(t *testing.T, st *store.Store, email string) event.Application {
	t.Helper()
	res, err := st.Apply(context.Background(), &f.event, event.ApplicationInput{ScheduleID: f.schedule.ID,
		Name: "参加者 " + email, Email: email, SubmitKey: fmt.Sprintf("reminder-key-%d-%s-abcdefgh", f.event.ID, email)})
	if err != nil {
		t.Fatalf("apply %s: %v", email, err)
	}
	return res.Application
}

// reminderStart is a 日程's start three days ahead, on the hour.
func reminderStart() time.Time { return time.Now().Add(72 * time.Hour).Truncate(time.Hour) }

// reminders are the reminder mails the server accepted, by recipient.
func reminders(t *testing.T, srv *mailtest.Server) map[string][]mailtest.Message {
	t.Helper()
	var rs []mailtest.Message
	for _, m := range srv.Messages() {
		if strings.Contains(m.Subject, "リマインド") {
			rs = append(rs, m)
		}
	}
	return exactlyOnce(t, rs)
}

// waitReminders waits until the server accepted n reminders in all.
func waitReminders(t *testing.T, srv *mailtest.Server, n int) map[string][]mailtest.Message {
	t.Helper()
	return eventually.Value(t, fmt.Sprintf("%d reminders", n), func() (map[string][]mailtest.Message, bool) {
		byTo := map[string][]mailtest.Message{}
		got := 0
		for _, m := range srv.Messages() {
			if strings.Contains(m.Subject, "リマインド") {
				byTo[m.To[0]] = append(byTo[m.To[0]], m)
				got++
			}
		}
		return byTo, got >= n
	})
}

// reminderRows are the reminders' outbox rows of an organization.
func reminderRows(t *testing.T, st *store.Store, orgID int64) []store.MailRow {
	t.Helper()
	var rs []store.MailRow
	for _, r := range outbox(t, st, orgID) {
		if r.Kind == event.MailReminder {
			rs = append(rs, r)
		}
	}
	return rs
}

// TestRemindersSentOnceOnTime: the day before at 18:00 (JST) and an hour
// before, every participant who may join gets one reminder each, through
// the SMTP server, with their join URL; キャンセル待ち, キャンセル and 未入金
// in a paid event get none.
func TestRemindersSentOnceOnTime(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		srv := mailtest.Start(t, mailtest.Options{})
		clock := &testClock{}
		a := apptest.Start(t, db, remindersOn(srv, clock))
		ctx := context.Background()
		start := reminderStart()
		var org event.Organization
		var owner event.Member
		free := newReminderFixture(t, a.Store, &org, &owner, "free", event.FeeFree, 2, start)
		paid := newReminderFixture(t, a.Store, &org, &owner, "paid", event.FeePaid, 10, start)
		free.apply(t, a.Store, "applied@example.com")
		cancelled := free.apply(t, a.Store, "cancelled@example.com")
		free.apply(t, a.Store, "waitlisted@example.com")
		if _, err := a.Store.CancelApplication(ctx, org.ID, free.event.ID, cancelled.ID, owner.ID); err != nil {
			t.Fatal(err)
		}
		paid.apply(t, a.Store, "unpaid@example.com")
		payer := paid.apply(t, a.Store, "paid@example.com")
		if err := a.Store.SetPayment(ctx, org.ID, paid.event.ID, payer.ID, owner.ID, event.PaymentPaid); err != nil {
			t.Fatal(err)
		}
		// 申込完了 ×5, キャンセル完了, 入金完了
		srv.Wait(t, 7, 20*time.Second)

		dayBefore := time.Date(start.In(jst).Year(), start.In(jst).Month(), start.In(jst).Day()-1, 18, 0, 0, 0, jst)
		clock.to(dayBefore.Add(time.Second))
		waitReminders(t, srv, 2)
		clock.to(start.Add(-time.Hour + time.Second))
		waitReminders(t, srv, 4)
		mailSettled(t, a.Store)
		got := reminders(t, srv)
		if len(got) != 2 || len(got["applied@example.com"]) != 2 || len(got["paid@example.com"]) != 2 {
			t.Fatalf("reminders by recipient: %v", keys(got))
		}
		for _, m := range got["applied@example.com"] {
			for _, want := range []string{"参加URL: https://meet.example/free", "日時: ", "参加者 applied@example.com 様"} {
				if !strings.Contains(m.Body, want) {
					t.Errorf("reminder lacks %q:\n%s", want, m.Body)
				}
			}
		}
		// Written at their moments, not before.
		rows := reminderRows(t, a.Store, org.ID)
		if len(rows) != 4 {
			t.Fatalf("%d reminder rows, want 4", len(rows))
		}
		for _, r := range rows {
			if r.CreatedAt.Before(dayBefore) || r.Status != event.MailSent {
				t.Errorf("reminder %d written at %v (the first is due at %v), %s", r.ID, r.CreatedAt, dayBefore, r.Status)
			}
		}
	})
}

func keys(m map[string][]mailtest.Message) map[string]int {
	k := map[string]int{}
	for to, ms := range m {
		k[to] = len(ms)
	}
	return k
}

// TestReminderRescheduled: a 日程 moved after its reminder went out gets
// the reminder again before its new start; one moved into the past gets
// none.
func TestReminderRescheduled(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		srv := mailtest.Start(t, mailtest.Options{})
		clock := &testClock{}
		a := apptest.Start(t, db, remindersOn(srv, clock))
		ctx := context.Background()
		start := reminderStart()
		var org event.Organization
		var owner event.Member
		moved := newReminderFixture(t, a.Store, &org, &owner, "moved", event.FeeFree, 10, start)
		past := newReminderFixture(t, a.Store, &org, &owner, "past", event.FeeFree, 10, start.Add(time.Hour))
		moved.apply(t, a.Store, "moved@example.com")
		past.apply(t, a.Store, "past@example.com")
		srv.Wait(t, 2, 20*time.Second)

		// The hour-before reminder of "moved" goes out.
		clock.to(start.Add(-time.Hour + time.Second))
		waitReminders(t, srv, 1)
		// Then "moved" is put off a day, and "past" is moved to have
		// started half an hour ago.
		now := clock.Now()
		sc := moved.schedule
		sc.StartsAt, sc.EndsAt = start.Add(24*time.Hour), start.Add(26*time.Hour)
		if err := a.Store.UpdateSchedule(ctx, &sc); err != nil {
			t.Fatal(err)
		}
		ps := past.schedule
		ps.StartsAt, ps.EndsAt = now.Add(-30*time.Minute).Truncate(time.Minute), now.Add(time.Hour)
		if err := a.Store.UpdateSchedule(ctx, &ps); err != nil {
			t.Fatal(err)
		}
		// The new hour-before reminder of "moved" (its new day-before
		// moment is skipped over, more than the grace ago).
		clock.to(sc.StartsAt.Add(-time.Hour + time.Second))
		waitReminders(t, srv, 2)
		mailSettled(t, a.Store)
		got := reminders(t, srv)
		if len(got["moved@example.com"]) != 2 || len(got["past@example.com"]) != 0 {
			t.Fatalf("reminders by recipient: %v", keys(got))
		}
		if !strings.Contains(got["moved@example.com"][1].Body, "日時: ") {
			t.Errorf("second reminder:\n%s", got["moved@example.com"][1].Body)
		}
	})
}

// TestReminderWrittenTwiceSentOnce: the reminders' rows written by a
// kaisai that stops before it can send them, written again by extra runs
// of the job, and sent by the next kaisai on the same database, reach each
// participant once.
func TestReminderWrittenTwiceSentOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		srv := mailtest.Start(t, mailtest.Options{})
		clock := &testClock{}
		ctx := context.Background()
		// The first kaisai cannot reach its SMTP server.
		first, err := app.New(ctx, appConfig(db, func(cfg *app.Config) {
			remindersOn(srv, clock)(cfg)
			cfg.SMTPURL = unreachableSMTP(t)
		}))
		if err != nil {
			t.Fatal(err)
		}
		if err := first.Start(ctx); err != nil {
			t.Fatal(err)
		}
		start := reminderStart()
		var org event.Organization
		var owner event.Member
		f := newReminderFixture(t, first.Store, &org, &owner, "crash", event.FeeFree, 10, start)
		const n = 3
		for i := range n {
			f.apply(t, first.Store, fmt.Sprintf("p%d@example.com", i))
		}
		clock.to(start.Add(-time.Hour + time.Second))
		until(t, "the reminders to be written", func() bool { return len(reminderRows(t, first.Store, org.ID)) == n })
		// Extra runs of the job, at once, write nothing more.
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := first.Store.WriteDueReminders(ctx, event.ReminderGrace); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		closeCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := first.Close(closeCtx); err != nil {
			t.Fatal(err)
		}
		second := apptest.Start(t, db, remindersOn(srv, clock))
		if _, err := second.Store.WriteDueReminders(ctx, event.ReminderGrace); err != nil {
			t.Fatal(err)
		}
		waitReminders(t, srv, n)
		mailSettled(t, second.Store)
		got := reminders(t, srv)
		for i := range n {
			if to := fmt.Sprintf("p%d@example.com", i); len(got[to]) != 1 {
				t.Errorf("%s got %d reminders, want 1", to, len(got[to]))
			}
		}
		if rows := reminderRows(t, second.Store, org.ID); len(rows) != n {
			t.Errorf("%d reminder rows, want %d", len(rows), n)
		}
	})
}

// TestRemindersTwoInstances: two kaisai on one PostgreSQL send each
// reminder once.
func TestRemindersTwoInstances(t *testing.T) {
	db := testdb.Postgres(t)
	srv := mailtest.Start(t, mailtest.Options{})
	clock := &testClock{}
	a := apptest.Start(t, db, remindersOn(srv, clock))
	b := apptest.Start(t, db, remindersOn(srv, clock))
	start := reminderStart()
	var org event.Organization
	var owner event.Member
	f := newReminderFixture(t, a.Store, &org, &owner, "two", event.FeeFree, 50, start)
	const n = 20
	for i := range n {
		f.apply(t, a.Store, fmt.Sprintf("p%d@example.com", i))
	}
	srv.Wait(t, n, 30*time.Second)
	clock.to(start.Add(-time.Hour + time.Second))
	waitReminders(t, srv, n)
	mailSettled(t, a.Store)
	mailSettled(t, b.Store)
	got := reminders(t, srv)
	for i := range n {
		if to := fmt.Sprintf("p%d@example.com", i); len(got[to]) != 1 {
			t.Errorf("%s got %d reminders, want 1", to, len(got[to]))
		}
	}
}

// unreachableSMTP is the URL of an SMTP server that refuses connections.
func unreachableSMTP(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "smtp://" + addr + "?starttls=none&timeout=5s"
}

// appConfig is apptest.Start's configuration, for a kaisai the test stops itself.
func appConfig(db testdb.DB, opts ...func(*app.Config)) app.Config {
	cfg := app.Config{Addr: "127.0.0.1:0", DataDir: db.DataDir, DatabaseURL: db.DatabaseURL,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PasswordParams: apptest.FastPasswords,
		SecretKey: apptest.TestSecretKey}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

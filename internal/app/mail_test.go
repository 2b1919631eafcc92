package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/jobs"
	"kaisai/internal/mail"
	"kaisai/internal/mail/mailtest"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// fastMail delivers through srv with retries and sweeps in milliseconds.
func fastMail(srv *mailtest.Server) func(*app.Config) {
	return func(cfg *app.Config) {
		cfg.SMTPURL = srv.URL()
		cfg.MailFrom = "セミナー事務局 <seminar@example.com>"
		cfg.Mail = jobs.MailOptions{RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
			Sweep: 200 * time.Millisecond}
	}
}

// mailFixture is an organization with a published free online event and a
// schedule a week ahead.
type mailFixture struct {
	org      event.Organization
	event    event.Event
	schedule event.Schedule
}

func newMailFixture(t *testing.T, st *store.Store, capacity int) mailFixture {
	t.Helper()
	ctx := context.Background()
	org, _, err := st.CreateOrganization(ctx, event.SignupInput{OrgName: "メール主催者", Name: "オーナー",
		Email: fmt.Sprintf("owner-%d@example.com", time.Now().UnixNano())}, "hash")
	if err != nil {
		t.Fatal(err)
	}
	e := event.Event{OrgID: org.ID, Title: "Go勉強会", Fee: event.FeeFree, TimeZone: "Asia/Tokyo",
		Status: event.StatusPublished, WaitlistEnabled: true}
	if _, err := st.CreateEvent(ctx, &e, ""); err != nil {
		t.Fatal(err)
	}
	g := event.ScheduleGroup{OrgID: org.ID, EventID: e.ID, Venue: event.VenueURL, OnlineURL: "https://meet.example/go"}
	if _, err := st.CreateGroup(ctx, &g, ""); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Hour)
	sc := event.Schedule{OrgID: org.ID, EventID: e.ID, GroupID: g.ID, StartsAt: start, EndsAt: start.Add(2 * time.Hour), Capacity: capacity}
	if _, err := st.CreateSchedule(ctx, &sc, ""); err != nil {
		t.Fatal(err)
	}
	return mailFixture{org: org, event: e, schedule: sc}
}

func (f mailFixture) apply(t *testing.T, st *store.Store, i int) event.Application {
	t.Helper()
	res, err := st.Apply(context.Background(), &f.event, event.ApplicationInput{ScheduleID: f.schedule.ID,
		Name: fmt.Sprintf("参加者 %d", i), Email: fmt.Sprintf("p%d@example.com", i),
		SubmitKey: fmt.Sprintf("mail-test-key-%d-%06d-abcdefgh", f.event.ID, i)})
	if err != nil {
		t.Fatalf("apply %d: %v", i, err)
	}
	return res.Application
}

// outbox is the organization's mail log.
func outbox(t *testing.T, st *store.Store, orgID int64) []store.MailRow {
	t.Helper()
	rows, err := st.Mails(context.Background(), orgID, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// waitOutbox waits until every mail of the organization has a final status.
func waitOutbox(t *testing.T, st *store.Store, orgID int64, want int) []store.MailRow {
	t.Helper()
	return eventually.Value(t, fmt.Sprintf("all %d mails to be delivered", want), func() ([]store.MailRow, bool) {
		rows := outbox(t, st, orgID)
		done := 0
		for _, r := range rows {
			if r.Status != event.MailPending {
				done++
			}
		}
		return rows, len(rows) == want && done == want
	})
}

// exactlyOnce fails unless every accepted message is a different mail, each
// with a distinct Message-ID, and returns them by recipient.
func exactlyOnce(t *testing.T, msgs []mailtest.Message) map[string][]mailtest.Message {
	t.Helper()
	seen := map[string]bool{}
	byTo := map[string][]mailtest.Message{}
	for _, m := range msgs {
		if seen[m.MessageID()] {
			t.Errorf("message %s was accepted twice", m.MessageID())
		}
		seen[m.MessageID()] = true
		byTo[m.To[0]] = append(byTo[m.To[0]], m)
	}
	return byTo
}

// mailSettled waits until kaisai has no mail work left: no mail of any
// organization waits or is held, and no delivery run holds its lease.
// Whatever kaisai was going to send has then reached the server, so a mail
// sent twice shows in what it received.
func mailSettled(t *testing.T, st *store.Store) {
	t.Helper()
	until(t, "the outbox to settle", func() bool {
		ctx := context.Background()
		idle, err := st.OutboxIdle(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !idle {
			return false
		}
		holders, err := st.Holders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range holders {
			if strings.HasPrefix(h, jobs.DeliverMailArgs{}.Kind()+" ") {
				return false // a run is under way
			}
		}
		return true
	})
}

// TestApplicationSendsOneMail: an application made through the store puts
// one 申込完了 mail in the outbox in its transaction, and the SMTP server
// receives it exactly once, with the rendered Japanese text.
func TestApplicationSendsOneMail(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		srv := mailtest.Start(t, mailtest.Options{})
		a := apptest.Start(t, db, fastMail(srv))
		f := newMailFixture(t, a.Store, 10)
		app := f.apply(t, a.Store, 1)

		srv.Wait(t, 1, 10*time.Second)
		mailSettled(t, a.Store)
		got := srv.Messages()
		if len(got) != 1 {
			t.Fatalf("the SMTP server received %d messages, want 1", len(got))
		}
		m := got[0]
		if m.Subject != "【Go勉強会】お申し込みを受け付けました" || m.To[0] != "p1@example.com" || m.From != "seminar@example.com" {
			t.Errorf("received subject %q from %s to %v", m.Subject, m.From, m.To)
		}
		for _, want := range []string{"参加者 1 様", "申込状況: 申込済", "参加URL: https://meet.example/go", a.URL() + "/a/" + app.Token} {
			if !strings.Contains(m.Body, want) {
				t.Errorf("body lacks %q:\n%s", want, m.Body)
			}
		}
		rows := waitOutbox(t, a.Store, f.org.ID, 1)
		if r := rows[0]; r.Status != event.MailSent || r.Attempts != 1 || r.Subject != m.Subject || r.Kind != event.MailApplied ||
			"<"+mustMessageID(t, a.Store, r.ID)+">" != m.MessageID() {
			t.Errorf("outbox row %+v", r)
		}
	})
}

// mustMessageID reads an outbox row's Message-ID.
func mustMessageID(t *testing.T, st *store.Store, id int64) string {
	t.Helper()
	var mid string
	if err := st.WriteDB().QueryRowContext(context.Background(), `SELECT message_id FROM outbox WHERE id = $1`, id).Scan(&mid); err != nil {
		t.Fatal(err)
	}
	return mid
}

// TestMailRetriedUntilAccepted: a server that refuses the first attempts
// (451 after the whole message, or 451 to RCPT TO) and then accepts gets
// every mail exactly once: none lost, none twice, and each participant's
// in the order of what happened.
func TestMailRetriedUntilAccepted(t *testing.T) {
	faults := []struct {
		name string
		f    mailtest.Faults
		// attempts each mail takes, as the outbox counts them: the first
		// to an address, and a later one to the same address
		first, later int
	}{
		{"451 after DATA twice", mailtest.Faults{DataTemp: 2}, 3, 3},
		{"451 to RCPT once", mailtest.Faults{RcptTemp: 1}, 2, 1},
	}
	for _, fc := range faults {
		t.Run(fc.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db testdb.DB) {
				srv := mailtest.Start(t, mailtest.Options{Faults: fc.f})
				a := apptest.Start(t, db, fastMail(srv))
				f := newMailFixture(t, a.Store, 3)
				const n = 5 // 3 applied, 2 waitlisted
				apps := make([]event.Application, n)
				for i := range n {
					apps[i] = f.apply(t, a.Store, i)
				}
				// The organizer cancels one: the first waitlisted moves up.
				if _, err := a.Store.CancelApplication(context.Background(), f.org.ID, f.event.ID, apps[0].ID, 0); err != nil {
					t.Fatal(err)
				}
				if _, err := a.Store.Promote(context.Background(), f.org.ID, f.event.ID, apps[3].ID, 0); err != nil {
					t.Fatal(err)
				}
				const mails = n + 2
				srv.Wait(t, mails, 20*time.Second)
				mailSettled(t, a.Store)
				got := srv.Messages()
				if len(got) != mails {
					t.Fatalf("accepted %d messages, want %d", len(got), mails)
				}
				byTo := exactlyOnce(t, got)
				want := map[string][]string{
					"p0@example.com": {"【Go勉強会】お申し込みを受け付けました", "【Go勉強会】キャンセルを受け付けました"},
					"p3@example.com": {"【Go勉強会】お申し込みを受け付けました", "【Go勉強会】キャンセル待ちから参加が確定しました"},
				}
				for i := range n {
					to := fmt.Sprintf("p%d@example.com", i)
					w := want[to]
					if w == nil {
						w = []string{"【Go勉強会】お申し込みを受け付けました"}
					}
					var subjects []string
					for _, m := range byTo[to] {
						subjects = append(subjects, m.Subject)
					}
					if strings.Join(subjects, "|") != strings.Join(w, "|") {
						t.Errorf("%s received %q, want %q", to, subjects, w)
					}
				}
				if m := byTo["p4@example.com"]; len(m) == 1 && !strings.Contains(m[0].Body, "申込状況: キャンセル待ち") {
					t.Errorf("the waitlisted applicant's mail does not say so:\n%s", m[0].Body)
				}
				for _, r := range waitOutbox(t, a.Store, f.org.ID, mails) {
					want := fc.first
					if r.Kind != event.MailApplied {
						want = fc.later
					}
					if r.Status != event.MailSent || r.Attempts != want {
						t.Errorf("mail %d (%s): status %s after %d attempts (last error %q), want sent after %d",
							r.ID, r.Kind, r.Status, r.Attempts, r.LastError, want)
					}
				}
			})
		})
	}
}

// TestMailGivenUpAfterMaxAttempts: a server that never accepts makes a mail
// 送信失敗 after MaxAttempts, with the server's answer; 再送 sends it.
func TestMailGivenUpAfterMaxAttempts(t *testing.T) {
	db := testdb.SQLite(t)
	srv := mailtest.Start(t, mailtest.Options{Faults: mailtest.Faults{DataTemp: 3}})
	a := apptest.Start(t, db, fastMail(srv), func(cfg *app.Config) { cfg.Mail.MaxAttempts = 3 })
	f := newMailFixture(t, a.Store, 10)
	f.apply(t, a.Store, 1)
	rows := waitOutbox(t, a.Store, f.org.ID, 1)
	if r := rows[0]; r.Status != event.MailFailed || r.Attempts != 3 || !strings.Contains(r.LastError, "451") {
		t.Fatalf("after 3 refusals: %+v", r)
	}
	mailSettled(t, a.Store)
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("a given-up mail was accepted %d times", n)
	}
	if err := a.Store.RetryMail(context.Background(), f.org.ID, rows[0].ID); err != nil {
		t.Fatal(err)
	}
	srv.Wait(t, 1, 10*time.Second)
	rows = waitOutbox(t, a.Store, f.org.ID, 1)
	if r := rows[0]; r.Status != event.MailSent || r.Attempts != 4 {
		t.Errorf("after 再送: %+v", r)
	}
}

// TestManyApplicationsFewJobs: mail is not a River job per application
// (DESIGN.md §7): a hundred applications in a row are delivered, each
// once, by a handful of coalesced DeliverMail jobs.
func TestManyApplicationsFewJobs(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		srv := mailtest.Start(t, mailtest.Options{})
		a := apptest.Start(t, db, fastMail(srv), func(cfg *app.Config) { cfg.Mail.Sweep = time.Hour })
		f := newMailFixture(t, a.Store, 1000)
		const n = 100
		for i := range n {
			f.apply(t, a.Store, i)
		}
		srv.Wait(t, n, 30*time.Second)
		mailSettled(t, a.Store)
		exactlyOnce(t, srv.Messages())
		if got := len(srv.Messages()); got != n {
			t.Errorf("accepted %d messages, want %d", got, n)
		}
		var jobs int
		if err := a.Store.WriteDB().QueryRowContext(context.Background(),
			`SELECT COUNT(*) FROM river_job WHERE kind = 'deliver_mail'`).Scan(&jobs); err != nil {
			t.Fatal(err)
		}
		if jobs < 1 || jobs > n/4 {
			t.Errorf("%d deliver_mail jobs for %d applications: want a few, coalesced", jobs, n)
		}
		t.Logf("%d applications, %d deliver_mail jobs", n, jobs)
	})
}

// TestMailCommittedBeforeCrashIsSwept: mail committed while no kaisai runs
// its workers (as after a crash between commit and nudge) is delivered by
// the sweep when kaisai starts again.
func TestMailCommittedBeforeCrashIsSwept(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		// The store alone: the transaction commits, nobody is nudged.
		st, err := store.Open(ctx, store.Options{DatabaseURL: db.DatabaseURL, DataDir: db.DataDir})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
			t.Fatal(err)
		}
		f := newMailFixture(t, st, 10)
		for i := range 3 {
			f.apply(t, st, i)
		}
		if rows := outbox(t, st, f.org.ID); len(rows) != 3 || rows[0].Status != event.MailPending {
			t.Fatalf("outbox before the restart: %+v", rows)
		}
		st.Close()

		srv := mailtest.Start(t, mailtest.Options{})
		a := apptest.Start(t, db, fastMail(srv), func(cfg *app.Config) { cfg.Mail.Sweep = 500 * time.Millisecond })
		srv.Wait(t, 3, 20*time.Second)
		mailSettled(t, a.Store)
		exactlyOnce(t, srv.Messages())
		if got := len(srv.Messages()); got != 3 {
			t.Errorf("accepted %d messages after the restart, want 3", got)
		}
		waitOutbox(t, a.Store, f.org.ID, 3)
	})
}

// TestMailKeptWithoutSMTP: with no SMTP server configured, mail is rendered
// and kept (the dev outbox), not sent.
func TestMailKeptWithoutSMTP(t *testing.T) {
	a := apptest.Start(t, testdb.SQLite(t))
	f := newMailFixture(t, a.Store, 1)
	f.apply(t, a.Store, 1)
	f.apply(t, a.Store, 2) // waitlisted
	rows := waitOutbox(t, a.Store, f.org.ID, 2)
	for _, r := range rows {
		if r.Status != event.MailKept || r.Subject != "【Go勉強会】お申し込みを受け付けました" || !strings.Contains(r.Body, "様") {
			t.Errorf("dev outbox row %+v", r)
		}
	}
	if !strings.Contains(rows[0].Body, "申込状況: キャンセル待ち") || !strings.Contains(rows[0].Body, "お席が確定した時点でお知らせします") {
		t.Errorf("the waitlisted applicant's mail:\n%s", rows[0].Body)
	}
}

// TestCrashAfterAcceptResendsSameMessage: a worker that dies after the
// server accepted a mail but before recording it (simulated: claimed, sent,
// never marked) leaves the mail to go again when its lease runs out, with
// the same Message-ID, so the receiving side can tell it is one mail.
// SMTP allows no better than at-least-once; nothing is lost.
func TestCrashAfterAcceptResendsSameMessage(t *testing.T) {
	db := testdb.SQLite(t)
	ctx := context.Background()
	srv := mailtest.Start(t, mailtest.Options{})
	st, err := store.Open(ctx, store.Options{DataDir: db.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	f := newMailFixture(t, st, 10)
	f.apply(t, st, 1)
	l, err := st.TakeLease(ctx, "the worker that dies", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := st.ClaimMail(ctx, l, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %d mails, %v", len(claimed), err)
	}
	r, err := mail.NewRenderer("", "http://kaisai.test")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := mail.NewSMTP(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	sess, err := tr.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg := r.Render(&claimed[0], time.Now())
	if err := sess.Send(&msg); err != nil {
		t.Fatal(err)
	}
	sess.Close()
	st.Close() // the crash: the acceptance is not recorded

	a := apptest.Start(t, db, fastMail(srv))
	got := srv.Wait(t, 2, 20*time.Second)
	if got[0].MessageID() != got[1].MessageID() || got[0].MessageID() != "<"+claimed[0].MessageID+">" {
		t.Errorf("the mail went again as another message: %s, then %s", got[0].MessageID(), got[1].MessageID())
	}
	mailSettled(t, a.Store)
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("accepted %d times, want twice (once before the crash, once after)", n)
	}
	if rows := waitOutbox(t, a.Store, f.org.ID, 1); rows[0].Status != event.MailSent {
		t.Errorf("after the restart: %+v", rows[0])
	}
}

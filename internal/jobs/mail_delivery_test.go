package jobs

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/mail"
	"kaisai/internal/mail/mailtest"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// mailWorld is a world with a published free online event (no Zoom) whose
// applications write mail to the outbox.
type mailWorld struct {
	*world
	event    event.Event
	schedule event.Schedule
}

func newMailWorld(t *testing.T, db testdb.DB) *mailWorld {
	t.Helper()
	ctx := context.Background()
	w := &mailWorld{world: newWorld(t, db)}
	w.event = event.Event{OrgID: w.org.ID, Title: "Go勉強会", Fee: event.FeeFree, TimeZone: "Asia/Tokyo",
		Status: event.StatusPublished}
	if _, err := w.st.CreateEvent(ctx, &w.event, ""); err != nil {
		t.Fatal(err)
	}
	g := event.ScheduleGroup{OrgID: w.org.ID, EventID: w.event.ID, Venue: event.VenueURL, OnlineURL: "https://meet.example/go"}
	if _, err := w.st.CreateGroup(ctx, &g, ""); err != nil {
		t.Fatal(err)
	}
	start := w.clock.Now().Add(7 * 24 * time.Hour).Truncate(time.Hour)
	w.schedule = event.Schedule{OrgID: w.org.ID, EventID: w.event.ID, GroupID: g.ID, StartsAt: start,
		EndsAt: start.Add(2 * time.Hour), Capacity: 10}
	if _, err := w.st.CreateSchedule(ctx, &w.schedule, ""); err != nil {
		t.Fatal(err)
	}
	return w
}

// smtpTo is a Transport to the SMTP server at url.
func smtpTo(t *testing.T, url string) mail.Transport {
	t.Helper()
	tr, err := mail.NewSMTP(url)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func newTestRenderer() (*mail.Renderer, error) {
	return mail.NewRenderer("セミナー事務局 <seminar@example.com>", "https://kaisai.example")
}

// deliver runs one DeliverMail job with transport (nil: no SMTP) to its end.
func (w *world) deliver(t *testing.T, transport mail.Transport, o MailOptions) {
	t.Helper()
	r, err := newTestRenderer()
	if err != nil {
		t.Fatal(err)
	}
	wk := &DeliverMailWorker{Store: w.st, Renderer: r, Transport: transport, Options: o.withDefaults(),
		Now: w.clock.Now, Log: quietLog}
	if err := wk.Work(context.Background(), job(DeliverMailArgs{})); err != nil {
		t.Fatalf("DeliverMail: %v", err)
	}
}

// onlyMail is the organization's one mail.
func (w *world) onlyMail(t *testing.T) store.MailRow {
	t.Helper()
	rows, err := w.st.Mails(context.Background(), w.org.ID, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d mails in the outbox, want 1: %+v", len(rows), rows)
	}
	return rows[0]
}

// TestMailDelivery drives DeliverMailWorker against a real SMTP server
// (package mailtest): what becomes of a mail in the outbox.
func TestMailDelivery(t *testing.T) {
	rule(t, "a mail is sent over SMTP and marked sent", func(t *testing.T, db testdb.DB) {
		w := newMailWorld(t, db)
		srv := mailtest.Start(t, mailtest.Options{})
		w.apply(t, w.event, w.schedule, 1)
		w.deliver(t, smtpTo(t, srv.URL()), MailOptions{})
		msgs := srv.Messages()
		if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "p1@example.com" ||
			!strings.Contains(msgs[0].Subject, "Go勉強会") {
			t.Fatalf("the SMTP server accepted %+v", msgs)
		}
		m := w.onlyMail(t)
		if m.Status != event.MailSent || m.Subject != msgs[0].Subject || !m.SentAt.Equal(w.clock.Now()) {
			t.Errorf("the outbox row after sending: %+v", m)
		}
		w.deliver(t, smtpTo(t, srv.URL()), MailOptions{})
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("a sent mail was sent again: %d messages", n)
		}
	})

	rule(t, "a transient SMTP failure is retried after a backoff", func(t *testing.T, db testdb.DB) {
		w := newMailWorld(t, db)
		srv := mailtest.Start(t, mailtest.Options{Faults: mailtest.Faults{DataTemp: 1}})
		w.apply(t, w.event, w.schedule, 1)
		w.deliver(t, smtpTo(t, srv.URL()), MailOptions{})
		m := w.onlyMail(t)
		if m.Status != event.MailPending || m.Attempts != 1 || !strings.Contains(m.LastError, "451") ||
			!m.NextAttemptAt.Equal(w.clock.Now().Add(30*time.Second)) {
			t.Fatalf("after a 451: %+v, want pending, retried in 30 s", m)
		}
		w.deliver(t, smtpTo(t, srv.URL()), MailOptions{}) // before the backoff ran out
		if len(srv.Messages()) != 0 || w.onlyMail(t).Attempts != 1 {
			t.Fatalf("retried before the backoff ran out: %+v", w.onlyMail(t))
		}
		w.clock.Add(30 * time.Second)
		w.deliver(t, smtpTo(t, srv.URL()), MailOptions{})
		if m := w.onlyMail(t); m.Status != event.MailSent || len(srv.Messages()) != 1 {
			t.Errorf("after the backoff: %+v, %d accepted", m, len(srv.Messages()))
		}
	})

	rule(t, "an unreachable SMTP server is a transient failure", func(t *testing.T, db testdb.DB) {
		w := newMailWorld(t, db)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		w.apply(t, w.event, w.schedule, 1)
		w.deliver(t, smtpTo(t, "smtp://"+addr+"?starttls=none&timeout=5s"), MailOptions{})
		if m := w.onlyMail(t); m.Status != event.MailPending || m.Attempts != 1 || m.LastError == "" {
			t.Errorf("with the server unreachable: %+v, want pending for a retry", m)
		}
	})

	rule(t, "a refused recipient is marked failed at once", func(t *testing.T, db testdb.DB) {
		w := newMailWorld(t, db)
		srv := mailtest.Start(t, mailtest.Options{Faults: mailtest.Faults{RcptReject: map[string]bool{"p1@example.com": true}}})
		w.apply(t, w.event, w.schedule, 1)
		w.deliver(t, smtpTo(t, srv.URL()), MailOptions{})
		if m := w.onlyMail(t); m.Status != event.MailFailed || m.Attempts != 1 || !strings.Contains(m.LastError, "550") {
			t.Errorf("after a 550 for the recipient: %+v, want failed", m)
		}
	})

	rule(t, "a mail failing its last attempt is marked failed", func(t *testing.T, db testdb.DB) {
		w := newMailWorld(t, db)
		srv := mailtest.Start(t, mailtest.Options{Faults: mailtest.Faults{DataTemp: 10}})
		w.apply(t, w.event, w.schedule, 1)
		o := MailOptions{MaxAttempts: 2}
		w.deliver(t, smtpTo(t, srv.URL()), o)
		if m := w.onlyMail(t); m.Status != event.MailPending {
			t.Fatalf("after the first of two attempts: %+v", m)
		}
		w.clock.Add(30 * time.Second)
		w.deliver(t, smtpTo(t, srv.URL()), o)
		if m := w.onlyMail(t); m.Status != event.MailFailed || m.Attempts != 2 {
			t.Errorf("after the last attempt: %+v, want failed", m)
		}
	})

	rule(t, "without SMTP a mail is kept in the outbox", func(t *testing.T, db testdb.DB) {
		w := newMailWorld(t, db)
		w.apply(t, w.event, w.schedule, 1)
		w.deliver(t, nil, MailOptions{})
		m := w.onlyMail(t)
		if m.Status != event.MailKept || m.To != "p1@example.com" || !strings.Contains(m.Subject, "Go勉強会") || m.Body == "" {
			t.Errorf("without SMTP: %+v, want kept, rendered", m)
		}
	})
}

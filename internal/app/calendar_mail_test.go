package app_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	ical "github.com/emersion/go-ical"

	"kaisai/internal/app/apptest"
	"kaisai/internal/mail/mailtest"
	"kaisai/internal/testdb"
)

// mailCalendar is the one text/calendar attachment of m, read with
// emersion/go-ical (kaisai writes it by hand), or nil when it has none.
func mailCalendar(t *testing.T, m mailtest.Message) *ical.Event {
	t.Helper()
	var found *ical.Event
	for _, at := range m.Attachments {
		if !strings.HasPrefix(at.ContentType, "text/calendar") {
			continue
		}
		if found != nil {
			t.Fatalf("%q has two calendars", m.Subject)
		}
		if at.Filename != "event.ics" || !strings.Contains(at.ContentType, "method=PUBLISH") {
			t.Errorf("attachment %q of type %q", at.Filename, at.ContentType)
		}
		cal, err := ical.NewDecoder(bytes.NewReader(at.Data)).Decode()
		if err != nil {
			t.Fatalf("%q: parse .ics: %v\n%s", m.Subject, err, at.Data)
		}
		if p := cal.Props.Get("METHOD"); p == nil || p.Value != "PUBLISH" {
			t.Errorf("METHOD %+v, want PUBLISH", p)
		}
		evs := cal.Events()
		if len(evs) != 1 {
			t.Fatalf("%d events in\n%s", len(evs), at.Data)
		}
		found = &evs[0]
	}
	return found
}

// TestMailsCarryCalendar: the 申込完了 mail carries the 日程 as a parsable
// .ics with the join URL only for a participant who may join (not for
// キャンセル待ち); the キャンセル完了 mail carries none; a 繰り上げ mail
// sent after the 日程 moved carries the new times, the same UID and a
// higher SEQUENCE.
func TestMailsCarryCalendar(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		srv := mailtest.Start(t, mailtest.Options{})
		a := apptest.Start(t, db, fastMail(srv))
		f := newMailFixture(t, a.Store, 1)
		const joinURL = "https://meet.example/go"
		first := f.apply(t, a.Store, 1)
		second := f.apply(t, a.Store, 2) // キャンセル待ち

		srv.Wait(t, 2, 10*time.Second)
		mailSettled(t, a.Store)
		byTo := exactlyOnce(t, srv.Messages())
		text := func(ev *ical.Event, name string) string {
			t.Helper()
			p := ev.Props.Get(name)
			if p == nil {
				return ""
			}
			s, err := p.Text()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return s
		}

		ev := mailCalendar(t, byTo["p1@example.com"][0])
		if ev == nil {
			t.Fatalf("the 申込完了 mail has no calendar: %+v", byTo["p1@example.com"][0].Attachments)
		}
		if got := text(ev, "SUMMARY"); got != "Go勉強会" {
			t.Errorf("SUMMARY %q", got)
		}
		if !strings.Contains(text(ev, "DESCRIPTION"), joinURL) || text(ev, "LOCATION") != joinURL ||
			!strings.Contains(text(ev, "DESCRIPTION"), a.URL()+"/a/"+first.Token) {
			t.Errorf("applied: DESCRIPTION %q, LOCATION %q: want the join URL and the application page",
				text(ev, "DESCRIPTION"), text(ev, "LOCATION"))
		}
		if start, err := ev.DateTimeStart(time.UTC); err != nil || !start.Equal(f.schedule.StartsAt) ||
			!strings.HasSuffix(ev.Props.Get("DTSTART").Value, "Z") {
			t.Errorf("DTSTART %+v, want %v in UTC", ev.Props.Get("DTSTART"), f.schedule.StartsAt.UTC())
		}
		if seq, err := ev.Props.Get("SEQUENCE").Int(); err != nil || seq != 0 {
			t.Errorf("SEQUENCE %d (%v), want 0", seq, err)
		}

		ev = mailCalendar(t, byTo["p2@example.com"][0])
		if ev == nil {
			t.Fatal("the キャンセル待ち 申込完了 mail has no calendar")
		}
		if strings.Contains(text(ev, "DESCRIPTION")+text(ev, "LOCATION"), joinURL) {
			t.Errorf("キャンセル待ち: join URL in DESCRIPTION %q / LOCATION %q", text(ev, "DESCRIPTION"), text(ev, "LOCATION"))
		}
		waitUID := text(ev, "UID")

		// The 日程 moves an hour later; the first participant cancels and the
		// second moves up.
		ctx := context.Background()
		moved := f.schedule
		moved.StartsAt, moved.EndsAt = moved.StartsAt.Add(time.Hour), moved.EndsAt.Add(time.Hour)
		if err := a.Store.UpdateSchedule(ctx, &moved); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Store.CancelApplication(ctx, f.org.ID, f.event.ID, first.ID, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Store.Promote(ctx, f.org.ID, f.event.ID, second.ID, 0); err != nil {
			t.Fatal(err)
		}
		srv.Wait(t, 4, 10*time.Second)
		mailSettled(t, a.Store)
		byTo = exactlyOnce(t, srv.Messages())
		if len(byTo["p1@example.com"]) != 2 || mailCalendar(t, byTo["p1@example.com"][1]) != nil {
			t.Errorf("the キャンセル完了 mail carries a calendar (or is missing)")
		}
		if len(byTo["p2@example.com"]) != 2 {
			t.Fatalf("p2 received %d mails, want 2", len(byTo["p2@example.com"]))
		}
		ev = mailCalendar(t, byTo["p2@example.com"][1])
		if ev == nil {
			t.Fatal("the 繰り上げ mail has no calendar")
		}
		if text(ev, "UID") != waitUID || text(ev, "LOCATION") != joinURL {
			t.Errorf("繰り上げ: UID %q (want %q), LOCATION %q (want the join URL)", text(ev, "UID"), waitUID, text(ev, "LOCATION"))
		}
		if seq, err := ev.Props.Get("SEQUENCE").Int(); err != nil || seq != 1 {
			t.Errorf("繰り上げ after the move: SEQUENCE %d (%v), want 1", seq, err)
		}
		if start, err := ev.DateTimeStart(time.UTC); err != nil || !start.Equal(moved.StartsAt) {
			t.Errorf("繰り上げ after the move: DTSTART %v (%v), want %v", start, err, moved.StartsAt.UTC())
		}
	})
}

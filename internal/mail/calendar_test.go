package mail_test

import (
	"strings"
	"testing"
	"time"

	"kaisai/internal/event"
)

// TestCalendarOnConfirmations: 申込完了, 繰り上げ and 入金完了 carry the
// 日程 as an .ics, other mails none; an application cancelled before its
// mail went gets none; the join URL only where the participant may join;
// a retry renders the same bytes.
func TestCalendarOnConfirmations(t *testing.T) {
	r := renderer(t)
	const join = "https://meet.example/abc?pwd=1"
	carries := map[event.MailKind]bool{event.MailApplied: true, event.MailPromoted: true, event.MailPaid: true}
	for _, k := range event.MailKinds {
		m := outgoing(k)
		m.CreatedAt = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
		msg := r.Render(&m, time.Now())
		if got := msg.Calendar != nil; got != carries[k] {
			t.Errorf("%s: calendar attached %v, want %v", k, got, carries[k])
			continue
		}
		if msg.Calendar == nil {
			continue
		}
		ics := string(msg.Calendar)
		for _, want := range []string{"METHOD:PUBLISH\r\n", "UID:application-3-schedule-5@kaisai.example\r\n",
			"SUMMARY:Go勉強会 #1\r\n", "DTSTART:20260704T040000Z\r\n", "LOCATION:" + join + "\r\n", "DTSTAMP:20260601T090000Z\r\n"} {
			if !strings.Contains(ics, want) {
				t.Errorf("%s: .ics lacks %q:\n%s", k, want, ics)
			}
		}
		if again := r.Render(&m, time.Now().Add(time.Hour)); string(again.Calendar) != ics {
			t.Errorf("%s: a retry renders another .ics:\n%s\n---\n%s", k, again.Calendar, ics)
		}
	}

	m := outgoing(event.MailApplied)
	m.Application.Status = event.Cancelled
	if msg := r.Render(&m, time.Now()); msg.Calendar != nil {
		t.Errorf("cancelled before sending: calendar attached:\n%s", msg.Calendar)
	}
	m = outgoing(event.MailApplied)
	m.Application.Status = event.Waitlisted
	if msg := r.Render(&m, time.Now()); msg.Calendar == nil || strings.Contains(string(msg.Calendar), "meet.example") {
		t.Errorf("キャンセル待ち: want an .ics without the join URL:\n%s", msg.Calendar)
	}
	m = outgoing(event.MailApplied)
	m.Event.Fee, m.Event.PriceJPY, m.Application.Payment = event.FeePaid, 3000, event.PaymentUnpaid
	if msg := r.Render(&m, time.Now()); msg.Calendar == nil || strings.Contains(string(msg.Calendar), "meet.example") {
		t.Errorf("未入金: want an .ics without the join URL:\n%s", msg.Calendar)
	}
}

package mail_test

import (
	"strings"
	"testing"

	"kaisai/internal/event"
	"kaisai/internal/i18n"
	"kaisai/internal/store"
)

// TestStatusNoteAndSignIn: {status_note} fits the application's status, and
// {online_url} of a Zoom meeting with 認証 carries the sign-in notice with
// the applied e-mail, for live applications only.
func TestStatusNoteAndSignIn(t *testing.T) {
	r := renderer(t)
	zoom := func(auth bool) func(m *store.OutgoingMail) {
		return func(m *store.OutgoingMail) {
			m.Group = event.ScheduleGroup{Venue: event.VenueZoom, OnlineURL: "https://zoom.example/j/1?pwd=x",
				Zoom: &event.ZoomSettings{Authentication: auth, Passcode: "x"}}
		}
	}
	signIn := catalog.T(i18n.Japanese, "mail.zoom_signin", "taro@example.com")
	for _, c := range []struct {
		name   string
		change []func(m *store.OutgoingMail)
		note   string
		signIn bool
	}{
		{"申込済", nil, "mail.status_note.applied", false},
		{"キャンセル待ち", []func(*store.OutgoingMail){func(m *store.OutgoingMail) { m.Application.Status = event.Waitlisted }},
			"mail.status_note.waitlisted", false},
		{"キャンセル", []func(*store.OutgoingMail){func(m *store.OutgoingMail) { m.Application.Status = event.Cancelled }},
			"mail.status_note.cancelled", false},
		{"未入金", []func(*store.OutgoingMail){func(m *store.OutgoingMail) {
			m.Event.Fee, m.Event.PriceJPY, m.Application.Payment = event.FeePaid, 1000, event.PaymentUnpaid
		}}, "mail.status_note.applied_unpaid", false},
		{"Zoom 認証ON", []func(*store.OutgoingMail){zoom(true)}, "mail.status_note.applied", true},
		{"Zoom 認証ON キャンセル待ち", []func(*store.OutgoingMail){zoom(true), func(m *store.OutgoingMail) {
			m.Application.Status = event.Waitlisted
		}}, "mail.status_note.waitlisted", true},
		{"Zoom 認証ON キャンセル", []func(*store.OutgoingMail){zoom(true), func(m *store.OutgoingMail) {
			m.Application.Status = event.Cancelled
		}}, "mail.status_note.cancelled", false},
		{"Zoom 認証OFF", []func(*store.OutgoingMail){zoom(false)}, "mail.status_note.applied", false},
	} {
		m := outgoing(event.MailApplied)
		for _, f := range c.change {
			f(&m)
		}
		v := r.Vars(&m)
		if v["status_note"] != ja(c.note) {
			t.Errorf("%s: {status_note} = %q, want %q", c.name, v["status_note"], ja(c.note))
		}
		if got := strings.Contains(v["online_url"], signIn); got != c.signIn {
			t.Errorf("%s: {online_url} = %q: sign-in notice %v, want %v", c.name, v["online_url"], got, c.signIn)
		}
		body := r.Render(&m, m.CreatedAt).Body
		if strings.Contains(body, "{status_note}") || !strings.Contains(body, ja(c.note)) {
			t.Errorf("%s: the default 申込完了 mail does not say its status note:\n%s", c.name, body)
		}
	}
}

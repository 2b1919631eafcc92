package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"kaisai/internal/testdb"
)

// TestReminderSettings: the メール文面 page shows an event's reminders (the
// default at first), saves changed, added and removed ones, refuses one
// kaisai cannot keep with a clear message and saves nothing then, and
// turns all off.
func TestReminderSettings(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		c := newClient(t, a)
		c.signup("リマインド主催", "owner@remind.example")
		eventID := c.createEvent(eventSpec{Title: "リマインドセミナー"})
		mailPath := fmt.Sprintf("/events/%d/mail", eventID)
		remindersPath := fmt.Sprintf("/events/%d/reminders", eventID)
		stored := func() string {
			t.Helper()
			var orgID int64
			if err := a.Store.WriteDB().QueryRowContext(context.Background(), `SELECT org_id FROM events WHERE id = $1`,
				eventID).Scan(&orgID); err != nil {
				t.Fatal(err)
			}
			rs, err := a.Store.EventReminders(context.Background(), orgID, eventID)
			if err != nil {
				t.Fatal(err)
			}
			return rs.String()
		}

		r := c.get(mailPath)
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("reminders.heading"), ja("reminders.days_at", 1, "18:00")+"、"+ja("reminders.hours_before", 1),
			ja("mail.kind.reminder"))
		if fieldValue(t, r, "reminder0_amount") != "1" || fieldValue(t, r, "reminder0_at") != "18:00" ||
			fieldValue(t, r, "reminder1_amount") != "1" || fieldValue(t, r, "reminder2_amount") != "" {
			t.Fatalf("the form does not show the default reminders: %s", r)
		}

		// The hour before becomes 30 minutes before, and 2 days before at
		// 09:30 is added in an empty row; the day before is removed.
		form := url.Values{
			"reminder0_amount": {"1"}, "reminder0_unit": {"off"}, "reminder0_at": {"18:00"},
			"reminder1_amount": {"30"}, "reminder1_unit": {"minutes"}, "reminder1_at": {""},
			"reminder2_amount": {"2"}, "reminder2_unit": {"days"}, "reminder2_at": {"09:30"},
		}
		wantRedirect(t, c.post(remindersPath, form), mailPath)
		if got := stored(); got != "30m,2d09:30" {
			t.Fatalf("stored %q", got)
		}
		wantText(t, c.get(mailPath), ja("reminders.minutes_before", 30)+"、"+ja("reminders.days_at", 2, "09:30"))

		// 40 days before is refused; nothing is saved, the rows are kept.
		bad := url.Values{
			"reminder0_amount": {"3"}, "reminder0_unit": {"hours"},
			"reminder1_amount": {"40"}, "reminder1_unit": {"days"}, "reminder1_at": {"10:00"},
		}
		r = c.post(remindersPath, bad)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.reminder"))
		if fieldValue(t, r, "reminder1_amount") != "40" {
			t.Errorf("the refused row is not kept: %s", r)
		}
		if got := stored(); got != "30m,2d09:30" {
			t.Fatalf("a refused form saved %q", got)
		}
		// In English too.
		c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		r = c.post(remindersPath, bad)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, en("validation.reminder"))

		c.post("/lang", url.Values{"lang": {"ja"}, "next": {"/"}})

		// All off.
		wantRedirect(t, c.post(remindersPath, url.Values{"off": {"1"}}), mailPath)
		if got := stored(); got != "" {
			t.Fatalf("after all off: %q", got)
		}
		wantText(t, c.get(mailPath), ja("reminders.none"))
	})
}

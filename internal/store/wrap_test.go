package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

// TestErrorsWrappedOnce: an exported method's error names the method and the
// ids it was given, once, however deep the failure, and the sentinel under
// it (not found, lease lost) is still found by errors.Is.
func TestErrorsWrappedOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		st := open(t, db)
		l := takeLease(t, st, "wrap", time.Minute)

		// A second store on the same database, closed: every query fails.
		closed, err := store.Open(ctx, store.Options{DatabaseURL: db.DatabaseURL, DataDir: db.DataDir})
		if err != nil {
			t.Fatal(err)
		}
		if err := closed.Close(); err != nil {
			t.Fatal(err)
		}

		cases := []struct {
			name, prefix string
			sentinel     error // nil: none to find
			call         func() error
		}{
			{"missing event", "store.Event(org 9001, id 9002): ", event.ErrNotFound, func() error {
				_, err := st.Event(ctx, 9001, 9002)
				return err
			}},
			{"missing event to delete", "store.DeleteEvent(org 9001, id 9002): ", event.ErrNotFound, func() error {
				return st.DeleteEvent(ctx, 9001, 9002)
			}},
			{"missing schedule", "store.ScheduleByIDUnscoped(id 9003): ", event.ErrNotFound, func() error {
				_, _, err := st.ScheduleByIDUnscoped(ctx, 9003)
				return err
			}},
			{"missing zoom connection", "store.SetZoomConnectionStatus(org 9001, id 9004): ", event.ErrNotFound, func() error {
				return st.SetZoomConnectionStatus(ctx, 9001, 9004, zoompolicy.Linked)
			}},
			{"webhook not held", "store.MarkZoomWebhook(id 9005): ", store.ErrLeaseLost, func() error {
				return st.MarkZoomWebhook(ctx, l, 9005, zoompolicy.WebhookProcessed, "", time.Time{})
			}},
			{"mail not held", "store.MarkMailDelivered(id 9006): ", store.ErrLeaseLost, func() error {
				return st.MarkMailDelivered(ctx, l, 9006, event.MailSent, "a@example.com", "s", "b")
			}},
			{"closed: events", "store.Events(org 9001): ", nil, func() error {
				_, err := closed.Events(ctx, 9001)
				return err
			}},
			{"closed: claim mail", "store.ClaimMail(): ", nil, func() error {
				_, err := closed.ClaimMail(ctx, l, 10)
				return err
			}},
			{"closed: applicants", "store.Applicants(org 9001, event 9002): ", nil, func() error {
				_, err := closed.Applicants(ctx, 9001, 9002, store.ApplicantQuery{})
				return err
			}},
		}
		for _, c := range cases {
			err := c.call()
			if err == nil {
				t.Errorf("%s: no error", c.name)
				continue
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, c.prefix) || strings.Count(msg, "store.") != 1 {
				t.Errorf("%s: error %q, want it to start with %q and name the store once", c.name, msg, c.prefix)
			}
			if c.sentinel != nil && !errors.Is(err, c.sentinel) {
				t.Errorf("%s: errors.Is(%q, %v) is false", c.name, msg, c.sentinel)
			}
		}
	})
}

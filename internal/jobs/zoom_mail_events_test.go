package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/mail/mailtest"
	"kaisai/internal/testdb"
	"kaisai/internal/zoom"
	"kaisai/internal/zoom/webhook"
	"kaisai/internal/zoompolicy"
)

// TestMailAwaitsZoomRegistration: a participant's mail that carries the
// join URL of a meeting with 登録 waits for their registration, then goes
// with their personal join URL.
func TestMailAwaitsZoomRegistration(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		m := w.created(t, ze)
		srv := mailtest.Start(t, mailtest.Options{})
		w.apply(t, ze.event, ze.schedule, 1)
		w.deliver(t, smtpTo(t, srv.URL()), MailOptions{})
		if got := w.onlyMail(t); got.Status != event.MailPending || got.Attempts != 0 || len(srv.Messages()) != 0 {
			t.Fatalf("before the registration the mail went, or failed: %+v", got)
		}
		w.syncRegistrants(t)
		z, ok := w.registrantOnZoom(t, m.ZoomID, "p1@example.com")
		if !ok {
			t.Fatal("not registered on Zoom")
		}
		w.clock.Add(time.Second)
		w.deliver(t, smtpTo(t, srv.URL()), MailOptions{})
		msgs := srv.Messages()
		if len(msgs) != 1 || !strings.Contains(msgs[0].Body, z.JoinURL) {
			t.Fatalf("after the registration the mail is %+v, want one with the personal join URL %s", msgs, z.JoinURL)
		}
		if got := w.onlyMail(t); got.Status != event.MailSent {
			t.Errorf("the mail is %s, want sent", got.Status)
		}
	})
}

// TestZoomMeetingUpdatedOnZoom: meeting.updated records the settings
// kaisai manages that were changed on Zoom's side, read back from Zoom.
func TestZoomMeetingUpdatedOnZoom(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		m := w.created(t, ze)
		err := w.zoom.Do(ctx, w.org.ID, w.conn, func(cl *zoom.Client) error {
			return cl.UpdateMeeting(ctx, m.ZoomID, &zoom.MeetingRequest{Topic: ptr("Zoomで変えた題"),
				Settings: &zoom.MeetingSettings{WaitingRoom: ptr(false)}})
		})
		if err != nil {
			t.Fatal(err)
		}
		w.storeWebhook(t, webhook.EventMeetingUpdated,
			fmt.Sprintf(`{"account_id":"acc","object":{"id":%d,"topic":"Zoomで変えた題"}}`, m.ZoomID))
		hs := WebhookHandlers{}
		hs.Register(webhook.EventMeetingUpdated, ZoomMeetingUpdated(w.st, w.zoom))
		w.processWebhooks(t, hs, nil)
		got := w.meeting(t, ze.schedule)
		if got.ZoomState != zoompolicy.ChangedOnZoom || !slices.Equal(got.ZoomChanges, []string{"settings.waiting_room", "topic"}) {
			t.Errorf("after meeting.updated: state %q, changes %v", got.ZoomState, got.ZoomChanges)
		}
	})
}

// TestRiverRunsTheWorkers: NewClient's client, started, runs the workers
// on River: a nudged delivery keeps the mail (no SMTP).
func TestRiverRunsTheWorkers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := newMailWorld(t, db)
		r, err := newTestRenderer()
		if err != nil {
			t.Fatal(err)
		}
		nudger := NewMailNudger(0)
		c, err := NewClient(Config{Store: w.st, Log: quietLog, Now: w.clock.Now,
			Mail: MailConfig{Renderer: r, Nudger: nudger}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		nudger.Start(c, quietLog)
		t.Cleanup(func() {
			nudger.Stop()
			stop, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if err := c.Stop(stop); err != nil {
				t.Errorf("stop River: %v", err)
			}
		})
		w.apply(t, w.event, w.schedule, 1)
		nudger.Nudge() // as the store does after the commit
		eventually.True(t, "the mail to be kept", func() bool {
			rows, err := w.st.Mails(ctx, w.org.ID, 10, 0)
			return err == nil && len(rows) == 1 && rows[0].Status == event.MailKept
		})
	})
}

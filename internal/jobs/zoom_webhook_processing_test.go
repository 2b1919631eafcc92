package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoom/webhook"
	"kaisai/internal/zoompolicy"
)

// storeWebhook stores a verified delivery of event with payload, as the
// intake does, and returns its body.
func (w *world) storeWebhook(t *testing.T, name, payload string) []byte {
	t.Helper()
	ts := w.clock.Now().UnixMilli()
	body := fmt.Appendf(nil, `{"event":%q,"event_ts":%d,"payload":%s}`, name, ts, payload)
	inserted, err := w.st.RecordZoomWebhook(context.Background(), name, ts, store.WebhookDedupeKey(body), body)
	if err != nil || !inserted {
		t.Fatalf("store %s: %v, %v", name, inserted, err)
	}
	return body
}

// processWebhooks runs one ProcessZoomWebhooks job to its end.
func (w *world) processWebhooks(t *testing.T, hs WebhookHandlers, batch map[string]WebhookBatchHandler) {
	t.Helper()
	wk := &ProcessZoomWebhooksWorker{Store: w.st, Handlers: hs, Batch: batch, Options: WebhookOptions{}.withDefaults(),
		Now: w.clock.Now, Log: quietLog}
	if err := wk.Work(context.Background(), job(ProcessZoomWebhooksArgs{})); err != nil {
		t.Fatalf("ProcessZoomWebhooks: %v", err)
	}
}

// webhookRows are the stored events by event name.
func (w *world) webhookRows(t *testing.T) map[string]store.ZoomWebhookRow {
	t.Helper()
	rows, err := w.st.ZoomWebhooks(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.ZoomWebhookRow{}
	for _, r := range rows {
		out[r.Event] = r
	}
	return out
}

// counted counts the calls of h.
func counted(n *atomic.Int32, h WebhookHandler) WebhookHandler {
	return func(ctx context.Context, e webhook.Event) error {
		n.Add(1)
		return h(ctx, e)
	}
}

// TestZoomWebhookProcessing drives ProcessZoomWebhooksWorker: each stored
// Zoom event goes to its handler, and its outcome is recorded.
func TestZoomWebhookProcessing(t *testing.T) {
	rule(t, "a stored event is handled once", func(t *testing.T, db testdb.DB) {
		w := newZoomWorld(t, db)
		ze := w.newZoomEvent(t, event.FeeFree, groupZoom)
		m := w.created(t, ze)
		w.deleteOnZoom(t, m.ZoomID)
		body := w.storeWebhook(t, webhook.EventMeetingDeleted,
			fmt.Sprintf(`{"account_id":"acc","object":{"id":%d,"uuid":"u1","topic":"x"}}`, m.ZoomID))
		var calls atomic.Int32
		hs := WebhookHandlers{}
		hs.Register(webhook.EventMeetingDeleted, counted(&calls, ZoomMeetingDeleted(w.st)))
		w.processWebhooks(t, hs, nil)
		if r := w.webhookRows(t)[webhook.EventMeetingDeleted]; r.Status != zoompolicy.WebhookProcessed || r.ProcessedAt.IsZero() {
			t.Errorf("the event after processing: %+v", r)
		}
		if got := w.meeting(t, ze.schedule); got.ZoomState != zoompolicy.DeletedOnZoom {
			t.Errorf("meeting.deleted did not mark the meeting deleted on Zoom: %+v", got)
		}
		// Run again, and Zoom delivers the same event again: neither
		// reaches the handler a second time.
		w.processWebhooks(t, hs, nil)
		if again, err := w.st.RecordZoomWebhook(context.Background(), webhook.EventMeetingDeleted, 1,
			store.WebhookDedupeKey(body), body); err != nil || again {
			t.Errorf("a redelivery was stored again: %v, %v", again, err)
		}
		w.processWebhooks(t, hs, nil)
		if n := calls.Load(); n != 1 {
			t.Errorf("the handler ran %d times, want 1", n)
		}
	})

	rule(t, "an event without a handler is kept as ignored", func(t *testing.T, db testdb.DB) {
		w := newWorld(t, db)
		w.storeWebhook(t, "recording.completed", `{"object":{}}`)
		w.processWebhooks(t, WebhookHandlers{}, nil)
		if r := w.webhookRows(t)["recording.completed"]; r.Status != zoompolicy.WebhookIgnored {
			t.Errorf("an event with no handler: %+v", r)
		}
	})

	rule(t, "a failed handler is retried after a backoff; a permanent failure fails at once", func(t *testing.T, db testdb.DB) {
		w := newWorld(t, db)
		w.storeWebhook(t, "meeting.started", `{"object":{"id":1}}`)
		w.storeWebhook(t, "meeting.ended", `{"object":{"id":1}}`)
		var tries atomic.Int32
		hs := WebhookHandlers{}
		hs.Register("meeting.started", func(context.Context, webhook.Event) error {
			if tries.Add(1) == 1 {
				return errors.New("the database is away")
			}
			return nil
		})
		hs.Register("meeting.ended", func(context.Context, webhook.Event) error {
			return Permanent(errors.New("no such meeting"))
		})
		w.processWebhooks(t, hs, nil)
		rows := w.webhookRows(t)
		if r := rows["meeting.started"]; r.Status != zoompolicy.WebhookPending || r.Attempts != 1 || r.LastError != "the database is away" {
			t.Fatalf("after a failure: %+v, want pending for a retry", r)
		}
		if r := rows["meeting.ended"]; r.Status != zoompolicy.WebhookFailed || r.LastError != "no such meeting" {
			t.Errorf("after a permanent failure: %+v, want failed", r)
		}
		w.processWebhooks(t, hs, nil)
		if n := tries.Load(); n != 1 {
			t.Fatalf("retried before the backoff ran out (%d tries)", n)
		}
		w.clock.Add(30 * time.Second)
		w.processWebhooks(t, hs, nil)
		if r := w.webhookRows(t)["meeting.started"]; r.Status != zoompolicy.WebhookProcessed || tries.Load() != 2 {
			t.Errorf("after the backoff: %+v (%d tries), want processed on the retry", r, tries.Load())
		}
	})

	rule(t, "a batch handler takes the events of its kind together", func(t *testing.T, db testdb.DB) {
		w := newWorld(t, db)
		for i := range 3 {
			w.storeWebhook(t, "meeting.participant_joined", fmt.Sprintf(`{"object":{"id":%d}}`, i+1))
		}
		var sizes []int
		batch := map[string]WebhookBatchHandler{"meeting.participant_joined": func(_ context.Context, es []webhook.Event) []error {
			sizes = append(sizes, len(es))
			return make([]error, len(es))
		}}
		w.processWebhooks(t, WebhookHandlers{}, batch)
		rows, err := w.st.ZoomWebhooks(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Status != zoompolicy.WebhookProcessed {
				t.Errorf("event %d: %s, want processed", r.ID, r.Status)
			}
		}
		if len(sizes) != 1 || sizes[0] != 3 {
			t.Errorf("the batch handler was called with %v events, want one call with 3", sizes)
		}
	})
}

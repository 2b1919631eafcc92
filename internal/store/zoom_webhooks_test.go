package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

func TestZoomWebhookRecordClaimMark(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		var nudges atomic.Int32
		st, err := store.Open(ctx, store.Options{DatabaseURL: db.DatabaseURL, DataDir: db.DataDir,
			ZoomWebhookQueued: func() { nudges.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(ctx, quiet); err != nil {
			t.Fatal(err)
		}

		body := []byte(`{"event":"meeting.started","event_ts":1700000000000,"payload":{}}`)
		key := store.WebhookDedupeKey(body)
		ins, err := st.RecordZoomWebhook(ctx, "meeting.started", 1700000000000, key, body)
		if err != nil || !ins {
			t.Fatalf("first record: inserted=%v err=%v", ins, err)
		}
		ins, err = st.RecordZoomWebhook(ctx, "meeting.started", 1700000000000, key, body)
		if err != nil || ins {
			t.Fatalf("duplicate record: inserted=%v err=%v, want false, nil", ins, err)
		}
		if n := nudges.Load(); n != 1 {
			t.Errorf("nudges = %d, want 1 (the duplicate wrote nothing)", n)
		}
		other := []byte(`{"event":"meeting.ended","event_ts":1700000001000,"payload":{}}`)
		if _, err := st.RecordZoomWebhook(ctx, "meeting.ended", 1700000001000, store.WebhookDedupeKey(other), other); err != nil {
			t.Fatal(err)
		}

		if due, err := st.ZoomWebhooksDue(ctx); err != nil || !due {
			t.Fatalf("due = %v, %v; want true", due, err)
		}
		a, err := st.TakeLease(ctx, "worker a", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		b, err := st.TakeLease(ctx, "worker b", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.ClaimZoomWebhooks(ctx, a, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Event != "meeting.started" || string(got[0].Body) != string(body) || got[1].Event != "meeting.ended" {
			t.Fatalf("claimed %+v", got)
		}
		// Leased: another worker's claim finds nothing, and cannot mark them.
		if again, err := st.ClaimZoomWebhooks(ctx, b, 10); err != nil || len(again) != 0 {
			t.Fatalf("second claim = %d, %v; want none", len(again), err)
		}
		if err := st.MarkZoomWebhook(ctx, b, got[0].ID, zoompolicy.WebhookProcessed, "", time.Time{}); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("another worker marked a held event: %v", err)
		}
		if err := st.MarkZoomWebhook(ctx, a, got[0].ID, zoompolicy.WebhookIgnored, "", time.Time{}); err != nil {
			t.Fatal(err)
		}
		// A failed attempt due now is claimable again, with its attempt counted.
		if err := st.MarkZoomWebhook(ctx, a, got[1].ID, zoompolicy.WebhookPending, "boom", time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		retry, err := st.ClaimZoomWebhooks(ctx, b, 10)
		if err != nil || len(retry) != 1 || retry[0].ID != got[1].ID || retry[0].Attempts != 1 {
			t.Fatalf("retry claim = %+v, %v", retry, err)
		}
		if err := st.MarkZoomWebhook(ctx, b, got[1].ID, zoompolicy.WebhookFailed, "boom again", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if due, err := st.ZoomWebhooksDue(ctx); err != nil || due {
			t.Fatalf("due = %v, %v; want false", due, err)
		}
		rows, err := st.ZoomWebhooks(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].Status != zoompolicy.WebhookFailed || rows[0].Attempts != 2 || rows[0].LastError != "boom again" ||
			rows[1].Status != zoompolicy.WebhookIgnored || rows[1].ProcessedAt.IsZero() || rows[1].DedupeKey != key {
			t.Fatalf("rows %+v", rows)
		}
	})
}

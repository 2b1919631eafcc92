package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/eventually"
	"kaisai/internal/jobs"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/web"
	"kaisai/internal/zoom/webhook"
	"kaisai/internal/zoompolicy"
)

const testWebhookSecret = "whsec-test-token"

func withWebhookSecret(secret string) func(*app.Config) {
	return func(c *app.Config) { c.ZoomWebhookSecret = secret }
}

type webhookResp struct {
	status int
	body   string
}

// postWebhook sends body to /webhooks/zoom, signed with secret as sent at
// sentAt (no signature when secret is empty).
func postWebhook(t *testing.T, a *app.App, body []byte, secret string, sentAt time.Time) webhookResp {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.URL()+"/webhooks/zoom", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		webhook.SetHeaders(req.Header, secret, sentAt, body)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return webhookResp{res.StatusCode, string(b)}
}

func webhookRows(t *testing.T, st *store.Store) []store.ZoomWebhookRow {
	t.Helper()
	rows, err := st.ZoomWebhooks(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// waitWebhookStatus waits until the newest stored event has status.
func waitWebhookStatus(t *testing.T, st *store.Store, status zoompolicy.WebhookStatus) store.ZoomWebhookRow {
	t.Helper()
	rows := eventually.Value(t, "the newest stored event to be "+string(status), func() ([]store.ZoomWebhookRow, bool) {
		rows := webhookRows(t, st)
		return rows, len(rows) > 0 && rows[0].Status == status
	})
	return rows[0]
}

const participantJoined = `{"event":"meeting.participant_joined","event_ts":1700000000123,"payload":{"account_id":"acc","object":{"id":"85746065432","uuid":"u==","host_id":"h","participant":{"user_id":"16778240","user_name":"山田 花子","email":"hanako@example.com","join_time":"2026-11-24T10:00:00Z"}}}}`

// meetingStarted is an event kaisai has no handler for: stored and ignored.
const meetingStarted = `{"event":"meeting.started","event_ts":1700000000456,"payload":{"account_id":"acc","object":{"id":"85746065432","uuid":"u==","host_id":"h","topic":"Go勉強会","type":2,"start_time":"2026-11-24T10:00:00Z","duration":60,"timezone":"Asia/Tokyo"}}}`

func TestZoomWebhookIntake(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db, withWebhookSecret(testWebhookSecret))
		now := time.Now()

		t.Run("refused requests write nothing", func(t *testing.T) {
			big := append([]byte(`{"event":"meeting.started","payload":{"x":"`), bytes.Repeat([]byte("a"), 1<<20)...)
			big = append(big, `"}}`...)
			for _, tc := range []struct {
				name   string
				body   []byte
				secret string
				sentAt time.Time
				want   int
			}{
				{"forged", []byte(participantJoined), "a guessed secret", now, http.StatusUnauthorized},
				{"unsigned", []byte(participantJoined), "", now, http.StatusUnauthorized},
				{"replayed", []byte(participantJoined), testWebhookSecret, now.Add(-6 * time.Minute), http.StatusUnauthorized},
				{"from the future", []byte(participantJoined), testWebhookSecret, now.Add(6 * time.Minute), http.StatusUnauthorized},
				{"malformed JSON", []byte(`{"event":"meeting.started",`), testWebhookSecret, now, http.StatusBadRequest},
				{"no event name", []byte(`{"payload":{}}`), testWebhookSecret, now, http.StatusBadRequest},
				{"bad challenge", []byte(`{"event":"endpoint.url_validation","payload":{}}`), testWebhookSecret, now, http.StatusBadRequest},
				{"oversized", big, testWebhookSecret, now, http.StatusRequestEntityTooLarge},
			} {
				r := postWebhook(t, a, tc.body, tc.secret, tc.sentAt)
				if r.status != tc.want || !strings.Contains(r.body, `"error"`) {
					t.Errorf("%s: %d %s, want %d with a JSON error", tc.name, r.status, r.body, tc.want)
				}
			}
			if rows := webhookRows(t, a.Store); len(rows) != 0 {
				t.Fatalf("refused requests stored %+v", rows)
			}
		})

		t.Run("url_validation", func(t *testing.T) {
			body := []byte(`{"event":"endpoint.url_validation","event_ts":1654503849680,"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}`)
			r := postWebhook(t, a, body, testWebhookSecret, now)
			if r.status != http.StatusOK {
				t.Fatalf("status %d %s", r.status, r.body)
			}
			var got webhook.URLValidation
			if err := json.Unmarshal([]byte(r.body), &got); err != nil {
				t.Fatal(err)
			}
			if want := webhook.URLValidationResponse(testWebhookSecret, "qgg8vlvZRS6UYooatFL8Aw"); got != want {
				t.Fatalf("answer %+v, want %+v", got, want)
			}
			if rows := webhookRows(t, a.Store); len(rows) != 0 {
				t.Fatalf("the challenge was stored: %+v", rows)
			}
		})

		t.Run("event stored once and ignored", func(t *testing.T) {
			for i := range 2 { // Zoom's retry: the same body, signed again
				r := postWebhook(t, a, []byte(meetingStarted), testWebhookSecret, now.Add(time.Duration(i)*time.Second))
				if r.status != http.StatusOK {
					t.Fatalf("delivery %d: %d %s", i, r.status, r.body)
				}
			}
			row := waitWebhookStatus(t, a.Store, zoompolicy.WebhookIgnored)
			if rows := webhookRows(t, a.Store); len(rows) != 1 {
				t.Fatalf("stored %d rows, want 1: %+v", len(rows), rows)
			}
			if row.Event != webhook.EventMeetingStarted || row.EventTS != 1700000000456 ||
				row.DedupeKey != store.WebhookDedupeKey([]byte(meetingStarted)) || row.ProcessedAt.IsZero() {
				t.Fatalf("row %+v", row)
			}
			// Processed already: the retry still gets 200 and adds nothing.
			if r := postWebhook(t, a, []byte(meetingStarted), testWebhookSecret, now); r.status != http.StatusOK {
				t.Fatalf("late retry: %d", r.status)
			}
			if rows := webhookRows(t, a.Store); len(rows) != 1 {
				t.Fatalf("stored %d rows, want 1", len(rows))
			}
		})
	})
}

func TestZoomWebhookNotConfigured(t *testing.T) {
	a := startKaisai(t, testdb.SQLite(t))
	r := postWebhook(t, a, []byte(participantJoined), testWebhookSecret, time.Now())
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "not configured") {
		t.Fatalf("%d %s, want 503 not configured", r.status, r.body)
	}
	if rows := webhookRows(t, a.Store); len(rows) != 0 {
		t.Fatalf("stored %+v", rows)
	}
}

func TestZoomWebhookHandlers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		var calls atomic.Int32
		hs := jobs.WebhookHandlers{}
		hs.Register(webhook.EventParticipantJoined, func(ctx context.Context, e webhook.Event) error {
			p, err := e.Participant()
			if err != nil {
				return jobs.Permanent(err)
			}
			if calls.Add(1) == 1 {
				return errors.New("transient")
			}
			if p.Object.Participant.Email != "hanako@example.com" {
				return jobs.Permanent(errors.New("wrong participant"))
			}
			return nil
		})
		hs.Register(webhook.EventMeetingEnded, func(context.Context, webhook.Event) error {
			return errors.New("always down")
		})
		a := startKaisai(t, db, withWebhookSecret(testWebhookSecret), func(c *app.Config) {
			c.ZoomWebhookHandlers = hs
			c.ZoomWebhooks = jobs.WebhookOptions{RetryBase: 10 * time.Millisecond, MaxAttempts: 3,
				Sweep: 200 * time.Millisecond}
		})
		if r := postWebhook(t, a, []byte(participantJoined), testWebhookSecret, time.Now()); r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		row := waitWebhookStatus(t, a.Store, zoompolicy.WebhookProcessed)
		if row.Attempts != 1 || row.LastError != "" {
			t.Fatalf("processed after a retry: %+v, want 1 failed attempt recorded", row)
		}

		ended := []byte(`{"event":"meeting.ended","event_ts":1700000009000,"payload":{"account_id":"acc","object":{"id":"1"}}}`)
		if r := postWebhook(t, a, ended, testWebhookSecret, time.Now()); r.status != http.StatusOK {
			t.Fatalf("%d %s", r.status, r.body)
		}
		row = waitWebhookStatus(t, a.Store, zoompolicy.WebhookFailed)
		if row.Attempts != 3 || row.LastError != "always down" {
			t.Fatalf("failed row %+v, want 3 attempts", row)
		}
	})
}

// FuzzZoomWebhookHandler throws random bodies and headers at the intake: it
// never panics, and a request that is not validly signed never stores a row.
func FuzzZoomWebhookHandler(f *testing.F) {
	f.Add([]byte(participantJoined), "", "", true, int64(0))
	f.Add([]byte(`{"event":"endpoint.url_validation","payload":{"plainToken":"x"}}`), "", "", true, int64(0))
	f.Add([]byte(`{"event":"x"}`), "v0=00", "123", false, int64(0))
	f.Add([]byte(`null`), "", "", true, int64(-400))
	f.Add([]byte(`{"event":" ","payload":[]}`), "v0=zz", "", false, int64(0))

	db := testdb.SQLite(f)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: db.DataDir})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := st.Migrate(ctx, quiet); err != nil {
		f.Fatal(err)
	}
	srv, err := web.New(web.Config{Store: st, Log: quiet, ZoomWebhookSecret: testWebhookSecret})
	if err != nil {
		f.Fatal(err)
	}
	count := func(t *testing.T) int {
		rows, err := st.ZoomWebhooks(ctx, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		return len(rows)
	}

	f.Fuzz(func(t *testing.T, body []byte, sig, ts string, sign bool, skewSec int64) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/zoom", bytes.NewReader(body))
		now := time.Now()
		if sign {
			webhook.SetHeaders(req.Header, testWebhookSecret, now.Add(time.Duration(skewSec%1000)*time.Second), body)
		} else {
			req.Header.Set(webhook.HeaderSignature, sig)
			req.Header.Set(webhook.HeaderTimestamp, ts)
		}
		valid := webhook.Verify(testWebhookSecret, req.Header, body, now, webhook.DefaultWindow) == nil
		before := count(t)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		after := count(t)
		if !valid {
			if after != before {
				t.Fatalf("an invalidly signed request stored a row (status %d)", rec.Code)
			}
			if rec.Code == http.StatusOK {
				t.Fatalf("an invalidly signed request got 200: %s", rec.Body)
			}
			return
		}
		if after > before+1 {
			t.Fatalf("one request stored %d rows", after-before)
		}
		// At the window's edge the handler's clock, a moment later, may refuse it.
		edge := rec.Code == http.StatusUnauthorized && (skewSec%1000 <= -299 || skewSec%1000 >= 299)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest && !edge {
			t.Fatalf("a validly signed request got %d: %s", rec.Code, rec.Body)
		}
	})
}

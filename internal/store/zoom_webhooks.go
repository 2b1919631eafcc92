package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"kaisai/internal/zoompolicy"
)

// WebhookDedupeKey is the de-duplication key of a delivery: the SHA-256 of
// its raw body. Zoom retries a delivery with the same body (only the
// timestamp and signature headers change), and two different events never
// share a body, so this needs no knowledge of any event's payload.
func WebhookDedupeKey(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// RecordZoomWebhook stores a verified delivery for processing, unless one
// with the same key is stored already (duplicate: nothing is written). After
// the commit that inserted it, Options.ZoomWebhookQueued is told.
func (s *Store) RecordZoomWebhook(ctx context.Context, event string, eventTS int64, key string, body []byte) (inserted bool, err error) {
	defer wrap(&err, "store.RecordZoomWebhook(%s)", event)
	now := s.nowUTC()
	var n int64
	err = s.Tx(ctx, func(tx *Tx) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO zoom_webhook_events (event, event_ts, dedupe_key, body,
			received_at, status, next_attempt_at) VALUES ($1, $2, $3, $4, $5, 'pending', $5)
			ON CONFLICT (dedupe_key) DO NOTHING`, event, eventTS, key, string(body), now)
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return false, err
	}
	if n > 0 && s.webhookQueued != nil {
		s.webhookQueued() // after the commit: a nudge before it could find nothing
	}
	return n > 0, nil
}

// ZoomWebhook is a stored delivery, claimed for processing.
type ZoomWebhook struct {
	ID         int64
	Event      string
	EventTS    int64
	Body       []byte
	Attempts   int // attempts made before this one
	ReceivedAt time.Time
}

// ClaimZoomWebhooks leases to l up to limit due events, so that no other
// worker (on any instance) processes them meanwhile. Events come in arrival
// order.
func (s *Store) ClaimZoomWebhooks(ctx context.Context, l Lease, limit int) (_ []ZoomWebhook, err error) {
	defer wrap(&err, "store.ClaimZoomWebhooks()")
	var claimed []ZoomWebhook
	err = s.Tx(ctx, func(tx *Tx) error {
		now := tx.now
		claimed = claimed[:0]
		ids, err := s.claim(ctx, tx, webhookWork, l, `SELECT w.id, w.lease_owner AS seen FROM zoom_webhook_events w
			WHERE w.status = 'pending' AND w.next_attempt_at <= $1 AND `+webhookWork.free("w", "$1")+`
			ORDER BY w.id LIMIT $2`, `status = 'pending' AND next_attempt_at <= $1`, now, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		ph, args := placeholders(ids)
		rows, err := tx.Unprepared().QueryContext(ctx, `SELECT id, event, event_ts, body, attempts, received_at
			FROM zoom_webhook_events WHERE id IN (`+ph+`) ORDER BY id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var w ZoomWebhook
			var body string
			if err := rows.Scan(&w.ID, &w.Event, &w.EventTS, &body, &w.Attempts, &w.ReceivedAt); err != nil {
				return err
			}
			w.Body, w.ReceivedAt = []byte(body), w.ReceivedAt.UTC()
			claimed = append(claimed, w)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return claimed, nil
}

// MarkZoomWebhook records the outcome of processing an event held by l:
// status is zoompolicy.WebhookProcessed or WebhookIgnored when done,
// WebhookPending to try again at retryAt, or WebhookFailed to give up;
// reason is the
// handler's error.
func (s *Store) MarkZoomWebhook(ctx context.Context, l Lease, id int64, status zoompolicy.WebhookStatus, reason string, retryAt time.Time) (err error) {
	defer wrap(&err, "store.MarkZoomWebhook(id %d)", id)
	now := s.nowUTC()
	var processed sql.NullTime
	attempt := 1
	switch {
	case status.Done():
		processed = sql.NullTime{Time: now, Valid: true}
		attempt = 0 // not a failed attempt
	case status.Valid():
	default:
		return fmt.Errorf("unknown status %q", status)
	}
	if retryAt.IsZero() {
		retryAt = now
	}
	r, err := s.exec(ctx, `UPDATE zoom_webhook_events SET status = $1, attempts = attempts + $2, last_error = $3,
		next_attempt_at = $4, lease_owner = NULL, processed_at = $5 WHERE id = $6 AND lease_owner = $7`,
		status, attempt, reason, retryAt.UTC(), processed, id, l.Owner)
	return leaseHeld(r, err)
}

// MarkZoomWebhooksDone marks events held by l done, with status
// zoompolicy.WebhookProcessed or WebhookIgnored, in one write. Events another worker
// took over are left to it (ErrLeaseLost).
func (s *Store) MarkZoomWebhooksDone(ctx context.Context, l Lease, status zoompolicy.WebhookStatus, ids []int64) (err error) {
	defer wrap(&err, "store.MarkZoomWebhooksDone(%s, %d events)", status, len(ids))
	if !status.Done() {
		return fmt.Errorf("status %q is not done", status)
	}
	if len(ids) == 0 {
		return nil
	}
	args := []any{s.nowUTC(), l.Owner, status}
	ph := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		ph[i] = fmt.Sprintf("$%d", len(args))
	}
	r, err := s.execUnprepared(ctx, `UPDATE zoom_webhook_events SET status = $3, last_error = '',
		next_attempt_at = $1, lease_owner = NULL, processed_at = $1 WHERE lease_owner = $2 AND id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err == nil {
		if n, _ := r.RowsAffected(); n < int64(len(ids)) {
			err = ErrLeaseLost
		}
	}
	if err != nil {
		return err
	}
	return nil
}

// ZoomWebhooksDue reports whether any event waits for processing now, for
// the periodic sweep; it only reads, so an idle sweep costs no write.
func (s *Store) ZoomWebhooksDue(ctx context.Context) (_ bool, err error) {
	defer wrap(&err, "store.ZoomWebhooksDue()")
	var n int
	err = s.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM zoom_webhook_events WHERE status = 'pending'
		AND next_attempt_at <= $1 AND `+webhookWork.free("zoom_webhook_events", "$1")+` LIMIT 1) d`, s.nowUTC()).Scan(&n)
	return n > 0, err
}

// NextZoomWebhookDue is when the next pending event can be claimed: its
// next attempt, or the end of the lease holding it if later (zero: none).
func (s *Store) NextZoomWebhookDue(ctx context.Context) (_ time.Time, err error) {
	defer wrap(&err, "store.NextZoomWebhookDue()")
	return s.nextDue(ctx, `SELECT w.next_attempt_at, l.expires_at FROM zoom_webhook_events w`+webhookWork.join("w")+`
		WHERE w.status = 'pending' ORDER BY w.next_attempt_at LIMIT 100`)
}

// ZoomWebhookRow is a stored event as tests and an operator see it.
type ZoomWebhookRow struct {
	ID          int64
	Event       string
	EventTS     int64
	DedupeKey   string
	Status      zoompolicy.WebhookStatus
	Attempts    int
	LastError   string
	ReceivedAt  time.Time
	ProcessedAt time.Time
}

// ZoomWebhooks lists the stored events, newest first.
func (s *Store) ZoomWebhooks(ctx context.Context, limit int) (_ []ZoomWebhookRow, err error) {
	defer wrap(&err, "store.ZoomWebhooks()")
	rows, err := s.reader().QueryContext(ctx, `SELECT id, event, event_ts, dedupe_key, status, attempts, last_error,
		received_at, processed_at FROM zoom_webhook_events ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ws []ZoomWebhookRow
	for rows.Next() {
		var w ZoomWebhookRow
		var processed sql.NullTime
		if err := rows.Scan(&w.ID, &w.Event, &w.EventTS, &w.DedupeKey, &w.Status, &w.Attempts, &w.LastError,
			&w.ReceivedAt, &processed); err != nil {
			return nil, err
		}
		w.ReceivedAt, w.ProcessedAt = w.ReceivedAt.UTC(), timeOf(processed)
		ws = append(ws, w)
	}
	return ws, rows.Err()
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kaisai/internal/payment"
	"kaisai/internal/zoompolicy"
)

// Stripe's webhook deliveries (DESIGN.md §8): verified by the handler,
// stored once per connection and event id (Stripe sends an event again
// with the same id), processed by a job. The statuses are Zoom's
// (zoompolicy.WebhookStatus): pending, processed, ignored, failed.

// RecordStripeWebhook stores a verified event of a connection, unless it
// is stored already (inserted false: nothing is written).
func (s *Store) RecordStripeWebhook(ctx context.Context, connID int64, eventID, typ string, body []byte) (inserted bool, err error) {
	defer wrap(&err, "store.RecordStripeWebhook(connection %d, %s)", connID, eventID)
	err = s.Tx(ctx, func(tx *Tx) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO stripe_webhook_events (connection_id, event_id, type, body,
			received_at, status, next_attempt_at) VALUES ($1, $2, $3, $4, $5, 'pending', $5)
			ON CONFLICT (connection_id, event_id) DO NOTHING`, connID, eventID, typ, string(body), tx.now)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if inserted = n > 0; inserted {
			tx.queue(queuedStripeWebhooks)
		}
		return err
	})
	return inserted, err
}

// StripeWebhook is a stored event, claimed for processing.
type StripeWebhook struct {
	ID           int64
	ConnectionID int64
	EventID      string
	Type         string
	Body         []byte
	Attempts     int
}

// ClaimStripeWebhooks leases to l up to limit due events, in arrival order.
func (s *Store) ClaimStripeWebhooks(ctx context.Context, l Lease, limit int) (_ []StripeWebhook, err error) {
	defer wrap(&err, "store.ClaimStripeWebhooks()")
	var claimed []StripeWebhook
	err = s.Tx(ctx, func(tx *Tx) error {
		claimed = claimed[:0]
		ids, err := s.claim(ctx, tx, stripeHookWork, l, `SELECT w.id, w.lease_owner AS seen FROM stripe_webhook_events w
			WHERE w.status = 'pending' AND w.next_attempt_at <= $1 AND `+stripeHookWork.free("w", "$1")+`
			ORDER BY w.id LIMIT $2`, `status = 'pending' AND next_attempt_at <= $1`, tx.now, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		ph, args := placeholders(ids)
		rows, err := tx.Unprepared().QueryContext(ctx, `SELECT id, connection_id, event_id, type, body, attempts
			FROM stripe_webhook_events WHERE id IN (`+ph+`) ORDER BY id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var w StripeWebhook
			var body string
			if err := rows.Scan(&w.ID, &w.ConnectionID, &w.EventID, &w.Type, &body, &w.Attempts); err != nil {
				return err
			}
			w.Body = []byte(body)
			claimed = append(claimed, w)
		}
		return rows.Err()
	})
	return claimed, err
}

// MarkStripeWebhook records the outcome of processing an event held by l,
// as MarkZoomWebhook does.
func (s *Store) MarkStripeWebhook(ctx context.Context, l Lease, id int64, status zoompolicy.WebhookStatus, reason string, retryAt time.Time) (err error) {
	defer wrap(&err, "store.MarkStripeWebhook(id %d)", id)
	now := s.nowUTC()
	var processed sql.NullTime
	attempt := 1
	switch {
	case status.Done():
		processed = sql.NullTime{Time: now, Valid: true}
		attempt = 0
	case status.Valid():
	default:
		return fmt.Errorf("unknown status %q", status)
	}
	if retryAt.IsZero() {
		retryAt = now
	}
	r, err := s.exec(ctx, `UPDATE stripe_webhook_events SET status = $1, attempts = attempts + $2, last_error = $3,
		next_attempt_at = $4, lease_owner = NULL, processed_at = $5 WHERE id = $6 AND lease_owner = $7`,
		status, attempt, reason, retryAt.UTC(), processed, id, l.Owner)
	return leaseHeld(r, err)
}

// StripeWebhooksDue reports whether any event waits for processing now.
func (s *Store) StripeWebhooksDue(ctx context.Context) (_ bool, err error) {
	defer wrap(&err, "store.StripeWebhooksDue()")
	var n int
	err = s.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM stripe_webhook_events WHERE status = 'pending'
		AND next_attempt_at <= $1 AND `+stripeHookWork.free("stripe_webhook_events", "$1")+` LIMIT 1) d`, s.nowUTC()).Scan(&n)
	return n > 0, err
}

// NextStripeWebhookDue is when the next pending event can be claimed
// (zero: none).
func (s *Store) NextStripeWebhookDue(ctx context.Context) (_ time.Time, err error) {
	defer wrap(&err, "store.NextStripeWebhookDue()")
	return s.nextDue(ctx, `SELECT w.next_attempt_at, l.expires_at FROM stripe_webhook_events w`+stripeHookWork.join("w")+`
		WHERE w.status = 'pending' ORDER BY w.next_attempt_at LIMIT 100`)
}

// StripeWebhookRow is a stored event as tests and an operator see it.
type StripeWebhookRow struct {
	ID           int64
	ConnectionID int64
	EventID      string
	Type         string
	Status       zoompolicy.WebhookStatus
	Attempts     int
	LastError    string
}

// StripeWebhooks lists the stored events, newest first.
func (s *Store) StripeWebhooks(ctx context.Context, limit int) (_ []StripeWebhookRow, err error) {
	defer wrap(&err, "store.StripeWebhooks()")
	rows, err := s.reader().QueryContext(ctx, `SELECT id, connection_id, event_id, type, status, attempts, last_error
		FROM stripe_webhook_events ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ws []StripeWebhookRow
	for rows.Next() {
		var w StripeWebhookRow
		if err := rows.Scan(&w.ID, &w.ConnectionID, &w.EventID, &w.Type, &w.Status, &w.Attempts, &w.LastError); err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, rows.Err()
}

// StripeEventObservation is a claimed event with what it says, ready to
// be applied.
type StripeEventObservation struct {
	WebhookID    int64
	ConnectionID int64
	// Observation is what the event says of a session; nil when it names
	// nothing kaisai acts on (the event is marked ignored).
	Observation *payment.Observation
	// Refunds are what the event says of refunds (refund.*, charge.refunded).
	Refunds []RefundObservation
}

// ApplyStripeEvents applies claimed events held by l in one transaction,
// so a burst of payments costs one commit per batch, not two per event:
// each observation is recorded as ObservePayment (or, of a refund,
// ObserveRefund) records it, and each event is marked processed (ignored
// when it names no session or refund kaisai knows). Any error rolls the whole batch back, events and payments
// alike; the caller then applies them one at a time.
func (s *Store) ApplyStripeEvents(ctx context.Context, l Lease, evs []StripeEventObservation) (_ []Observed, err error) {
	defer wrap(&err, "store.ApplyStripeEvents(%d events)", len(evs))
	var out []Observed
	err = s.Tx(ctx, func(tx *Tx) error {
		out = make([]Observed, len(evs))
		for i, ev := range evs {
			status := zoompolicy.WebhookIgnored
			if ev.Observation != nil {
				res, err := s.observe(ctx, tx, ev.ConnectionID, *ev.Observation)
				switch {
				case errors.Is(err, errNotFound):
				case err != nil:
					return err
				default:
					out[i], status = res, zoompolicy.WebhookProcessed
				}
			}
			for _, o := range ev.Refunds {
				_, err := s.observeRefund(ctx, tx, ev.ConnectionID, o)
				switch {
				case errors.Is(err, errNotFound):
				case err != nil:
					return err
				default:
					status = zoompolicy.WebhookProcessed
				}
			}
			r, err := tx.ExecContext(ctx, `UPDATE stripe_webhook_events SET status = $1, last_error = '',
				next_attempt_at = $2, lease_owner = NULL, processed_at = $2 WHERE id = $3 AND lease_owner = $4`,
				status, tx.now, ev.WebhookID, l.Owner)
			if err := leaseHeld(r, err); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

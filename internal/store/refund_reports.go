package store

import (
	"context"

	"kaisai/internal/payment"
)

// What the organizer sees of refunds in 申込者一覧's CSV and the event's
// totals. The refunds table (migration 00016) is written by the refund
// flow; this file only reads it.

// ApplicationRefunds is what the CSV shows of one application's refunds.
type ApplicationRefunds struct {
	// Refunded is what went back (yen): the refunds that succeeded.
	Refunded int64
	// Latest is the status of the application's latest refund.
	Latest payment.RefundStatus
}

// ApplicationsRefunds returns, for every application of the event with a
// refund, what was refunded and where its latest refund stands, in one
// query. An application without refunds is absent.
func (s *Store) ApplicationsRefunds(ctx context.Context, orgID, eventID int64) (_ map[int64]ApplicationRefunds, err error) {
	defer wrap(&err, "store.ApplicationsRefunds(org %d, event %d)", orgID, eventID)
	// Oldest first: the last row of an application is its latest refund.
	rows, err := s.reader().QueryContext(ctx, `SELECT application_id, status, amount FROM refunds
		WHERE org_id = $1 AND event_id = $2 ORDER BY application_id, created_at, id`, orgID, eventID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]ApplicationRefunds{}
	for rows.Next() {
		var id, amount int64
		var st payment.RefundStatus
		if err := rows.Scan(&id, &st, &amount); err != nil {
			return nil, err
		}
		r := out[id]
		if st == payment.RefundSucceeded {
			r.Refunded += amount
		}
		r.Latest = st
		out[id] = r
	}
	return out, rows.Err()
}

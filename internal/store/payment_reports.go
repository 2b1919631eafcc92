package store

import (
	"context"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
)

// What the organizer sees of the money (DESIGN.md §8, issue 17 part 6):
// how each application was paid, the vouchers and transfers awaited, the
// event's totals, and the payments that need a person (a wrong amount, a
// payment after the cancellation, a second payment), with the two ways
// to settle them: 参加に戻す and 対応済みにする.

// Activity actions of settling a payment problem.
const (
	ActReinstated      = "reinstated"       // 参加に戻す: a payment after the cancellation gave the seat back
	ActPaymentResolved = "payment_resolved" // 対応済み: settled outside kaisai (refunded, say)
)

// Errors of settling a payment problem.
var (
	ErrNoPaymentProblem = event.Errorf(event.EConflict, "payments.no_problem")
	ErrNotReinstatable  = event.Errorf(event.EConflict, "payments.not_reinstatable")
)

// Filters of 申込者一覧 by 入金状況 (ApplicantQuery.Payment).
const (
	PaymentFilterPaid     = "paid"     // 入金済
	PaymentFilterUnpaid   = "unpaid"   // 未入金, holding a seat
	PaymentFilterAwaiting = "awaiting" // 未入金, a konbini voucher or bank transfer awaited
)

// PaymentFilters are the valid ApplicantQuery.Payment values, in the order
// the list offers them.
var PaymentFilters = []string{PaymentFilterPaid, PaymentFilterUnpaid, PaymentFilterAwaiting}

// awaitingSQL is true of an application with a voucher or transfer out.
const awaitingSQL = `EXISTS (SELECT 1 FROM payments pp WHERE pp.application_id = a.id AND pp.status = 'pending')`

// paymentFilter adds the 入金状況 filter f to c.
func paymentFilter(c *cond, f string) {
	switch f {
	case PaymentFilterPaid:
		c.and("a.payment = 'paid'")
	case PaymentFilterUnpaid:
		c.and("a.status = 'applied' AND a.payment = 'unpaid'")
	case PaymentFilterAwaiting:
		c.and("a.status = 'applied' AND a.payment = 'unpaid' AND " + awaitingSQL)
	}
}

// ApplicationMoney is what the list and the CSV show of an application's
// online payments.
type ApplicationMoney struct {
	// Pending is the latest voucher or transfer awaited, if any (Pending.ID
	// is 0 when none).
	Pending Payment
	// Paid is the payment that made the application 入金済 through Stripe,
	// if any (Paid.ID is 0 when none).
	Paid Payment
}

// ApplicationsMoney returns, for the applications ids of the event (nil:
// all of them), their pending and paid payments, in one query. An
// application with neither is absent.
func (s *Store) ApplicationsMoney(ctx context.Context, orgID, eventID int64, ids []int64) (_ map[int64]ApplicationMoney, err error) {
	defer wrap(&err, "store.ApplicationsMoney(org %d, event %d)", orgID, eventID)
	out := map[int64]ApplicationMoney{}
	var c cond
	if ids != nil {
		if len(ids) == 0 {
			return out, nil
		}
		c.in("p.application_id", ids)
	}
	where, args := c.join(`p.org_id = $1 AND p.event_id = $2 AND p.status IN ('pending', 'paid')`, orgID, eventID)
	// Oldest first: a later row of a status replaces an earlier one. A
	// paid row with a problem (paid twice, after the cancellation) did not
	// make the application paid, unless settled since.
	rows, err := s.readUnprepared().QueryContext(ctx, `SELECT `+paymentColumns+` FROM payments p
		WHERE `+where+` ORDER BY p.application_id, p.attempt`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p Payment
		if err := scanPayment(rows, &p); err != nil {
			return nil, err
		}
		m := out[p.ApplicationID]
		switch {
		case p.Status == payment.StatusPending:
			m.Pending = p
		case p.Problem == payment.ProblemNone && m.Paid.ID == 0:
			m.Paid = p
		}
		out[p.ApplicationID] = m
	}
	return out, rows.Err()
}

// PaymentTotals are an event's money at a glance.
type PaymentTotals struct {
	PaidCount  int   // 入金済 applications, cancelled ones excepted
	PaidAmount int64 // yen: what Stripe confirmed for them, the price for 手動
	Unpaid     int   // 未入金 applications holding a seat
	Awaiting   int   // of them, a konbini voucher or bank transfer awaited
	Expired    int   // cancelled because their 支払期限 passed
	Problems   int   // payments to look at (要対応)
	// Received is all the money that came in (yen): every payment Stripe
	// confirmed, of applications cancelled since and of those to look at
	// too, and the price of each application still 入金済 by hand (one
	// cancelled after is taken as settled outside kaisai). Refunds go out
	// of it.
	Received int64
	// Refunded is what went back (yen): the refunds that succeeded;
	// Refunding what is asked for or on its way (返金処理中).
	Refunded  int64
	Refunding int64
}

// Net is what the event kept: Received less Refunded (入金額 − 返金額).
func (t PaymentTotals) Net() int64 { return t.Received - t.Refunded }

// PaymentTotals counts an event's money in one query.
func (s *Store) PaymentTotals(ctx context.Context, orgID, eventID int64) (_ PaymentTotals, err error) {
	defer wrap(&err, "store.PaymentTotals(org %d, event %d)", orgID, eventID)
	var t PaymentTotals
	// A paid application's amount is its Stripe payment without a problem
	// (one per application; MAX picks it), or the price when paid by hand.
	err = s.readUnprepared().QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN a.payment = 'paid' AND a.status <> 'cancelled' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN a.payment = 'paid' AND a.status <> 'cancelled' THEN
			COALESCE((SELECT MAX(p.paid_amount) FROM payments p WHERE p.application_id = a.id AND p.status = 'paid' AND p.problem = ''
				AND a.paid_via <> 'manual'), e.price_jpy) ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN a.status = 'applied' AND a.payment = 'unpaid' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN a.status = 'applied' AND a.payment = 'unpaid' AND `+awaitingSQL+` THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN a.status = 'cancelled' AND EXISTS (SELECT 1 FROM activity_log l
			WHERE l.application_id = a.id AND l.action = 'payment_expired') THEN 1 ELSE 0 END), 0),
		(SELECT COUNT(*) FROM payments p WHERE p.org_id = $1 AND p.event_id = $2 AND p.problem <> ''),
		(SELECT COALESCE(SUM(p.paid_amount), 0) FROM payments p WHERE p.org_id = $1 AND p.event_id = $2 AND p.status = 'paid')
			+ COALESCE(SUM(CASE WHEN a.payment = 'paid' AND a.status <> 'cancelled' AND a.paid_via = 'manual' THEN e.price_jpy ELSE 0 END), 0),
		(SELECT COALESCE(SUM(r.amount), 0) FROM refunds r WHERE r.org_id = $1 AND r.event_id = $2 AND r.status = 'succeeded'),
		(SELECT COALESCE(SUM(r.amount), 0) FROM refunds r WHERE r.org_id = $1 AND r.event_id = $2
			AND r.status IN ('requesting', 'pending', 'requires_action'))
		FROM events e LEFT JOIN applications a ON a.event_id = e.id
		WHERE e.org_id = $1 AND e.id = $2`, orgID, eventID).
		Scan(&t.PaidCount, &t.PaidAmount, &t.Unpaid, &t.Awaiting, &t.Expired, &t.Problems,
			&t.Received, &t.Refunded, &t.Refunding)
	return t, notFound(err)
}

// PaymentProblem is a payment the organizer must look at, with who paid.
type PaymentProblem struct {
	Payment
	Name              string // the application's
	Email             string
	ApplicationStatus event.ApplicationStatus
	ApplicationPaid   bool // the application is 入金済
}

// PaymentProblems are the event's payments with a problem, oldest first.
func (s *Store) PaymentProblems(ctx context.Context, orgID, eventID int64) (_ []PaymentProblem, err error) {
	defer wrap(&err, "store.PaymentProblems(org %d, event %d)", orgID, eventID)
	rows, err := s.readUnprepared().QueryContext(ctx, `SELECT `+paymentColumns+`, a.name, a.email, a.status, a.payment
		FROM payments p JOIN applications a ON a.id = p.application_id
		WHERE p.org_id = $1 AND p.event_id = $2 AND p.problem <> '' ORDER BY p.updated_at, p.id`, orgID, eventID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PaymentProblem
	for rows.Next() {
		var pp PaymentProblem
		var paid event.Payment
		err := scanPayment(scanFunc(func(dest ...any) error {
			return rows.Scan(append(dest, &pp.Name, &pp.Email, &pp.ApplicationStatus, &paid)...)
		}), &pp.Payment)
		if err != nil {
			return nil, err
		}
		pp.ApplicationPaid = paid == event.PaymentPaid
		out = append(out, pp)
	}
	return out, rows.Err()
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// ApplicationPayments are the payments (attempts) of an application of the
// organization, oldest first.
func (s *Store) ApplicationPayments(ctx context.Context, orgID, applicationID int64) (_ []Payment, err error) {
	defer wrap(&err, "store.ApplicationPayments(org %d, application %d)", orgID, applicationID)
	rows, err := s.reader().QueryContext(ctx, `SELECT `+paymentColumns+` FROM payments p
		WHERE p.org_id = $1 AND p.application_id = $2 ORDER BY p.attempt`, orgID, applicationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Payment
	for rows.Next() {
		var p Payment
		if err := scanPayment(rows, &p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// problemPayment loads, in tx, a payment of the organization's event that
// has a problem, and its application.
func problemPayment(ctx context.Context, tx *Tx, orgID, eventID, paymentID int64) (Payment, event.Application, error) {
	p, err := paymentWhere(ctx, tx, `p.org_id = $1 AND p.event_id = $2 AND p.id = $3`, orgID, eventID, paymentID)
	if err != nil {
		return p, event.Application{}, err
	}
	if p.Problem == payment.ProblemNone {
		return p, event.Application{}, ErrNoPaymentProblem
	}
	a, err := applicationWhere(ctx, tx, `a.id = $1`, p.ApplicationID)
	return p, a, err
}

func clearProblem(ctx context.Context, tx *Tx, id int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE payments SET problem = '', updated_at = $1 WHERE id = $2`, tx.now, id)
	return err
}

// stripeDetail is how the history names a Stripe payment.
func stripeDetail(p *Payment) string {
	return "stripe " + p.PaymentIntentID + " " + p.SessionID
}

// ReinstatePayment is 「参加に戻す」 for a payment that came after its
// application was cancelled (its 支払期限 passed, say): the application
// takes a seat again, if its schedule has one, and becomes 入金済 by the
// payment's method through the same transition as any payment (Zoom, the
// 入金完了 mail follow); the problem is cleared. In one transaction.
func (s *Store) ReinstatePayment(ctx context.Context, orgID, eventID, paymentID, memberID int64) (_ event.Application, err error) {
	defer wrap(&err, "store.ReinstatePayment(org %d, event %d, payment %d, member %d)", orgID, eventID, paymentID, memberID)
	var a event.Application
	err = s.Tx(ctx, func(tx *Tx) error {
		p, app, err := problemPayment(ctx, tx, orgID, eventID, paymentID)
		if err != nil {
			return err
		}
		a = app
		if p.Problem != payment.ProblemAfterCancel || p.Status != payment.StatusPaid || a.Payment == event.PaymentPaid {
			return ErrNotReinstatable
		}
		if a.Status == event.Cancelled {
			r, err := tx.ExecContext(ctx, `UPDATE schedules SET seats_taken = seats_taken + 1
				WHERE id = $1 AND seats_taken < capacity`, a.ScheduleID)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 0 {
				return ErrNoSeatLeft
			}
			if _, err := tx.ExecContext(ctx, `UPDATE applications SET status = 'applied', cancelled_at = NULL,
				payment_due_at = NULL, updated_at = $1 WHERE id = $2`, tx.now, a.ID); err != nil {
				return err
			}
			a.Status, a.CancelledAt, a.PaymentDueAt = event.Applied, time.Time{}, time.Time{}
			if err := s.logActivity(ctx, tx, &a, memberID, ActReinstated, stripeDetail(&p)); err != nil {
				return err
			}
		}
		if a.Status != event.Applied {
			return ErrNotReinstatable // waitlisted: it holds no seat to pay for
		}
		if err := s.setPayment(ctx, tx, &a, event.PaymentPaid, memberID, string(p.Method), stripeDetail(&p)); err != nil {
			return err
		}
		return clearProblem(ctx, tx, p.ID)
	})
	return a, err
}

// ResolvePayment is 「対応済みにする」: the organizer settled the payment's
// problem outside kaisai (refunded it, say). The problem is cleared and
// the history says so; nothing else changes.
func (s *Store) ResolvePayment(ctx context.Context, orgID, eventID, paymentID, memberID int64) (err error) {
	defer wrap(&err, "store.ResolvePayment(org %d, event %d, payment %d, member %d)", orgID, eventID, paymentID, memberID)
	return s.Tx(ctx, func(tx *Tx) error {
		p, a, err := problemPayment(ctx, tx, orgID, eventID, paymentID)
		if err != nil {
			return err
		}
		detail := string(p.Problem) + " " + stripeDetail(&p)
		if err := s.logActivity(ctx, tx, &a, memberID, ActPaymentResolved, detail); err != nil {
			return err
		}
		return clearProblem(ctx, tx, p.ID)
	})
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
)

// Refunds (DESIGN.md §8): a row is written, in the transaction that
// decides it (a cancel, or the organizer's 再試行), before Stripe is asked;
// payflow then asks Stripe with the row's idempotency key and records the
// answer here, and Stripe's events and the sweep move it on. The rules
// (what may be refunded, how a status moves) are package payment's.

// History lines of refunds ("activity.<action>" in the catalogs).
const (
	ActRefundRequested = "refund_requested" // 返金を依頼 (amount)
	ActRefunded        = "refunded"         // 返金済
	ActRefundFailed    = "refund_failed"    // 返金失敗 (Stripe's reason)
	ActRefundRefused   = "refund_refused"   // Stripe refused to refund (its message)
	ActRefundCanceled  = "refund_canceled"  // the refund was cancelled on Stripe
)

// Errors of refunds, each a message an organizer or participant sees.
var (
	// ErrRefundNotOnline: the application was not paid through Stripe (paid
	// by hand, or not paid): kaisai cannot refund it; only 返金なし.
	ErrRefundNotOnline = event.Errorf(event.EInvalid, "refund.not_online")
	// ErrRefundNotRetryable: the refund is live or done; nothing to retry.
	ErrRefundNotRetryable = event.Errorf(event.EConflict, "refund.not_retryable")
	// ErrSelfCancelClosed: the event's policy no longer lets the
	// participant cancel their paid application.
	ErrSelfCancelClosed = event.Errorf(event.EConflict, "refund.self_cancel_closed")
	// ErrRefundChanged: what cancelling refunds changed since the
	// participant was shown it (a tier of the policy ended meanwhile).
	ErrRefundChanged = event.Errorf(event.EConflict, "refund.changed")
)

// Refund is one refund kaisai asked (or is asking) Stripe for: a row of
// refunds, with what its payment says.
type Refund struct {
	ID              int64
	OrgID           int64
	EventID         int64
	ApplicationID   int64
	PaymentID       int64
	ConnectionID    int64
	Attempt         int
	IdempotencyKey  string
	Status          payment.RefundStatus
	Amount          int64 // yen
	RefundID        string
	FailureReason   string
	LastError       string
	RequestedBy     int64 // members.id; 0: the participant's own cancel
	CreatedAt       time.Time
	UpdatedAt       time.Time
	RefundedAt      time.Time
	PaymentIntentID string         // of its payment
	Method          payment.Method // of its payment
}

// AsksForAccount reports whether Stripe refunds this payment by asking
// the participant (by e-mail) for a bank account: コンビニ and 銀行振込.
func (r Refund) AsksForAccount() bool {
	return r.Method == payment.MethodKonbini || r.Method == payment.MethodBankTransfer
}

const refundColumns = `r.id, r.org_id, r.event_id, r.application_id, r.payment_id, r.connection_id, r.attempt,
	r.idempotency_key, r.status, r.amount, r.refund_id, r.failure_reason, r.last_error, r.requested_by,
	r.created_at, r.updated_at, r.refunded_at, p.payment_intent_id, p.method`

const refundFrom = ` FROM refunds r JOIN payments p ON p.id = r.payment_id `

func scanRefund(sc interface{ Scan(...any) error }, r *Refund) error {
	var refundID sql.NullString
	var refunded sql.NullTime
	err := sc.Scan(&r.ID, &r.OrgID, &r.EventID, &r.ApplicationID, &r.PaymentID, &r.ConnectionID, &r.Attempt,
		&r.IdempotencyKey, &r.Status, &r.Amount, &refundID, &r.FailureReason, &r.LastError, &r.RequestedBy,
		&r.CreatedAt, &r.UpdatedAt, &refunded, &r.PaymentIntentID, &r.Method)
	r.RefundID, r.RefundedAt = refundID.String, timeOf(refunded)
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return err
}

func refundWhere(ctx context.Context, q querier, where string, args ...any) (Refund, error) {
	var r Refund
	err := scanRefund(q.QueryRowContext(ctx, `SELECT `+refundColumns+refundFrom+`WHERE `+where, args...), &r)
	return r, notFound(err)
}

func refundsWhere(ctx context.Context, q querier, where string, args ...any) ([]Refund, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+refundColumns+refundFrom+`WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Refund
	for rows.Next() {
		var r Refund
		if err := scanRefund(rows, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// paidPayment is the application's payment through Stripe that made it
// 入金済 (paid, no problem), if it has one.
func paidPayment(ctx context.Context, q querier, applicationID int64) (Payment, bool, error) {
	p, err := paymentWhere(ctx, q, `p.application_id = $1 AND p.status = 'paid' AND p.problem = ''
		AND p.payment_intent_id <> '' ORDER BY p.paid_at, p.id LIMIT 1`, applicationID)
	if errors.Is(err, errNotFound) {
		return p, false, nil
	}
	return p, err == nil, err
}

// refundableOf is what is left to refund of payment p: what was paid less
// what its refunds hold (live or done).
func refundableOf(ctx context.Context, q querier, p *Payment) (int64, error) {
	var held int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM refunds
		WHERE payment_id = $1 AND status IN ('requesting', 'pending', 'requires_action', 'succeeded')`, p.ID).Scan(&held)
	return payment.Refundable(p.PaidAmount, held), err
}

// RefundOptions is what a cancel of an application may refund: its
// payment through Stripe (nil: paid by hand, or not paid, so only 返金なし)
// and what is left of it, and its refunds so far.
type RefundOptions struct {
	Payment    *Payment
	Refundable int64
	Refunds    []Refund
}

// RefundOptionsOf reads what an organizer's cancel of the application may
// refund.
func (s *Store) RefundOptionsOf(ctx context.Context, orgID, applicationID int64) (_ RefundOptions, err error) {
	defer wrap(&err, "store.RefundOptionsOf(org %d, application %d)", orgID, applicationID)
	var o RefundOptions
	q := s.reader()
	p, ok, err := paidPayment(ctx, q, applicationID)
	if err != nil {
		return o, err
	}
	if ok && p.OrgID == orgID {
		o.Payment = &p
		if o.Refundable, err = refundableOf(ctx, q, &p); err != nil {
			return o, err
		}
	}
	o.Refunds, err = refundsWhere(ctx, q, `r.org_id = $1 AND r.application_id = $2 ORDER BY r.id`, orgID, applicationID)
	return o, err
}

// ApplicationRefunds are the refunds of an application, oldest first.
func (s *Store) ApplicationRefunds(ctx context.Context, applicationID int64) (_ []Refund, err error) {
	defer wrap(&err, "store.ApplicationRefunds(%d)", applicationID)
	return refundsWhere(ctx, s.reader(), `r.application_id = $1 ORDER BY r.id`, applicationID)
}

// RefundsOf are the refunds of the organization's applications ids, by
// application, oldest first (for the rows of 申込者一覧).
func (s *Store) RefundsOf(ctx context.Context, orgID int64, ids []int64) (_ map[int64][]Refund, err error) {
	defer wrap(&err, "store.RefundsOf(org %d, %d applications)", orgID, len(ids))
	out := map[int64][]Refund{}
	if len(ids) == 0 {
		return out, nil
	}
	ph, args := placeholders(ids)
	// placeholders numbers from $1; the org goes last.
	args = append(args, orgID)
	rs, err := refundsWhere(ctx, s.readUnprepared(), `r.application_id IN (`+ph+`) AND r.org_id = $`+
		strconv.Itoa(len(args))+` ORDER BY r.id`, args...)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		out[r.ApplicationID] = append(out[r.ApplicationID], r)
	}
	return out, nil
}

// RefundByID is one of the organization's refunds.
func (s *Store) RefundByID(ctx context.Context, orgID, id int64) (_ Refund, err error) {
	defer wrap(&err, "store.RefundByID(org %d, id %d)", orgID, id)
	return refundWhere(ctx, s.reader(), `r.org_id = $1 AND r.id = $2`, orgID, id)
}

// RefundByIDUnscoped is a refund by id, for payflow and jobs.
func (s *Store) RefundByIDUnscoped(ctx context.Context, id int64) (_ Refund, err error) {
	defer wrap(&err, "store.RefundByIDUnscoped(%d)", id)
	return refundWhere(ctx, s.reader(), `r.id = $1`, id)
}

// insertRefund writes a refund of amount yen of payment p of application
// a, status requesting, with a new attempt number and a new random
// idempotency key, and its history line. Two requests at once cannot
// both write the same attempt (UNIQUE (payment_id, attempt)): the second
// fails and rolls back.
func (s *Store) insertRefund(ctx context.Context, tx *Tx, a *event.Application, p *Payment, amount, memberID int64) (Refund, error) {
	r := Refund{OrgID: a.OrgID, EventID: a.EventID, ApplicationID: a.ID, PaymentID: p.ID, ConnectionID: p.ConnectionID,
		Status: payment.RefundRequesting, Amount: amount, RequestedBy: memberID, CreatedAt: tx.now, UpdatedAt: tx.now,
		PaymentIntentID: p.PaymentIntentID, Method: p.Method}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(attempt), 0) + 1 FROM refunds WHERE payment_id = $1`,
		p.ID).Scan(&r.Attempt); err != nil {
		return r, err
	}
	r.IdempotencyKey = fmt.Sprintf("kaisai-refund-p%d-%d-%s", p.ID, r.Attempt, randomHex(8))
	err := tx.QueryRowContext(ctx, `INSERT INTO refunds (org_id, event_id, application_id, payment_id, connection_id,
		attempt, idempotency_key, status, amount, requested_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id`,
		r.OrgID, r.EventID, r.ApplicationID, r.PaymentID, r.ConnectionID, r.Attempt, r.IdempotencyKey, r.Status,
		r.Amount, r.RequestedBy, tx.now).Scan(&r.ID)
	if isUniqueViolation(err) {
		return r, ErrRefundNotRetryable
	}
	if err != nil {
		return r, err
	}
	return r, s.logActivity(ctx, tx, a, memberID, ActRefundRequested, yen(amount))
}

// yen is an amount as history lines show it.
func yen(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return "¥" + s
}

// CancelAndRefund cancels an application as an organizer (memberID) and,
// in the same transaction, writes the refund the organizer chose (kind,
// partial yen for 一部返金; payment.RefundAmount decides) of its payment
// through Stripe: nil when nothing is refunded. An application not paid
// through Stripe may only be cancelled with 返金なし (or no choice). A
// choice that is not valid changes nothing. payflow asks Stripe after the
// commit.
func (s *Store) CancelAndRefund(ctx context.Context, orgID, eventID, id, memberID int64,
	kind payment.RefundKind, partial int64) (_ event.Application, _ *Refund, err error) {
	defer wrap(&err, "store.CancelAndRefund(org %d, event %d, id %d, member %d)", orgID, eventID, id, memberID)
	var out *Refund
	a, err := s.cancel(ctx, memberID, nil, func(ctx context.Context, tx *Tx, a *event.Application) error {
		out = nil
		p, ok, err := paidPayment(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		if !ok || !payment.Method(a.PaidVia).Online() {
			if kind == "" || kind == payment.RefundNone {
				return nil
			}
			return ErrRefundNotOnline
		}
		left, err := refundableOf(ctx, tx, &p)
		if err != nil {
			return err
		}
		amount, err := payment.RefundAmount(kind, partial, left)
		if err != nil || amount == 0 {
			return err
		}
		r, err := s.insertRefund(ctx, tx, a, &p, amount, memberID)
		out = &r
		return err
	}, `org_id = $1 AND event_id = $2 AND id = $3`, orgID, eventID, id)
	return a, out, err
}

// SelfCancelQuote is what cancelling their application would do for a
// participant, now.
type SelfCancelQuote struct {
	// Paid: the application is 入金済, so the event's policy decides.
	Paid bool
	// Online: paid through Stripe, so kaisai refunds Refund yen; else (paid
	// by hand) any refund is the organizer's, outside kaisai.
	Online   bool
	Decision payment.SelfCancel
	Refund   int64
	Method   payment.Method
	StartsAt time.Time
}

// Shown is a cut-off of the policy as people read "until": a day's
// cut-off (midnight, as payment.Cutoff gives it) is the last minute of the
// day before; the start itself stays as it is.
func (q SelfCancelQuote) Shown(t time.Time) time.Time {
	if t.Equal(q.StartsAt) {
		return t
	}
	return t.Add(-time.Minute)
}

// MayCancel reports whether the participant may cancel now.
func (q SelfCancelQuote) MayCancel() bool { return q.Decision.Allowed }

// selfCancelQuote asks the event's policy about a, read through q.
func selfCancelQuote(ctx context.Context, q querier, a *event.Application, now time.Time) (SelfCancelQuote, *Payment, error) {
	var out SelfCancelQuote
	if err := q.QueryRowContext(ctx, `SELECT starts_at FROM schedules WHERE id = $1`, a.ScheduleID).Scan(&out.StartsAt); err != nil {
		return out, nil, err
	}
	if a.Payment != event.PaymentPaid {
		// Unpaid, or free: until the start, as always.
		sc := event.Schedule{ID: a.ScheduleID, StartsAt: out.StartsAt}
		out.Decision = payment.SelfCancel{Allowed: a.MayCancel(&sc, now) == nil, Until: out.StartsAt}
		return out, nil, nil
	}
	var e event.Event
	if err := scanEvent(q.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events e WHERE e.id = $1`, a.EventID), &e); err != nil {
		return out, nil, err
	}
	out.Paid = true
	p, ok, err := paidPayment(ctx, q, a.ID)
	if err != nil {
		return out, nil, err
	}
	paid := e.PriceJPY
	if ok && payment.Method(a.PaidVia).Online() {
		out.Online, paid, out.Method = true, p.PaidAmount, p.Method
	}
	out.Decision = payment.PolicyOf(&e).Decide(paid, out.StartsAt, e.Location(), now)
	if !out.Online {
		return out, nil, nil
	}
	left, err := refundableOf(ctx, q, &p)
	if err != nil {
		return out, nil, err
	}
	out.Refund = min(out.Decision.Refund, left)
	return out, &p, nil
}

// QuoteSelfCancel says what cancelling the application with token would
// do now: whether it may be cancelled, and what it refunds.
func (s *Store) QuoteSelfCancel(ctx context.Context, token string) (_ event.Application, _ SelfCancelQuote, err error) {
	defer wrap(&err, "store.QuoteSelfCancel()")
	a, err := applicationWhere(ctx, s.reader(), `a.token = $1`, token)
	if err != nil {
		return a, SelfCancelQuote{}, err
	}
	q, _, err := selfCancelQuote(ctx, s.reader(), &a, s.nowUTC())
	return a, q, err
}

// SelfCancel cancels the application with token from the participant's
// page. An unpaid application (or one of a free event) may be cancelled
// until its schedule starts; a paid one as the event's キャンセル・返金ポリシー
// decides, refunding what it says (through Stripe when paid so; a refund
// row in the same transaction). expect is the refund the participant was
// shown (-1: not checked): if the policy now says otherwise, nothing
// changes (ErrRefundChanged).
func (s *Store) SelfCancel(ctx context.Context, token string, expect int64) (_ event.Application, _ *Refund, err error) {
	defer wrap(&err, "store.SelfCancel()")
	var out *Refund
	var quote SelfCancelQuote
	var paid *Payment
	may := func(ctx context.Context, tx *Tx, a *event.Application, now time.Time) error {
		if !a.Active() {
			return ErrAlreadyCanceled
		}
		var err error
		if quote, paid, err = selfCancelQuote(ctx, tx, a, now); err != nil {
			return err
		}
		if !quote.Paid {
			return a.MayCancel(&event.Schedule{ID: a.ScheduleID, StartsAt: quote.StartsAt}, now)
		}
		if !quote.Decision.Allowed {
			return ErrSelfCancelClosed
		}
		if expect >= 0 && quote.Refund != expect {
			return ErrRefundChanged
		}
		return nil
	}
	a, err := s.cancel(ctx, 0, may, func(ctx context.Context, tx *Tx, a *event.Application) error {
		out = nil
		if paid == nil || quote.Refund <= 0 {
			return nil
		}
		r, err := s.insertRefund(ctx, tx, a, paid, quote.Refund, 0)
		out = &r
		return err
	}, `token = $1`, token)
	return a, out, err
}

// RetryRefund is the organizer's 「返金を再試行」 of a refund that failed, was
// refused or cancelled: a new attempt of the same amount with a new
// idempotency key, only while what is left of the payment covers it.
func (s *Store) RetryRefund(ctx context.Context, orgID, refundID, memberID int64) (_ Refund, err error) {
	defer wrap(&err, "store.RetryRefund(org %d, refund %d, member %d)", orgID, refundID, memberID)
	var out Refund
	err = s.Tx(ctx, func(tx *Tx) error {
		old, err := refundWhere(ctx, tx, `r.org_id = $1 AND r.id = $2`, orgID, refundID)
		if err != nil {
			return err
		}
		if !old.Status.Retryable() {
			return ErrRefundNotRetryable
		}
		p, err := paymentWhere(ctx, tx, `p.id = $1`, old.PaymentID)
		if err != nil {
			return err
		}
		// A later attempt of the same payment supersedes this one.
		var later int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM refunds WHERE payment_id = $1 AND attempt > $2
			AND application_id = $3`, p.ID, old.Attempt, old.ApplicationID).Scan(&later); err != nil {
			return err
		}
		left, err := refundableOf(ctx, tx, &p)
		if err != nil {
			return err
		}
		if later > 0 || left < old.Amount {
			return ErrRefundNotRetryable
		}
		a, err := applicationWhere(ctx, tx, `a.id = $1`, old.ApplicationID)
		if err != nil {
			return err
		}
		out, err = s.insertRefund(ctx, tx, &a, &p, old.Amount, memberID)
		return err
	})
	return out, err
}

// RefundAnswered records Stripe's answer to the refund's create: its id
// and status (moved as payment.AdvanceRefund decides; an event may have
// told more already).
func (s *Store) RefundAnswered(ctx context.Context, id int64, o RefundObservation) (err error) {
	defer wrap(&err, "store.RefundAnswered(%d)", id)
	return s.Tx(ctx, func(tx *Tx) error {
		r, err := refundWhere(ctx, tx, `r.id = $1`, id)
		if err != nil {
			return err
		}
		return s.advanceRefund(ctx, tx, &r, o)
	})
}

// RefundRefused records that Stripe refused to create the refund (an
// answer it will not change: its message is the reason): abandoned, the
// organizer may try again with a new key.
func (s *Store) RefundRefused(ctx context.Context, id int64, reason string) (err error) {
	defer wrap(&err, "store.RefundRefused(%d)", id)
	return s.Tx(ctx, func(tx *Tx) error {
		r, err := refundWhere(ctx, tx, `r.id = $1`, id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE refunds SET status = 'abandoned', failure_reason = $1, last_error = $1,
			updated_at = $2 WHERE id = $3 AND status = 'requesting' AND refund_id IS NULL`, reason, tx.now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		a, err := applicationWhere(ctx, tx, `a.id = $1`, r.ApplicationID)
		if err != nil {
			return err
		}
		return s.logActivity(ctx, tx, &a, 0, ActRefundRefused, reason)
	})
}

// RefundUnanswered records that asking Stripe got no answer (or one to
// ask again about): the row stays requesting, and the sweep asks again
// with the same key.
func (s *Store) RefundUnanswered(ctx context.Context, id int64, reason string) (err error) {
	defer wrap(&err, "store.RefundUnanswered(%d)", id)
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	_, err = s.exec(ctx, `UPDATE refunds SET last_error = $1, updated_at = $2 WHERE id = $3`, reason, s.nowUTC(), id)
	return err
}

// RefundObservation is what Stripe says of a refund (an event, an answer,
// or the refund read back).
type RefundObservation struct {
	RefundID      string
	Status        string // Stripe's: pending, requires_action, succeeded, failed, canceled
	FailureReason string
	// KaisaiRefund is the row named in the refund's metadata (0: none),
	// for a refund whose create answer was lost.
	KaisaiRefund int64
}

// observeRefund applies o to the connection's refund it names; a refund
// kaisai does not know is errNotFound.
func (s *Store) observeRefund(ctx context.Context, tx *Tx, connID int64, o RefundObservation) (Refund, error) {
	r, err := refundWhere(ctx, tx, `r.refund_id = $1 AND r.connection_id = $2`, o.RefundID, connID)
	if errors.Is(err, errNotFound) && o.KaisaiRefund != 0 {
		r, err = refundWhere(ctx, tx, `r.id = $1 AND r.connection_id = $2 AND r.refund_id IS NULL`, o.KaisaiRefund, connID)
	}
	if err != nil {
		return r, err
	}
	return r, s.advanceRefund(ctx, tx, &r, o)
}

// ObserveRefund applies what Stripe says of a refund of the connection
// (read back by the sweep).
func (s *Store) ObserveRefund(ctx context.Context, connID int64, o RefundObservation) (err error) {
	defer wrap(&err, "store.ObserveRefund(connection %d, %s)", connID, o.RefundID)
	return s.Tx(ctx, func(tx *Tx) error {
		_, err := s.observeRefund(ctx, tx, connID, o)
		return err
	})
}

// advanceRefund moves r as payment.AdvanceRefund decides from what o
// says, with its history line, and the 返金のお知らせ mail once it
// succeeded. Seeing the same twice, or late, changes nothing.
func (s *Store) advanceRefund(ctx context.Context, tx *Tx, r *Refund, o RefundObservation) error {
	next, changed := payment.AdvanceRefund(r.Status, o.Status)
	if r.Status == payment.RefundAbandoned {
		changed = false // refused: the next attempt is another row
	}
	setID := r.RefundID == "" && o.RefundID != ""
	if !changed && !setID {
		return nil
	}
	if !changed {
		next = r.Status
	}
	reason := r.FailureReason
	if changed && next == payment.RefundFailed {
		reason = o.FailureReason
	}
	var refunded sql.NullTime
	if changed && next == payment.RefundSucceeded {
		refunded = sql.NullTime{Time: tx.now, Valid: true}
	}
	refundID := r.RefundID
	if setID {
		refundID = o.RefundID
	}
	if _, err := tx.ExecContext(ctx, `UPDATE refunds SET status = $1, refund_id = $2, failure_reason = $3,
		refunded_at = COALESCE(refunded_at, $4), last_error = '', updated_at = $5 WHERE id = $6`,
		next, refundID, reason, refunded, tx.now, r.ID); err != nil {
		return err
	}
	r.Status, r.RefundID, r.FailureReason = next, refundID, reason
	if !changed {
		return nil
	}
	var action, detail string
	switch next {
	case payment.RefundSucceeded:
		action, detail = ActRefunded, yen(r.Amount)+" "+r.RefundID
	case payment.RefundFailed:
		action, detail = ActRefundFailed, reason
	case payment.RefundCanceled:
		action, detail = ActRefundCanceled, r.RefundID
	default:
		return nil // accepted, on its way: said when it was asked
	}
	a, err := applicationWhere(ctx, tx, `a.id = $1`, r.ApplicationID)
	if err != nil {
		return err
	}
	if err := s.logActivity(ctx, tx, &a, 0, action, detail); err != nil {
		return err
	}
	if next == payment.RefundSucceeded {
		r.RefundedAt = tx.now
		return s.enqueueMailVars(ctx, tx, &a, event.MailRefunded, map[string]string{"refund_amount": strconv.FormatInt(r.Amount, 10)})
	}
	return nil
}

// LiveRefundsOfIntent are the connection's refunds of a payment intent
// that Stripe knows and that may still move (for charge.refunded, whose
// charge does not say which refund it is about).
func (s *Store) LiveRefundsOfIntent(ctx context.Context, connID int64, paymentIntentID string) (_ []Refund, err error) {
	defer wrap(&err, "store.LiveRefundsOfIntent(connection %d)", connID)
	return refundsWhere(ctx, s.reader(), `r.connection_id = $1 AND p.payment_intent_id = $2
		AND r.refund_id IS NOT NULL AND r.status IN ('pending', 'requires_action') ORDER BY r.id`, connID, paymentIntentID)
}

// RefundsToCheck are refunds the sweep must look at, oldest first: rows
// still requesting not touched since before stale (asked again with their
// key), and refunds pending at Stripe not read since before stale (a lost
// webhook).
func (s *Store) RefundsToCheck(ctx context.Context, stale time.Time, limit int) (_ []Refund, err error) {
	defer wrap(&err, "store.RefundsToCheck()")
	return refundsWhere(ctx, s.reader(), `r.status IN ('requesting', 'pending', 'requires_action') AND r.updated_at < $1
		AND EXISTS (SELECT 1 FROM stripe_connections c WHERE c.id = r.connection_id AND c.status = 'connected')
		ORDER BY r.updated_at LIMIT $2`, stale.UTC(), limit)
}

// RefundChecked records that a refund was read back and nothing moved, so
// the sweep leaves it until stale again.
func (s *Store) RefundChecked(ctx context.Context, id int64, reason string) (err error) {
	defer wrap(&err, "store.RefundChecked(%d)", id)
	_, err = s.exec(ctx, `UPDATE refunds SET updated_at = $1, last_error = $2 WHERE id = $3`, s.nowUTC(), reason, id)
	return err
}

// ErrProblemNotRefundable: the payment is not money kaisai can give back
// through Stripe (a wrong amount or currency is settled outside kaisai).
var ErrProblemNotRefundable = event.Errorf(event.EConflict, "refund.problem_not_refundable")

// RefundProblemPayment is 「返金する」 on a payment that needs a person
// (要対応): paid twice, or paid after the application was cancelled. All
// that is left of it is refunded through Stripe, and the problem is
// settled, in one transaction; payflow asks Stripe after the commit.
func (s *Store) RefundProblemPayment(ctx context.Context, orgID, eventID, paymentID, memberID int64) (_ Refund, err error) {
	defer wrap(&err, "store.RefundProblemPayment(org %d, event %d, payment %d, member %d)", orgID, eventID, paymentID, memberID)
	var out Refund
	err = s.Tx(ctx, func(tx *Tx) error {
		p, a, err := problemPayment(ctx, tx, orgID, eventID, paymentID)
		if err != nil {
			return err
		}
		if p.Status != payment.StatusPaid || p.PaymentIntentID == "" ||
			(p.Problem != payment.ProblemTwice && p.Problem != payment.ProblemAfterCancel) {
			return ErrProblemNotRefundable
		}
		left, err := refundableOf(ctx, tx, &p)
		if err != nil {
			return err
		}
		amount, err := payment.RefundAmount(payment.RefundFull, 0, left)
		if err != nil {
			return err
		}
		if out, err = s.insertRefund(ctx, tx, &a, &p, amount, memberID); err != nil {
			return err
		}
		detail := string(p.Problem) + " " + stripeDetail(&p)
		if err := s.logActivity(ctx, tx, &a, memberID, ActPaymentResolved, detail); err != nil {
			return err
		}
		return clearProblem(ctx, tx, p.ID)
	})
	return out, err
}

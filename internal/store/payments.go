package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
)

// Online payments (DESIGN.md §8): the Checkout Sessions kaisai opens for
// applications, and what Stripe says of them. The decisions are package
// payment's; this file loads the state, asks and writes the outcome in one
// transaction.

// Payment is one Checkout Session kaisai opened (or is opening) for an
// application: a row of payments.
type Payment struct {
	ID              int64
	OrgID           int64
	EventID         int64
	ApplicationID   int64
	ConnectionID    int64
	Attempt         int
	IdempotencyKey  string
	Status          payment.Status
	Amount          int64 // asked, yen
	SessionID       string
	URL             string
	ExpiresAt       time.Time
	Method          payment.Method
	PaidAmount      int64
	Currency        string
	PaymentIntentID string
	Instructions    string // the voucher or transfer details (JSON) while pending
	Problem         payment.Problem
	LastError       string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	PaidAt          time.Time
}

const paymentColumns = `p.id, p.org_id, p.event_id, p.application_id, p.connection_id, p.attempt, p.idempotency_key,
	p.status, p.amount, p.session_id, p.url, p.expires_at, p.method, p.paid_amount, p.currency, p.payment_intent_id,
	p.instructions, p.problem, p.last_error, p.created_at, p.updated_at, p.paid_at`

func scanPayment(sc interface{ Scan(...any) error }, p *Payment) error {
	var session sql.NullString
	var paid sql.NullTime
	err := sc.Scan(&p.ID, &p.OrgID, &p.EventID, &p.ApplicationID, &p.ConnectionID, &p.Attempt, &p.IdempotencyKey,
		&p.Status, &p.Amount, &session, &p.URL, &p.ExpiresAt, &p.Method, &p.PaidAmount, &p.Currency, &p.PaymentIntentID,
		&p.Instructions, &p.Problem, &p.LastError, &p.CreatedAt, &p.UpdatedAt, &paid)
	p.SessionID, p.PaidAt = session.String, timeOf(paid)
	p.ExpiresAt, p.CreatedAt, p.UpdatedAt = p.ExpiresAt.UTC(), p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return err
}

func paymentWhere(ctx context.Context, q querier, where string, args ...any) (Payment, error) {
	var p Payment
	err := scanPayment(q.QueryRowContext(ctx, `SELECT `+paymentColumns+` FROM payments p WHERE `+where, args...), &p)
	return p, notFound(err)
}

// Checkout is what BeginCheckout decided for an application.
type Checkout struct {
	Application event.Application
	Event       event.Event
	StartsAt    time.Time // the schedule's start
	Payment     Payment
	// Create: ask Stripe for the session of Payment, with its idempotency
	// key (a new row, or one whose answer was lost). Otherwise Payment is
	// live already: an open session to send the participant to, or a
	// voucher or transfer to show.
	Create bool
}

// ErrPaymentsOff means the organization has no Stripe account connected:
// the application cannot be paid online.
var ErrPaymentsOff = event.Errorf(event.EConflict, "payment.not_configured")

// reuseMargin: an open session that expires sooner than this is not
// offered again; a new one is made.
const reuseMargin = 5 * time.Minute

// BeginCheckout decides how the participant of the application with token
// pays: the live session (or voucher) if there is one, else a new row to
// open a session for (Create), in one transaction so that double clicks
// and two tabs make one session. expiry gives a new session's expires_at
// from now and the application's deadline (payment.SessionExpiry).
func (s *Store) BeginCheckout(ctx context.Context, token string,
	expiry func(now, due time.Time) (time.Time, bool)) (_ Checkout, err error) {
	defer wrap(&err, "store.BeginCheckout()")
	var c Checkout
	err = s.Tx(ctx, func(tx *Tx) error {
		c = Checkout{}
		a, err := applicationWhere(ctx, tx, `a.token = $1`, token)
		if err != nil {
			return err
		}
		var e event.Event
		if err := scanEvent(tx.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events e WHERE e.id = $1`, a.EventID), &e); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT starts_at FROM schedules WHERE id = $1`, a.ScheduleID).Scan(&c.StartsAt); err != nil {
			return err
		}
		c.Application, c.Event = a, e
		if c.Application.PaymentDueAt.IsZero() {
			// Applied before deadlines were kept: payable until the start.
			c.Application.PaymentDueAt = c.StartsAt
		}
		a = c.Application
		if err := payment.Payable(&e, &a, a.PaymentDueAt, tx.now); err != nil {
			return err
		}
		var conn int64
		err = tx.QueryRowContext(ctx, `SELECT id FROM stripe_connections WHERE org_id = $1 AND status = 'connected'`, a.OrgID).Scan(&conn)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrPaymentsOff
		}
		if err != nil {
			return err
		}
		last, err := paymentWhere(ctx, tx, `p.application_id = $1 ORDER BY p.attempt DESC LIMIT 1`, a.ID)
		switch {
		case errors.Is(err, errNotFound):
		case err != nil:
			return err
		case last.ConnectionID != conn:
			// The organization connected another account since: its sessions
			// are not offered again.
		case last.Status == payment.StatusPending,
			last.Status == payment.StatusOpen && last.URL != "" && last.ExpiresAt.After(tx.now.Add(reuseMargin)):
			c.Payment = last
			return nil
		case last.Status == payment.StatusCreating && last.ExpiresAt.After(tx.now.Add(reuseMargin)):
			c.Payment, c.Create = last, true
			return nil
		}
		expires, ok := expiry(tx.now, a.PaymentDueAt)
		if !ok {
			return event.Errorf(event.EConflict, "payment.deadline_too_close")
		}
		p := Payment{OrgID: a.OrgID, EventID: a.EventID, ApplicationID: a.ID, ConnectionID: conn,
			Attempt: last.Attempt + 1, Status: payment.StatusCreating, Amount: e.PriceJPY, ExpiresAt: expires.UTC(),
			CreatedAt: tx.now, UpdatedAt: tx.now}
		p.IdempotencyKey = fmt.Sprintf("kaisai-app%d-%d-%s", a.ID, p.Attempt, randomHex(6))
		err = tx.QueryRowContext(ctx, `INSERT INTO payments (org_id, event_id, application_id, connection_id, attempt,
			idempotency_key, status, amount, expires_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
			ON CONFLICT (application_id, attempt) DO NOTHING RETURNING id`,
			p.OrgID, p.EventID, p.ApplicationID, p.ConnectionID, p.Attempt, p.IdempotencyKey, p.Status, p.Amount,
			p.ExpiresAt, tx.now).Scan(&p.ID)
		if errors.Is(err, sql.ErrNoRows) {
			// Another request made this attempt's row a moment ago (its
			// commit let this INSERT go on): use it.
			p, err = paymentWhere(ctx, tx, `p.application_id = $1 AND p.attempt = $2`, a.ID, p.Attempt)
		}
		if err != nil {
			return err
		}
		c.Payment, c.Create = p, true
		return nil
	})
	return c, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// CheckoutCreated stores Stripe's answer for the payment's session: its id
// and page. A webhook about it may have come first; what it recorded stays.
func (s *Store) CheckoutCreated(ctx context.Context, paymentID int64, sessionID, url string, expiresAt time.Time) (err error) {
	defer wrap(&err, "store.CheckoutCreated(payment %d)", paymentID)
	return s.Tx(ctx, func(tx *Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE payments SET session_id = $1, url = $2, expires_at = $3, last_error = '',
			status = CASE WHEN status = 'creating' THEN 'open' ELSE status END, updated_at = $4
			WHERE id = $5 AND (session_id IS NULL OR session_id = $1)`, sessionID, url, expiresAt.UTC(), tx.now, paymentID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errNotFound
		}
		return nil
	})
}

// CheckoutFailed records that asking Stripe for the payment's session
// failed. answered: Stripe answered with an error, which it keeps for the
// idempotency key, so the row is abandoned and the next try makes a new
// one; otherwise (no answer) the next try asks again with the same key.
func (s *Store) CheckoutFailed(ctx context.Context, paymentID int64, answered bool, reason string) (err error) {
	defer wrap(&err, "store.CheckoutFailed(payment %d)", paymentID)
	status := payment.StatusCreating
	if answered {
		status = payment.StatusAbandoned
	}
	_, err = s.exec(ctx, `UPDATE payments SET status = $1, last_error = $2, updated_at = $3
		WHERE id = $4 AND status = 'creating'`, status, reason, s.nowUTC(), paymentID)
	return err
}

// Observed is what an observation of a session did.
type Observed struct {
	Payment     Payment
	Step        payment.Step
	Settlement  payment.Settlement
	Application event.Application
}

// ObservePayment records what Stripe says of a session of the connection
// (an event, or the session read back): the row moves as payment.Advance
// decides, and money confirmed makes the application 入金済 through the
// same transition as the organizer's button (payment.Settle), or leaves a
// problem for the organizer. Seeing the same thing twice, or late, changes
// nothing. A session kaisai does not know answers ErrNotFound.
func (s *Store) ObservePayment(ctx context.Context, connID int64, o payment.Observation) (_ Observed, err error) {
	defer wrap(&err, "store.ObservePayment(connection %d, %s)", connID, o.SessionID)
	var res Observed
	err = s.Tx(ctx, func(tx *Tx) error {
		var err error
		res, err = s.observe(ctx, tx, connID, o)
		return err
	})
	return res, err
}

// observe is ObservePayment in the caller's transaction.
func (s *Store) observe(ctx context.Context, tx *Tx, connID int64, o payment.Observation) (Observed, error) {
	var res Observed
	p, err := paymentWhere(ctx, tx, `p.session_id = $1 AND p.connection_id = $2`, o.SessionID, connID)
	if errors.Is(err, errNotFound) && o.PaymentID != 0 {
		// The answer to the create was lost: the row knows no session yet.
		p, err = paymentWhere(ctx, tx, `p.id = $1 AND p.connection_id = $2 AND p.session_id IS NULL`, o.PaymentID, connID)
	}
	if err != nil {
		return res, err
	}
	step := payment.Advance(p.Status, p.Amount, o)
	res.Payment, res.Step = p, step
	if !step.Changed && p.SessionID != "" {
		return res, nil
	}
	a, err := applicationWhere(ctx, tx, `a.id = $1`, p.ApplicationID)
	if err != nil {
		return res, err
	}
	res.Application = a
	problem := payment.ProblemNone
	if step.Confirmed || step.Mismatch != nil {
		res.Settlement = payment.Settle(a.Active(), a.Payment == event.PaymentPaid)
		problem = payment.ProblemOf(step, res.Settlement)
	}
	p.Status, p.SessionID, p.Problem = step.Next, o.SessionID, problem
	if o.Method != "" {
		p.Method = o.Method
	}
	if o.PaymentIntentID != "" {
		p.PaymentIntentID = o.PaymentIntentID
	}
	if step.Next == payment.StatusPending {
		p.Instructions = o.Instructions
	}
	var paidAt sql.NullTime
	if step.Confirmed || step.Mismatch != nil {
		p.PaidAmount, p.Currency, p.PaidAt = o.Amount, o.Currency, tx.now
		paidAt = sql.NullTime{Time: tx.now, Valid: true}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payments SET status = $1, session_id = $2, method = $3,
		payment_intent_id = $4, instructions = $5, paid_amount = $6, currency = $7, problem = $8,
		paid_at = COALESCE(paid_at, $9), updated_at = $10 WHERE id = $11`,
		p.Status, p.SessionID, p.Method, p.PaymentIntentID, p.Instructions, p.PaidAmount, p.Currency, p.Problem,
		paidAt, tx.now, p.ID); err != nil {
		return res, err
	}
	res.Payment = p
	if step.Confirmed && res.Settlement == payment.SettleMarkPaid {
		detail := "stripe " + p.PaymentIntentID + " " + p.SessionID
		if err := s.setPayment(ctx, tx, &a, event.PaymentPaid, 0, string(p.Method), detail); err != nil {
			return res, err
		}
		res.Application = a
	}
	return res, nil
}

// LivePayment is the latest session of an application that may still
// bring money (open, or a voucher or transfer out), if any.
func (s *Store) LivePayment(ctx context.Context, applicationID int64) (_ Payment, ok bool, err error) {
	defer wrap(&err, "store.LivePayment(application %d)", applicationID)
	p, err := paymentWhere(ctx, s.reader(), `p.application_id = $1 AND p.status IN ('open', 'pending')
		ORDER BY p.attempt DESC LIMIT 1`, applicationID)
	if errors.Is(err, errNotFound) {
		return Payment{}, false, nil
	}
	return p, err == nil, err
}

// PaymentByID is a payment of the organization.
func (s *Store) PaymentByID(ctx context.Context, orgID, id int64) (_ Payment, err error) {
	defer wrap(&err, "store.PaymentByID(org %d, id %d)", orgID, id)
	return paymentWhere(ctx, s.reader(), `p.org_id = $1 AND p.id = $2`, orgID, id)
}

// PaymentsToCheck are sessions whose state kaisai must read back from
// Stripe, oldest first: rows still creating (asked again with their key),
// open sessions past their expiry (a lost checkout.session.expired or
// completed), pending vouchers and transfers not checked since before
// stale, and live sessions of applications no longer payable (cancelled,
// or paid another way), to be expired.
func (s *Store) PaymentsToCheck(ctx context.Context, stale time.Time, limit int) (_ []Payment, err error) {
	defer wrap(&err, "store.PaymentsToCheck()")
	now := s.nowUTC()
	// A row read back and unchanged has its updated_at moved on, so it
	// waits until stale before it is read again.
	rows, err := s.readUnprepared().QueryContext(ctx, `SELECT `+paymentColumns+` FROM payments p
		JOIN applications a ON a.id = p.application_id
		JOIN stripe_connections c ON c.id = p.connection_id AND c.status = 'connected'
		WHERE p.status IN ('creating', 'open', 'pending') AND (
			(p.status IN ('creating', 'pending') AND p.updated_at < $1)
			OR (p.status = 'open' AND p.expires_at < $2 AND (p.updated_at < p.expires_at OR p.updated_at < $1))
			OR (p.status = 'open' AND (a.status <> 'applied' OR a.payment <> 'unpaid')
				AND (p.updated_at < a.updated_at OR p.updated_at < $1)))
		ORDER BY p.updated_at LIMIT $3`, stale.UTC(), now, limit)
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

// PaymentChecked records that a session was read back and nothing moved,
// so the sweep leaves it until stale again.
func (s *Store) PaymentChecked(ctx context.Context, id int64, reason string) (err error) {
	defer wrap(&err, "store.PaymentChecked(%d)", id)
	_, err = s.exec(ctx, `UPDATE payments SET updated_at = $1, last_error = $2 WHERE id = $3`, s.nowUTC(), reason, id)
	return err
}

// OverdueApplications are up to limit applications still 未入金 past
// their 支払期限, oldest deadline first.
func (s *Store) OverdueApplications(ctx context.Context, limit int) (_ []int64, err error) {
	defer wrap(&err, "store.OverdueApplications()")
	rows, err := s.reader().QueryContext(ctx, `SELECT id FROM applications
		WHERE status = 'applied' AND payment = 'unpaid' AND payment_due_at <= $1
		ORDER BY payment_due_at, id LIMIT $2`, s.nowUTC(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// NextPaymentDue is the earliest 支払期限 of an unpaid application (zero:
// none), so the job can wake then.
func (s *Store) NextPaymentDue(ctx context.Context) (_ time.Time, err error) {
	defer wrap(&err, "store.NextPaymentDue()")
	// The column, not MIN(): SQLite hands an aggregate of times back as
	// text. The partial index applications_payment_due serves the order.
	var at time.Time
	err = s.reader().QueryRowContext(ctx, `SELECT payment_due_at FROM applications
		WHERE status = 'applied' AND payment = 'unpaid' AND payment_due_at IS NOT NULL
		ORDER BY payment_due_at LIMIT 1`).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return at.UTC(), err
}

// CancelOverdue cancels the application if it is still 未入金 past its
// 支払期限: the seat is freed and given to the first on the schedule's
// waitlist (who gets a 支払期限 of their own), the participant is mailed,
// and its open sessions are left for the payment sweep to expire at
// Stripe. cancelled is false when it was paid or cancelled meanwhile.
func (s *Store) CancelOverdue(ctx context.Context, id int64) (cancelled bool, err error) {
	defer wrap(&err, "store.CancelOverdue(%d)", id)
	err = s.Tx(ctx, func(tx *Tx) error {
		cancelled = false
		r, err := tx.ExecContext(ctx, `UPDATE applications SET status = 'cancelled', cancelled_at = $1, updated_at = $1
			WHERE id = $2 AND status = 'applied' AND payment = 'unpaid' AND payment_due_at <= $1`, tx.now, id)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil
		}
		cancelled = true
		a, err := applicationWhere(ctx, tx, `a.id = $1`, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE schedules SET seats_taken = seats_taken - 1 WHERE id = $1`, a.ScheduleID); err != nil {
			return err
		}
		if err := s.logActivity(ctx, tx, &a, 0, ActPaymentExpired, ""); err != nil {
			return err
		}
		if err := s.enqueueMail(ctx, tx, &a, event.MailPaymentExpired); err != nil {
			return err
		}
		next, err := applicationWhere(ctx, tx, `a.schedule_id = $1 AND a.status = 'waitlisted' ORDER BY a.created_at, a.id LIMIT 1`, a.ScheduleID)
		switch {
		case errors.Is(err, errNotFound):
		case err != nil:
			return err
		default:
			if err := s.promote(ctx, tx, &next, 0); err != nil && !errors.Is(err, ErrNoSeatLeft) {
				return err
			}
		}
		var live int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM payments WHERE application_id = $1 AND status = 'open'`, id).Scan(&live); err != nil {
			return err
		}
		if live > 0 {
			tx.queue(queuedPayments)
		}
		return nil
	})
	return cancelled, err
}

// PaymentBySession is the application's payment whose session is
// sessionID (ErrNotFound for a session of anything else).
func (s *Store) PaymentBySession(ctx context.Context, applicationID int64, sessionID string) (_ Payment, err error) {
	defer wrap(&err, "store.PaymentBySession(application %d)", applicationID)
	return paymentWhere(ctx, s.reader(), `p.application_id = $1 AND p.session_id = $2`, applicationID, sessionID)
}

// CheckoutOf is the Checkout of an existing payment row, to ask Stripe
// again with its key (Create is true only while it is still creating).
func (s *Store) CheckoutOf(ctx context.Context, paymentID int64) (_ Checkout, err error) {
	defer wrap(&err, "store.CheckoutOf(payment %d)", paymentID)
	var c Checkout
	q := s.reader()
	if c.Payment, err = paymentWhere(ctx, q, `p.id = $1`, paymentID); err != nil {
		return c, err
	}
	if c.Application, err = applicationWhere(ctx, q, `a.id = $1`, c.Payment.ApplicationID); err != nil {
		return c, err
	}
	if err := scanEvent(q.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events e WHERE e.id = $1`, c.Application.EventID), &c.Event); err != nil {
		return c, notFound(err)
	}
	if err := q.QueryRowContext(ctx, `SELECT starts_at FROM schedules WHERE id = $1`, c.Application.ScheduleID).Scan(&c.StartsAt); err != nil {
		return c, err
	}
	if c.Application.PaymentDueAt.IsZero() {
		c.Application.PaymentDueAt = c.StartsAt
	}
	c.Create = c.Payment.Status == payment.StatusCreating
	return c, nil
}

// ApplicationByIDUnscoped is an application by id, for jobs.
func (s *Store) ApplicationByIDUnscoped(ctx context.Context, id int64) (_ event.Application, err error) {
	defer wrap(&err, "store.ApplicationByIDUnscoped(%d)", id)
	return applicationWhere(ctx, s.reader(), `a.id = $1`, id)
}

// PaymentsOn reports whether the organization takes payments online: a
// Stripe account is connected.
func (s *Store) PaymentsOn(ctx context.Context, orgID int64) (_ bool, err error) {
	defer wrap(&err, "store.PaymentsOn(org %d)", orgID)
	var n int
	err = s.reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM stripe_connections WHERE org_id = $1 AND status = 'connected'`, orgID).Scan(&n)
	return n > 0, err
}

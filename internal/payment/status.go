package payment

import (
	"time"

	"kaisai/internal/event"
)

// Status is where one Checkout Session that kaisai opened for an
// application stands (a row of the payments table).
type Status string

const (
	// StatusCreating: the row is written and Stripe asked, but no answer is
	// stored yet. Asking again with the row's idempotency key gives the same
	// session, so a lost answer never makes a second one.
	StatusCreating Status = "creating"
	// StatusOpen: the session waits on its hosted page.
	StatusOpen Status = "open"
	// StatusPending: the payer chose コンビニ or 銀行振込; the voucher or the
	// transfer instructions are out and the money has not arrived.
	StatusPending Status = "pending"
	// StatusPaid: Stripe confirmed the money, of the amount asked.
	StatusPaid Status = "paid"
	// StatusMismatch: Stripe confirmed a payment of another amount or
	// currency than asked: shown to the organizer, never counted as paid.
	StatusMismatch Status = "mismatch"
	// StatusFailed: the voucher or transfer lapsed unpaid.
	StatusFailed Status = "failed"
	// StatusExpired: the session expired unpaid.
	StatusExpired Status = "expired"
	// StatusAbandoned: Stripe refused to create the session; the next
	// attempt uses a new idempotency key.
	StatusAbandoned Status = "abandoned"
)

var statuses = []Status{StatusCreating, StatusOpen, StatusPending, StatusPaid, StatusMismatch, StatusFailed, StatusExpired, StatusAbandoned}

// Statuses are the valid statuses, for tests that check stored literals.
func Statuses() []Status { return append([]Status(nil), statuses...) }

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	for _, v := range statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Final reports whether nothing Stripe says later moves the session on.
func (s Status) Final() bool {
	switch s {
	case StatusPaid, StatusMismatch, StatusFailed, StatusExpired, StatusAbandoned:
		return true
	}
	return false
}

// Live reports whether the session may still bring money: a participant
// can pay on its page, or a voucher or transfer is out.
func (s Status) Live() bool {
	return s == StatusCreating || s == StatusOpen || s == StatusPending
}

// Observation is what Stripe says about a Checkout Session at one moment:
// an event's object, or the session read back.
type Observation struct {
	PaymentID       int64  // kaisai's payments row, from the session's metadata; 0 when absent
	SessionID       string // cs_…
	SessionStatus   string // Stripe's: open, complete, expired
	PaymentStatus   string // Stripe's: paid, unpaid, no_payment_required
	AsyncFailed     bool   // checkout.session.async_payment_failed: the voucher or transfer lapsed
	Amount          int64  // amount_total, yen
	Currency        string
	PaymentIntentID string
	Method          Method    // the method used, when known
	Instructions    string    // the voucher or the transfer details, JSON, while pending
	ExpiresAt       time.Time // the session's expires_at
}

// Step is what an observation does to a session: its next status, and
// whether the application's payment is now confirmed.
type Step struct {
	Next    Status
	Changed bool
	// Confirmed: the money arrived, of the amount asked; the application
	// becomes 入金済 (see Settle).
	Confirmed bool
	// Mismatch: the money arrived, of another amount or currency (the
	// error says which); the organizer must see it.
	Mismatch error
}

// Advance decides what an observation of a session whose status is cur
// and whose price was asked does. Stripe's events may come late, twice
// or out of order, so a session only moves forward: open → pending →
// paid | failed, open → expired, and a final status never changes.
// Observing the same thing twice changes nothing.
func Advance(cur Status, asked int64, o Observation) Step {
	if cur.Final() {
		return Step{Next: cur}
	}
	var next Status
	switch {
	case o.SessionStatus == "complete" && o.PaymentStatus == "paid":
		if err := CheckAmount(asked, o.Amount, o.Currency); err != nil {
			return Step{Next: StatusMismatch, Changed: true, Mismatch: err}
		}
		return Step{Next: StatusPaid, Changed: true, Confirmed: true}
	case o.SessionStatus == "complete" && o.AsyncFailed:
		next = StatusFailed
	case o.SessionStatus == "complete":
		next = StatusPending
	case o.SessionStatus == "expired":
		next = StatusExpired
	case o.SessionStatus == "open":
		next = StatusOpen
	default:
		return Step{Next: cur}
	}
	if rank(next) <= rank(cur) {
		return Step{Next: cur}
	}
	return Step{Next: next, Changed: true}
}

// rank orders the statuses a session passes through; final ones are last.
func rank(s Status) int {
	switch s {
	case StatusCreating:
		return 0
	case StatusOpen:
		return 1
	case StatusPending:
		return 2
	}
	return 3
}

// Settlement is what a confirmed payment does to its application.
type Settlement int

const (
	// SettleMarkPaid: the application becomes 入金済, exactly as by the
	// organizer's button.
	SettleMarkPaid Settlement = iota
	// SettleAlreadyPaid: the application was paid already (by hand, or
	// through another session): the organizer sees a second payment to
	// refund.
	SettleAlreadyPaid
	// SettleAfterCancel: the application was cancelled (its deadline
	// passed, say) before the money came: the organizer sees it, to refund
	// or reinstate. Nothing is lost.
	SettleAfterCancel
)

// Settle decides what a confirmed payment does to an application that is
// active or not and whose 入金状況 is paid or not.
func Settle(active, paid bool) Settlement {
	switch {
	case !active:
		return SettleAfterCancel
	case paid:
		return SettleAlreadyPaid
	}
	return SettleMarkPaid
}

// Problem names what an organizer must look at on a payment.
type Problem string

const (
	ProblemNone        Problem = ""
	ProblemMismatch    Problem = "mismatch"     // another amount or currency than asked
	ProblemAfterCancel Problem = "after_cancel" // paid after the application was cancelled
	ProblemTwice       Problem = "paid_twice"   // paid when the application was paid already
)

// ProblemOf is the problem a step and its settlement leave, if any.
func ProblemOf(s Step, settle Settlement) Problem {
	switch {
	case s.Mismatch != nil:
		return ProblemMismatch
	case !s.Confirmed:
		return ProblemNone
	case settle == SettleAfterCancel:
		return ProblemAfterCancel
	case settle == SettleAlreadyPaid:
		return ProblemTwice
	}
	return ProblemNone
}

// Payable decides whether the participant may pay an application online
// now: an unpaid application holding a seat of a paid event, before its deadline
// (due; zero when none is set). The error is one a person may see.
func Payable(e *event.Event, a *event.Application, due, now time.Time) error {
	switch {
	case !e.Paid() || a.Payment == event.PaymentNone:
		return event.Errorf(event.EInvalid, "applications.not_paid_event")
	case !a.Active():
		return event.Errorf(event.EConflict, "payment.cancelled")
	case a.Payment == event.PaymentPaid:
		return event.Errorf(event.EConflict, "payment.already_paid")
	case a.Status != event.Applied:
		return event.Errorf(event.EConflict, "payment.waitlisted")
	case !due.IsZero() && !now.Before(due):
		return event.Errorf(event.EConflict, "payment.deadline_passed")
	}
	return nil
}

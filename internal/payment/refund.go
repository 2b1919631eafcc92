package payment

import (
	"kaisai/internal/event"
)

// RefundStatus is where one refund that kaisai asked Stripe for stands (a
// row of the refunds table). Labels: "refund.status.<s>" in the catalogs.
type RefundStatus string

const (
	// RefundRequesting: the row is written and Stripe asked, but no answer
	// is stored yet. Asking again with the row's idempotency key gives the
	// same refund, so a lost answer never refunds twice.
	RefundRequesting RefundStatus = "requesting"
	// RefundPending: Stripe accepted the refund; the money is on its way
	// (返金処理中).
	RefundPending RefundStatus = "pending"
	// RefundRequiresAction: a コンビニ or 銀行振込 payment has no card to
	// return the money to: Stripe asks the participant for a bank account
	// (返金処理中).
	RefundRequiresAction RefundStatus = "requires_action"
	// RefundSucceeded: the money went back (返金済).
	RefundSucceeded RefundStatus = "succeeded"
	// RefundFailed: Stripe could not return the money (失敗, with its
	// reason); the organizer may try again.
	RefundFailed RefundStatus = "failed"
	// RefundCanceled: the refund was cancelled on Stripe.
	RefundCanceled RefundStatus = "canceled"
	// RefundAbandoned: Stripe refused to create the refund (its error is
	// the reason); the next attempt uses a new idempotency key.
	RefundAbandoned RefundStatus = "abandoned"
)

var refundStatuses = []RefundStatus{RefundRequesting, RefundPending, RefundRequiresAction,
	RefundSucceeded, RefundFailed, RefundCanceled, RefundAbandoned}

// RefundStatuses are the valid statuses, for tests that check stored literals.
func RefundStatuses() []RefundStatus { return append([]RefundStatus(nil), refundStatuses...) }

// Valid reports whether s is one of the statuses.
func (s RefundStatus) Valid() bool {
	for _, v := range refundStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Live reports whether the refund may still move money: asked for, or
// accepted and on its way. Its amount is held against the payment.
func (s RefundStatus) Live() bool {
	return s == RefundRequesting || s == RefundPending || s == RefundRequiresAction
}

// Holds reports whether the refund's amount counts against what is left
// to refund of its payment: live, or done.
func (s RefundStatus) Holds() bool { return s.Live() || s == RefundSucceeded }

// Retryable reports whether the organizer may ask again for a refund that
// ended so (失敗, or refused by Stripe, or cancelled on Stripe).
func (s RefundStatus) Retryable() bool {
	return s == RefundFailed || s == RefundAbandoned || s == RefundCanceled
}

// refundRank orders a refund's statuses: Stripe's events come late, twice
// or out of order, and a refund only moves forward. A succeeded refund may
// still fail (Stripe says so of some bank refunds): failed and canceled
// rank above succeeded.
func refundRank(s RefundStatus) int {
	switch s {
	case RefundRequesting:
		return 0
	case RefundPending, RefundRequiresAction:
		return 1
	case RefundSucceeded:
		return 2
	}
	return 3
}

// AdvanceRefund decides what Stripe's word on a refund (its status:
// pending, requires_action, succeeded, failed, canceled) does to a refund
// whose status is cur: the next status, and whether it changed. An
// unknown status, a step back or a word after failed, canceled or
// abandoned changes nothing; pending and requires_action may follow each
// other (Stripe asks the participant, who answers).
func AdvanceRefund(cur RefundStatus, stripeStatus string) (RefundStatus, bool) {
	next := RefundStatus(stripeStatus)
	switch next {
	case RefundPending, RefundRequiresAction, RefundSucceeded, RefundFailed, RefundCanceled:
	default:
		return cur, false
	}
	if cur == RefundAbandoned || refundRank(cur) == 3 || next == cur {
		return cur, false
	}
	if refundRank(next) < refundRank(cur) {
		return cur, false
	}
	return next, true
}

// RefundKind is the organizer's choice when cancelling a paid application:
// 全額返金, 一部返金 (an amount) or 返金なし.
type RefundKind string

const (
	RefundFull    RefundKind = "full"
	RefundPartial RefundKind = "partial"
	RefundNone    RefundKind = "none"
)

// RefundAmount is how many yen a choice refunds of a payment of which
// refundable yen are left to refund (paid less what earlier refunds hold).
// partial is the amount typed for 一部返金. The error is one a person may
// see: an unknown choice, or a partial amount not between 1 and what is
// left.
func RefundAmount(kind RefundKind, partial, refundable int64) (int64, error) {
	switch kind {
	case RefundNone:
		return 0, nil
	case RefundFull:
		if refundable <= 0 {
			return 0, event.Errorf(event.EConflict, "refund.nothing_left")
		}
		return refundable, nil
	case RefundPartial:
		if refundable <= 0 {
			return 0, event.Errorf(event.EConflict, "refund.nothing_left")
		}
		if partial < 1 || partial > refundable {
			var fe event.FieldErrors
			fe.Add("refund_amount", "refund.amount_range", refundable)
			return 0, fe.Err()
		}
		return partial, nil
	}
	return 0, event.Errorf(event.EInvalid, "refund.choose")
}

// Refundable is what is left to refund of a payment of paid yen whose
// earlier refunds hold held yen; never below zero.
func Refundable(paid, held int64) int64 {
	return max(paid-held, 0)
}

package payflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/stripe"
)

// Refunds (DESIGN.md §8): the store writes the refund row in the
// transaction that decides it; this file then asks Stripe with the row's
// idempotency key and records the answer, applies Stripe's events about
// refunds, and sweeps refunds left asking or pending.

// CancelAndRefund is the organizer's cancel of a paid application with
// their choice of refund (store.CancelAndRefund), then the refund asked of
// Stripe. Stripe's trouble does not undo the cancel: the refund stays
// asking (the sweep asks again) or is recorded as refused.
func (f *Flow) CancelAndRefund(ctx context.Context, orgID, eventID, id, memberID int64,
	kind payment.RefundKind, partial int64) (event.Application, *store.Refund, error) {
	a, r, err := f.Store.CancelAndRefund(ctx, orgID, eventID, id, memberID, kind, partial)
	if err != nil || r == nil {
		return a, r, err
	}
	f.askRefund(ctx, r)
	return a, r, nil
}

// SelfCancel is the participant's cancel (store.SelfCancel), then the
// refund the policy gave asked of Stripe.
func (f *Flow) SelfCancel(ctx context.Context, token string, expect int64) (event.Application, *store.Refund, error) {
	a, r, err := f.Store.SelfCancel(ctx, token, expect)
	if err != nil || r == nil {
		return a, r, err
	}
	f.askRefund(ctx, r)
	return a, r, nil
}

// RetryRefund is 「返金を再試行」: a new attempt (store.RetryRefund), asked
// of Stripe at once.
func (f *Flow) RetryRefund(ctx context.Context, orgID, refundID, memberID int64) (store.Refund, error) {
	r, err := f.Store.RetryRefund(ctx, orgID, refundID, memberID)
	if err != nil {
		return r, err
	}
	f.askRefund(ctx, &r)
	return r, nil
}

// askRefund asks Stripe and records what came of it on r; a failure to
// do so is logged (the sweep asks again).
func (f *Flow) askRefund(ctx context.Context, r *store.Refund) {
	if err := f.requestRefund(context.WithoutCancel(ctx), r); err != nil {
		f.Log.Warn("refund: ask Stripe", "refund", r.ID, "err", err)
	}
}

// requestRefund asks Stripe for the refund of row r with its idempotency
// key (POST /v1/refunds), the row named in the refund's metadata, and
// records the answer: Stripe's refund; or a refusal Stripe will not change
// its mind on (abandoned, with its message); or nothing to go on (no
// answer, a 5xx, a timeout): the row stays requesting and is asked again
// with the same key, so a lost answer never refunds twice.
func (f *Flow) requestRefund(ctx context.Context, r *store.Refund) error {
	cl, _, err := f.client(ctx, r.ConnectionID)
	if err != nil {
		return err
	}
	got, err := cl.CreateRefundFor(ctx, r.PaymentIntentID, r.Amount, r.IdempotencyKey, r.ID)
	if err != nil {
		var se *stripe.Error
		if !stripe.IsRetryable(err) && errors.As(err, &se) {
			reason := se.Message
			if reason == "" {
				reason = se.Error()
			}
			if rerr := f.Store.RefundRefused(ctx, r.ID, reason); rerr != nil {
				return errors.Join(err, rerr)
			}
			r.Status, r.FailureReason = payment.RefundAbandoned, reason
			return fmt.Errorf("refused: %w", err)
		}
		if rerr := f.Store.RefundUnanswered(ctx, r.ID, err.Error()); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	if err := f.Store.RefundAnswered(ctx, r.ID, refundObservation(got)); err != nil {
		return err
	}
	r.RefundID = got.ID
	if next, ok := payment.AdvanceRefund(r.Status, got.Status); ok {
		r.Status = next
	}
	return nil
}

func refundObservation(r stripe.Refund) store.RefundObservation {
	return store.RefundObservation{RefundID: r.ID, Status: r.Status, FailureReason: r.FailureReason, KaisaiRefund: r.KaisaiRefund}
}

// ObserveRefunds reads what a stored event says of refunds: a refund.*
// event carries its refund; a charge.refunded names only the payment, so
// kaisai's refunds of it that Stripe knows are read back. Nil for other
// events.
func (f *Flow) ObserveRefunds(ctx context.Context, w store.StripeWebhook) ([]store.RefundObservation, error) {
	ev, err := stripe.DecodeEvent(w.Body)
	if err != nil {
		return nil, err
	}
	switch {
	case ev.Refund != nil:
		return []store.RefundObservation{refundObservation(*ev.Refund)}, nil
	case ev.Type == "charge.refunded" && ev.ChargePaymentIntentID != "":
		rs, err := f.Store.LiveRefundsOfIntent(ctx, w.ConnectionID, ev.ChargePaymentIntentID)
		if err != nil || len(rs) == 0 {
			return nil, err
		}
		cl, _, err := f.client(ctx, w.ConnectionID)
		if err != nil {
			return nil, err
		}
		var out []store.RefundObservation
		for _, r := range rs {
			got, err := cl.Refund(ctx, r.RefundID)
			if err != nil {
				return nil, err
			}
			out = append(out, refundObservation(got))
		}
		return out, nil
	}
	return nil, nil
}

// SweepRefunds asks again for refunds whose create got no answer (same
// key) and reads back refunds pending longer than sweepStale (a lost
// webhook). It returns how many it looked at.
func (f *Flow) SweepRefunds(ctx context.Context, limit int) (int, error) {
	rs, err := f.Store.RefundsToCheck(ctx, f.now().Add(-sweepStale), limit)
	if err != nil {
		return 0, err
	}
	var errs []error
	for i := range rs {
		r := &rs[i]
		if r.Status == payment.RefundRequesting && r.RefundID == "" {
			ask := f.requestRefund
			if f.now().Sub(r.CreatedAt) > keyKept {
				ask = f.findRefund
			}
			if err := ask(ctx, r); err != nil {
				errs = append(errs, fmt.Errorf("refund %d: %w", r.ID, err))
			}
			continue
		}
		if err := f.readBackRefund(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("refund %d: %w", r.ID, err))
			if cerr := f.Store.RefundChecked(context.WithoutCancel(ctx), r.ID, err.Error()); cerr != nil {
				errs = append(errs, cerr)
			}
		}
	}
	return len(rs), errors.Join(errs...)
}

// keyKept is how long Stripe is sure to keep an idempotency key's answer
// (at least 24 hours): past it, asking again with the key could refund
// twice, so the refund is looked for instead (findRefund).
const keyKept = 23 * time.Hour

// findRefund settles a refund still asking after keyKept (Stripe kept
// failing, or never answered): Stripe's refunds of the payment are listed,
// and the one naming the row in its metadata is recorded; if there is
// none, Stripe never made it, and the row is abandoned, for the organizer
// to try again with a new key.
func (f *Flow) findRefund(ctx context.Context, r *store.Refund) error {
	cl, _, err := f.client(ctx, r.ConnectionID)
	if err != nil {
		return err
	}
	all, err := cl.RefundsOf(ctx, r.PaymentIntentID)
	if err != nil {
		if rerr := f.Store.RefundUnanswered(ctx, r.ID, err.Error()); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	for _, got := range all {
		if got.KaisaiRefund == r.ID {
			return f.Store.RefundAnswered(ctx, r.ID, refundObservation(got))
		}
	}
	reason := "Stripe made no refund: " + r.LastError
	return f.Store.RefundRefused(ctx, r.ID, reason)
}

func (f *Flow) readBackRefund(ctx context.Context, r *store.Refund) error {
	cl, _, err := f.client(ctx, r.ConnectionID)
	if err != nil {
		return err
	}
	got, err := cl.Refund(ctx, r.RefundID)
	if err != nil {
		return err
	}
	if next, ok := payment.AdvanceRefund(r.Status, got.Status); !ok || next == r.Status {
		return f.Store.RefundChecked(ctx, r.ID, "")
	}
	return f.Store.ObserveRefund(ctx, r.ConnectionID, refundObservation(got))
}

// RefundProblemPayment is 「返金する」 on a payment paid twice or after the
// cancellation (store.RefundProblemPayment), asked of Stripe at once.
func (f *Flow) RefundProblemPayment(ctx context.Context, orgID, eventID, paymentID, memberID int64) (store.Refund, error) {
	r, err := f.Store.RefundProblemPayment(ctx, orgID, eventID, paymentID, memberID)
	if err != nil {
		return r, err
	}
	f.askRefund(ctx, &r)
	return r, nil
}

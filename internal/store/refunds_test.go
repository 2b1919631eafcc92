package store_test

import (
	"context"
	"errors"
	"testing"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// TestRefundsHoldMoney: a cancel's refund is written with the cancel, or
// nothing is (a choice out of range leaves the application as it was); a
// failed refund may be retried only while what is left of the payment
// covers it; Stripe's word moves a refund forward only, and 返金済 mails
// once.
func TestRefundsHoldMoney(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clock := newTestClock()
		st := openAt(t, db, clock)
		ctx := context.Background()
		f := newFixture(t, st, "refunds@example.com", 10, true)
		m := owner(t, st, f)
		e := f.event
		e.Fee, e.PriceJPY = event.FeePaid, 3000
		if err := st.UpdateEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
		a := applyTo(t, st, &e, f.schedule.ID, "カード", "card@example.com")
		insertPayment(t, st, a, 1, payment.StatusOpen, "", "cs_refund")
		pay(t, st, "cs_refund", 3000, payment.MethodCard)

		// Out of range: nothing changes.
		_, _, err := st.CancelAndRefund(ctx, f.org.ID, e.ID, a.ID, m.ID, payment.RefundPartial, 3001)
		var fe event.FieldErrors
		if !errors.As(err, &fe) {
			t.Fatalf("partial 3001 of 3000: %v, want a field error", err)
		}
		if got, _ := st.Application(ctx, f.org.ID, e.ID, a.ID); got.Status != event.Applied {
			t.Fatalf("a refused choice cancelled the application")
		}
		got, r, err := st.CancelAndRefund(ctx, f.org.ID, e.ID, a.ID, m.ID, payment.RefundPartial, 2000)
		if err != nil || got.Status != event.Cancelled || r == nil || r.Amount != 2000 || r.Status != payment.RefundRequesting {
			t.Fatalf("cancel with ¥2,000: %+v, %+v, %v", got, r, err)
		}
		if _, _, err := st.CancelAndRefund(ctx, f.org.ID, e.ID, a.ID, m.ID, payment.RefundFull, 0); !errors.Is(err, store.ErrAlreadyCanceled) {
			t.Errorf("a second cancel: %v", err)
		}
		// Stripe accepts it, then fails it; the events come twice and late.
		if err := st.RefundAnswered(ctx, r.ID, store.RefundObservation{RefundID: "re_1", Status: "pending"}); err != nil {
			t.Fatal(err)
		}
		for _, o := range []store.RefundObservation{{RefundID: "re_1", Status: "failed", FailureReason: "declined"},
			{RefundID: "re_1", Status: "failed", FailureReason: "declined"}, {RefundID: "re_1", Status: "pending"}} {
			if err := st.ObserveRefund(ctx, testConnection, o); err != nil {
				t.Fatal(err)
			}
		}
		opts, err := st.RefundOptionsOf(ctx, f.org.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(opts.Refunds) != 1 || opts.Refunds[0].Status != payment.RefundFailed || opts.Refunds[0].FailureReason != "declined" {
			t.Fatalf("after the failure: %+v", opts.Refunds)
		}
		if opts.Refundable != 3000 {
			t.Errorf("a failed refund holds money: refundable %d", opts.Refundable)
		}
		retry, err := st.RetryRefund(ctx, f.org.ID, r.ID, m.ID)
		if err != nil || retry.Attempt != 2 || retry.Amount != 2000 || retry.IdempotencyKey == r.IdempotencyKey {
			t.Fatalf("retry: %+v, %v", retry, err)
		}
		if _, err := st.RetryRefund(ctx, f.org.ID, r.ID, m.ID); !errors.Is(err, store.ErrRefundNotRetryable) {
			t.Errorf("retrying the failed one again: %v", err)
		}
		if err := st.RefundAnswered(ctx, retry.ID, store.RefundObservation{RefundID: "re_2", Status: "succeeded"}); err != nil {
			t.Fatal(err)
		}
		if err := st.ObserveRefund(ctx, testConnection, store.RefundObservation{RefundID: "re_2", Status: "succeeded"}); err != nil {
			t.Fatal(err)
		}
		opts, _ = st.RefundOptionsOf(ctx, f.org.ID, a.ID)
		if opts.Refundable != 1000 || opts.Refunds[1].RefundedAt.IsZero() {
			t.Errorf("after ¥2,000 refunded: refundable %d, %+v", opts.Refundable, opts.Refunds[1])
		}
		refunded := 0
		for _, l := range activityOf(t, st, f.org.ID, a.ID) {
			if l == store.ActRefunded+" ¥2,000 re_2" {
				refunded++
			}
		}
		if refunded != 1 {
			t.Errorf("%d 返金済 lines: %v", refunded, activityOf(t, st, f.org.ID, a.ID))
		}
	})
}

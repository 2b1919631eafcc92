package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// reportRefund writes a refunds row of paymentID (a's), as the refund flow
// would have, with the given attempt, status and amount, created at.
func reportRefund(t *testing.T, st *store.Store, a event.Application, paymentID int64, attempt int,
	status payment.RefundStatus, amount int64, at time.Time) {
	t.Helper()
	ctx := context.Background()
	err := st.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO refunds (org_id, event_id, application_id, payment_id, connection_id,
			attempt, idempotency_key, status, amount, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
			a.OrgID, a.EventID, a.ID, paymentID, testConnection, attempt, fmt.Sprintf("refund-%d-%d", paymentID, attempt),
			status, amount, at.UTC())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRefundReports: the CSV's 返金額 and 返金状況 of each application and
// the event's totals (入金額, 返金額, 返金処理中, 差引) read the refunds table:
// only refunds that succeeded count as refunded, the latest refund gives
// the status, and another event's refunds count for nothing here.
func TestRefundReports(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clock := newTestClock()
		st := openAt(t, db, clock)
		ctx := context.Background()
		f := newFixture(t, st, "refunds@example.com", 10, false)
		e := f.event
		e.Fee, e.PriceJPY = event.FeePaid, 3000
		if err := st.UpdateEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
		paid := func(name string) (event.Application, int64) {
			t.Helper()
			a := applyTo(t, st, &e, f.schedule.ID, name, name+"@example.com")
			id := insertPayment(t, st, a, 1, payment.StatusOpen, "", "cs_"+name)
			pay(t, st, "cs_"+name, 3000, payment.MethodCard)
			return a, id
		}
		retried, retriedPay := paid("retried")
		partial, partialPay := paid("partial")
		none, _ := paid("none")
		konbini, konbiniPay := paid("konbini")
		failed, failedPay := paid("failed")
		t0 := time.Now()
		reportRefund(t, st, retried, retriedPay, 1, payment.RefundFailed, 3000, t0)
		reportRefund(t, st, retried, retriedPay, 2, payment.RefundSucceeded, 3000, t0.Add(time.Minute))
		reportRefund(t, st, partial, partialPay, 1, payment.RefundSucceeded, 1000, t0)
		reportRefund(t, st, partial, partialPay, 2, payment.RefundPending, 500, t0.Add(time.Minute))
		reportRefund(t, st, konbini, konbiniPay, 1, payment.RefundRequiresAction, 3000, t0)
		reportRefund(t, st, failed, failedPay, 1, payment.RefundSucceeded, 200, t0)
		reportRefund(t, st, failed, failedPay, 2, payment.RefundAbandoned, 2800, t0.Add(time.Minute))

		// Another organization's paid event, refunded in full.
		o := newFixture(t, st, "other-refunds@example.com", 10, false)
		oe := o.event
		oe.Fee, oe.PriceJPY = event.FeePaid, 5000
		if err := st.UpdateEvent(ctx, &oe); err != nil {
			t.Fatal(err)
		}
		oa := applyTo(t, st, &oe, o.schedule.ID, "other", "other@example.com")
		oPay := insertPayment(t, st, oa, 1, payment.StatusOpen, "", "cs_other")
		pay(t, st, "cs_other", 3000, payment.MethodCard)
		reportRefund(t, st, oa, oPay, 1, payment.RefundSucceeded, 3000, t0)

		got, err := st.ApplicationsRefunds(ctx, f.org.ID, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]store.ApplicationRefunds{
			retried.ID: {Refunded: 3000, Latest: payment.RefundSucceeded},
			partial.ID: {Refunded: 1000, Latest: payment.RefundPending},
			konbini.ID: {Refunded: 0, Latest: payment.RefundRequiresAction},
			failed.ID:  {Refunded: 200, Latest: payment.RefundAbandoned},
		}
		if len(got) != len(want) {
			t.Errorf("refunds of %d applications, want %d: %+v", len(got), len(want), got)
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("application %d: %+v, want %+v", id, got[id], w)
			}
		}
		if _, ok := got[none.ID]; ok {
			t.Errorf("an application without refunds has some: %+v", got[none.ID])
		}
		if other, err := st.ApplicationsRefunds(ctx, o.org.ID, e.ID); err != nil || len(other) != 0 {
			t.Errorf("another organization sees this event's refunds: %+v, %v", other, err)
		}

		tt, err := st.PaymentTotals(ctx, f.org.ID, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if tt.Received != 15000 || tt.Refunded != 4200 || tt.Refunding != 3500 || tt.Net() != 10800 || tt.PaidCount != 5 {
			t.Errorf("totals: %+v (net %d), want received 15000, refunded 4200, refunding 3500, net 10800", tt, tt.Net())
		}
		ot, err := st.PaymentTotals(ctx, o.org.ID, oe.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ot.Received != 3000 || ot.Refunded != 3000 || ot.Net() != 0 {
			t.Errorf("the other event's totals: %+v", ot)
		}
	})
}

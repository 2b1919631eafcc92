package store_test

// Tests of what the organizer sees of the money: the 入金状況 filter, each
// application's payments, the event's totals, and settling the payments
// that need a person (参加に戻す, 対応済みにする), on SQLite and PostgreSQL.
// The payments rows are inserted directly, as the payment flow would have
// written them, and Stripe's word comes through ObservePayment.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

const testConnection = 1

// insertPayment writes a payments row for a, as BeginCheckout and
// CheckoutCreated would, with session cs and the given status and method.
func insertPayment(t *testing.T, st *store.Store, a event.Application, attempt int, status payment.Status,
	method payment.Method, cs string) int64 {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	var id int64
	err := st.Tx(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO payments (org_id, event_id, application_id, connection_id, attempt,
			idempotency_key, status, amount, session_id, url, expires_at, method, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 3000, $8, 'https://checkout.example/'||$8, $9, $10, $11, $11) RETURNING id`,
			a.OrgID, a.EventID, a.ID, testConnection, attempt, fmt.Sprintf("key-%d-%d", a.ID, attempt), status, cs,
			now.Add(time.Hour), method, now).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// pay has Stripe confirm the session cs, of amount yen, by method.
func pay(t *testing.T, st *store.Store, cs string, amount int64, method payment.Method) store.Observed {
	t.Helper()
	res, err := st.ObservePayment(context.Background(), testConnection, payment.Observation{SessionID: cs,
		SessionStatus: "complete", PaymentStatus: "paid", Amount: amount, Currency: "jpy",
		PaymentIntentID: "pi_" + strings.TrimPrefix(cs, "cs_"), Method: method})
	if err != nil {
		t.Fatalf("observe %s: %v", cs, err)
	}
	return res
}

func activityOf(t *testing.T, st *store.Store, orgID, id int64) []string {
	t.Helper()
	es, err := st.Activity(context.Background(), orgID, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, strings.TrimSpace(e.Action+" "+e.Detail))
	}
	return out
}

func TestOrganizerSeesMoney(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clock := newTestClock()
		st := openAt(t, db, clock)
		ctx := context.Background()
		f := newFixture(t, st, "money@example.com", 10, true)
		m := owner(t, st, f)
		e := f.event
		e.Fee, e.PriceJPY = event.FeePaid, 3000
		if err := st.UpdateEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
		byCard := applyTo(t, st, &e, f.schedule.ID, "カード", "card@example.com")
		byHand := applyTo(t, st, &e, f.schedule.ID, "手動", "manual@example.com")
		voucher := applyTo(t, st, &e, f.schedule.ID, "コンビニ", "konbini@example.com")
		unpaid := applyTo(t, st, &e, f.schedule.ID, "未入金", "unpaid@example.com")
		late := applyTo(t, st, &e, f.schedule.ID, "期限後", "late@example.com")
		wrong := applyTo(t, st, &e, f.schedule.ID, "金額違い", "wrong@example.com")

		insertPayment(t, st, byCard, 1, payment.StatusExpired, "", "cs_card0")
		insertPayment(t, st, byCard, 2, payment.StatusOpen, "", "cs_card")
		if res := pay(t, st, "cs_card", 3000, payment.MethodCard); res.Application.Payment != event.PaymentPaid {
			t.Fatalf("card payment: application %q, want paid", res.Application.Payment)
		}
		if err := st.SetPayment(ctx, f.org.ID, e.ID, byHand.ID, m.ID, event.PaymentPaid); err != nil {
			t.Fatal(err)
		}
		insertPayment(t, st, voucher, 1, payment.StatusPending, payment.MethodKonbini, "cs_konbini")
		insertPayment(t, st, wrong, 1, payment.StatusOpen, "", "cs_wrong")
		if res := pay(t, st, "cs_wrong", 2000, payment.MethodCard); res.Payment.Problem != payment.ProblemMismatch {
			t.Fatalf("wrong amount: problem %q", res.Payment.Problem)
		}
		// late's 支払期限 passes: cancelled, then the money comes.
		clock.Advance(48 * time.Hour)
		if ok, err := st.CancelOverdue(ctx, late.ID); err != nil || !ok {
			t.Fatalf("cancel overdue: %v, %v", ok, err)
		}
		latePay := insertPayment(t, st, late, 1, payment.StatusOpen, "", "cs_late")
		if res := pay(t, st, "cs_late", 3000, payment.MethodKonbini); res.Payment.Problem != payment.ProblemAfterCancel {
			t.Fatalf("late payment: problem %q", res.Payment.Problem)
		}

		totals := func() store.PaymentTotals {
			t.Helper()
			tt, err := st.PaymentTotals(ctx, f.org.ID, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			return tt
		}
		if got, want := totals(), (store.PaymentTotals{PaidCount: 2, PaidAmount: 6000, Unpaid: 3, Awaiting: 1, Expired: 1, Problems: 2, Received: 9000}); got != want {
			t.Errorf("totals = %+v, want %+v", got, want)
		}

		for _, c := range []struct {
			filter string
			want   []int64
		}{
			{"", []int64{byCard.ID, byHand.ID, voucher.ID, unpaid.ID, late.ID, wrong.ID}},
			{store.PaymentFilterPaid, []int64{byCard.ID, byHand.ID}},
			{store.PaymentFilterUnpaid, []int64{voucher.ID, unpaid.ID, wrong.ID}},
			{store.PaymentFilterAwaiting, []int64{voucher.ID}},
		} {
			page, err := st.Applicants(ctx, f.org.ID, e.ID, store.ApplicantQuery{Payment: c.filter, PerPage: 50})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(page.Rows); !slices.Equal(got, c.want) || page.Total != len(c.want) {
				t.Errorf("filter %q: %v (total %d), want %v", c.filter, got, page.Total, c.want)
			}
		}

		money, err := st.ApplicationsMoney(ctx, f.org.ID, e.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p := money[byCard.ID].Paid; p.PaymentIntentID != "pi_card" || p.Method != payment.MethodCard || p.PaidAt.IsZero() {
			t.Errorf("card application's paid payment: %+v", p)
		}
		if p := money[voucher.ID].Pending; p.SessionID != "cs_konbini" {
			t.Errorf("voucher application's pending payment: %+v", p)
		}
		if mm, ok := money[late.ID]; ok && mm.Paid.ID != 0 {
			t.Errorf("a payment after the cancellation counts as the application's: %+v", mm.Paid)
		}
		if _, ok := money[byHand.ID]; ok {
			t.Errorf("manual application has Stripe payments: %+v", money[byHand.ID])
		}
		some, err := st.ApplicationsMoney(ctx, f.org.ID, e.ID, []int64{voucher.ID})
		if err != nil || len(some) != 1 {
			t.Errorf("money of one application: %v, %v", some, err)
		}
		attempts, err := st.ApplicationPayments(ctx, f.org.ID, byCard.ID)
		if err != nil || len(attempts) != 2 || attempts[0].Status != payment.StatusExpired || attempts[1].Status != payment.StatusPaid {
			t.Errorf("card application's attempts: %+v, %v", attempts, err)
		}
		if got := activityOf(t, st, f.org.ID, byCard.ID); !slices.Contains(got, "paid stripe pi_card cs_card") {
			t.Errorf("card application's history: %q", got)
		}

		problems, err := st.PaymentProblems(ctx, f.org.ID, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(problems) != 2 || problems[0].Name != "金額違い" || problems[0].Problem != payment.ProblemMismatch ||
			problems[1].Name != "期限後" || problems[1].ApplicationStatus != event.Cancelled || problems[1].PaidAmount != 3000 {
			t.Fatalf("problems: %+v", problems)
		}
		wrongPay := problems[0].ID

		// Another organization can neither see nor settle them.
		other := newFixture(t, st, "other-money@example.com", 5, false)
		if ps, err := st.PaymentProblems(ctx, other.org.ID, e.ID); err != nil || len(ps) != 0 {
			t.Errorf("other organization sees problems: %v, %v", ps, err)
		}
		if _, err := st.ReinstatePayment(ctx, other.org.ID, e.ID, latePay, 0); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("other organization reinstates: %v", err)
		}
		if err := st.ResolvePayment(ctx, other.org.ID, e.ID, wrongPay, 0); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("other organization resolves: %v", err)
		}
		// A wrong amount is not reinstated: it is settled outside.
		if _, err := st.ReinstatePayment(ctx, f.org.ID, e.ID, wrongPay, m.ID); !errors.Is(err, store.ErrNotReinstatable) {
			t.Errorf("reinstate a mismatch: %v", err)
		}

		a, err := st.ReinstatePayment(ctx, f.org.ID, e.ID, latePay, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != event.Applied || a.Payment != event.PaymentPaid || a.PaidVia != string(payment.MethodKonbini) {
			t.Errorf("reinstated: %s / %s via %q", a.Status, a.Payment, a.PaidVia)
		}
		hist := activityOf(t, st, f.org.ID, late.ID)
		if !slices.Contains(hist, "reinstated stripe pi_late cs_late") || !slices.Contains(hist, "paid stripe pi_late cs_late") {
			t.Errorf("reinstated history: %q", hist)
		}
		if _, err := st.ReinstatePayment(ctx, f.org.ID, e.ID, latePay, m.ID); !errors.Is(err, store.ErrNoPaymentProblem) {
			t.Errorf("reinstate twice: %v", err)
		}
		if got, want := totals(), (store.PaymentTotals{PaidCount: 3, PaidAmount: 9000, Unpaid: 3, Awaiting: 1, Expired: 0, Problems: 1, Received: 9000}); got != want {
			t.Errorf("totals after 参加に戻す = %+v, want %+v", got, want)
		}

		if err := st.ResolvePayment(ctx, f.org.ID, e.ID, wrongPay, m.ID); err != nil {
			t.Fatal(err)
		}
		if err := st.ResolvePayment(ctx, f.org.ID, e.ID, wrongPay, m.ID); !errors.Is(err, store.ErrNoPaymentProblem) {
			t.Errorf("resolve twice: %v", err)
		}
		if hist := activityOf(t, st, f.org.ID, wrong.ID); !slices.Contains(hist, "payment_resolved mismatch stripe pi_wrong cs_wrong") {
			t.Errorf("resolved history: %q", hist)
		}
		if got, want := totals(), (store.PaymentTotals{PaidCount: 3, PaidAmount: 9000, Unpaid: 3, Awaiting: 1, Expired: 0, Problems: 0, Received: 9000}); got != want {
			t.Errorf("totals after 対応済み = %+v, want %+v", got, want)
		}
	})
}

// A payment after the cancellation gets the seat back only if the schedule
// has one left; otherwise nothing changes and the problem stays.
func TestReinstateNeedsASeat(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clock := newTestClock()
		st := openAt(t, db, clock)
		ctx := context.Background()
		f := newFixture(t, st, "seat@example.com", 1, true)
		e := f.event
		e.Fee, e.PriceJPY = event.FeePaid, 3000
		if err := st.UpdateEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
		late := applyTo(t, st, &e, f.schedule.ID, "期限後", "late@example.com")
		applyTo(t, st, &e, f.schedule.ID, "次の人", "next@example.com") // waitlisted, promoted to late's seat
		clock.Advance(48 * time.Hour)
		if ok, err := st.CancelOverdue(ctx, late.ID); err != nil || !ok {
			t.Fatalf("cancel overdue: %v, %v", ok, err)
		}
		id := insertPayment(t, st, late, 1, payment.StatusOpen, "", "cs_late")
		pay(t, st, "cs_late", 3000, payment.MethodCard)
		if _, err := st.ReinstatePayment(ctx, f.org.ID, e.ID, id, 0); !errors.Is(err, store.ErrNoSeatLeft) {
			t.Fatalf("reinstate without a seat: %v", err)
		}
		a, err := st.ApplicationByToken(ctx, late.Token)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != event.Cancelled || a.Payment != event.PaymentUnpaid || seatsTaken(t, st, f) != 1 {
			t.Errorf("after a refused 参加に戻す: %s / %s, %d seats taken", a.Status, a.Payment, seatsTaken(t, st, f))
		}
		if ps, err := st.PaymentProblems(ctx, f.org.ID, e.ID); err != nil || len(ps) != 1 {
			t.Errorf("problem after a refused 参加に戻す: %v, %v", ps, err)
		}
	})
}

package store_test

// Tests of online payments in the store (DESIGN.md §8): one session per
// attempt however often the participant clicks, what Stripe says moving a
// payment only forward, 入金済 through the organizer's own transition,
// problems for the organizer, and the 支払期限 with the waitlist promoted.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/secretbox"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// payWorld is a paid event (¥3,000, 支払期限 3 days, starting in 30 days,
// capacity 1, キャンセル待ち on) of an organization with a Stripe account
// connected, on a store whose clock the test moves.
type payWorld struct {
	st    *store.Store
	clock *testClock
	org   event.Organization
	event event.Event
	sc    event.Schedule
	conn  int64
}

func newPayWorld(t *testing.T, db testdb.DB) *payWorld {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, secretbox.KeySize)
	rand.Read(key)
	box, err := secretbox.New(key)
	if err != nil {
		t.Fatal(err)
	}
	w := &payWorld{clock: newTestClock()}
	w.st, err = store.Open(ctx, store.Options{DatabaseURL: db.DatabaseURL, DataDir: db.DataDir, Now: w.clock.Now, Secrets: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.st.Close() })
	if err := w.st.Migrate(ctx, quiet); err != nil {
		t.Fatal(err)
	}
	w.org, _, err = w.st.CreateOrganization(ctx, event.SignupInput{OrgName: "有料主催者", Name: "オーナー",
		Email: fmt.Sprintf("pay-%d@example.com", time.Now().UnixNano())}, "hash")
	if err != nil {
		t.Fatal(err)
	}
	w.event = event.Event{OrgID: w.org.ID, Title: "有料セミナー", Fee: event.FeePaid, PriceJPY: 3000, PaymentDays: 3,
		TimeZone: "Asia/Tokyo", Status: event.StatusPublished, WaitlistEnabled: true}
	if _, err := w.st.CreateEvent(ctx, &w.event, ""); err != nil {
		t.Fatal(err)
	}
	g := event.ScheduleGroup{OrgID: w.org.ID, EventID: w.event.ID, Venue: event.VenueURL, OnlineURL: "https://example.com/live"}
	if _, err := w.st.CreateGroup(ctx, &g, ""); err != nil {
		t.Fatal(err)
	}
	start := w.clock.Now().Add(30 * 24 * time.Hour).Truncate(time.Minute)
	w.sc = event.Schedule{OrgID: w.org.ID, EventID: w.event.ID, GroupID: g.ID, StartsAt: start, EndsAt: start.Add(2 * time.Hour), Capacity: 1}
	if _, err := w.st.CreateSchedule(ctx, &w.sc, ""); err != nil {
		t.Fatal(err)
	}
	w.conn, err = w.st.BeginStripeConnection(ctx, w.org.ID, store.StripeAccount{ID: "acct_test", DisplayName: "テスト"}, "sk_test_abc", "http://stripe.invalid")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.st.CompleteStripeConnection(ctx, w.org.ID, w.conn, "we_test", "whsec_test"); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *payWorld) apply(t *testing.T, email string) event.Application {
	t.Helper()
	res, err := w.st.Apply(context.Background(), &w.event, event.ApplicationInput{ScheduleID: w.sc.ID, Name: email,
		Email: email, SubmitKey: fmt.Sprintf("pay-key-%d-%s-abcdefgh", w.event.ID, email)})
	if err != nil {
		t.Fatal(err)
	}
	return res.Application
}

func (w *payWorld) app(t *testing.T, id int64) event.Application {
	t.Helper()
	a, err := w.st.ApplicationByIDUnscoped(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (w *payWorld) begin(t *testing.T, token string) store.Checkout {
	t.Helper()
	c, err := w.st.BeginCheckout(context.Background(), token, payment.SessionExpiry)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *payWorld) mails(t *testing.T, applicationID int64) []event.MailKind {
	t.Helper()
	rows, err := w.st.Mails(context.Background(), w.org.ID, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []event.MailKind
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].ApplicationID == applicationID {
			kinds = append(kinds, rows[i].Kind)
		}
	}
	return kinds
}

func paidObservation(session string, amount int64) payment.Observation {
	return payment.Observation{SessionID: session, SessionStatus: "complete", PaymentStatus: "paid",
		Amount: amount, Currency: "jpy", PaymentIntentID: "pi_" + session, Method: payment.MethodCard}
}

func TestCheckoutOneSessionPerAttempt(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := newPayWorld(t, db)
		a := w.apply(t, "a@example.com")
		if want := payment.Deadline(a.CreatedAt, 3, w.sc.StartsAt).UTC(); !a.PaymentDueAt.Equal(want) {
			t.Errorf("支払期限 %v, want %v", a.PaymentDueAt, want)
		}
		// Ten clicks at once: one row, every click told to create it (with its key).
		var wg sync.WaitGroup
		ids := make([]int64, 10)
		keys := make([]string, 10)
		for i := range ids {
			wg.Go(func() {
				c, err := w.st.BeginCheckout(ctx, a.Token, payment.SessionExpiry)
				if err != nil {
					t.Error(err)
					return
				}
				ids[i], keys[i] = c.Payment.ID, c.Payment.IdempotencyKey
			})
		}
		wg.Wait()
		for i := range ids {
			if ids[i] != ids[0] || keys[i] != keys[0] {
				t.Fatalf("click %d got payment %d (%s), click 0 %d (%s)", i, ids[i], keys[i], ids[0], keys[0])
			}
		}
		c := w.begin(t, a.Token)
		if !c.Create || c.Payment.Attempt != 1 || c.Payment.Amount != 3000 || c.Payment.ConnectionID != w.conn {
			t.Fatalf("first checkout %+v", c)
		}
		if !c.Payment.ExpiresAt.Equal(a.PaymentDueAt) && c.Payment.ExpiresAt.After(w.clock.Now().Add(24*time.Hour)) {
			t.Errorf("session expiry %v: beyond 24 h", c.Payment.ExpiresAt)
		}
		if err := w.st.CheckoutCreated(ctx, c.Payment.ID, "cs_1", "https://pay.example/cs_1", c.Payment.ExpiresAt); err != nil {
			t.Fatal(err)
		}
		again := w.begin(t, a.Token)
		if again.Create || again.Payment.ID != c.Payment.ID || again.Payment.URL != "https://pay.example/cs_1" {
			t.Fatalf("second click: %+v, want the open session again", again)
		}
		// The session expires: the next click makes attempt 2, with another key.
		if _, err := w.st.ObservePayment(ctx, w.conn, payment.Observation{SessionID: "cs_1", SessionStatus: "expired"}); err != nil {
			t.Fatal(err)
		}
		next := w.begin(t, a.Token)
		if !next.Create || next.Payment.Attempt != 2 || next.Payment.IdempotencyKey == c.Payment.IdempotencyKey {
			t.Fatalf("after expiry: %+v", next.Payment)
		}
		// Stripe answered the create with an error it keeps for the key: abandoned, attempt 3 next.
		if err := w.st.CheckoutFailed(ctx, next.Payment.ID, true, "500 api_error"); err != nil {
			t.Fatal(err)
		}
		if third := w.begin(t, a.Token); third.Payment.Attempt != 3 {
			t.Fatalf("after an answered error: attempt %d, want 3", third.Payment.Attempt)
		}
	})
}

func TestObservePaymentMarksPaidOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := newPayWorld(t, db)
		a := w.apply(t, "a@example.com")
		c := w.begin(t, a.Token)
		// The answer to the create was lost: the event finds the row by its id.
		voucher := payment.Observation{PaymentID: c.Payment.ID, SessionID: "cs_k", SessionStatus: "complete",
			PaymentStatus: "unpaid", Amount: 3000, Currency: "jpy", Method: payment.MethodKonbini, Instructions: `{"Number":"123"}`}
		res, err := w.st.ObservePayment(ctx, w.conn, voucher)
		if err != nil {
			t.Fatal(err)
		}
		if res.Payment.Status != payment.StatusPending || res.Payment.SessionID != "cs_k" {
			t.Fatalf("voucher issued: %+v", res.Payment)
		}
		if p := w.begin(t, a.Token); p.Create || p.Payment.Status != payment.StatusPending || p.Payment.Instructions != `{"Number":"123"}` {
			t.Fatalf("a click while a voucher is out: %+v, want the voucher", p)
		}
		paid := paidObservation("cs_k", 3000)
		paid.Method = payment.MethodKonbini
		for range 2 { // delivered twice
			if _, err := w.st.ObservePayment(ctx, w.conn, paid); err != nil {
				t.Fatal(err)
			}
		}
		// A late, reordered completed (unpaid) changes nothing.
		if res, err := w.st.ObservePayment(ctx, w.conn, voucher); err != nil || res.Step.Changed {
			t.Fatalf("late voucher event: %+v, %v", res.Step, err)
		}
		got := w.app(t, a.ID)
		if got.Payment != event.PaymentPaid || got.PaidVia != string(payment.MethodKonbini) {
			t.Errorf("application %s via %q, want paid via konbini", got.Payment, got.PaidVia)
		}
		hist, err := w.st.Activity(ctx, w.org.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		paidLines := 0
		for _, h := range hist {
			if h.Action == store.ActPaid {
				paidLines++
				if h.Detail != "stripe pi_cs_k cs_k" || h.MemberName != "" {
					t.Errorf("history line %+v, want Stripe's ids and no member", h)
				}
			}
		}
		if paidLines != 1 {
			t.Errorf("%d 入金 lines in the history, want 1", paidLines)
		}
		if kinds := w.mails(t, a.ID); len(kinds) != 2 || kinds[1] != event.MailPaid {
			t.Errorf("mails %v, want applied then one paid", kinds)
		}
		var ee *event.Error
		if _, err := w.st.BeginCheckout(ctx, a.Token, payment.SessionExpiry); !errors.As(err, &ee) || ee.Key != "payment.already_paid" {
			t.Errorf("paying a paid application: %v", err)
		}
	})
}

func TestObservePaymentProblems(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := newPayWorld(t, db)
		a := w.apply(t, "a@example.com")
		c := w.begin(t, a.Token)
		if err := w.st.CheckoutCreated(ctx, c.Payment.ID, "cs_a", "https://pay.example/cs_a", c.Payment.ExpiresAt); err != nil {
			t.Fatal(err)
		}
		res, err := w.st.ObservePayment(ctx, w.conn, paidObservation("cs_a", 300))
		if err != nil {
			t.Fatal(err)
		}
		if res.Payment.Status != payment.StatusMismatch || res.Payment.Problem != payment.ProblemMismatch {
			t.Errorf("¥300 paid for ¥3,000: %+v", res.Payment)
		}
		if got := w.app(t, a.ID); got.Payment != event.PaymentUnpaid {
			t.Errorf("a wrong amount marked the application %s", got.Payment)
		}

		// Paid after the application was cancelled: kept, for the organizer.
		b := w.apply(t, "b@example.com") // waitlisted (capacity 1)
		if _, err := w.st.CancelApplication(ctx, w.org.ID, w.event.ID, a.ID, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := w.st.ObservePayment(ctx, w.conn, payment.Observation{SessionID: "cs_unknown", SessionStatus: "complete",
			PaymentStatus: "paid", Amount: 3000, Currency: "jpy"}); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("a session kaisai never made: %v, want not found", err)
		}
		if b.Status != event.Waitlisted {
			t.Fatalf("b: %s", b.Status)
		}
		a2 := w.apply(t, "c@example.com")
		c2 := w.begin(t, a2.Token)
		if err := w.st.CheckoutCreated(ctx, c2.Payment.ID, "cs_c", "https://pay.example/cs_c", c2.Payment.ExpiresAt); err != nil {
			t.Fatal(err)
		}
		if _, err := w.st.CancelApplication(ctx, w.org.ID, w.event.ID, a2.ID, 0); err != nil {
			t.Fatal(err)
		}
		res, err = w.st.ObservePayment(ctx, w.conn, paidObservation("cs_c", 3000))
		if err != nil {
			t.Fatal(err)
		}
		if res.Payment.Status != payment.StatusPaid || res.Payment.Problem != payment.ProblemAfterCancel || res.Settlement != payment.SettleAfterCancel {
			t.Errorf("paid after cancel: %+v", res)
		}
		if got := w.app(t, a2.ID); got.Status != event.Cancelled || got.Payment != event.PaymentUnpaid {
			t.Errorf("paid after cancel left the application %s/%s", got.Status, got.Payment)
		}
		// Another organization's connection cannot move this payment.
		if _, err := w.st.ObservePayment(ctx, w.conn+1000, paidObservation("cs_c", 3000)); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("another connection's event: %v, want not found", err)
		}
	})
}

func TestOverdueApplicationsLapse(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := newPayWorld(t, db)
		a := w.apply(t, "a@example.com") // the seat
		b := w.apply(t, "b@example.com") // waitlisted
		c := w.apply(t, "c@example.com") // waitlisted after b
		if b.Status != event.Waitlisted || c.Status != event.Waitlisted || !b.PaymentDueAt.IsZero() {
			t.Fatalf("waitlisted: %+v %+v", b, c)
		}
		if ids, err := w.st.OverdueApplications(ctx, 10); err != nil || len(ids) != 0 {
			t.Fatalf("before the deadline: %v %v", ids, err)
		}
		// The job wakes at the earliest deadline (SQLite hands an aggregate
		// of times back as text: this read failed there).
		if due, err := w.st.NextPaymentDue(ctx); err != nil || !due.Equal(a.PaymentDueAt) {
			t.Fatalf("NextPaymentDue = %v, %v; want %v", due, err, a.PaymentDueAt)
		}
		w.clock.Advance(a.PaymentDueAt.Sub(w.clock.Now()) + time.Second)
		ids, err := w.st.OverdueApplications(ctx, 10)
		if err != nil || len(ids) != 1 || ids[0] != a.ID {
			t.Fatalf("past the deadline: %v %v, want [%d]", ids, err, a.ID)
		}
		for i, want := range []bool{true, false} { // the second finds nothing to do
			ok, err := w.st.CancelOverdue(ctx, a.ID)
			if err != nil || ok != want {
				t.Fatalf("CancelOverdue #%d = %v, %v; want %v", i+1, ok, err, want)
			}
		}
		if got := w.app(t, a.ID); got.Status != event.Cancelled {
			t.Errorf("overdue application %s", got.Status)
		}
		gotB := w.app(t, b.ID)
		if gotB.Status != event.Applied || gotB.PaymentDueAt.Before(w.clock.Now()) {
			t.Errorf("first on the waitlist: %s due %v, want applied with a deadline ahead", gotB.Status, gotB.PaymentDueAt)
		}
		if got := w.app(t, c.ID); got.Status != event.Waitlisted {
			t.Errorf("second on the waitlist: %s, want still waitlisted", got.Status)
		}
		if due, err := w.st.NextPaymentDue(ctx); err != nil || !due.Equal(gotB.PaymentDueAt) {
			t.Errorf("NextPaymentDue after the lapse = %v, %v; want the promoted one's %v", due, err, gotB.PaymentDueAt)
		}
		if kinds := w.mails(t, a.ID); kinds[len(kinds)-1] != event.MailPaymentExpired {
			t.Errorf("mails of the lapsed application %v", kinds)
		}
		if kinds := w.mails(t, b.ID); kinds[len(kinds)-1] != event.MailPromoted {
			t.Errorf("mails of the promoted application %v", kinds)
		}
		// A paid application never lapses.
		if err := w.st.SetPayment(ctx, w.org.ID, w.event.ID, b.ID, 0, event.PaymentPaid); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(30 * 24 * time.Hour)
		if ok, err := w.st.CancelOverdue(ctx, b.ID); err != nil || ok {
			t.Errorf("CancelOverdue of a paid application = %v, %v", ok, err)
		}
		if got := w.app(t, b.ID); got.PaidVia != "manual" {
			t.Errorf("paid by the organizer's button: via %q, want manual", got.PaidVia)
		}
	})
}

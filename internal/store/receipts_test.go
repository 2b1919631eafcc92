package store_test

// Tests of 領収書 in the store (DESIGN.md §8): numbered once per
// application from the organization's counter, never shared or reused,
// fixed when first issued, re-issued with another 宛名, refused unless
// 入金済.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// roomy gives the payWorld's schedule room for n applications.
func (w *payWorld) roomy(t *testing.T, n int) {
	t.Helper()
	if _, err := w.st.WriteDB().ExecContext(context.Background(), `UPDATE schedules SET capacity = $1 WHERE id = $2`, n, w.sc.ID); err != nil {
		t.Fatal(err)
	}
}

// billing sets the organization's billing profile.
func (w *payWorld) billing(t *testing.T, name, address, registration string) {
	t.Helper()
	if _, err := w.st.WriteDB().ExecContext(context.Background(), `UPDATE organizations
		SET billing_name = $1, billing_address = $2, billing_registration = $3 WHERE id = $4`,
		name, address, registration, w.org.ID); err != nil {
		t.Fatal(err)
	}
}

// paidOnline makes the application 入金済 through a Stripe session paid
// with amount.
func (w *payWorld) paidOnline(t *testing.T, a event.Application, amount int64) store.Payment {
	t.Helper()
	ctx := context.Background()
	c := w.begin(t, a.Token)
	session := fmt.Sprintf("cs_receipt_%d", a.ID)
	if err := w.st.CheckoutCreated(ctx, c.Payment.ID, session, "https://pay.example/"+session, c.Payment.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	res, err := w.st.ObservePayment(ctx, w.conn, paidObservation(session, amount))
	if err != nil {
		t.Fatal(err)
	}
	if res.Application.Payment != event.PaymentPaid {
		t.Fatalf("after paying %d: application %s", amount, res.Application.Payment)
	}
	return res.Payment
}

func (w *payWorld) paidByHand(t *testing.T, a event.Application) {
	t.Helper()
	if err := w.st.SetPayment(context.Background(), w.org.ID, w.event.ID, a.ID, 0, event.PaymentPaid); err != nil {
		t.Fatal(err)
	}
}

func (w *payWorld) issue(t *testing.T, a event.Application, addressee string) store.Receipt {
	t.Helper()
	r, err := w.st.IssueReceipt(context.Background(), a.ID, addressee)
	if err != nil {
		t.Fatalf("issue the receipt of application %d: %v", a.ID, err)
	}
	return r
}

func TestIssueReceiptPaidOnline(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := newPayWorld(t, db)
		w.billing(t, "株式会社かいさい", "東京都千代田区1-1", "T7000012050002")
		a := w.apply(t, "a@example.com")
		p := w.paidOnline(t, a, 3000)

		r := w.issue(t, a, payment.DefaultAddressee)
		want := store.Receipt{ID: r.ID, OrgID: w.org.ID, EventID: w.event.ID, ApplicationID: a.ID, PaymentID: p.ID,
			Number: 1, Addressee: "上様", Purpose: "セミナー参加費として", Amount: 3000, TaxRate: 10, Tax: 272,
			IssuerName: "株式会社かいさい", IssuerAddress: "東京都千代田区1-1", Registration: "T7000012050002",
			IssuedAt: w.clock.Now().UTC().Truncate(time.Microsecond), IssueCount: 1}
		if !sameReceipt(r, want) {
			t.Fatalf("issued %+v\nwant      %+v", r, want)
		}
		if r.Reissued() {
			t.Errorf("a first issue says 再発行")
		}
		read, err := w.st.Receipt(ctx, a.ID)
		if err != nil || !sameReceipt(read, want) {
			t.Fatalf("read back %+v, %v\nwant        %+v", read, err, want)
		}

		// The billing profile and the event change; the receipt does not.
		w.billing(t, "別の名前", "", "")
		w.clock.Advance(24 * time.Hour)
		again := w.issue(t, a, "山田 太郎")
		want.Addressee, want.IssueCount, want.ReissuedAt = "山田 太郎", 2, w.clock.Now().UTC().Truncate(time.Microsecond)
		if !sameReceipt(again, want) || !again.Reissued() {
			t.Fatalf("re-issued %+v\nwant        %+v", again, want)
		}
		hist, err := w.st.Activity(ctx, w.org.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, h := range hist {
			if h.Action == store.ActReceiptIssued || h.Action == store.ActReceiptReissued {
				lines = append(lines, h.Action+" "+h.Detail)
			}
		}
		if wantLines := []string{"receipt_issued No. 000001 上様", "receipt_reissued No. 000001 山田 太郎"}; !slices.Equal(lines, wantLines) {
			t.Errorf("history %q, want %q", lines, wantLines)
		}

		// Refunds that returned money are on the receipt; others are not.
		refund := func(attempt int, status payment.RefundStatus, amount int64, at time.Time) {
			t.Helper()
			var refundedAt any
			if status == payment.RefundSucceeded {
				refundedAt = at
			}
			if _, err := w.st.WriteDB().ExecContext(ctx, `INSERT INTO refunds (org_id, event_id, application_id, payment_id,
				connection_id, attempt, idempotency_key, status, amount, created_at, updated_at, refunded_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)`, w.org.ID, w.event.ID, a.ID, p.ID, w.conn,
				attempt, fmt.Sprintf("key-%d", attempt), status, amount, at, refundedAt); err != nil {
				t.Fatal(err)
			}
		}
		day := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
		refund(1, payment.RefundFailed, 3000, day)
		refund(2, payment.RefundSucceeded, 1000, day.Add(time.Hour))
		refund(3, payment.RefundPending, 500, day.Add(2*time.Hour))
		read, err = w.st.Receipt(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(read.Refunds) != 1 || read.Refunds[0].Amount != 1000 || !read.Refunds[0].RefundedAt.Equal(day.Add(time.Hour)) {
			t.Errorf("refunds on the receipt %+v, want the one of ¥1,000 that succeeded", read.Refunds)
		}
	})
}

// sameReceipt compares receipts without their refunds.
func sameReceipt(a, b store.Receipt) bool {
	a.Refunds, b.Refunds = nil, nil
	return a.IssuedAt.Equal(b.IssuedAt) && a.ReissuedAt.Equal(b.ReissuedAt) &&
		fmt.Sprintf("%+v", withoutTimes(a)) == fmt.Sprintf("%+v", withoutTimes(b))
}

func withoutTimes(r store.Receipt) store.Receipt {
	r.IssuedAt, r.ReissuedAt = time.Time{}, time.Time{}
	return r
}

func TestIssueReceiptPaidByHand(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := newPayWorld(t, db)
		a := w.apply(t, "a@example.com")
		w.paidByHand(t, a)
		r := w.issue(t, a, "")
		// No billing name: the organization's name issues it.
		if r.Amount != 3000 || r.Tax != 272 || r.PaymentID != 0 || r.IssuerName != "有料主催者" ||
			r.Registration != "" || r.Addressee != payment.DefaultAddressee || r.Number != 1 {
			t.Fatalf("receipt of a payment by hand %+v", r)
		}
	})
}

func TestIssueReceiptRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := newPayWorld(t, db)
		a := w.apply(t, "a@example.com")
		if _, err := w.st.IssueReceipt(ctx, a.ID, "上様"); !errors.Is(err, store.ErrReceiptUnpaid) {
			t.Errorf("issuing for an unpaid application: %v, want ErrReceiptUnpaid", err)
		}
		if _, err := w.st.IssueReceipt(ctx, a.ID+1000, "上様"); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("issuing for no application: %v, want ErrNotFound", err)
		}
		if _, err := w.st.Receipt(ctx, a.ID); !errors.Is(err, event.ErrNotFound) {
			t.Errorf("a receipt never issued: %v, want ErrNotFound", err)
		}

		free := event.Event{OrgID: w.org.ID, Title: "無料セミナー", Fee: event.FeeFree, TimeZone: "Asia/Tokyo",
			Status: event.StatusPublished}
		if _, err := w.st.CreateEvent(ctx, &free, ""); err != nil {
			t.Fatal(err)
		}
		g := event.ScheduleGroup{OrgID: w.org.ID, EventID: free.ID, Venue: event.VenueURL, OnlineURL: "https://example.com/free"}
		if _, err := w.st.CreateGroup(ctx, &g, ""); err != nil {
			t.Fatal(err)
		}
		sc := event.Schedule{OrgID: w.org.ID, EventID: free.ID, GroupID: g.ID, StartsAt: w.sc.StartsAt, EndsAt: w.sc.EndsAt, Capacity: 5}
		if _, err := w.st.CreateSchedule(ctx, &sc, ""); err != nil {
			t.Fatal(err)
		}
		res, err := w.st.Apply(ctx, &free, event.ApplicationInput{ScheduleID: sc.ID, Name: "無料", Email: "free@example.com",
			SubmitKey: "free-key-abcdefghijklmnop"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.st.IssueReceipt(ctx, res.Application.ID, "上様"); !errors.Is(err, store.ErrReceiptFree) {
			t.Errorf("issuing for a free event's application: %v, want ErrReceiptFree", err)
		}
		var n int
		if err := w.st.WriteDB().QueryRowContext(ctx, `SELECT receipt_seq FROM organizations WHERE id = $1`, w.org.ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("refusals took receipt numbers: receipt_seq %d, %v", n, err)
		}
	})
}

// TestIssueReceiptConcurrently: first issues at once take distinct numbers;
// two at once for the same application make one receipt and take one
// number; a number is not given again when its application is deleted.
func TestIssueReceiptConcurrently(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := newPayWorld(t, db)
		const n = 6
		w.roomy(t, n+2)
		apps := make([]event.Application, n)
		for i := range apps {
			apps[i] = w.apply(t, fmt.Sprintf("p%d@example.com", i))
			w.paidByHand(t, apps[i])
		}
		// Every application issued twice at once: 2n goroutines.
		numbers := make([]int64, 2*n)
		var wg sync.WaitGroup
		for i := range numbers {
			wg.Go(func() {
				r, err := w.st.IssueReceipt(ctx, apps[i%n].ID, fmt.Sprintf("宛名%d", i))
				if err != nil {
					t.Error(err)
					return
				}
				numbers[i] = r.Number
			})
		}
		wg.Wait()
		byApp := map[int64]int64{}
		for i, num := range numbers {
			id := apps[i%n].ID
			if prev, ok := byApp[id]; ok && prev != num {
				t.Errorf("application %d got receipt numbers %d and %d", id, prev, num)
			}
			byApp[id] = num
		}
		seen := map[int64]bool{}
		for _, a := range apps {
			r, err := w.st.Receipt(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if seen[r.Number] {
				t.Errorf("receipt number %d given twice", r.Number)
			}
			seen[r.Number] = true
			if r.IssueCount != 2 {
				t.Errorf("application %d: issue_count %d, want 2 (one first issue, one 再発行)", a.ID, r.IssueCount)
			}
		}
		var rows, seq int64
		if err := w.st.WriteDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM receipts`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if err := w.st.WriteDB().QueryRowContext(ctx, `SELECT receipt_seq FROM organizations WHERE id = $1`, w.org.ID).Scan(&seq); err != nil {
			t.Fatal(err)
		}
		if rows != n || seq != n {
			t.Fatalf("%d receipts, receipt_seq %d; want %d of each (no number wasted)", rows, seq, n)
		}

		// The last number's application is deleted: its number stays taken.
		last := apps[0]
		for _, a := range apps {
			if byApp[a.ID] > byApp[last.ID] {
				last = a
			}
		}
		if err := w.st.DeleteApplication(ctx, w.org.ID, w.event.ID, last.ID); err != nil {
			t.Fatal(err)
		}
		next := w.apply(t, "next@example.com")
		w.paidByHand(t, next)
		if r := w.issue(t, next, "上様"); r.Number != n+1 {
			t.Errorf("after deleting receipt %d's application the next receipt is %d, want %d", n, r.Number, n+1)
		}
	})
}

package payment

import (
	"errors"
	"testing"
	"time"

	"kaisai/internal/event"
)

func TestAdvance(t *testing.T) {
	paid := Observation{SessionStatus: "complete", PaymentStatus: "paid", Amount: 3000, Currency: "jpy"}
	voucher := Observation{SessionStatus: "complete", PaymentStatus: "unpaid", Amount: 3000, Currency: "jpy"}
	lapsed := voucher
	lapsed.AsyncFailed = true
	expired := Observation{SessionStatus: "expired", PaymentStatus: "unpaid"}
	open := Observation{SessionStatus: "open", PaymentStatus: "unpaid"}
	wrongAmount := paid
	wrongAmount.Amount = 300
	wrongCurrency := paid
	wrongCurrency.Currency = "usd"
	for _, tc := range []struct {
		name      string
		cur       Status
		o         Observation
		next      Status
		changed   bool
		confirmed bool
		mismatch  error
	}{
		{"card paid", StatusOpen, paid, StatusPaid, true, true, nil},
		{"paid while creating (the answer was lost)", StatusCreating, paid, StatusPaid, true, true, nil},
		{"voucher issued", StatusOpen, voucher, StatusPending, true, false, nil},
		{"voucher paid later", StatusPending, paid, StatusPaid, true, true, nil},
		{"voucher lapsed", StatusPending, lapsed, StatusFailed, true, false, nil},
		{"session expired", StatusOpen, expired, StatusExpired, true, false, nil},
		{"created, seen open", StatusCreating, open, StatusOpen, true, false, nil},
		{"open again changes nothing", StatusOpen, open, StatusOpen, false, false, nil},
		{"voucher seen twice", StatusPending, voucher, StatusPending, false, false, nil},
		{"paid seen twice", StatusPaid, paid, StatusPaid, false, false, nil},
		{"late completed after paid", StatusPaid, voucher, StatusPaid, false, false, nil},
		{"late expired after paid", StatusPaid, expired, StatusPaid, false, false, nil},
		{"paid after expired stays expired", StatusExpired, paid, StatusExpired, false, false, nil},
		{"lapsed then paid stays failed", StatusFailed, paid, StatusFailed, false, false, nil},
		{"old open after voucher", StatusPending, open, StatusPending, false, false, nil},
		{"wrong amount", StatusOpen, wrongAmount, StatusMismatch, true, false, ErrAmountMismatch},
		{"wrong currency", StatusPending, wrongCurrency, StatusMismatch, true, false, ErrCurrencyMismatch},
		{"unknown status", StatusOpen, Observation{SessionStatus: "weird"}, StatusOpen, false, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Advance(tc.cur, 3000, tc.o)
			if got.Next != tc.next || got.Changed != tc.changed || got.Confirmed != tc.confirmed || !errors.Is(got.Mismatch, tc.mismatch) {
				t.Errorf("Advance(%s, %+v) = %+v, want next %s changed %v confirmed %v mismatch %v",
					tc.cur, tc.o, got, tc.next, tc.changed, tc.confirmed, tc.mismatch)
			}
		})
	}
}

func TestSettle(t *testing.T) {
	for _, tc := range []struct {
		active, paid bool
		want         Settlement
		problem      Problem
	}{
		{true, false, SettleMarkPaid, ProblemNone},
		{true, true, SettleAlreadyPaid, ProblemTwice},
		{false, false, SettleAfterCancel, ProblemAfterCancel},
		{false, true, SettleAfterCancel, ProblemAfterCancel},
	} {
		got := Settle(tc.active, tc.paid)
		if got != tc.want {
			t.Errorf("Settle(active %v, paid %v) = %v, want %v", tc.active, tc.paid, got, tc.want)
		}
		if p := ProblemOf(Step{Confirmed: true}, got); p != tc.problem {
			t.Errorf("ProblemOf(confirmed, %v) = %q, want %q", got, p, tc.problem)
		}
	}
	if p := ProblemOf(Step{Mismatch: ErrAmountMismatch}, SettleMarkPaid); p != ProblemMismatch {
		t.Errorf("ProblemOf(mismatch) = %q", p)
	}
	if p := ProblemOf(Step{Next: StatusPending, Changed: true}, SettleAfterCancel); p != ProblemNone {
		t.Errorf("ProblemOf(not confirmed) = %q, want none", p)
	}
}

func TestPayable(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	paidEvent := &event.Event{Fee: event.FeePaid, PriceJPY: 3000}
	freeEvent := &event.Event{}
	unpaid := event.Application{Status: event.Applied, Payment: event.PaymentUnpaid}
	for _, tc := range []struct {
		name string
		e    *event.Event
		a    event.Application
		due  time.Time
		key  string
	}{
		{"unpaid, before the deadline", paidEvent, unpaid, now.Add(time.Hour), ""},
		{"no deadline set", paidEvent, unpaid, time.Time{}, ""},
		{"at the deadline", paidEvent, unpaid, now, "payment.deadline_passed"},
		{"past the deadline", paidEvent, unpaid, now.Add(-time.Second), "payment.deadline_passed"},
		{"free event", freeEvent, event.Application{Status: event.Applied}, time.Time{}, "applications.not_paid_event"},
		{"paid", paidEvent, event.Application{Status: event.Applied, Payment: event.PaymentPaid}, time.Time{}, "payment.already_paid"},
		{"cancelled", paidEvent, event.Application{Status: event.Cancelled, Payment: event.PaymentUnpaid}, time.Time{}, "payment.cancelled"},
		{"waitlisted", paidEvent, event.Application{Status: event.Waitlisted, Payment: event.PaymentUnpaid}, time.Time{}, "payment.waitlisted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Payable(tc.e, &tc.a, tc.due, now)
			var e *event.Error
			switch {
			case tc.key == "" && err != nil:
				t.Errorf("Payable = %v, want nil", err)
			case tc.key != "" && (!errors.As(err, &e) || e.Key != tc.key):
				t.Errorf("Payable = %v, want %s", err, tc.key)
			}
		})
	}
}

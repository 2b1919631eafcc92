package payment

import (
	"errors"
	"testing"

	"kaisai/internal/event"
)

func TestAdvanceRefund(t *testing.T) {
	for _, tc := range []struct {
		cur    RefundStatus
		stripe string
		want   RefundStatus
		moved  bool
	}{
		{RefundRequesting, "pending", RefundPending, true},
		{RefundRequesting, "succeeded", RefundSucceeded, true},
		{RefundRequesting, "requires_action", RefundRequiresAction, true},
		{RefundRequiresAction, "pending", RefundPending, true},
		{RefundPending, "requires_action", RefundRequiresAction, true},
		{RefundPending, "succeeded", RefundSucceeded, true},
		{RefundSucceeded, "pending", RefundSucceeded, false}, // late event
		{RefundSucceeded, "succeeded", RefundSucceeded, false},
		{RefundSucceeded, "failed", RefundFailed, true}, // a bank refund that bounced
		{RefundFailed, "succeeded", RefundFailed, false},
		{RefundCanceled, "pending", RefundCanceled, false},
		{RefundAbandoned, "succeeded", RefundAbandoned, false},
		{RefundPending, "bogus", RefundPending, false},
		{RefundPending, "", RefundPending, false},
	} {
		got, moved := AdvanceRefund(tc.cur, tc.stripe)
		if got != tc.want || moved != tc.moved {
			t.Errorf("AdvanceRefund(%s, %q) = %s, %v; want %s, %v", tc.cur, tc.stripe, got, moved, tc.want, tc.moved)
		}
	}
}

func TestRefundStatusSets(t *testing.T) {
	for _, s := range RefundStatuses() {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
		if s.Live() && s.Retryable() {
			t.Errorf("%s both live and retryable", s)
		}
		if s.Retryable() && s.Holds() {
			t.Errorf("%s retryable yet holds its amount", s)
		}
	}
	if RefundStatus("paid").Valid() {
		t.Error(`"paid" is valid`)
	}
	if !RefundSucceeded.Holds() || RefundSucceeded.Live() {
		t.Error("succeeded: holds, not live")
	}
}

func TestRefundAmount(t *testing.T) {
	for _, tc := range []struct {
		kind       RefundKind
		partial    int64
		refundable int64
		want       int64
		field      string // a field error expected on
		key        string // an *event.Error expected with
	}{
		{RefundNone, 0, 3000, 0, "", ""},
		{RefundNone, 500, 0, 0, "", ""},
		{RefundFull, 0, 3000, 3000, "", ""},
		{RefundFull, 999, 1200, 1200, "", ""}, // the typed amount is not read
		{RefundFull, 0, 0, 0, "", "refund.nothing_left"},
		{RefundPartial, 1, 3000, 1, "", ""},
		{RefundPartial, 3000, 3000, 3000, "", ""},
		{RefundPartial, 3001, 3000, 0, "refund_amount", ""},
		{RefundPartial, 0, 3000, 0, "refund_amount", ""},
		{RefundPartial, -5, 3000, 0, "refund_amount", ""},
		{RefundPartial, 10, 0, 0, "", "refund.nothing_left"},
		{"", 0, 3000, 0, "", "refund.choose"},
		{"all", 0, 3000, 0, "", "refund.choose"},
	} {
		got, err := RefundAmount(tc.kind, tc.partial, tc.refundable)
		var fe event.FieldErrors
		var ee *event.Error
		switch {
		case tc.field != "":
			if !errors.As(err, &fe) || !hasField(fe, tc.field) {
				t.Errorf("RefundAmount(%q, %d, %d): err %v, want a field error on %s", tc.kind, tc.partial, tc.refundable, err, tc.field)
			}
		case tc.key != "":
			if !errors.As(err, &ee) || ee.Key != tc.key {
				t.Errorf("RefundAmount(%q, %d, %d): err %v, want %s", tc.kind, tc.partial, tc.refundable, err, tc.key)
			}
		case err != nil || got != tc.want:
			t.Errorf("RefundAmount(%q, %d, %d) = %d, %v; want %d", tc.kind, tc.partial, tc.refundable, got, err, tc.want)
		}
	}
	if got := Refundable(3000, 1000); got != 2000 {
		t.Errorf("Refundable(3000, 1000) = %d", got)
	}
	if got := Refundable(3000, 4000); got != 0 {
		t.Errorf("Refundable(3000, 4000) = %d", got)
	}
}

func hasField(fe event.FieldErrors, field string) bool {
	_, ok := fe.For(field)
	return ok
}

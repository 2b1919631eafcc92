package payment

import (
	"errors"
	"testing"
	"time"

	"kaisai/internal/event"
)

func TestCutoff(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	start := time.Date(2026, 12, 10, 19, 0, 0, 0, jst)
	for _, tc := range []struct {
		days int
		want time.Time
	}{
		{0, start},
		{1, time.Date(2026, 12, 10, 0, 0, 0, 0, jst)}, // 前日まで
		{3, time.Date(2026, 12, 8, 0, 0, 0, 0, jst)},  // 3日前まで: through the 7th
		{10, time.Date(2026, 12, 1, 0, 0, 0, 0, jst)}, // across the month
		{-1, start},
	} {
		if got := Cutoff(start, jst, tc.days); !got.Equal(tc.want) {
			t.Errorf("Cutoff(%d) = %s, want %s", tc.days, got, tc.want)
		}
	}
	// The day is the event's: 01:00 JST on the 10th is still the 9th in UTC.
	early := time.Date(2026, 12, 10, 1, 0, 0, 0, jst)
	if got, want := Cutoff(early.UTC(), jst, 1), time.Date(2026, 12, 10, 0, 0, 0, 0, jst); !got.Equal(want) {
		t.Errorf("Cutoff of an early start read in UTC = %s, want %s", got, want)
	}
	// A schedule starting at midnight: 前日まで ends as it starts.
	midnight := time.Date(2026, 12, 10, 0, 0, 0, 0, jst)
	if got := Cutoff(midnight, jst, 1); !got.Equal(midnight) {
		t.Errorf("Cutoff(midnight, 1) = %s", got)
	}
}

func TestDecide(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	start := time.Date(2026, 12, 10, 19, 0, 0, 0, jst)
	p := Policy{SelfCancel: true, CancelDays: 1, Tiers: []RefundTier{{3, 100}, {1, 50}}}
	at := func(d, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, jst) }
	for _, tc := range []struct {
		now     time.Time
		allowed bool
		pct     int
		refund  int64
	}{
		{at(1, 12), true, 100, 3333},
		{time.Date(2026, 12, 7, 23, 59, 59, 0, jst), true, 100, 3333},
		{at(8, 0), true, 50, 1666}, // rounded down
		{time.Date(2026, 12, 9, 23, 59, 59, 0, jst), true, 50, 1666},
		{at(10, 0), false, 0, 0},
		{at(10, 20), false, 0, 0},
	} {
		d := p.Decide(3333, start, jst, tc.now)
		if d.Allowed != tc.allowed || d.Percent != tc.pct || d.Refund != tc.refund {
			t.Errorf("Decide at %s = %+v; want allowed %v, %d%%, ¥%d", tc.now, d, tc.allowed, tc.pct, tc.refund)
		}
	}
	if d := p.Decide(3333, start, jst, at(8, 0)); !d.Until.Equal(at(10, 0)) || !d.RefundUntil.Equal(at(10, 0)) {
		t.Errorf("Decide: until %s, refund until %s", d.Until, d.RefundUntil)
	}
	none := Policy{SelfCancel: false, Tiers: []RefundTier{{0, 100}}}
	if d := none.Decide(1000, start, jst, at(1, 0)); d.Allowed {
		t.Errorf("a policy without self-cancel allows it: %+v", d)
	}
	noRefund := Policy{SelfCancel: true}
	if d := noRefund.Decide(1000, start, jst, at(1, 0)); !d.Allowed || d.Refund != 0 || !d.Until.Equal(start) {
		t.Errorf("self-cancel without refund: %+v", d)
	}
}

func TestPolicyValidate(t *testing.T) {
	ok := []Policy{
		{},
		{SelfCancel: true, CancelDays: 0, Tiers: []RefundTier{{7, 100}, {3, 50}, {0, 10}}},
		{SelfCancel: true, CancelDays: 365, Tiers: []RefundTier{{365, 100}}},
	}
	for _, p := range ok {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	bad := map[string]Policy{
		"cancel_days":  {CancelDays: 366},
		"refund_tiers": {Tiers: []RefundTier{{3, 0}}},
	}
	bad2 := []Policy{
		{Tiers: []RefundTier{{3, 101}}},
		{Tiers: []RefundTier{{-1, 50}}},
		{Tiers: []RefundTier{{1, 50}, {3, 100}}}, // not the earliest first
		{Tiers: []RefundTier{{3, 50}, {1, 100}}}, // more back later
		{Tiers: []RefundTier{{3, 100}, {3, 50}}}, // the same day twice
		{Tiers: []RefundTier{{6, 100}, {5, 90}, {4, 80}, {3, 70}, {2, 60}, {1, 50}}},
	}
	for field, p := range bad {
		var fe event.FieldErrors
		if err := p.Validate(); !errors.As(err, &fe) || !hasField(fe, field) {
			t.Errorf("%+v: %v, want an error on %s", p, err, field)
		}
	}
	for _, p := range bad2 {
		var fe event.FieldErrors
		if err := p.Validate(); !errors.As(err, &fe) || !hasField(fe, "refund_tiers") {
			t.Errorf("%+v: %v, want an error on refund_tiers", p, err)
		}
	}
}

func TestTiersRoundTrip(t *testing.T) {
	got, err := ParseTiers(" 1:50, 3:100 ,")
	if err != nil {
		t.Fatal(err)
	}
	if s := FormatTiers(got); s != "3:100,1:50" {
		t.Errorf("FormatTiers(ParseTiers) = %q", s)
	}
	if got, err := ParseTiers(""); err != nil || len(got) != 0 {
		t.Errorf(`ParseTiers("") = %v, %v`, got, err)
	}
	for _, s := range []string{"3", "a:100", "3:x", "3:100:1"} {
		if _, err := ParseTiers(s); err == nil {
			t.Errorf("ParseTiers(%q) accepted", s)
		}
	}
}

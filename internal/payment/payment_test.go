package payment

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func at(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, jst)
}

func TestMethods(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []Method
		wantErr bool
		stored  string
	}{
		{in: "", want: nil},
		{in: "card", want: []Method{MethodCard}, stored: "card"},
		{in: "card,konbini", want: []Method{MethodCard, MethodKonbini}, stored: "card,konbini"},
		{in: "bank_transfer,konbini,card", want: []Method{MethodCard, MethodKonbini, MethodBankTransfer}, stored: "card,konbini,bank_transfer"},
		{in: " konbini , card,card,", want: []Method{MethodCard, MethodKonbini}, stored: "card,konbini"},
		{in: "manual", wantErr: true},
		{in: "card,cash", wantErr: true},
		{in: "Card", wantErr: true},
	} {
		got, err := ParseMethods(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseMethods(%q) error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ParseMethods(%q) = %v, want %v", tc.in, got, tc.want)
		}
		if err == nil && FormatMethods(got) != tc.stored {
			t.Errorf("FormatMethods(%v) = %q, want %q", got, FormatMethods(got), tc.stored)
		}
	}
	if got := FormatMethods([]Method{MethodManual, MethodBankTransfer, MethodCard, "cash"}); got != "card,bank_transfer" {
		t.Errorf("FormatMethods keeps only online methods in order: %q", got)
	}
	for m, want := range map[Method]bool{MethodCard: true, MethodKonbini: true, MethodBankTransfer: true, MethodManual: true, "": false, "cash": false, "customer_balance": false} {
		if m.Valid() != want {
			t.Errorf("%q.Valid() = %v", m, !want)
		}
	}
}

func TestDeadline(t *testing.T) {
	for _, tc := range []struct {
		name    string
		applied time.Time
		days    int
		starts  time.Time
		want    time.Time
	}{
		{"three days, start far", at(2026, 12, 1, 10, 0, 0), 3, at(2026, 12, 20, 19, 0, 0), at(2026, 12, 4, 23, 59, 59)},
		{"same day", at(2026, 12, 1, 10, 0, 0), 0, at(2026, 12, 20, 19, 0, 0), at(2026, 12, 1, 23, 59, 59)},
		{"negative days count as 0", at(2026, 12, 1, 10, 0, 0), -2, at(2026, 12, 20, 19, 0, 0), at(2026, 12, 1, 23, 59, 59)},
		// 23:30 JST is still 1 December in Japan, 14:30 UTC.
		{"late evening JST", time.Date(2026, 12, 1, 14, 30, 0, 0, time.UTC), 1, time.Time{}, at(2026, 12, 2, 23, 59, 59)},
		// 00:10 JST on 2 December is 1 December in UTC: the Japanese day counts.
		{"just after midnight JST", time.Date(2026, 12, 1, 15, 10, 0, 0, time.UTC), 1, time.Time{}, at(2026, 12, 3, 23, 59, 59)},
		{"month and year end", at(2026, 12, 30, 9, 0, 0), 3, time.Time{}, at(2027, 1, 2, 23, 59, 59)},
		{"start before the day's end", at(2026, 12, 1, 10, 0, 0), 7, at(2026, 12, 5, 13, 0, 0), at(2026, 12, 5, 13, 0, 0)},
		{"start at the day's end", at(2026, 12, 1, 10, 0, 0), 3, at(2026, 12, 4, 23, 59, 59), at(2026, 12, 4, 23, 59, 59)},
		{"start already past", at(2026, 12, 5, 10, 0, 0), 3, at(2026, 12, 5, 9, 0, 0), at(2026, 12, 5, 9, 0, 0)},
		{"no start", at(2026, 12, 1, 10, 0, 0), 60, time.Time{}, at(2027, 1, 30, 23, 59, 59)},
	} {
		got := Deadline(tc.applied, tc.days, tc.starts)
		if !got.Equal(tc.want) {
			t.Errorf("%s: Deadline = %v, want %v", tc.name, got.In(jst), tc.want)
		}
	}
}

func TestCheckAmount(t *testing.T) {
	for _, tc := range []struct {
		asked, got int64
		currency   string
		want       error
	}{
		{3000, 3000, "jpy", nil},
		{3000, 3000, "JPY", nil},
		{3000, 2999, "jpy", ErrAmountMismatch},
		{3000, 30000, "jpy", ErrAmountMismatch},
		{3000, 0, "jpy", ErrAmountMismatch},
		{3000, 3000, "usd", ErrCurrencyMismatch},
		{3000, 300000, "usd", ErrCurrencyMismatch},
		{3000, 3000, "", ErrCurrencyMismatch},
	} {
		err := CheckAmount(tc.asked, tc.got, tc.currency)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("CheckAmount(%d, %d, %q) = %v, want %v", tc.asked, tc.got, tc.currency, err, tc.want)
		}
	}
}

func TestSessionExpiry(t *testing.T) {
	now := at(2026, 12, 1, 10, 0, 0)
	for _, tc := range []struct {
		name     string
		deadline time.Time
		want     time.Time
		ok       bool
	}{
		{"deadline days away: a day less a minute", now.Add(72 * time.Hour), now.Add(24*time.Hour - time.Minute), true},
		{"deadline within a day: the deadline", now.Add(5 * time.Hour), now.Add(5 * time.Hour), true},
		{"deadline exactly a day away", now.Add(24 * time.Hour), now.Add(24*time.Hour - time.Minute), true},
		{"31 minutes left", now.Add(31 * time.Minute), now.Add(31 * time.Minute), true},
		{"just under 31 minutes", now.Add(31*time.Minute - time.Second), time.Time{}, false},
		{"30 minutes left", now.Add(30 * time.Minute), time.Time{}, false},
		{"deadline past", now.Add(-time.Hour), time.Time{}, false},
	} {
		got, ok := SessionExpiry(now, tc.deadline)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("%s: SessionExpiry = %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
		if ok && (got.Sub(now) < MinSessionLife || got.Sub(now) > MaxSessionLife || got.After(tc.deadline)) {
			t.Errorf("%s: %v outside Stripe's window or after the deadline", tc.name, got)
		}
	}
}

func TestKonbiniDays(t *testing.T) {
	for _, tc := range []struct {
		name     string
		now      time.Time
		deadline time.Time
		want     int
		ok       bool
	}{
		// The session may be paid until 2 Dec 09:59; a voucher issued then
		// for 2 days lapses at 4 Dec 23:59:59.
		{"deadline at a day's end", at(2026, 12, 1, 10, 0, 0), at(2026, 12, 4, 23, 59, 59), 2, true},
		{"deadline a second short of the day's end", at(2026, 12, 1, 10, 0, 0), at(2026, 12, 4, 23, 59, 58), 1, true},
		{"deadline midday", at(2026, 12, 1, 10, 0, 0), at(2026, 12, 4, 12, 0, 0), 1, true},
		{"deadline the day after tomorrow's end", at(2026, 12, 1, 10, 0, 0), at(2026, 12, 3, 23, 59, 59), 1, true},
		{"deadline tomorrow's end", at(2026, 12, 1, 10, 0, 0), at(2026, 12, 2, 23, 59, 59), 0, false},
		{"deadline within the session", at(2026, 12, 1, 10, 0, 0), at(2026, 12, 1, 18, 0, 0), 0, false},
		{"deadline past", at(2026, 12, 1, 10, 0, 0), at(2026, 11, 30, 23, 59, 59), 0, false},
		{"far deadline: Stripe's 60 days", at(2026, 12, 1, 10, 0, 0), at(2027, 6, 1, 23, 59, 59), 60, true},
		// 23:30 JST: the session runs into 2 Dec 23:29 JST.
		{"late evening JST", time.Date(2026, 12, 1, 14, 30, 0, 0, time.UTC), at(2026, 12, 4, 23, 59, 59), 2, true},
		// 00:30 JST on 2 Dec is 1 Dec 15:30 UTC: the session runs into 3 Dec 00:29 JST.
		{"just after midnight JST", time.Date(2026, 12, 1, 15, 30, 0, 0, time.UTC), at(2026, 12, 5, 23, 59, 59), 2, true},
		// The session itself ends at the deadline: no day is left for a voucher.
		{"session ends with the deadline", at(2026, 12, 3, 10, 0, 0), at(2026, 12, 3, 23, 59, 59), 0, false},
	} {
		got, ok := KonbiniDays(tc.now, tc.deadline)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: KonbiniDays = %d %v, want %d %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// TestKonbiniVoucherNeverOutlivesDeadline checks the promise itself over
// many times of day and deadlines: a voucher issued at any moment while
// the session is open lapses no later than the deadline, and one more
// day would not.
func TestKonbiniVoucherNeverOutlivesDeadline(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 17))
	base := at(2026, 12, 1, 0, 0, 0)
	for range 5000 {
		now := base.Add(time.Duration(r.Int64N(int64(48 * time.Hour))))
		deadline := now.Add(time.Duration(r.Int64N(int64(80 * 24 * time.Hour))))
		days, ok := KonbiniDays(now, deadline)
		expiry, sessionOK := SessionExpiry(now, deadline)
		if !ok {
			if sessionOK && !endOfDay(expiry, 1).After(deadline) {
				t.Fatalf("now %v deadline %v: konbini refused although a day fits", now.In(jst), deadline.In(jst))
			}
			continue
		}
		if days < MinKonbiniDays || days > MaxKonbiniDays {
			t.Fatalf("now %v deadline %v: %d days", now.In(jst), deadline.In(jst), days)
		}
		for _, issued := range []time.Time{now, expiry} {
			if endOfDay(issued, days).After(deadline) {
				t.Fatalf("now %v deadline %v: a voucher issued %v for %d days lapses after the deadline", now.In(jst), deadline.In(jst), issued.In(jst), days)
			}
		}
		if days < MaxKonbiniDays && !endOfDay(expiry, days+1).After(deadline) {
			t.Fatalf("now %v deadline %v: %d days, one more would fit", now.In(jst), deadline.In(jst), days)
		}
	}
}

package payment

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Method is how an application was (or may be) paid.
type Method string

// The methods. Card, konbini and bank transfer are paid online through
// Stripe; manual (手動) is an organizer marking an application 入金済 by
// hand. Labels come from the i18n catalogs under "payment.method.<m>".
const (
	MethodCard         Method = "card"
	MethodKonbini      Method = "konbini"
	MethodBankTransfer Method = "bank_transfer"
	MethodManual       Method = "manual"
)

// onlineMethods are the methods an organizer may enable, in the order
// they are stored and shown.
var onlineMethods = []Method{MethodCard, MethodKonbini, MethodBankTransfer}

// Valid reports whether m is one of the methods above.
func (m Method) Valid() bool {
	return m == MethodManual || m.Online()
}

// Online reports whether m is paid through Stripe (not 手動).
func (m Method) Online() bool { return slices.Contains(onlineMethods, m) }

// ParseMethods reads the stored list of enabled methods ("card,konbini").
// Only online methods may be enabled; each appears once, in the order of
// onlineMethods whatever the order stored. An empty string is no method.
func ParseMethods(s string) ([]Method, error) {
	var got []Method
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		m := Method(f)
		if !m.Online() {
			return nil, fmt.Errorf("payment: unknown online payment method %q", f)
		}
		got = append(got, m)
	}
	return canonical(got), nil
}

// FormatMethods is the stored form of methods: the online ones, each
// once, in the order of onlineMethods, joined by commas. ParseMethods
// reads it back.
func FormatMethods(methods []Method) string {
	ms := canonical(methods)
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = string(m)
	}
	return strings.Join(parts, ",")
}

// canonical keeps the online methods of ms, once each, in the order of
// onlineMethods; nil when none.
func canonical(ms []Method) []Method {
	var out []Method
	for _, m := range onlineMethods {
		if slices.Contains(ms, m) {
			out = append(out, m)
		}
	}
	return out
}

// jst is Japan's time (no summer time), in which payment days are counted.
var jst = time.FixedZone("JST", 9*60*60)

// endOfDay is 23:59:59 JST on the Japanese day days after t's.
func endOfDay(t time.Time, days int) time.Time {
	d := t.In(jst).AddDate(0, 0, days)
	return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, jst)
}

// Deadline is the payment deadline of an application applied for at
// appliedAt: 23:59:59 JST on the day days after the day of applying
// (0: the same day; a negative days counts as 0), but never later than
// startsAt, the start of the schedule. A zero startsAt sets no limit.
// When the schedule has already started, the deadline is its start: it
// has passed.
func Deadline(appliedAt time.Time, days int, startsAt time.Time) time.Time {
	d := endOfDay(appliedAt, max(days, 0))
	if !startsAt.IsZero() && startsAt.Before(d) {
		return startsAt
	}
	return d
}

// Errors of CheckAmount.
var (
	ErrAmountMismatch   = errors.New("payment: amount paid differs from the amount asked")
	ErrCurrencyMismatch = errors.New("payment: payment not in yen")
)

// CheckAmount reports whether a completed payment of got in currency
// pays an application that asked for asked yen: nil, or an error
// wrapping ErrCurrencyMismatch (currency is not "jpy") or
// ErrAmountMismatch.
func CheckAmount(asked int64, got int64, currency string) error {
	if !strings.EqualFold(currency, "jpy") {
		return fmt.Errorf("%w: currency %q, asked ¥%d", ErrCurrencyMismatch, currency, asked)
	}
	if got != asked {
		return fmt.Errorf("%w: asked ¥%d, paid ¥%d", ErrAmountMismatch, asked, got)
	}
	return nil
}

// Stripe lets a Checkout Session expire 30 minutes to 24 hours after it
// is created.
const (
	MinSessionLife = 30 * time.Minute
	MaxSessionLife = 24 * time.Hour
	// sessionMargin keeps an expiry inside Stripe's window although the
	// session is created a moment after now and Stripe's clock may differ
	// a little from ours.
	sessionMargin = time.Minute
)

// SessionExpiry is when a Checkout Session created at now for a payment
// due at deadline should expire: at the deadline, but no more than
// 24 hours on (less a minute's margin). ok is false when less than
// 30 minutes (plus the margin) remain before the deadline: no session can
// be offered then, since Stripe would refuse so short a life and a later
// expiry would outlive the deadline.
func SessionExpiry(now, deadline time.Time) (time.Time, bool) {
	if deadline.Sub(now) < MinSessionLife+sessionMargin {
		return time.Time{}, false
	}
	return minTime(deadline, now.Add(MaxSessionLife-sessionMargin)), true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Stripe's bounds of a konbini payment, in yen.
const (
	MinKonbiniAmount = 120
	MaxKonbiniAmount = 300_000
)

// KonbiniAmountOK reports whether a konbini voucher can be issued for
// amount yen.
func KonbiniAmountOK(amount int64) bool {
	return amount >= MinKonbiniAmount && amount <= MaxKonbiniAmount
}

// Stripe's bounds of payment_method_options[konbini][expires_after_days].
const (
	MinKonbiniDays = 1
	MaxKonbiniDays = 60
)

// KonbiniDays is expires_after_days for the konbini vouchers of a
// Checkout Session created at now for a payment due at deadline. A
// voucher lapses at 23:59:59 JST expires_after_days days after the day it
// is issued, and it is issued when the participant chooses コンビニ, at any
// moment until the session expires (SessionExpiry(now, deadline)). So the
// days are counted from the session's expiry: the most days (at most 60)
// for which a voucher issued as late as that still lapses no later than
// the deadline. ok is false when not even one day fits (or no session can
// be offered at all): konbini cannot be offered then.
func KonbiniDays(now, deadline time.Time) (int, bool) {
	issued, ok := SessionExpiry(now, deadline)
	if !ok || endOfDay(issued, MinKonbiniDays).After(deadline) {
		return 0, false
	}
	// Whole Japanese days from the issuing day to the deadline's day, one
	// fewer when the deadline falls before that day's 23:59:59.
	from := endOfDay(issued, 0)
	dl := deadline.In(jst)
	last := time.Date(dl.Year(), dl.Month(), dl.Day(), 23, 59, 59, 0, jst)
	days := int(last.Sub(from).Round(time.Hour) / (24 * time.Hour))
	if last.After(deadline) {
		days--
	}
	return min(days, MaxKonbiniDays), true
}

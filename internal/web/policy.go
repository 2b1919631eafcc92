package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/i18n"
	"kaisai/internal/payment"
)

// A paid event's キャンセル・返金ポリシー and 領収書の但し書き: read from the
// event form (payment.Policy checks it), and told to participants in plain
// sentences on the public event page and their application page.

// policyForm reads the policy fields of the event form into e when the
// event is paid, and copies them into form to show again. A free event
// keeps what it had: the policy is not asked of it. What cannot be read
// (not a number, a half-filled tier) and what the rule refuses come back
// as field errors.
func policyForm(f url.Values, e *event.Event, form url.Values) event.FieldErrors {
	form.Set("self_cancel", f.Get("self_cancel"))
	form.Set("cancel_days", f.Get("cancel_days"))
	form.Set("receipt_purpose", f.Get("receipt_purpose"))
	for i := range payment.MaxRefundTiers {
		form.Set(tierField("days", i), f.Get(tierField("days", i)))
		form.Set(tierField("percent", i), f.Get(tierField("percent", i)))
	}
	if !e.Paid() {
		return nil
	}
	var fe event.FieldErrors
	p := payment.Policy{SelfCancel: f.Get("self_cancel") != "0"}
	days, ok := formNumber(f.Get("cancel_days"))
	if !ok {
		fe.Add("cancel_days", "policy.not_number")
	}
	p.CancelDays = days
	for i := range payment.MaxRefundTiers {
		d, p1 := strings.TrimSpace(f.Get(tierField("days", i))), strings.TrimSpace(f.Get(tierField("percent", i)))
		if d == "" && p1 == "" {
			continue // an empty row is no tier
		}
		days, ok1 := formNumber(d)
		pct, ok2 := formNumber(strings.TrimRight(p1, "%％ "))
		if d == "" || p1 == "" || !ok1 || !ok2 {
			if _, dup := fe.For("refund_tiers"); !dup {
				fe.Add("refund_tiers", "policy.tier_number")
			}
			continue
		}
		p.Tiers = append(p.Tiers, payment.RefundTier{DaysBefore: days, Percent: pct})
	}
	if err := p.Validate(); err != nil {
		for _, v := range err.(event.FieldErrors) {
			if _, dup := fe.For(v.Field); !dup {
				fe = append(fe, v)
			}
		}
	}
	purpose := strings.TrimSpace(f.Get("receipt_purpose"))
	if err := payment.ValidateReceiptPurpose(purpose); err != nil {
		fe = append(fe, err.(event.FieldErrors)...)
	}
	if len(fe) > 0 {
		return fe
	}
	e.SelfCancelOff, e.CancelDays = !p.SelfCancel, p.CancelDays
	e.RefundTiers = payment.FormatTiers(p.Tiers)
	e.ReceiptPurpose = purpose
	return nil
}

// policyValues are the policy fields of the event form for e.
func policyValues(e *event.Event, v url.Values) {
	p := payment.PolicyOf(e)
	v.Set("self_cancel", "1")
	if !p.SelfCancel {
		v.Set("self_cancel", "0")
	}
	v.Set("cancel_days", strconv.Itoa(p.CancelDays))
	v.Set("receipt_purpose", e.ReceiptPurpose)
	for i, t := range p.Tiers {
		v.Set(tierField("days", i), strconv.Itoa(t.DaysBefore))
		v.Set(tierField("percent", i), strconv.Itoa(t.Percent))
	}
}

func tierField(what string, i int) string { return "tier_" + what + "_" + strconv.Itoa(i) }

// tierRow is one row of the form's refund tiers.
type tierRow struct{ Days, Percent string }

// TierRows are the form's refund tier fields, for the template.
func (p *page) TierRows() []tierRow {
	rows := make([]tierRow, payment.MaxRefundTiers)
	for i := range rows {
		rows[i] = tierRow{Days: tierField("days", i), Percent: tierField("percent", i)}
	}
	return rows
}

// DefaultReceiptPurpose is the 但し書き printed when the organizer sets none.
func (p *page) DefaultReceiptPurpose() string { return payment.DefaultReceiptPurpose }

// formNumber reads a whole number as people type it, full-width digits
// too; "" is 0.
func formNumber(s string) (int, bool) {
	s = strings.TrimSpace(toHalfWidthDigits(s))
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// policyView is a paid event's policy told to participants.
type policyView struct {
	// Refunds are the refund lines, the earliest first: 「12月7日(月)まで: 全額返金」…
	// 「それ以降: 返金なし」.
	Refunds []string
	// SelfCancel says whether and until when participants may cancel themselves.
	SelfCancel string
}

// policyText tells policy p in language l. With a schedule's start (not
// zero) the moments are dates read in loc (the event's time zone); without,
// they are counted in days before the date, as on the event's page, which
// lists several schedules.
func policyText(c *i18n.Catalog, l i18n.Lang, p payment.Policy, start time.Time, loc *time.Location) policyView {
	t := func(key string, args ...any) string { return c.T(l, key, args...) }
	// until names the end of "until days days before".
	until := func(days int) string {
		switch {
		case start.IsZero() && days == 0:
			return t("policy.the_start")
		case start.IsZero():
			return t("policy.days_before", days)
		}
		end := payment.Cutoff(start, loc, days)
		if end.Equal(start) {
			return i18n.DateTime(l, start, loc)
		}
		// A cut-off at midnight ends the day before: name that day.
		return i18n.Day(l, end.Add(-time.Nanosecond), loc)
	}
	var v policyView
	for _, tier := range p.Tiers {
		what := t("policy.refund_percent", tier.Percent)
		if tier.Percent == 100 {
			what = t("policy.refund_full")
		}
		v.Refunds = append(v.Refunds, t("policy.line", t("policy.until", until(tier.DaysBefore)), what))
	}
	if len(v.Refunds) == 0 {
		v.Refunds = []string{t("policy.no_refunds")}
	} else {
		v.Refunds = append(v.Refunds, t("policy.line", t("policy.after"), t("policy.refund_none")))
	}
	v.SelfCancel = t("policy.ask_organizer")
	if p.SelfCancel {
		v.SelfCancel = t("policy.self_cancel_until", until(p.CancelDays))
	}
	return v
}

// RefundPolicy is the policy of event e as its public page tells it; nil
// for a free event.
func (p *page) RefundPolicy(e *event.Event) *policyView {
	if !e.Paid() {
		return nil
	}
	v := policyText(p.msgs, p.Lang, payment.PolicyOf(e), time.Time{}, e.Location())
	return &v
}

// RefundPolicyFor is the policy of event e with the dates of schedule sc,
// as an application's page tells it; nil for a free event.
func (p *page) RefundPolicyFor(e *event.Event, sc *event.Schedule) *policyView {
	if !e.Paid() {
		return nil
	}
	v := policyText(p.msgs, p.Lang, payment.PolicyOf(e), sc.StartsAt, e.Location())
	return &v
}

package payment

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kaisai/internal/event"
)

// Bounds of a キャンセル・返金ポリシー.
const (
	MaxPolicyDays  = 365
	MaxRefundTiers = 5
)

// RefundTier says that a participant who cancels until DaysBefore days
// before the schedule's date gets Percent of what they paid back.
// DaysBefore 0 means until the schedule starts.
type RefundTier struct {
	DaysBefore int
	Percent    int
}

// Policy is a paid event's キャンセル・返金ポリシー: whether participants may
// cancel a paid application themselves, until when, and what they get
// back then. The organizer may always cancel and refund what they choose.
// The zero value lets nobody cancel and refunds nothing.
type Policy struct {
	// SelfCancel: participants may cancel a paid application themselves.
	SelfCancel bool
	// CancelDays: until this many days before the schedule's date (0: until
	// it starts).
	CancelDays int
	// Tiers, the earliest first (DaysBefore descending): the first whose
	// cut-off has not passed applies. None: nothing is refunded.
	Tiers []RefundTier
}

// Cutoff is when "until days days before" ends for a schedule that starts
// at start, read in loc (the event's time zone): with days 0 the start
// itself; else the end of the day days days before the schedule's date
// (3日前まで for a schedule on the 10th ends as the 8th begins). Never after
// the start.
func Cutoff(start time.Time, loc *time.Location, days int) time.Time {
	if days <= 0 {
		return start
	}
	s := start.In(loc)
	end := time.Date(s.Year(), s.Month(), s.Day()-days+1, 0, 0, 0, 0, loc)
	if end.After(start) {
		return start
	}
	return end
}

// SelfCancel is what the policy allows a participant at one moment.
type SelfCancel struct {
	// Allowed: the participant may cancel now, until Until.
	Allowed bool
	Until   time.Time
	// Percent and Refund (yen) are what cancelling now gives back, until
	// RefundUntil (zero when nothing is refunded).
	Percent     int
	Refund      int64
	RefundUntil time.Time
}

// PolicyStep is one line of a policy read against a schedule: cancelling before
// Until refunds Percent.
type PolicyStep struct {
	Until   time.Time
	Percent int
}

// Steps are the policy's tiers as moments for a schedule starting at
// start, the earliest first.
func (p Policy) Steps(start time.Time, loc *time.Location) []PolicyStep {
	out := make([]PolicyStep, 0, len(p.Tiers))
	for _, t := range p.Tiers {
		out = append(out, PolicyStep{Until: Cutoff(start, loc, t.DaysBefore), Percent: t.Percent})
	}
	return out
}

// Decide says what a participant who paid paid yen for a schedule starting
// at start may do at now: whether they may cancel, and what they get
// back. A refund is rounded down to the yen.
func (p Policy) Decide(paid int64, start time.Time, loc *time.Location, now time.Time) SelfCancel {
	var d SelfCancel
	if p.SelfCancel {
		d.Until = Cutoff(start, loc, p.CancelDays)
		d.Allowed = now.Before(d.Until)
	}
	for _, s := range p.Steps(start, loc) {
		if now.Before(s.Until) {
			d.Percent, d.RefundUntil = s.Percent, s.Until
			d.Refund = paid * int64(s.Percent) / 100
			break
		}
	}
	return d
}

// Validate checks a policy as the organizer entered it; errors name the
// form's fields (cancel_days, refund_tiers).
func (p Policy) Validate() error {
	var fe event.FieldErrors
	if p.CancelDays < 0 || p.CancelDays > MaxPolicyDays {
		fe.Add("cancel_days", "policy.days_range", MaxPolicyDays)
	}
	if len(p.Tiers) > MaxRefundTiers {
		fe.Add("refund_tiers", "policy.too_many_tiers", MaxRefundTiers)
	}
	for i, t := range p.Tiers {
		switch {
		case t.DaysBefore < 0 || t.DaysBefore > MaxPolicyDays:
			fe.Add("refund_tiers", "policy.days_range", MaxPolicyDays)
		case t.Percent < 1 || t.Percent > 100:
			fe.Add("refund_tiers", "policy.percent_range")
		case i > 0 && t.DaysBefore >= p.Tiers[i-1].DaysBefore:
			fe.Add("refund_tiers", "policy.tiers_order")
		case i > 0 && t.Percent > p.Tiers[i-1].Percent:
			fe.Add("refund_tiers", "policy.tiers_percent")
		default:
			continue
		}
		break
	}
	return fe.Err()
}

// ParseTiers reads the stored tiers ("3:100,1:50"), sorted the earliest
// first. An empty string is no tier.
func ParseTiers(s string) ([]RefundTier, error) {
	var out []RefundTier
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		days, pct, ok := strings.Cut(f, ":")
		d, err1 := strconv.Atoi(strings.TrimSpace(days))
		p, err2 := strconv.Atoi(strings.TrimSpace(pct))
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("payment: refund tier %q is not days:percent", f)
		}
		out = append(out, RefundTier{DaysBefore: d, Percent: p})
	}
	slices.SortStableFunc(out, func(a, b RefundTier) int { return b.DaysBefore - a.DaysBefore })
	return out, nil
}

// FormatTiers is the stored form of tiers; ParseTiers reads it back.
func FormatTiers(tiers []RefundTier) string {
	parts := make([]string, len(tiers))
	for i, t := range tiers {
		parts[i] = strconv.Itoa(t.DaysBefore) + ":" + strconv.Itoa(t.Percent)
	}
	return strings.Join(parts, ",")
}

// PolicyOf is the キャンセル・返金ポリシー an event stores. Stored tiers that
// cannot be read refund nothing (the form never stores such).
func PolicyOf(e *event.Event) Policy {
	tiers, err := ParseTiers(e.RefundTiers)
	if err != nil {
		tiers = nil
	}
	return Policy{SelfCancel: !e.SelfCancelOff, CancelDays: e.CancelDays, Tiers: tiers}
}

package web

import (
	"strings"
	"testing"
	"time"

	"kaisai/internal/i18n"
	"kaisai/internal/payment"
)

// TestPolicyText: a policy told in sentences, in days before the date
// without a schedule, with concrete dates with one.
func TestPolicyText(t *testing.T) {
	msgs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 10, 19, 0, 0, 0, tokyo) // a Thursday
	tiers := []payment.RefundTier{{DaysBefore: 3, Percent: 100}, {DaysBefore: 1, Percent: 50}}
	tests := []struct {
		name       string
		lang       i18n.Lang
		p          payment.Policy
		start      time.Time
		refunds    []string
		selfCancel string
	}{
		{"dates", i18n.Japanese, payment.Policy{SelfCancel: true, CancelDays: 1, Tiers: tiers}, start,
			[]string{"12月7日(月)まで: 全額返金", "12月9日(水)まで: 50%返金", "それ以降: 返金なし"},
			"参加者ご自身でのキャンセルは12月9日(水)までできます。"},
		{"until the start", i18n.Japanese, payment.Policy{SelfCancel: true, Tiers: []payment.RefundTier{{DaysBefore: 0, Percent: 80}}}, start,
			[]string{"2026年12月10日(木) 19:00まで: 80%返金", "それ以降: 返金なし"},
			"参加者ご自身でのキャンセルは2026年12月10日(木) 19:00までできます。"},
		{"days", i18n.Japanese, payment.Policy{SelfCancel: true, CancelDays: 2, Tiers: tiers}, time.Time{},
			[]string{"開催3日前まで: 全額返金", "開催1日前まで: 50%返金", "それ以降: 返金なし"},
			"参加者ご自身でのキャンセルは開催2日前までできます。"},
		{"days, until the start", i18n.Japanese, payment.Policy{SelfCancel: true}, time.Time{},
			[]string{"キャンセルによる返金はありません。"}, "参加者ご自身でのキャンセルは開始までできます。"},
		{"no self cancel", i18n.Japanese, payment.Policy{Tiers: tiers[:1]}, start,
			[]string{"12月7日(月)まで: 全額返金", "それ以降: 返金なし"}, "キャンセルは主催者にお問い合わせください。"},
		{"English", i18n.English, payment.Policy{SelfCancel: true, CancelDays: 1, Tiers: tiers}, start,
			[]string{"Until Mon, Dec 7: full refund", "Until Wed, Dec 9: 50% refunded", "After that: no refund"},
			"You may cancel yourself until Wed, Dec 9."},
		{"English, days", i18n.English, payment.Policy{Tiers: tiers[1:]}, time.Time{},
			[]string{"Until 1 day before the date: 50% refunded", "After that: no refund"},
			"To cancel, please contact the organizer."},
		{"English, days, plural", i18n.English, payment.Policy{Tiers: tiers}, time.Time{},
			[]string{"Until 3 days before the date: full refund", "Until 1 day before the date: 50% refunded", "After that: no refund"},
			"To cancel, please contact the organizer."},
	}
	for _, tc := range tests {
		v := policyText(msgs, tc.lang, tc.p, tc.start, tokyo)
		if strings.Join(v.Refunds, "|") != strings.Join(tc.refunds, "|") {
			t.Errorf("%s: refunds %q, want %q", tc.name, v.Refunds, tc.refunds)
		}
		if v.SelfCancel != tc.selfCancel {
			t.Errorf("%s: self cancel %q, want %q", tc.name, v.SelfCancel, tc.selfCancel)
		}
	}
}

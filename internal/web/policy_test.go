package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/htmltest"
	"kaisai/internal/i18n"
	"kaisai/internal/payment"
	"kaisai/internal/testdb"
)

// TestEventFormRefundPolicy: a paid event's キャンセル・返金ポリシー and
// 但し書き are entered in the event form, checked by payment.Policy (the
// message on the field, nothing saved) and stored with the event.
func TestEventFormRefundPolicy(t *testing.T) {
	t.Parallel()
	a := startKaisai(t, testdb.SQLite(t))
	c := newClient(t, a)
	c.signup("返金社", "owner@refund-policy.example")

	// A new event: participants may cancel, until the start, no tier, the
	// default 但し書き as a placeholder.
	doc := c.get("/events/new").doc(t)
	if !doc.Has(`input[name="self_cancel"][value="1"][checked]`) {
		t.Errorf("a new event does not default to 参加者によるキャンセル 可")
	}
	if got := doc.First(`input[name="receipt_purpose"]`).Attr("placeholder"); got != payment.DefaultReceiptPurpose {
		t.Errorf("但し書き placeholder %q, want %q", got, payment.DefaultReceiptPurpose)
	}
	if n := len(doc.Find(`p.tier-row`)); n != payment.MaxRefundTiers {
		t.Errorf("%d tier rows, want %d", n, payment.MaxRefundTiers)
	}

	id := c.createEvent(eventSpec{Title: "有料セミナー", Paid: true, Price: 5000})
	edit := "/events/" + itoa(id) + "/edit"
	stored := func() event.Event {
		t.Helper()
		e, err := a.Store.Event(context.Background(), 1, id)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	base := func() url.Values {
		f := eventSpec{Title: "有料セミナー", Paid: true, Price: 5000}.form()
		f.Set("self_cancel", "1")
		f.Set("cancel_days", "2")
		f.Set("tier_days_0", "7")
		f.Set("tier_percent_0", "100")
		f.Set("tier_days_1", "3")
		f.Set("tier_percent_1", "50")
		return f
	}

	bad := []struct {
		name   string
		change url.Values
		field  string // the form field whose error shows
		msg    string
	}{
		{"percent 0", url.Values{"tier_percent_1": {"0"}}, "refund_tiers", ja("policy.percent_range")},
		{"percent 101", url.Values{"tier_percent_0": {"101"}}, "refund_tiers", ja("policy.percent_range")},
		{"tiers out of order", url.Values{"tier_days_0": {"3"}, "tier_days_1": {"7"}}, "refund_tiers", ja("policy.tiers_order")},
		{"same days twice", url.Values{"tier_days_1": {"7"}}, "refund_tiers", ja("policy.tiers_order")},
		{"later refunds more", url.Values{"tier_percent_0": {"50"}, "tier_percent_1": {"100"}}, "refund_tiers", ja("policy.tiers_percent")},
		{"days not a number", url.Values{"tier_days_0": {"七"}}, "refund_tiers", ja("policy.tier_number")},
		{"percent not a number", url.Values{"tier_percent_0": {"全額"}}, "refund_tiers", ja("policy.tier_number")},
		{"half a row", url.Values{"tier_days_2": {"1"}}, "refund_tiers", ja("policy.tier_number")},
		{"cancel days not a number", url.Values{"cancel_days": {"two"}}, "cancel_days", ja("policy.not_number")},
		{"cancel days too many", url.Values{"cancel_days": {"366"}}, "cancel_days", ja("policy.days_range", payment.MaxPolicyDays)},
		{"cancel days negative", url.Values{"cancel_days": {"-1"}}, "cancel_days", ja("policy.days_range", payment.MaxPolicyDays)},
		{"但し書き too long", url.Values{"receipt_purpose": {strings.Repeat("あ", payment.MaxReceiptPurposeLen+1)}}, "receipt_purpose",
			ja("validation.too_long", payment.MaxReceiptPurposeLen)},
	}
	for _, tc := range bad {
		f := base()
		for k, v := range tc.change {
			f[k] = v
		}
		r := c.post(edit, f)
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tc.name, r.Status)
			continue
		}
		// The message sits with its field, and what was typed is shown again.
		fs := r.doc(t).First("#refund-policy-fields")
		if !strings.Contains(fs.Text(), tc.msg) {
			t.Errorf("%s: %q not shown in the policy fields: %s", tc.name, tc.msg, fs.Text())
		}
		for k, v := range tc.change {
			if got := r.doc(t).First(`input[name="` + k + `"]`).Attr("value"); got != v[0] {
				t.Errorf("%s: %s shown again as %q, want %q", tc.name, k, got, v[0])
			}
		}
		if e := stored(); e.RefundTiers != "" || e.CancelDays != 0 || e.ReceiptPurpose != "" {
			t.Errorf("%s: stored anyway: %+v", tc.name, e)
		}
	}

	// Good input, full-width digits and an empty row among the rows.
	f := base()
	f.Set("self_cancel", "0")
	f.Set("cancel_days", "２")
	f.Set("tier_days_1", "")
	f.Set("tier_percent_1", "")
	f.Set("tier_days_2", "1")
	f.Set("tier_percent_2", "30%")
	f.Set("receipt_purpose", "  講座受講料として ")
	wantRedirect(t, c.post(edit, f), "/events/"+itoa(id))
	e := stored()
	if !e.SelfCancelOff || e.CancelDays != 2 || e.RefundTiers != "7:100,1:30" || e.ReceiptPurpose != "講座受講料として" {
		t.Errorf("stored policy: off=%v days=%d tiers=%q purpose=%q", e.SelfCancelOff, e.CancelDays, e.RefundTiers, e.ReceiptPurpose)
	}
	if got := payment.ReceiptPurpose(&e); got != "講座受講料として" {
		t.Errorf("ReceiptPurpose = %q", got)
	}
	// The edit form shows it back, the tiers in the first rows.
	doc = c.get(edit).doc(t)
	for name, want := range map[string]string{"cancel_days": "2", "tier_days_0": "7", "tier_percent_0": "100",
		"tier_days_1": "1", "tier_percent_1": "30", "tier_days_2": "", "receipt_purpose": "講座受講料として"} {
		if got := doc.First(`input[name="` + name + `"]`).Attr("value"); got != want {
			t.Errorf("edit form %s = %q, want %q", name, got, want)
		}
	}
	if !doc.Has(`input[name="self_cancel"][value="0"][checked]`) {
		t.Errorf("edit form does not show 参加者によるキャンセル 不可")
	}

	// English messages too.
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	f = base()
	f.Set("tier_percent_0", "101")
	wantText(t, c.post(edit, f), en("policy.percent_range"))
}

// TestRefundPolicyShown: the policy is told on the public page (in days)
// and on the application page (with the schedule's dates); a free event
// tells nothing of it.
func TestRefundPolicyShown(t *testing.T) {
	t.Parallel()
	a := startKaisai(t, testdb.SQLite(t))
	c := newClient(t, a)
	c.signup("表示社", "owner@policy-shown.example")

	id := c.createEvent(eventSpec{Title: "有料", Paid: true, Price: 4000})
	f := eventSpec{Title: "有料", Paid: true, Price: 4000}.form()
	f.Set("cancel_days", "1")
	f.Set("tier_days_0", "3")
	f.Set("tier_percent_0", "100")
	f.Set("tier_days_1", "1")
	f.Set("tier_percent_1", "50")
	wantRedirect(t, c.post("/events/"+itoa(id)+"/edit", f), "/events/"+itoa(id))
	g := c.addGroup(id, placeGroup("東京都千代田区1-1"))
	// A schedule on a known day: 60 days ahead, 13:00 Tokyo.
	sid := c.addSchedule(id, g, 10)
	pub := c.publicPath(id)

	r := c.get(pub)
	lines := texts(r.doc(t).Find("#refund-policy-lines li"))
	want := []string{ja("policy.line", ja("policy.until", ja("policy.days_before", 3)), ja("policy.refund_full")),
		ja("policy.line", ja("policy.until", ja("policy.days_before", 1)), ja("policy.refund_percent", 50)),
		ja("policy.line", ja("policy.after"), ja("policy.refund_none"))}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("public page policy lines %q, want %q", lines, want)
	}
	if got := r.doc(t).First("#self-cancel-policy").Text(); got != ja("policy.self_cancel_until", ja("policy.days_before", 1)) {
		t.Errorf("public page self-cancel %q", got)
	}

	p := newClient(t, a)
	token := p.apply(pub, sid, "山田太郎", "taro@policy-shown.example")
	r = p.get("/a/" + token)
	lines = texts(r.doc(t).Find("#refund-policy-lines li"))
	if len(lines) != 3 {
		t.Fatalf("application page policy lines %q", lines)
	}
	date := futureDay(t, 60, -3) // the last day of 全額返金: 3日前まで ends as the 2nd day before begins
	if lines[0] != ja("policy.line", ja("policy.until", date), ja("policy.refund_full")) {
		t.Errorf("application page line 1 %q, want the date %s", lines[0], date)
	}
	if got, want := r.doc(t).First("#self-cancel-policy").Text(), ja("policy.self_cancel_until", futureDay(t, 60, -1)); got != want {
		t.Errorf("application page self-cancel %q, want %q", got, want)
	}

	// The organizer's event page shows what participants are told.
	if got := texts(c.get("/events/" + itoa(id)).doc(t).Find("#refund-policy-lines li")); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("event page policy lines %q, want %q", got, want)
	}

	// Participants may not cancel themselves: ask the organizer.
	f.Set("self_cancel", "0")
	wantRedirect(t, c.post("/events/"+itoa(id)+"/edit", f), "/events/"+itoa(id))
	p.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	r = p.get("/a/" + token)
	wantText(t, r, en("policy.ask_organizer"), en("policy.title"))

	// A cancelled application has nothing left to cancel: no policy.
	other := newClient(t, a)
	gone := other.apply(pub, sid, "取消花子", "hanako@policy-shown.example")
	wantRedirect(t, other.post("/a/"+gone+"/cancel", nil), "/a/"+gone)
	if other.get("/a/" + gone).doc(t).Has("#refund-policy") {
		t.Errorf("a cancelled application's page shows the refund policy")
	}

	// A free event says nothing of refunds.
	free := c.createEvent(eventSpec{Title: "無料"})
	fg := c.addGroup(free, placeGroup("東京都千代田区1-1"))
	fs := c.addSchedule(free, fg, 10)
	fpub := c.publicPath(free)
	if c.get(fpub).doc(t).Has("#refund-policy") {
		t.Errorf("a free event's page shows a refund policy")
	}
	ft := p.apply(fpub, fs, "無料太郎", "free@policy-shown.example")
	if p.get("/a/" + ft).doc(t).Has("#refund-policy") {
		t.Errorf("a free event's application page shows a refund policy")
	}
}

// texts are the texts of nodes.
func texts(ns []htmltest.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Text()
	}
	return out
}

// futureDay is the day of futureDate(days) moved by shift days, as the
// policy names it in Japanese.
func futureDay(t *testing.T, days, shift int) string {
	t.Helper()
	d, err := time.ParseInLocation("2006-01-02", futureDate(days), tokyo)
	if err != nil {
		t.Fatal(err)
	}
	return i18n.Day(i18n.Japanese, d.AddDate(0, 0, shift), tokyo)
}

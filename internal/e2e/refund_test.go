package e2e

import (
	"strings"
	"testing"
	"time"

	"kaisai/internal/eventually"
)

// refundTimeout bounds the wait for Stripe's refund.updated to be applied:
// polled, so it costs nothing when the machine is quick; seen at over 20 s
// (River's queue wait) while CI's race-enabled packages ran beside it.
const refundTimeout = 2 * time.Minute

// Issue 18 in a real browser: the organizer's 請求情報, the participant's
// 領収書 after paying by card, and the organizer cancelling with 一部返金,
// which Stripe completes: the applicant's page, the participant's page and
// the receipt all tell the refund.
func TestPartialRefundAndReceiptInTheBrowser(t *testing.T) {
	chrome := findChrome(t)
	w := startPayWorld(t)
	// A payment test's budget, and a refund's: its webhook waits for the
	// jobs, which take their time on a loaded machine.
	browserCtx := startBrowserWithin(t, chrome, payTimeout+refundTimeout)
	org := newTab(t, browserCtx, "organizer", w.kaisai.URL())
	p := newTab(t, browserCtx, "participant", w.kaisai.URL())
	ev := setUpPaidZoomEvent(t, org, 10, false)

	// 請求情報: the issuer of the receipts, a 法人 with its 登録番号 typed
	// full-width.
	org.open("/settings/billing", `^/settings/billing$`)
	org.fill(`#billing-form input[name="billing_name"]`, "株式会社セミナー運営")
	org.click(`#billing-form input[name="registrant"][value="corporate"]`)
	org.fill(`#billing-form input[name="registration_number"]`, "Ｔ７０００－０１２０５－０００２")
	org.follow("save 請求情報", `#billing-form button[type="submit"]`, `^/settings/billing$`)
	if got := org.eval(`document.querySelector('#billing-form input[name="registration_number"]').value`); got != "T7000012050002" {
		t.Fatalf("organizer: the saved 登録番号 reads %q, want T7000012050002%s", got, org.page())
	}

	const email = "refund@pay-e2e.example"
	ev.apply(p, "返金 花子", email, checkoutPath)
	token := payByCard(p, "4242 4242 4242 4242", 200, appPath)[1]
	if got := p.text("#payment-status"); got != "入金済" {
		t.Fatalf("participant: after paying the payment reads %q, want 入金済%s", got, p.page())
	}

	// The participant issues the 領収書 with a 宛名.
	p.follow("open the 領収書", "#receipt-link", `^/a/[^/]+/receipt$`)
	p.setValue(`#issue-form input[name="addressee"]`, "株式会社参加") // it holds 上様 until changed
	p.follow("issue the 領収書", "#issue-receipt", `^/a/[^/]+/receipt$`)
	mustSee(t, p, "#receipt-title", "領収書")
	mustSee(t, p, "#receipt-addressee", "株式会社参加")
	mustSee(t, p, "#receipt-amount", "¥3,000")
	mustSee(t, p, "#receipt-tax", "272")
	mustSee(t, p, "#receipt-registration", "T7000012050002")
	mustSee(t, p, "#receipt-issuer", "株式会社セミナー運営")
	if p.exists("#receipt-reissued") {
		t.Fatalf("participant: the first issue says 再発行%s", p.page())
	}

	// The organizer cancels with 一部返金 ¥1,000 from 申込者一覧.
	org.open(ev.eventPath+"/applications", `^/events/\d+/applications$`)
	org.follow("open the cancel form", "a.cancel-refund", `^/events/\d+/applications/\d+/cancel$`)
	mustSee(t, org, "#refund-paid", "3,000円")
	mustSee(t, org, "#refund-refundable", "3,000円")
	org.click(`#cancel-form input[name="refund"][value="partial"]`)
	org.fill(`#cancel-form input[name="refund_amount"]`, "1000")
	org.follow("cancel with 一部返金", "#cancel-submit", `^/events/\d+/applications`)

	// Stripe completes the refund after a while (the simulator: 10 s).
	w.advance(t, 11*time.Second)
	m := org.open(ev.eventPath+"/applications", `^/events/(\d+)/applications$`)
	applicant := org.attr(`a[href^="/events/`+m[1]+`/applications/"]:not(.cancel-refund)`, "href")
	defer func() {
		if t.Failed() {
			t.Logf("organizer at %s:%s", applicant, org.page())
		}
	}()
	eventually.Within(t, refundTimeout, "organizer: the refund 返金済 on the applicant's page", func() bool {
		org.open(applicant, `^/events/\d+/applications/\d+$`)
		return org.exists(`#refunds .refund[data-status="succeeded"]`)
	})
	mustSee(t, org, "#refunds .refund-amount", "1,000円")
	mustSee(t, org, "#refunds", "返金済")

	// The participant's page and the receipt tell the refund.
	p.open("/a/"+token, appPath)
	mustSee(t, p, "#application-status", "キャンセル")
	mustSee(t, p, `#refunds .refund[data-status="succeeded"]`, "1,000")
	p.open("/a/"+token+"/receipt", `^/a/[^/]+/receipt$`)
	mustSee(t, p, "#receipt-refunds", "1,000")
	if got := p.text("#receipt-amount"); !strings.Contains(got, "¥3,000") {
		t.Fatalf("participant: after the refund the receipt's amount reads %q, want the ¥3,000 paid", got)
	}
}

package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"kaisai/internal/eventually"
)

// Issue 17's proof in a real browser: a participant of a paid event whose
// Zoom group has 登録 ON pays on the Stripe simulator's hosted Checkout
// page, with its real forms, and comes back to kaisai. The registrant
// appears on the Zoom simulator only once the payment is made.

// The simulator's Checkout page and what kaisai's pages are at.
const (
	checkoutPath = `^/c/pay/(cs_test_[A-Za-z0-9]+)$`
	appPath      = `^/a/([^/]+)$`
	// payTimeout bounds a payment test: the organizer's setup, a meeting
	// on Zoom, one or two participants paying.
	payTimeout  = 6 * time.Minute
	cardForm    = `form:has(input[name="method"][value="card"])`
	konbiniForm = `form:has(input[name="method"][value="konbini"])`
)

// payByCard pays on the Checkout page with the card number given and
// returns the path landed on, which must match wantPath with wantStatus.
func payByCard(p *tab, number string, wantStatus int64, wantPath string) []string {
	p.t.Helper()
	p.fill(cardForm+` input[name="card"]`, number)
	return p.followStatus("pay "+number+" on the Checkout page", cardForm+" button", wantStatus, wantPath)
}

// checkCheckoutPage checks the participant is on the simulator's Checkout
// page for ¥3,000 offering the methods named.
func checkCheckoutPage(t *testing.T, p *tab, methods ...string) {
	t.Helper()
	if got := p.text("h1"); got != "お支払い" {
		t.Fatalf("%s: the Checkout page's heading is %q, want お支払い%s", p.who, got, p.page())
	}
	if got := p.text("table"); !strings.Contains(got, "¥3,000") {
		t.Fatalf("%s: the Checkout page reads %q, want the total ¥3,000", p.who, got)
	}
	legends := p.texts("fieldset legend")
	for _, m := range methods {
		if !strings.Contains(strings.Join(legends, " "), m) {
			t.Fatalf("%s: the Checkout page offers %q, want %s among them", p.who, legends, m)
		}
	}
}

// checkPaid checks the application page, just back from Stripe, shows
// the application 入金済 with the method, and then, once kaisai has
// registered the participant on Zoom, the join button.
func checkPaid(t *testing.T, p *tab, token, method string) {
	t.Helper()
	if got := p.text("#application-status"); got != "申込済" {
		t.Fatalf("%s: after paying the application is %q, want 申込済%s", p.who, got, p.page())
	}
	if got := p.text("#payment-status"); got != "入金済" {
		t.Fatalf("%s: after paying the payment reads %q, want 入金済%s", p.who, got, p.page())
	}
	if got := p.text("#paid-via"); got != method {
		t.Fatalf("%s: paid via %q, want %s", p.who, got, method)
	}
	mustSee(t, p, "#payment h2", "お支払い")
	mustSee(t, p, "#payment", "お支払い方法: "+method)
	if p.exists("#pay-button") {
		t.Fatalf("%s: the paid application still offers 「お支払いへ進む」", p.who)
	}
	reloadUntil(t, p, token, "the join button", "#join-button")
	if got := p.text("#join-button"); got != "Zoomに参加する" {
		t.Fatalf("%s: the join button reads %q, want Zoomに参加する", p.who, got)
	}
}

// mustSee checks the element sel is shown on screen (not hidden, not of
// zero size) and its text holds want: labels in Japanese a person reads.
func mustSee(t *testing.T, p *tab, sel, want string) {
	t.Helper()
	p.mustExist("see "+sel, sel)
	shown := p.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%s); const r = e.getBoundingClientRect();
		return e.checkVisibility({visibilityProperty: true, opacityProperty: true}) && r.width > 0 && r.height > 0 ? "yes" : "no" })()`, jsString(sel)))
	if shown != "yes" {
		t.Fatalf("%s: %s is on the page but not shown%s", p.who, sel, p.page())
	}
	if got := p.text(sel); !strings.Contains(got, want) {
		t.Fatalf("%s: %s reads %q, want %s in it", p.who, sel, got, want)
	}
}

// reloadUntil reloads the application's page until it has sel: what the
// jobs change shows on the next load.
func reloadUntil(t *testing.T, p *tab, token, what, sel string) {
	t.Helper()
	defer func() {
		if t.Failed() {
			t.Logf("%s: the application page:%s\n  its payment part: %s", p.who, p.page(),
				p.eval(`document.querySelector("#payment")?.innerText.replace(/\s+/g, " ") ?? "(none)"`))
		}
	}()
	eventually.Within(t, meetingTimeout, p.who+": "+what+" on the application page", func() bool {
		p.open("/a/"+token, appPath)
		return p.exists(sel)
	})
}

// reloadUntilText reloads the application's page until sel reads want.
func reloadUntilText(t *testing.T, p *tab, token, what, sel, want string) {
	t.Helper()
	eventually.Within(t, meetingTimeout, p.who+": "+what, func() bool {
		p.open("/a/"+token, appPath)
		return p.exists(sel) && p.text(sel) == want
	})
}

// TestPayByCardInTheBrowser: the participant applies, is sent to Stripe's
// page, pays with 4242 4242 4242 4242 and comes back to 入金済 and the join
// button; Zoom has the registrant only after the payment.
func TestPayByCardInTheBrowser(t *testing.T) {
	chrome := findChrome(t)
	w := startPayWorld(t)
	browserCtx := startBrowserWithin(t, chrome, payTimeout)
	org := newTab(t, browserCtx, "organizer", w.kaisai.URL())
	p := newTab(t, browserCtx, "participant", w.kaisai.URL())
	ev := setUpPaidZoomEvent(t, org, 10, false)

	const email = "card@pay-e2e.example"
	cs := ev.apply(p, "カード 花子", email, checkoutPath)[1]
	checkCheckoutPage(t, p, "カード", "コンビニ")
	w.waitOnZoom(t) // applied, unpaid: nobody on Zoom

	// The participant leaves Stripe's page for kaisai's, unpaid, and
	// comes back through 「お支払いへ進む」 to the same session.
	p.follow("leave the Checkout page (戻る)", `a[href*="/a/"]`, appPath)
	if got := p.text("#payment-status"); got != "未入金" {
		t.Fatalf("participant: back unpaid, the payment reads %q, want 未入金", got)
	}
	mustSee(t, p, "#payment", "お支払い期限")
	mustSee(t, p, "#pay-button", "お支払いへ進む")
	if again := p.follow("click お支払いへ進む", "#pay-button", checkoutPath)[1]; again != cs {
		t.Fatalf("participant: 「お支払いへ進む」 opened session %s, want the first one %s", again, cs)
	}

	m := payByCard(p, "4242 4242 4242 4242", 200, appPath)
	if got := p.text(".flash"); !strings.Contains(got, "お支払いが完了しました") {
		t.Fatalf("participant: back from Stripe the page says %q, want お支払いが完了しました%s", got, p.page())
	}
	checkPaid(t, p, m[1], "カード")
	w.waitOnZoom(t, email)
}

// TestPayDeclinedThenPaidInTheBrowser: a declined card says so on Stripe's
// page and leaves it open; the next card pays. A second participant pays
// with a card that asks for 3-D Secure: failing it says so, passing it
// pays.
func TestPayDeclinedThenPaidInTheBrowser(t *testing.T) {
	chrome := findChrome(t)
	w := startPayWorld(t)
	browserCtx := startBrowserWithin(t, chrome, payTimeout)
	org := newTab(t, browserCtx, "organizer", w.kaisai.URL())
	p := newTab(t, browserCtx, "participant", w.kaisai.URL())
	q := newTab(t, browserCtx, "3-D Secure participant", w.kaisai.URL())
	ev := setUpPaidZoomEvent(t, org, 10, false)

	const email, email3ds = "declined@pay-e2e.example", "secure@pay-e2e.example"
	first := ev.apply(p, "拒否 一郎", email, checkoutPath)
	payByCard(p, "4000 0000 0000 0002", 402, `^/c/pay/`+regexp.QuoteMeta(first[1])+`$`)
	if got := p.text(".err"); !strings.Contains(got, "カードが拒否されました") {
		t.Fatalf("participant: after a declined card the Checkout page says %q, want カードが拒否されました", got)
	}
	checkCheckoutPage(t, p, "カード")
	w.waitOnZoom(t) // declined: nobody on Zoom
	back := payByCard(p, "4242 4242 4242 4242", 200, appPath)
	checkPaid(t, p, back[1], "カード")
	w.waitOnZoom(t, email)

	// 3-D Secure: failed, then passed.
	cs := ev.apply(q, "認証 次郎", email3ds, checkoutPath)
	payByCard(q, "4000 0000 0000 3220", 200, `^/c/3ds/`+regexp.QuoteMeta(cs[1])+`$`)
	if got := q.text("h1"); got != "3D セキュア認証" {
		t.Fatalf("%s: the 3-D Secure page's heading is %q", q.who, got)
	}
	q.followStatus("fail 3-D Secure", `button[name="ok"][value="false"]`, 402, `^/c/3ds/`+regexp.QuoteMeta(cs[1])+`$`)
	if got := q.text(".err"); !strings.Contains(got, "3D セキュア認証に失敗しました") {
		t.Fatalf("%s: after failing 3-D Secure the page says %q", q.who, got)
	}
	w.waitOnZoom(t, email)
	payByCard(q, "4000 0000 0000 3220", 200, `^/c/3ds/`)
	back = q.follow("pass 3-D Secure", `button[name="ok"][value="true"]`, appPath)
	checkPaid(t, q, back[1], "カード")
	w.waitOnZoom(t, email, email3ds)
}

// TestPayKonbiniLaterInTheBrowser: the participant takes a konbini voucher
// on Stripe's page and goes back to kaisai, whose page shows the voucher's
// number; the money arrives later (paid on the simulator's own page) and
// the application page turns 入金済, the registrant on Zoom.
func TestPayKonbiniLaterInTheBrowser(t *testing.T) {
	chrome := findChrome(t)
	w := startPayWorld(t)
	browserCtx := startBrowserWithin(t, chrome, payTimeout)
	org := newTab(t, browserCtx, "organizer", w.kaisai.URL())
	p := newTab(t, browserCtx, "participant", w.kaisai.URL())
	ev := setUpPaidZoomEvent(t, org, 10, false)

	const email = "konbini@pay-e2e.example"
	ev.apply(p, "コンビニ 三郎", email, checkoutPath)
	v := p.followStatus("issue a konbini voucher", konbiniForm+" button", 200, `^/c/voucher/(pi_[A-Za-z0-9]+)$`)
	intent := v[1]
	number := p.text("table code")
	if p.text("h1") != "コンビニでのお支払い" || number == "" {
		t.Fatalf("participant: the voucher page shows %q, number %q%s", p.text("h1"), number, p.page())
	}
	back := p.follow("go back to kaisai from the voucher", `a[href*="/paid?session_id="]`, appPath)
	token := back[1]
	if got := p.text("#voucher-number"); got != number {
		t.Fatalf("participant: kaisai shows the voucher number %q, want %s", got, number)
	}
	mustSee(t, p, "#konbini-voucher h3", "コンビニでのお支払い")
	mustSee(t, p, "#konbini-voucher", "確認番号")
	mustSee(t, p, "#voucher-number", number)
	mustSee(t, p, "#payment", "お支払い期限")
	if got := p.text("#payment-status"); got != "未入金" {
		t.Fatalf("participant: with a voucher awaited the payment reads %q, want 未入金", got)
	}
	if p.exists("#pay-button") {
		t.Fatalf("participant: with a voucher awaited the page offers 「お支払いへ進む」 again")
	}
	w.waitOnZoom(t) // not paid yet: nobody on Zoom

	// The voucher is paid at a Lawson: the simulator's own page.
	sim := newTab(t, browserCtx, "simulator operator", w.stripe.BaseURL())
	sim.open("/", `^/$`)
	payForm := `form[action="/_ui/payment_intents/` + intent + `/pay"]`
	sim.setValue(payForm+` select[name="store"]`, "lawson")
	sim.follow("pay the voucher at a Lawson", payForm+" button", `^/$`)
	if got := sim.text(".msg"); got != "入金しました。" {
		t.Fatalf("simulator: paying the voucher says %q", got)
	}

	reloadUntilText(t, p, token, "the payment to read 入金済", "#payment-status", "入金済")
	checkPaid(t, p, token, "コンビニ")
	w.waitOnZoom(t, email)
}

// TestPayKonbiniLapsedInTheBrowser: one seat, キャンセル待ち on. The first
// participant takes a voucher and never pays; the second is waitlisted.
// Past the 支払期限 the first application is キャンセル and the second
// 申込済 with 「お支払いへ進む」; nobody is on Zoom until the second pays.
func TestPayKonbiniLapsedInTheBrowser(t *testing.T) {
	chrome := findChrome(t)
	w := startPayWorld(t)
	browserCtx := startBrowserWithin(t, chrome, payTimeout)
	org := newTab(t, browserCtx, "organizer", w.kaisai.URL())
	p := newTab(t, browserCtx, "late participant", w.kaisai.URL())
	q := newTab(t, browserCtx, "waiting participant", w.kaisai.URL())
	ev := setUpPaidZoomEvent(t, org, 1, true)

	const lateEmail, waitingEmail = "late@pay-e2e.example", "waiting@pay-e2e.example"
	ev.apply(p, "遅い 四郎", lateEmail, checkoutPath)
	p.followStatus("issue a konbini voucher", konbiniForm+" button", 200, `^/c/voucher/pi_[A-Za-z0-9]+$`)
	late := p.follow("go back to kaisai from the voucher", `a[href*="/paid?session_id="]`, appPath)[1]
	if !p.exists("#voucher-number") {
		t.Fatalf("participant: kaisai shows no voucher%s", p.page())
	}
	due := p.text("#payment-due")

	waiting := ev.apply(q, "待つ 五郎", waitingEmail, appPath)[1]
	if got := q.text("#application-status"); got != "キャンセル待ち" {
		t.Fatalf("%s: the second application is %q, want キャンセル待ち", q.who, got)
	}
	if q.exists("#payment") {
		t.Fatalf("%s: a waitlisted application shows a payment section: %q", q.who, q.text("#payment"))
	}
	w.waitOnZoom(t)

	// Past the deadline on both clocks.
	a, err := w.kaisai.Store.ApplicationByToken(t.Context(), late)
	if err != nil {
		t.Fatal(err)
	}
	w.advance(t, time.Until(a.PaymentDueAt)+time.Minute)
	reloadUntilText(t, p, late, "the lapsed application to read キャンセル (due "+due+")", "#application-status", "キャンセル")
	if p.exists("#payment") {
		t.Fatalf("%s: the cancelled application still shows a payment section: %q", p.who, p.text("#payment"))
	}
	if got := p.text("#online-url"); got != "キャンセルされた申込のため、表示されません。" {
		t.Fatalf("%s: the cancelled application's 参加URL reads %q, want that it is not shown as the application was cancelled", p.who, got)
	}
	reloadUntilText(t, q, waiting, "the waitlisted application to be promoted to 申込済", "#application-status", "申込済")
	if got := q.text("#payment-status"); got != "未入金" {
		t.Fatalf("%s: the promoted application's payment reads %q, want 未入金", q.who, got)
	}
	if got := q.text("#pay-button"); got != "お支払いへ進む" {
		t.Fatalf("%s: the pay button reads %q, want お支払いへ進む", q.who, got)
	}
	mustSee(t, q, "#pay-button", "お支払いへ進む")
	mustSee(t, q, "#payment", "お支払い期限")
	w.waitOnZoom(t) // nobody paid

	q.follow("click お支払いへ進む", "#pay-button", checkoutPath)
	back := payByCard(q, "4242 4242 4242 4242", 200, appPath)
	checkPaid(t, q, back[1], "カード")
	w.waitOnZoom(t, waitingEmail)
}

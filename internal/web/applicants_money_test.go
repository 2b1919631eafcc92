package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"kaisai/internal/i18n"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// payments is a second store on kaisai's database, through which the test
// writes what the payment flow would: payments rows, and Stripe's word.
type payments struct {
	t  *testing.T
	st *store.Store
}

func openPayments(t *testing.T, db testdb.DB) payments {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{DatabaseURL: db.DatabaseURL, DataDir: db.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return payments{t: t, st: st}
}

// insert writes a payments row of the application, as BeginCheckout and
// CheckoutCreated would.
func (p payments) insert(applicationID int64, attempt int, status payment.Status, method payment.Method, cs, instructions string) int64 {
	p.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	var id int64
	err := p.st.Tx(ctx, func(tx *store.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO payments (org_id, event_id, application_id, connection_id, attempt,
			idempotency_key, status, amount, session_id, url, expires_at, method, instructions, created_at, updated_at)
			SELECT a.org_id, a.event_id, a.id, 1, $1, $2, $3, 3000, $4, 'https://checkout.example/', $5, $6, $7, $8, $8
			FROM applications a WHERE a.id = $9 RETURNING id`,
			attempt, fmt.Sprintf("key-%d-%d", applicationID, attempt), status, cs, now.Add(time.Hour), method,
			instructions, now, applicationID).Scan(&id)
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return id
}

// paid has Stripe confirm session cs, of amount yen, by method.
func (p payments) paid(cs string, amount int64, method payment.Method) {
	p.t.Helper()
	_, err := p.st.ObservePayment(context.Background(), 1, payment.Observation{SessionID: cs, SessionStatus: "complete",
		PaymentStatus: "paid", Amount: amount, Currency: "jpy", PaymentIntentID: "pi_" + strings.TrimPrefix(cs, "cs_"),
		Method: method})
	if err != nil {
		p.t.Fatal(err)
	}
}

func TestOrganizerSeesMoney(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	a := startKaisai(t, db)
	pays := openPayments(t, db)
	owner := newClient(t, a)
	owner.signup("入金主催", "money-owner@example.com")
	eventID := owner.createEvent(eventSpec{Title: "有料講座", Paid: true, Price: 3000})
	groupID := owner.addGroup(eventID, placeGroup("東京都港区1-1"))
	scheduleID := owner.addSchedule(eventID, groupID, 10)
	public := owner.publicPath(eventID)
	for _, who := range []string{"card", "konbini", "unpaid", "manual", "late", "wrong"} {
		newClient(t, a).apply(public, scheduleID, who+"さん", who+"@example.com")
	}
	id := map[string]int64{}
	for _, row := range owner.applications(eventID) {
		id[strings.TrimSuffix(row.Email, "@example.com")] = row.ID
	}
	appPath := func(who string) string { return fmt.Sprintf("/events/%d/applications/%d", eventID, id[who]) }
	eventPath := fmt.Sprintf("/events/%d", eventID)

	pays.insert(id["card"], 1, payment.StatusExpired, "", "cs_card0", "")
	pays.insert(id["card"], 2, payment.StatusOpen, "", "cs_card", "")
	pays.paid("cs_card", 3000, payment.MethodCard)
	voucherExpires := time.Now().Add(72 * time.Hour).Truncate(time.Minute)
	pays.insert(id["konbini"], 1, payment.StatusPending, payment.MethodKonbini, "cs_konbini",
		fmt.Sprintf(`{"Number":"123456","ExpiresAt":%q}`, voucherExpires.UTC().Format(time.RFC3339)))
	wantRedirect(t, owner.post(appPath("manual")+"/payment", url.Values{"payment": {"paid"}}), fmt.Sprintf("/events/%d/applications", eventID))
	wantRedirect(t, owner.post(appPath("late")+"/cancel", nil), fmt.Sprintf("/events/%d/applications", eventID))
	latePay := pays.insert(id["late"], 1, payment.StatusOpen, "", "cs_late", "")
	pays.paid("cs_late", 3000, payment.MethodKonbini)
	wrongPay := pays.insert(id["wrong"], 1, payment.StatusOpen, "", "cs_wrong", "")
	pays.paid("cs_wrong", 2000, payment.MethodCard)

	// 申込者一覧: how each was paid, the 支払期限, the voucher awaited.
	list := owner.get(fmt.Sprintf("/events/%d/applications", eventID))
	wantStatus(t, list, http.StatusOK)
	cell := func(who string) string {
		return rowByEmail(t, list, who+"@example.com").node.First("td.payment-cell").Text()
	}
	for _, c := range []struct {
		who  string
		want []string
		not  []string
	}{
		{"card", []string{ja("payment.paid"), ja("payment.method.card")}, []string{"支払期限"}},
		{"manual", []string{ja("payment.paid"), ja("payment.method.manual")}, nil},
		{"unpaid", []string{ja("payment.unpaid"), "支払期限"}, []string{ja("applications.awaiting")}},
		{"konbini", []string{ja("applications.awaiting"), ja("payment.method.konbini"),
			ja("applications.voucher_expires", i18n.DateTime(i18n.Japanese, voucherExpires, tokyo))}, nil},
	} {
		got := cell(c.who)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s's 入金状況 %q lacks %q", c.who, got, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(got, w) {
				t.Errorf("%s's 入金状況 %q has %q", c.who, got, w)
			}
		}
	}
	// Filtered by 入金状況.
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{"paid", []string{"card", "manual"}},
		{"awaiting", []string{"konbini"}},
		{"unpaid", []string{"konbini", "unpaid", "wrong"}},
	} {
		r := owner.get(fmt.Sprintf("/events/%d/applications?payment=%s", eventID, c.filter))
		wantStatus(t, r, http.StatusOK)
		var got []string
		for _, row := range listRows(t, r) {
			got = append(got, strings.TrimSuffix(row.Email, "@example.com"))
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("filter %s: %v, want %v", c.filter, got, c.want)
		}
	}

	// The CSV's payment columns.
	r := owner.get(fmt.Sprintf("/events/%d/applications.csv", eventID))
	wantStatus(t, r, http.StatusOK)
	recs := readCSV(t, []byte(r.Body)[3:])
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	byEmail := map[string][]string{}
	for _, rec := range recs[1:] {
		byEmail[strings.TrimSuffix(rec[col[ja("field.email")]], "@example.com")] = rec
	}
	card := byEmail["card"]
	if card[col[ja("csv.paid_via")]] != ja("payment.method.card") || card[col[ja("csv.payment_intent")]] != "pi_card" ||
		card[col[ja("csv.paid_at")]] == "" || card[col[ja("csv.payment_due")]] != "" {
		t.Errorf("card row %q", card)
	}
	if m := byEmail["manual"]; m[col[ja("csv.paid_via")]] != ja("payment.method.manual") || m[col[ja("csv.payment_intent")]] != "" {
		t.Errorf("manual row %q", m)
	}
	if u := byEmail["unpaid"]; u[col[ja("csv.payment_due")]] == "" || u[col[ja("csv.paid_via")]] != "" {
		t.Errorf("unpaid row %q", u)
	}

	// The event page: totals and 要対応.
	ev := owner.get(eventPath)
	wantStatus(t, ev, http.StatusOK)
	doc := ev.doc(t)
	wantEqual(t, "入金済", doc.First("#money-paid").Text(), ja("money.count", 2)+" "+i18n.Yen(i18n.Japanese, 6000))
	wantEqual(t, "未入金", doc.First("#money-unpaid").Text(), ja("money.count", 3))
	wantEqual(t, "支払待ち", doc.First("#money-awaiting").Text(), ja("money.count", 1))
	problems := doc.Find("#payment-problems tr.payment-problem")
	if len(problems) != 2 || problems[0].Attr("data-problem") != "after_cancel" || problems[1].Attr("data-problem") != "mismatch" {
		t.Fatalf("要対応: %d rows", len(problems))
	}
	if txt := problems[0].Text(); !strings.Contains(txt, "lateさん") || !strings.Contains(txt, "pi_late") || !strings.Contains(txt, "cs_late") {
		t.Errorf("after_cancel row %q", txt)
	}
	if problems[1].First("form.reinstate").Attr("action") != "" {
		t.Errorf("a wrong amount offers 参加に戻す")
	}

	// Another organization can settle nothing.
	other := newClient(t, a)
	other.signup("他の主催", "money-other@example.com")
	wantStatus(t, other.post(fmt.Sprintf("/events/%d/payments/%d/reinstate", eventID, latePay), url.Values{"back": {eventPath}}), http.StatusNotFound)

	// 参加に戻す from the event page.
	r = owner.post(fmt.Sprintf("/events/%d/payments/%d/reinstate", eventID, latePay), url.Values{"back": {eventPath}})
	wantRedirect(t, r, eventPath)
	late := owner.get(appPath("late"))
	wantEqual(t, "reinstated status", late.doc(t).First("#detail-status").Text(), ja("application_status.applied"))
	if got := late.doc(t).First("#detail-payment").Text(); !strings.Contains(got, ja("payment.paid")) || !strings.Contains(got, ja("payment.method.konbini")) {
		t.Errorf("reinstated 入金状況 %q", got)
	}
	hist := fmt.Sprint(history(t, late))
	for _, w := range []string{ja("activity.reinstated") + ": stripe pi_late cs_late", ja("activity.paid") + ": stripe pi_late cs_late"} {
		if !strings.Contains(hist, w) {
			t.Errorf("history %s lacks %q", hist, w)
		}
	}
	// 対応済みにする from the applicant's page.
	r = owner.post(fmt.Sprintf("/events/%d/payments/%d/resolve", eventID, wrongPay), url.Values{"back": {appPath("wrong")}})
	wantRedirect(t, r, appPath("wrong"))
	if hist := fmt.Sprint(history(t, owner.get(appPath("wrong")))); !strings.Contains(hist, ja("activity.payment_resolved")) {
		t.Errorf("history %s lacks the resolution", hist)
	}
	ev = owner.get(eventPath)
	if n := len(ev.doc(t).Find("#payment-problems")); n != 0 {
		t.Errorf("要対応 still shown after both settled")
	}
	wantEqual(t, "入金済 after 参加に戻す", ev.doc(t).First("#money-paid").Text(), ja("money.count", 3)+" "+i18n.Yen(i18n.Japanese, 9000))

	// The applicant's page lists the attempts.
	cp := owner.get(appPath("card"))
	var statuses []string
	for _, tr := range cp.doc(t).Find("#payments tr.payment") {
		statuses = append(statuses, tr.Attr("data-status"))
	}
	if !slices.Equal(statuses, []string{"expired", "paid"}) {
		t.Errorf("card's attempts: %v", statuses)
	}
	if txt := cp.doc(t).First("#payments").Text(); !strings.Contains(txt, "pi_card") || !strings.Contains(txt, "cs_card") {
		t.Errorf("attempts table %q lacks the Stripe ids", txt)
	}
}

package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"kaisai/internal/i18n"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// refund writes a refunds row of the payment, as the refund flow would.
func (p payments) refund(paymentID int64, attempt int, status payment.RefundStatus, amount int64) {
	p.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Add(time.Duration(attempt) * time.Second)
	err := p.st.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO refunds (org_id, event_id, application_id, payment_id, connection_id,
			attempt, idempotency_key, status, amount, created_at, updated_at)
			SELECT p.org_id, p.event_id, p.application_id, p.id, p.connection_id, $1, $2, $3, $4, $5, $5
			FROM payments p WHERE p.id = $6`,
			attempt, fmt.Sprintf("refund-%d-%d", paymentID, attempt), status, amount, now, paymentID)
		return err
	})
	if err != nil {
		p.t.Fatal(err)
	}
}

// TestRefundsInCSVAndTotals: the CSV's 返金額 (what succeeded) and 返金状況
// (the latest refund's), and the event page's 入金額, 返金額 and 差引.
func TestRefundsInCSVAndTotals(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	a := startKaisai(t, db)
	pays := openPayments(t, db)
	owner := newClient(t, a)
	owner.signup("返金主催", "refund-owner@example.com")
	eventID := owner.createEvent(eventSpec{Title: "有料講座", Paid: true, Price: 3000})
	groupID := owner.addGroup(eventID, placeGroup("東京都港区1-1"))
	scheduleID := owner.addSchedule(eventID, groupID, 10)
	public := owner.publicPath(eventID)
	who := []string{"full", "partial", "konbini", "failed", "kept"}
	for _, w := range who {
		newClient(t, a).apply(public, scheduleID, w+"さん", w+"@example.com")
	}
	id := map[string]int64{}
	for _, row := range owner.applications(eventID) {
		id[strings.TrimSuffix(row.Email, "@example.com")] = row.ID
	}
	payID := map[string]int64{}
	for _, w := range who {
		payID[w] = pays.insert(id[w], 1, payment.StatusOpen, "", "cs_"+w, "")
		pays.paid("cs_"+w, 3000, payment.MethodCard)
	}
	pays.refund(payID["full"], 1, payment.RefundFailed, 3000)
	pays.refund(payID["full"], 2, payment.RefundSucceeded, 3000)
	pays.refund(payID["partial"], 1, payment.RefundSucceeded, 1000)
	pays.refund(payID["partial"], 2, payment.RefundPending, 500)
	pays.refund(payID["konbini"], 1, payment.RefundRequiresAction, 3000)
	pays.refund(payID["failed"], 1, payment.RefundCanceled, 3000)

	r := owner.get(fmt.Sprintf("/events/%d/applications.csv", eventID))
	wantStatus(t, r, http.StatusOK)
	recs := readCSV(t, []byte(r.Body)[3:])
	n := len(recs[0])
	if got := recs[0][n-2:]; got[0] != ja("csv.refunded") || got[1] != ja("csv.refund_status") {
		t.Fatalf("the last columns are %q, want 返金額 and 返金状況", got)
	}
	byEmail := map[string][]string{}
	for _, rec := range recs[1:] {
		byEmail[strings.TrimSuffix(rec[2], "@example.com")] = rec[n-2:]
	}
	for w, want := range map[string][2]string{
		"full":    {"3000", ja("refund_phase.refunded")},
		"partial": {"1000", ja("refund_phase.refunding")},
		"konbini": {"0", ja("refund_phase.refunding")},
		"failed":  {"0", ja("refund_phase.refund_failed")},
		"kept":    {"", ""},
	} {
		if got := byEmail[w]; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s: 返金額, 返金状況 = %q, want %q", w, got, want)
		}
	}

	doc := owner.get(fmt.Sprintf("/events/%d", eventID)).doc(t)
	yen := func(n int64) string { return i18n.Yen(i18n.Japanese, n) }
	wantEqual(t, "入金額", doc.First("#money-received").Text(), yen(15000))
	wantEqual(t, "返金額", doc.First("#money-refunded").Text(), yen(4000)+" ("+ja("money.refunding", yen(3500))+")")
	wantEqual(t, "差引", doc.First("#money-net").Text(), yen(11000))

	// English labels.
	owner.post("/lang", map[string][]string{"lang": {"en"}, "next": {"/"}})
	r = owner.get(fmt.Sprintf("/events/%d/applications.csv", eventID))
	recs = readCSV(t, []byte(r.Body)[3:])
	if got := recs[0][len(recs[0])-1]; got != en("csv.refund_status") {
		t.Errorf("English header %q", got)
	}
}

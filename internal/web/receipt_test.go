package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/testdb"
)

// TestReceiptPages: the participant of a paid application issues the
// 領収書 on their private page (宛名 empty: 上様), sees it with the
// インボイス items, re-issues it to another 宛名 (再発行); an unpaid or free
// application is refused with the reason, a wrong link is a 404; the
// organizer reads it from the applicant's page; the 入金完了 mail links it.
func TestReceiptPages(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	a := startKaisai(t, db)
	ctx := context.Background()
	owner := newClient(t, a)
	owner.signup("領収書の会", "receipt-owner@example.com")
	eventID := owner.createEvent(eventSpec{Title: "有料講座", Paid: true, Price: 3000})
	groupID := owner.addGroup(eventID, placeGroup("東京都港区1-1"))
	scheduleID := owner.addSchedule(eventID, groupID, 10)
	participant := newClient(t, a)
	token := participant.apply(owner.publicPath(eventID), scheduleID, "領収 花子", "hanako@example.com")
	receiptPath := "/a/" + token + "/receipt"
	rows := owner.applications(eventID)
	appPath := fmt.Sprintf("/events/%d/applications/%d", eventID, rows[0].ID)
	if _, err := a.Store.WriteDB().ExecContext(ctx, `UPDATE organizations SET billing_name = $1, billing_address = $2,
		billing_registration = $3`, "株式会社かいさい", "東京都千代田区丸の内1-1", "T7000012050002"); err != nil {
		t.Fatal(err)
	}

	// Unpaid: no link, and the page and the form refuse with the reason.
	if r := participant.get("/a/" + token); r.doc(t).Has("#receipt-link") {
		t.Fatalf("an unpaid application links a receipt: %s", r)
	}
	r := participant.get(receiptPath)
	wantStatus(t, r, http.StatusConflict)
	wantText(t, r, ja("receipt.not_paid"))
	r = participant.post(receiptPath, url.Values{"addressee": {"山田"}})
	wantStatus(t, r, http.StatusConflict)
	wantText(t, r, ja("receipt.not_paid"))
	// A wrong link is no page.
	wantStatus(t, participant.get("/a/no-such-token/receipt"), http.StatusNotFound)
	wantStatus(t, participant.post("/a/no-such-token/receipt", url.Values{"addressee": {"山田"}}), http.StatusNotFound)

	wantRedirect(t, owner.post(appPath+"/payment", url.Values{"payment": {"paid"}}), fmt.Sprintf("/events/%d/applications", eventID))

	// 入金済: the application page links the receipt, whose form offers 上様.
	r = participant.get("/a/" + token)
	if got := r.doc(t).First("#receipt-link").Attr("href"); got != receiptPath {
		t.Fatalf("the paid application's receipt link is %q, want %s: %s", got, receiptPath, r)
	}
	r = participant.get(receiptPath)
	wantStatus(t, r, http.StatusOK)
	doc := r.doc(t)
	if !doc.Has(`#issue-form[action="`+receiptPath+`"]`) || doc.First(`#issue-form input[name="addressee"]`).Attr("value") != "上様" {
		t.Fatalf("the receipt page offers no issue form with 上様: %s", r)
	}
	if doc.Has("#receipt") {
		t.Fatalf("a receipt is shown before it is issued: %s", r)
	}

	// The organizer sees there is none yet.
	r = owner.get(appPath + "/receipt")
	wantStatus(t, r, http.StatusOK)
	if doc := r.doc(t); !doc.Has("#receipt-not-issued") || doc.Has("#receipt") || doc.Has("form#issue-form") {
		t.Fatalf("the organizer's view before the receipt is issued: %s", r)
	}

	// Issued with the 宛名 left empty: 上様.
	wantRedirect(t, participant.post(receiptPath, url.Values{"addressee": {"  "}}), receiptPath)
	r = participant.get(receiptPath)
	wantStatus(t, r, http.StatusOK)
	wantText(t, r, ja("flash.receipt_issued"))
	today := time.Now().In(time.FixedZone("JST", 9*3600))
	issued := map[string]string{
		"#receipt-title":        "領収書",
		"#receipt-number":       "000001",
		"#receipt-date":         fmt.Sprintf("%d年%d月%d日", today.Year(), today.Month(), today.Day()),
		"#receipt-addressee":    "上様 様",
		"#receipt-amount":       "¥3,000-",
		"#receipt-purpose":      "セミナー参加費として",
		"#receipt-tax":          "10%対象 ¥3,000 (消費税 ¥272)",
		"#receipt-registration": "登録番号 T7000012050002",
		"#receipt-issuer":       "株式会社かいさい 東京都千代田区丸の内1-1 登録番号 T7000012050002",
	}
	checkReceipt(t, r, issued)
	doc = r.doc(t)
	if doc.Has("#receipt-reissued") || !doc.Has("#print-receipt") || !doc.Has("#reissue-form") {
		t.Fatalf("a first issue: want no 再発行, a print button and the re-issue form: %s", r)
	}
	if got := doc.First("#receipt-ref").Text(); !strings.Contains(got, "有料講座") {
		t.Fatalf("the receipt names %q, want the event", got)
	}

	// Too long a 宛名 is refused and changes nothing.
	r = participant.post(receiptPath, url.Values{"addressee": {strings.Repeat("長", 61)}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantText(t, r, ja("validation.too_long", 60))
	checkReceipt(t, r, issued)

	// Re-issued to a company: 再発行, same number and amount.
	wantRedirect(t, participant.post(receiptPath, url.Values{"addressee": {"株式会社テスト 様"}}), receiptPath)
	r = participant.get(receiptPath)
	wantText(t, r, ja("flash.receipt_reissued"))
	reissued := map[string]string{}
	for k, v := range issued {
		reissued[k] = v
	}
	reissued["#receipt-addressee"] = "株式会社テスト 様"
	reissued["#receipt-reissued"] = "再発行"
	reissued["#receipt-title"] = "領収書 再発行"
	checkReceipt(t, r, reissued)

	// A refund made since is listed on it (the refunds' own code writes
	// these rows; here they are written as it would).
	now := time.Now().UTC()
	refundedAt := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC) // 12月2日 in Japan
	if _, err := a.Store.WriteDB().ExecContext(ctx, `INSERT INTO payments (org_id, event_id, application_id, connection_id,
		attempt, idempotency_key, status, amount, expires_at, created_at, updated_at)
		SELECT org_id, event_id, id, 1, 1, 'key-refund-test', 'expired', 3000, $1, $1, $1 FROM applications WHERE token = $2`,
		now, token); err != nil {
		t.Fatal(err)
	}
	for i, status := range []string{"succeeded", "failed"} {
		if _, err := a.Store.WriteDB().ExecContext(ctx, `INSERT INTO refunds (org_id, event_id, application_id, payment_id,
			connection_id, attempt, idempotency_key, status, amount, created_at, updated_at, refunded_at)
			SELECT p.org_id, p.event_id, p.application_id, p.id, 1, $1, $2, $3, 1000, $4, $4, $5 FROM payments p
			WHERE p.idempotency_key = 'key-refund-test'`, i+1, fmt.Sprintf("refund-%d", i), status, now, refundedAt); err != nil {
			t.Fatal(err)
		}
	}
	reissued["#receipt-refunds"] = "返金 ¥1,000 (2026年12月2日)"

	// The organizer reads it, read-only, from the applicant's page.
	r = owner.get(appPath)
	if got := r.doc(t).First("#receipt-link").Attr("href"); got != appPath+"/receipt" {
		t.Fatalf("the applicant's page links the receipt at %q, want %s", got, appPath+"/receipt")
	}
	wantText(t, r, ja("activity.receipt_issued"), ja("activity.receipt_reissued"))
	r = owner.get(appPath + "/receipt")
	wantStatus(t, r, http.StatusOK)
	checkReceipt(t, r, reissued)
	if doc := r.doc(t); doc.Has("#reissue-form") || doc.Has("#issue-form") {
		t.Fatalf("the organizer's view offers a form: %s", r)
	}

	// In English.
	participant.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	r = participant.get(receiptPath)
	wantText(t, r, en("receipt.heading"), en("receipt.reissued"), "10% rate: ¥3,000 (consumption tax ¥272)")

	// The 入金完了 mail gives the receipt's page.
	var orgID int64
	if err := a.Store.WriteDB().QueryRowContext(ctx, `SELECT org_id FROM applications WHERE token = $1`, token).Scan(&orgID); err != nil {
		t.Fatal(err)
	}
	eventually.Within(t, 10*time.Second, "the 入金完了 mail with the receipt URL", func() bool {
		mails, err := a.Store.Mails(ctx, orgID, 50, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mails {
			if m.Kind == event.MailPaid && strings.Contains(m.Body, a.URL()+receiptPath) {
				return true
			}
		}
		return false
	})

	// A free event's application has no receipt.
	freeID := owner.createEvent(eventSpec{Title: "無料講座"})
	freeGroup := owner.addGroup(freeID, placeGroup("東京都港区2-2"))
	freeSchedule := owner.addSchedule(freeID, freeGroup, 10)
	freeToken := newClient(t, a).apply(owner.publicPath(freeID), freeSchedule, "無料 太郎", "free@example.com")
	r = participant.get("/a/" + freeToken + "/receipt")
	wantStatus(t, r, http.StatusConflict)
	wantText(t, r, en("receipt.free_event"))
	if got := participant.get("/a/" + freeToken); got.doc(t).Has("#receipt-link") {
		t.Fatalf("a free application links a receipt: %s", got)
	}
	var n int
	if err := a.Store.WriteDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM receipts`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d receipts (%v), want 1", n, err)
	}
}

// checkReceipt checks the text of the receipt's parts.
func checkReceipt(t *testing.T, r *resp, want map[string]string) {
	t.Helper()
	doc := r.doc(t)
	for sel, w := range want {
		if got := strings.Join(strings.Fields(doc.First(sel).Text()), " "); got != w {
			t.Errorf("%s reads %q, want %q", sel, got, w)
		}
	}
	if t.Failed() {
		t.Fatalf("the receipt page: %s", r)
	}
}

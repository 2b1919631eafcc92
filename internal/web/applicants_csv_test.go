package web_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"kaisai/internal/testdb"
)

// TestApplicantsCSV exports 申込者一覧 for Excel: UTF-8 with a BOM by default,
// Shift_JIS on request, the list's filters applied, and a name that looks
// like a formula neutralised.
func TestApplicantsCSV(t *testing.T) {
	t.Parallel()
	a := startKaisai(t, testdb.SQLite(t))
	owner := newClient(t, a)
	owner.signup("CSV主催", "csv-owner@example.com")
	eventID := owner.createEvent(eventSpec{Title: "CSV講座", Paid: true, Price: 2000})
	groupID := owner.addGroup(eventID, placeGroup("東京都港区1-1"))
	scheduleID := owner.addSchedule(eventID, groupID, 10)
	public := owner.publicPath(eventID)
	newClient(t, a).apply(public, scheduleID, "髙橋 一郎", "ichiro@example.com")
	newClient(t, a).apply(public, scheduleID, `=HYPERLINK("https://evil.example","x")`, "formula@example.com")
	rows := owner.applications(eventID)
	if len(rows) != 2 {
		t.Fatalf("applications: %+v", rows)
	}
	wantRedirect(t, owner.post(fmt.Sprintf("/events/%d/applications/%d/payment", eventID, rows[0].ID),
		map[string][]string{"payment": {"paid"}}), fmt.Sprintf("/events/%d/applications", eventID))

	r := owner.get(fmt.Sprintf("/events/%d/applications.csv", eventID))
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("Content-Disposition = %q, want an attachment", cd)
	}
	body := []byte(r.Body)
	if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("UTF-8 export has no BOM: % x", body[:min(8, len(body))])
	}
	recs := readCSV(t, body[3:])
	if len(recs) != 3 {
		t.Fatalf("%d records, want header and 2 rows:\n%s", len(recs), body)
	}
	header := strings.Join(recs[0], ",")
	for _, col := range []string{"氏名", "メールアドレス", "日程", "ステータス", "入金状況", "受付", "受付日時", "機密事項メモ", "申込日時"} {
		if !strings.Contains(header, col) {
			t.Errorf("header %q lacks %s", header, col)
		}
	}
	// The columns keep their order; 参加時間(分) is blank for applications
	// that never joined a Zoom meeting (TestAttendanceMinutes has the
	// minutes); the payment's columns come last (TestOrganizerSeesMoney has
	// Stripe's).
	wantHeader := []string{ja("csv.id"), ja("field.full_name"), ja("field.email"), ja("field.schedule"),
		ja("field.status"), ja("applications.payment"), ja("applications.checkin"), ja("csv.checked_in_at"),
		ja("csv.checkin_source"), ja("applications.memo"), ja("applications.applied_at"), ja("csv.cancelled_at"),
		ja("csv.attendance_minutes"), ja("csv.paid_via"), ja("csv.payment_due"), ja("csv.paid_at"), ja("csv.payment_intent"),
		ja("csv.refunded"), ja("csv.refund_status")}
	if got := strings.Join(recs[0], ","); got != strings.Join(wantHeader, ",") {
		t.Errorf("header %q, want %q", got, strings.Join(wantHeader, ","))
	}
	attendance := slices.Index(wantHeader, ja("csv.attendance_minutes"))
	for _, rec := range recs[1:] {
		if len(rec) != len(wantHeader) || rec[attendance] != "" {
			t.Errorf("row %q: want %d columns, attendance blank", rec, len(wantHeader))
		}
	}
	// Paid by hand: 手動, no Stripe id; unpaid: its 支払期限. Neither was
	// refunded: 返金額 and 返金状況 are blank (TestRefundsInCSVAndTotals has
	// refunds).
	pay := slices.Index(wantHeader, ja("csv.paid_via"))
	if got, want := recs[1][pay:pay+4], []string{ja("payment.method.manual"), "", "", ""}; !slices.Equal(got, want) {
		t.Errorf("paid by hand: payment columns %q, want %q", got, want)
	}
	if got := recs[2][pay : pay+4]; got[0] != "" || got[1] == "" || got[3] != "" {
		t.Errorf("unpaid: payment columns %q, want only 支払期限", got)
	}
	for _, rec := range recs[1:] {
		if got := rec[len(wantHeader)-2:]; !slices.Equal(got, []string{"", ""}) {
			t.Errorf("row %q: refund columns %q, want blank", rec, got)
		}
	}
	first := strings.Join(recs[1], ",")
	if !strings.Contains(first, "髙橋 一郎") || !strings.Contains(first, "申込済") || !strings.Contains(first, "入金済") {
		t.Errorf("first row %q: want name, 申込済, 入金済", first)
	}
	if got := recs[2][1]; got != `'=HYPERLINK("https://evil.example","x")` {
		t.Errorf("formula-like name exported as %q, want it prefixed with '", got)
	}

	// Shift_JIS, filtered by search: one row, and 髙 (not in JIS X 0208 but
	// in Windows-31J) survives.
	r = owner.get(fmt.Sprintf("/events/%d/applications.csv?enc=sjis&q=ichiro", eventID))
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=Shift_JIS" {
		t.Errorf("Content-Type = %q", ct)
	}
	utf8Body, err := japanese.ShiftJIS.NewDecoder().Bytes([]byte(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	recs = readCSV(t, utf8Body)
	if len(recs) != 2 || recs[1][1] != "髙橋 一郎" {
		t.Fatalf("Shift_JIS export filtered by q=ichiro: %q", recs)
	}

	wantStatus(t, owner.get(fmt.Sprintf("/events/%d/applications.csv?enc=ebcdic", eventID)), http.StatusBadRequest)
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("read CSV: %v\n%s", err, b)
	}
	return recs
}

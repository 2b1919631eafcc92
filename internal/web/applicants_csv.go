package web

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"kaisai/internal/export"
	"kaisai/internal/i18n"
	"kaisai/internal/store"
)

// applicationCSV exports 申込者一覧 — every application that matches the
// list's filters — as CSV for Excel: UTF-8 with a BOM, or Shift_JIS with
// ?enc=sjis.
//
// The columns, in this order, which stays stable for the organizers'
// spreadsheets (a new column goes at the end): 申込ID, 氏名, メールアドレス,
// 日程, 状態, 入金状況, 受付, 受付日時, 受付方法, メモ, 申込日時, キャンセル日時,
// 参加時間(分), 支払方法, 支払期限, 入金日時, 決済ID, 返金額 (yen refunded:
// the refunds that succeeded; blank without any refund), 返金状況 (the
// latest refund's: 返金処理中, 返金済 or 失敗; blank without any refund).
func (s *Server) applicationCSV(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok {
		return
	}
	enc, err := export.ParseEncoding(r.URL.Query().Get("enc"))
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "applications.csv_bad_encoding")
		return
	}
	aq := applicantQuery(r)
	aq.PerPage = 1000
	var rows []store.ApplicationRow
	for aq.Page = 1; ; aq.Page++ {
		page, err := s.store.Applicants(r.Context(), e.OrgID, e.ID, aq)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rows = append(rows, page.Rows...)
		if len(page.Rows) < aq.PerPage {
			break
		}
	}
	// 参加時間 of every application of the event, in one query (none for
	// an event without Zoom: the column stays blank).
	att, err := s.store.Attendances(r.Context(), e.OrgID, e.ID, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	money, err := s.moneyViews(r.Context(), &e, rows, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	refunds, err := s.store.ApplicationsRefunds(r.Context(), e.OrgID, e.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l := langOf(r)
	t := func(key string) string { return s.msgs.T(l, key) }
	loc := e.Location()
	header := []string{t("csv.id"), t("field.full_name"), t("field.email"), t("field.schedule"), t("field.status"),
		t("applications.payment"), t("applications.checkin"), t("csv.checked_in_at"), t("csv.checkin_source"),
		t("applications.memo"), t("applications.applied_at"), t("csv.cancelled_at"), t("csv.attendance_minutes"),
		t("csv.paid_via"), t("csv.payment_due"), t("csv.paid_at"), t("csv.payment_intent"),
		t("csv.refunded"), t("csv.refund_status")}
	cells := make([][]string, 0, len(rows))
	for _, a := range rows {
		payment := ""
		if e.Paid() {
			payment = t("payment." + string(a.Payment))
		}
		checkin, source := "", ""
		if !a.CheckedInAt.IsZero() {
			checkin, source = t("applications.checked_in"), t("checkin_source."+a.CheckinSource)
		}
		minutes := ""
		if at, ok := att[a.ID]; ok && at.Sessions > 0 {
			minutes = strconv.FormatInt(at.Minutes(), 10)
		}
		// 支払方法, 支払期限, 入金日時 (when Stripe confirmed it), 決済ID.
		var via, due, paidAt, intent string
		if mv, ok := money[a.ID]; ok {
			if mv.Via != "" {
				via = t(mv.Via)
			}
			due, paidAt, intent = csvTime(mv.Due, loc), csvTime(mv.Paid.PaidAt, loc), mv.Paid.PaymentIntentID
		}
		// 返金額, 返金状況.
		var refunded, refundStatus string
		if rf, ok := refunds[a.ID]; ok {
			refunded = strconv.FormatInt(rf.Refunded, 10)
			if ph := rf.Latest.Phase(); ph != "" {
				refundStatus = t("refund_phase." + string(ph))
			}
		}
		cells = append(cells, []string{
			strconv.FormatInt(a.ID, 10), a.Name, a.Email, i18n.DateTime(l, a.StartsAt, loc),
			t("application_status." + string(a.Status)), payment, checkin,
			csvTime(a.CheckedInAt, loc), source, a.Memo, csvTime(a.CreatedAt, loc), csvTime(a.CancelledAt, loc), minutes,
			via, due, paidAt, intent, refunded, refundStatus,
		})
	}
	var buf bytes.Buffer
	if err := export.WriteCSV(&buf, enc, header, cells); err != nil {
		s.fail(w, r, err)
		return
	}
	name := fmt.Sprintf("applicants-%d.csv", e.ID)
	w.Header().Set("Content-Type", enc.ContentType())
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`,
		name, url.PathEscape(e.Title+" "+t("applications.title")+".csv")))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(buf.Bytes())
}

// csvTime is a time as Excel reads it, 2026/12/01 19:00:00 in the event's
// zone, or "" for none.
func csvTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006/01/02 15:04:05")
}

package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/i18n"
	"kaisai/internal/payment"
	"kaisai/internal/store"
)

// 領収書 (DESIGN.md §8): the participant issues (and re-issues) the receipt
// of a paid application on their private page; the organizer reads it from
// the applicant's page.
//
// The PDF is the browser's: the page has a print stylesheet (A4) and
// 「印刷 / PDFで保存」 opens the print dialog, where 「PDFとして保存」 makes the
// file. kaisai makes no PDF itself: no well-kept Go PDF library ships a
// Japanese font, embedding one (Noto Sans JP, IPAex: several MB) would
// bloat the binary, and the libraries there are (go-pdf/fpdf, archived)
// do not lay out Japanese text well.

// jst is Japan's time: a receipt's dates are Japanese dates.
var jst = time.FixedZone("JST", 9*60*60)

// receiptView is a receipt as the page prints it.
type receiptView struct {
	store.Receipt
	NumberText   string // the number, zero-padded
	AmountText   string // ¥3,000
	TaxText      string
	IssuedDate   string
	ReissuedDate string
	RefundLines  []refundLine
}

type refundLine struct{ Amount, Date string }

// receiptDate is t's date in Japan, as people of l write it.
func receiptDate(l i18n.Lang, t time.Time) string {
	t = t.In(jst)
	if l == i18n.English {
		return t.Format("Jan 2, 2006")
	}
	return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
}

// receiptYen is an amount as a receipt writes it in either language: ¥3,000.
func receiptYen(n int64) string { return i18n.Yen(i18n.English, n) }

func newReceiptView(l i18n.Lang, r *store.Receipt) *receiptView {
	v := &receiptView{Receipt: *r, NumberText: fmt.Sprintf("%06d", r.Number), AmountText: receiptYen(r.Amount),
		TaxText: receiptYen(r.Tax), IssuedDate: receiptDate(l, r.IssuedAt)}
	if !r.ReissuedAt.IsZero() {
		v.ReissuedDate = receiptDate(l, r.ReissuedAt)
	}
	for _, f := range r.Refunds {
		v.RefundLines = append(v.RefundLines, refundLine{Amount: receiptYen(f.Amount), Date: receiptDate(l, f.RefundedAt)})
	}
	return v
}

// receiptData is what the receipt page shows of an application: its
// receipt (nil until issued), and, for the participant (Token set), the
// form to issue or re-issue it.
func (s *Server) receiptData(r *http.Request, e *event.Event, a *event.Application, token, back string) (map[string]any, error) {
	sc, _, err := s.store.ScheduleByIDUnscoped(r.Context(), a.ScheduleID)
	if err != nil {
		return nil, err
	}
	d := map[string]any{"Event": e, "Application": a, "Schedule": &sc, "Loc": e.Location(), "Token": token, "Back": back}
	rc, err := s.store.Receipt(r.Context(), a.ID)
	switch {
	case errors.Is(err, event.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		d["Receipt"] = newReceiptView(langOf(r), &rc)
	}
	return d, nil
}

// receiptRefusal is why an application has no receipt to issue, if it
// has none: a free event's, or one not paid.
func receiptRefusal(e *event.Event, a *event.Application) error {
	switch {
	case !e.Paid():
		return store.ErrReceiptFree
	case a.Payment != event.PaymentPaid:
		return store.ErrReceiptUnpaid
	}
	return nil
}

// loadReceiptApplication reads the application of a private link and its
// event; a wrong token is a 404.
func (s *Server) loadReceiptApplication(w http.ResponseWriter, r *http.Request) (event.Event, event.Application, bool) {
	a, err := s.store.ApplicationByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		s.fail(w, r, err)
		return event.Event{}, a, false
	}
	e, err := s.store.EventByIDUnscoped(r.Context(), a.EventID)
	if err != nil {
		s.fail(w, r, err)
		return e, a, false
	}
	return e, a, true
}

// renderParticipantReceipt shows the participant's receipt page: the
// receipt once issued, else the form to issue it; an application that has
// no receipt to issue is refused with the reason.
func (s *Server) renderParticipantReceipt(w http.ResponseWriter, r *http.Request, p *page, e *event.Event, a *event.Application, status int) {
	d, err := s.receiptData(r, e, a, a.Token, "/a/"+a.Token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if d["Receipt"] == nil {
		if err := receiptRefusal(e, a); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if p.Form.Get("addressee") == "" && len(p.Errors) == 0 {
		// The form starts from the 宛名 the receipt has, or 上様.
		p.Form.Set("addressee", payment.DefaultAddressee)
		if v, ok := d["Receipt"].(*receiptView); ok {
			p.Form.Set("addressee", v.Addressee)
		}
	}
	p.Data = d
	// The link is the participant's key: keep it out of Referer headers.
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.render(w, r, status, "receipt", p)
}

func (s *Server) receiptPage(w http.ResponseWriter, r *http.Request) {
	e, a, ok := s.loadReceiptApplication(w, r)
	if !ok {
		return
	}
	s.renderParticipantReceipt(w, r, s.newPage(r, nil), &e, &a, http.StatusOK)
}

// issueReceipt issues the receipt, or re-issues it to the 宛名 given.
func (s *Server) issueReceipt(w http.ResponseWriter, r *http.Request) {
	e, a, ok := s.loadReceiptApplication(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	typed := r.PostForm.Get("addressee")
	addressee, err := payment.Addressee(typed)
	if err != nil {
		p := s.newPage(r, nil)
		p.Form.Set("addressee", typed)
		var fe event.FieldErrors
		if !errors.As(err, &fe) {
			s.fail(w, r, err)
			return
		}
		p.Errors = fe
		s.renderParticipantReceipt(w, r, p, &e, &a, http.StatusUnprocessableEntity)
		return
	}
	rc, err := s.store.IssueReceipt(r.Context(), a.ID, addressee)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash := "flash.receipt_issued"
	if rc.Reissued() {
		flash = "flash.receipt_reissued"
	}
	redirect(w, r, "/a/"+a.Token+"/receipt", flash)
}

// applicationReceipt is the organizer's read-only view of an applicant's
// receipt.
func (s *Server) applicationReceipt(w http.ResponseWriter, r *http.Request) {
	e, a, ok := s.loadApplication(w, r)
	if !ok {
		return
	}
	d, err := s.receiptData(r, &e, &a, "", fmt.Sprintf("/events/%d/applications/%d", e.ID, a.ID))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "receipt", d)
}

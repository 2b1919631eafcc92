package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/store"
)

// Refunds (DESIGN.md §8): the organizer's cancel with 全額返金 / 一部返金 /
// 返金なし, 「返金を再試行」, and the participant's cancel of a paid
// application as the event's キャンセル・返金ポリシー decides, confirmed first.

// cancelView is the organizer's cancel form.
type cancelView struct {
	Event       *event.Event
	Application *event.Application
	Options     store.RefundOptions
	Back        string
	Self        string
	// AsksForAccount: コンビニ or 銀行振込: Stripe e-mails the participant for
	// a bank account to receive the money.
	AsksForAccount bool
}

func (s *Server) cancelData(r *http.Request, e *event.Event, a *event.Application) (*cancelView, error) {
	o, err := s.store.RefundOptionsOf(r.Context(), e.OrgID, a.ID)
	if err != nil {
		return nil, err
	}
	v := &cancelView{Event: e, Application: a, Options: o, Back: back(r, e),
		Self: fmt.Sprintf("/events/%d/applications/%d/cancel", e.ID, a.ID)}
	if o.Payment != nil {
		m := o.Payment.Method
		v.AsksForAccount = m == payment.MethodKonbini || m == payment.MethodBankTransfer
	}
	return v, nil
}

// applicationCancelForm asks how much to refund before cancelling.
func (s *Server) applicationCancelForm(w http.ResponseWriter, r *http.Request) {
	e, a, ok := s.loadApplication(w, r)
	if !ok {
		return
	}
	if !a.Active() {
		s.fail(w, r, store.ErrAlreadyCanceled)
		return
	}
	_ = r.ParseForm()
	r.PostForm = r.Form // back from the query string
	v, err := s.cancelData(r, &e, &a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, v)
	p.Form = url.Values{"back": {v.Back}}
	// No choice is made for the organizer: money goes back only as chosen.
	s.render(w, r, http.StatusOK, "application_cancel", p)
}

// applicationCancel cancels as the organizer chose: 全額返金, 一部返金 (an
// amount in yen) or 返金なし. An application not paid through Stripe is
// cancelled with no refund (the form says to refund outside kaisai). A
// choice that is not valid shows the form again with its error and
// changes nothing.
func (s *Server) applicationCancel(w http.ResponseWriter, r *http.Request) {
	e, a, ok := s.loadApplication(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	kind := payment.RefundKind(r.PostForm.Get("refund"))
	var partial int64
	var fe event.FieldErrors
	if kind == payment.RefundPartial {
		raw := strings.TrimSpace(strings.NewReplacer(",", "", "，", "", "¥", "", "￥", "", "円", "").Replace(
			toHalfWidthDigits(r.PostForm.Get("refund_amount"))))
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			fe.Add("refund_amount", "refund.amount_number")
		}
		partial = n
	}
	m, _ := memberFrom(r.Context())
	var err error
	if fe.Err() != nil {
		err = fe
	} else if s.pay != nil {
		_, _, err = s.pay.CancelAndRefund(r.Context(), e.OrgID, e.ID, a.ID, m.ID, kind, partial)
	} else {
		_, _, err = s.store.CancelAndRefund(r.Context(), e.OrgID, e.ID, a.ID, m.ID, kind, partial)
	}
	var ee *event.Error
	switch {
	case err == nil:
		redirect(w, r, back(r, &e), "flash.application_cancelled")
		return
	case errors.As(err, &fe):
	case errors.As(err, &ee) && ee.Key != store.ErrAlreadyCanceled.Key:
		fe = event.FieldErrors{{Field: "refund", Key: ee.Key, Args: ee.Args}}
	default:
		s.fail(w, r, err)
		return
	}
	v, verr := s.cancelData(r, &e, &a)
	if verr != nil {
		s.fail(w, r, verr)
		return
	}
	p := s.newPage(r, v)
	p.Form, p.Errors = r.PostForm, fe
	s.render(w, r, http.StatusUnprocessableEntity, "application_cancel", p)
}

// refundRetry is 「返金を再試行」 of a failed, refused or cancelled refund.
func (s *Server) refundRetry(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	id, ok := pathID(r, "refundID")
	if !ok {
		s.notFound(w, r)
		return
	}
	rf, err := s.store.RefundByID(r.Context(), e.OrgID, id)
	if err != nil || rf.EventID != e.ID {
		s.fail(w, r, event.ErrNotFound)
		return
	}
	if s.pay == nil {
		s.fail(w, r, store.ErrPaymentsOff)
		return
	}
	m, _ := memberFrom(r.Context())
	if _, err := s.pay.RetryRefund(r.Context(), e.OrgID, id, m.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, back(r, &e), "flash.refund_retried")
}

// selfCancelView is the participant's confirmation of a cancel.
type selfCancelView struct {
	Application *event.Application
	Event       *event.Event
	Loc         any
	Quote       store.SelfCancelQuote
	// Changed: the refund changed since the participant was shown it.
	Changed bool
}

func (s *Server) selfCancelData(r *http.Request) (selfCancelView, error) {
	a, q, err := s.store.QuoteSelfCancel(r.Context(), r.PathValue("token"))
	if err != nil {
		return selfCancelView{}, err
	}
	e, err := s.store.EventByIDUnscoped(r.Context(), a.EventID)
	if err != nil {
		return selfCancelView{}, err
	}
	return selfCancelView{Application: &a, Event: &e, Loc: e.Location(), Quote: q}, nil
}

// cancelConfirm shows what cancelling would do (GET /a/{token}/cancel):
// what comes back, or why it is no longer possible.
func (s *Server) cancelConfirm(w http.ResponseWriter, r *http.Request) {
	v, err := s.selfCancelData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	status := http.StatusOK
	if !v.Application.Active() || !v.Quote.MayCancel() {
		status = http.StatusConflict
	}
	s.render(w, r, status, "cancel_confirm", &v)
}

// cancelApplication is the participant's キャンセル. A paid application is
// first confirmed (the page says what comes back); the confirmed form
// carries the refund shown, and if the policy now says otherwise the page
// is shown again with the new amount and nothing changes.
func (s *Server) cancelApplication(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	token := r.PathValue("token")
	v, err := s.selfCancelData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	if v.Application.Active() && v.Quote.Paid {
		if r.PostForm.Get("confirm") != "1" || !v.Quote.MayCancel() {
			s.cancelConfirm(w, r)
			return
		}
		expect, perr := strconv.ParseInt(r.PostForm.Get("refund"), 10, 64)
		if perr != nil {
			expect = -2 // never matches: shown again
		}
		if s.pay != nil {
			_, _, err = s.pay.SelfCancel(r.Context(), token, expect)
		} else {
			_, _, err = s.store.SelfCancel(r.Context(), token, expect)
		}
	} else {
		// Unpaid, or a free event: cancelled until the start, as always.
		_, err = s.store.CancelByToken(r.Context(), token)
	}
	switch {
	case err == nil, errors.Is(err, store.ErrAlreadyCanceled):
		redirect(w, r, "/a/"+token, "flash.cancelled")
	case errors.Is(err, store.ErrRefundChanged), errors.Is(err, store.ErrSelfCancelClosed):
		v, verr := s.selfCancelData(r)
		if verr != nil {
			s.fail(w, r, verr)
			return
		}
		v.Changed = errors.Is(err, store.ErrRefundChanged)
		s.render(w, r, http.StatusConflict, "cancel_confirm", &v)
	default:
		// The store refuses a cancel after the start (event.ErrCancelClosed, 409).
		s.fail(w, r, err)
	}
}

// refundData adds to a participant's application page what the event's
// policy allows now (SelfCancel, for a paid application) and its refunds.
func (s *Server) refundData(r *http.Request, d map[string]any, a *event.Application) error {
	rs, err := s.store.ApplicationRefunds(r.Context(), a.ID)
	if err != nil {
		return err
	}
	d["Refunds"] = rs
	if a.Active() && a.Payment == event.PaymentPaid {
		_, q, err := s.store.QuoteSelfCancel(r.Context(), a.Token)
		if err != nil {
			return err
		}
		d["SelfCancel"] = &q
		d["MayCancel"] = q.MayCancel()
	}
	return nil
}

// refundsOfRows are the refunds of a page of 申込者一覧, by application.
func (s *Server) refundsOfRows(r *http.Request, e *event.Event, rows []store.ApplicationRow) (map[int64][]store.Refund, error) {
	if !e.Paid() {
		return map[int64][]store.Refund{}, nil
	}
	ids := make([]int64, 0, len(rows))
	for _, row := range rows {
		if row.Payment == event.PaymentPaid || row.Status == event.Cancelled {
			ids = append(ids, row.ID)
		}
	}
	return s.store.RefundsOf(r.Context(), e.OrgID, ids)
}

// paymentRefund is 「返金する」 on a payment paid twice or after the
// cancellation: all of it is refunded through Stripe.
func (s *Server) paymentRefund(w http.ResponseWriter, r *http.Request) {
	e, ok := s.loadEvent(w, r)
	if !ok || !s.parseForm(w, r) {
		return
	}
	id, ok := pathID(r, "paymentID")
	if !ok {
		s.notFound(w, r)
		return
	}
	if s.pay == nil {
		s.fail(w, r, store.ErrPaymentsOff)
		return
	}
	m, _ := memberFrom(r.Context())
	if _, err := s.pay.RefundProblemPayment(r.Context(), e.OrgID, e.ID, id, m.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	redirect(w, r, back(r, &e), "flash.refund_requested")
}

package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"kaisai/internal/event"
	"kaisai/internal/payflow"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/stripe"
)

// Paying online (DESIGN.md §8), the participant's side: 「お支払いへ進む」
// opens (or reopens) the application's Checkout Session, the return from
// Stripe reads the session back, and Stripe's webhooks come in at
// /webhooks/stripe/{connection}.

// payView is the payment part of an application's page.
type payView struct {
	Online   bool           // the organization takes payments online
	Pending  *store.Payment // a voucher or transfer awaited
	Voucher  *stripe.Voucher
	Transfer *stripe.Transfer
	Passed   bool // the 支払期限 has passed
}

// payData adds to an application page what its payment needs.
func (s *Server) payData(r *http.Request, d map[string]any, e *event.Event, a *event.Application) error {
	if !e.Paid() || s.pay == nil {
		return nil
	}
	on, err := s.store.PaymentsOn(r.Context(), a.OrgID)
	if err != nil {
		return err
	}
	v := payView{Online: on, Passed: !a.PaymentDueAt.IsZero() && !s.now().Before(a.PaymentDueAt)}
	if p, ok, err := s.store.LivePayment(r.Context(), a.ID); err != nil {
		return err
	} else if ok && p.Status == payment.StatusPending {
		v.Pending = &p
		switch p.Method {
		case payment.MethodKonbini:
			v.Voucher = new(stripe.Voucher)
			_ = json.Unmarshal([]byte(p.Instructions), v.Voucher)
		case payment.MethodBankTransfer:
			v.Transfer = new(stripe.Transfer)
			_ = json.Unmarshal([]byte(p.Instructions), v.Transfer)
		}
	}
	d["Pay"] = &v
	d["MayPay"] = on && payment.Payable(e, a, a.PaymentDueAt, s.now()) == nil && v.Pending == nil
	return nil
}

// startPayment is 「お支払いへ進む」: to Stripe's page of the application's
// session, or back to the application's page when a voucher or transfer
// is awaited.
func (s *Server) startPayment(w http.ResponseWriter, r *http.Request) {
	if s.pay == nil {
		s.fail(w, r, store.ErrPaymentsOff)
		return
	}
	token := r.PathValue("token")
	p, err := s.pay.Start(r.Context(), token)
	if err != nil {
		if errors.Is(err, payflow.ErrUnavailable) {
			s.fail(w, r, payflow.ErrUnavailable)
			return
		}
		s.fail(w, r, err)
		return
	}
	if p.Status == payment.StatusOpen && p.URL != "" {
		http.Redirect(w, r, p.URL, http.StatusSeeOther)
		return
	}
	redirect(w, r, "/a/"+token, "")
}

// paymentReturn is the participant back from Stripe's page: the session
// is read back at once, so the page shows 入金済 without waiting for the
// webhook. When Stripe cannot be asked now, the webhook or the sweep will
// do it; the page says the payment is being confirmed.
func (s *Server) paymentReturn(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if s.pay == nil {
		redirect(w, r, "/a/"+token, "")
		return
	}
	err := s.pay.Return(r.Context(), token, r.URL.Query().Get("session_id"))
	if err != nil && errors.Is(err, event.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	if err != nil {
		s.log.Warn("payment: read back on return", "err", err)
	}
	a, aerr := s.store.ApplicationByToken(r.Context(), token)
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	flash := "flash.payment_confirming"
	if a.Payment == event.PaymentPaid {
		flash = "flash.payment_done"
	}
	redirect(w, r, "/a/"+token, flash)
}

// stripeWebhookMaxBytes bounds a delivery; Stripe's events of a Checkout
// Session are a few KiB.
const stripeWebhookMaxBytes = 1 << 20

// stripeWebhook receives one delivery for a connection: verified with that
// endpoint's secret (stripe-go's webhook package, 5 minutes' tolerance),
// stored once by event id, answered 200 at once; a job processes it. A
// request that fails any check writes nothing.
func (s *Server) stripeWebhook(w http.ResponseWriter, r *http.Request) {
	connID, err := strconv.ParseInt(r.PathValue("connection"), 10, 64)
	if err != nil || connID <= 0 {
		webhookError(w, http.StatusNotFound, "unknown endpoint")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, stripeWebhookMaxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			webhookError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		webhookError(w, http.StatusBadRequest, "cannot read request body")
		return
	}
	_, sec, err := s.store.StripeConnectionSecrets(r.Context(), connID)
	if errors.Is(err, event.ErrNotFound) || errors.Is(err, store.ErrStripeNotConnected) {
		// No such endpoint, or 解除済 (its secret is gone).
		webhookError(w, http.StatusNotFound, "unknown endpoint")
		return
	}
	if err != nil {
		s.log.Error("stripe webhook: connection", "connection", connID, "err", err)
		webhookError(w, http.StatusInternalServerError, "cannot read endpoint")
		return
	}
	ev, err := stripe.ParseEvent(body, r.Header.Get("Stripe-Signature"), sec.WebhookSecret)
	if err != nil {
		s.log.Info("stripe webhook: refused", "connection", connID, "reason", err, "remote", r.RemoteAddr)
		webhookError(w, http.StatusBadRequest, "invalid signature or event")
		return
	}
	inserted, err := s.store.RecordStripeWebhook(r.Context(), connID, ev.ID, ev.Type, body)
	if err != nil {
		if clientGone(r) {
			s.clientClosed(w, r, err)
			return
		}
		s.log.Error("stripe webhook: store", "event", ev.Type, "err", err)
		webhookError(w, http.StatusInternalServerError, "cannot store event")
		return
	}
	s.log.Debug("stripe webhook: received", "event", ev.Type, "id", ev.ID, "duplicate", !inserted)
	writeWebhookJSON(w, http.StatusOK, map[string]bool{"received": true})
}

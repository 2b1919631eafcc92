// Package payflow runs kaisai's side of paying through Stripe (DESIGN.md
// §8): it opens a Checkout Session for an application, reads sessions back
// when the participant returns or when a webhook may have been lost,
// applies Stripe's webhook events, and cancels applications left unpaid
// past their 支払期限. The decisions are package payment's, the state the
// store's; this package calls Stripe between them. The web handlers and
// the jobs call it; nothing here renders or schedules.
package payflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/stripe"
)

// Flow is kaisai's payment flow over the organizations' Stripe accounts.
type Flow struct {
	Store *store.Store
	// BaseURL is kaisai's public URL, for the session's success and cancel
	// pages (no trailing slash).
	BaseURL string
	// HTTP sends the requests to Stripe; nil: the client's default.
	HTTP *http.Client
	Log  *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (f *Flow) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// ErrUnavailable means Stripe could not be asked or refused: the
// participant may try again in a moment. Nothing was lost.
var ErrUnavailable = event.Errorf(event.EConflict, "payment.unavailable")

// ErrNoMethod means none of the methods the organizer accepts can be
// offered before the application's deadline (only コンビニ is enabled, and
// a voucher would outlive it).
var ErrNoMethod = event.Errorf(event.EConflict, "payment.no_method")

// client is a Stripe client for the connection.
func (f *Flow) client(ctx context.Context, connID int64) (*stripe.Client, store.StripeConnection, error) {
	conn, sec, err := f.Store.StripeConnectionSecrets(ctx, connID)
	if err != nil {
		return nil, conn, err
	}
	c, err := stripe.New(stripe.Config{APIURL: conn.APIURL, Key: sec.Key, HTTPClient: f.HTTP})
	return c, conn, err
}

// Start is the participant's 「お支払いへ進む」 for the application with
// token: the payment to send them to (its URL), or the pending voucher or
// transfer to show (Status pending). Clicking twice, or in two tabs, gives
// the same session.
func (f *Flow) Start(ctx context.Context, token string) (store.Payment, error) {
	c, err := f.Store.BeginCheckout(ctx, token, payment.SessionExpiry)
	if err != nil || !c.Create {
		return c.Payment, err
	}
	return f.create(ctx, c)
}

// create asks Stripe for the session of a payment row, with the row's
// idempotency key: a retry after a lost answer gets the same session.
// The parameters are made from the row, so that a retry sends the same.
func (f *Flow) create(ctx context.Context, c store.Checkout) (store.Payment, error) {
	p := c.Payment
	cl, conn, err := f.client(ctx, p.ConnectionID)
	if err != nil {
		return p, err
	}
	methods := conn.Methods
	days, konbiniOK := payment.KonbiniDays(p.CreatedAt, c.Application.PaymentDueAt)
	if !konbiniOK || !payment.KonbiniAmountOK(p.Amount) {
		methods = slices.DeleteFunc(slices.Clone(methods), func(m payment.Method) bool { return m == payment.MethodKonbini })
		days = 0
	}
	if len(methods) == 0 {
		// Only コンビニ is enabled, and no voucher would lapse before the
		// deadline: nothing to offer. Nobody will pay this row.
		if err := f.Store.CheckoutFailed(ctx, p.ID, true, "no method can be offered before the deadline"); err != nil {
			return p, err
		}
		return p, ErrNoMethod
	}
	back := f.BaseURL + "/a/" + url.PathEscape(c.Application.Token)
	s, err := cl.CreateCheckoutSession(ctx, stripe.CheckoutParams{
		ApplicationID:  p.ApplicationID,
		PaymentID:      p.ID,
		Name:           c.Event.Title,
		Amount:         p.Amount,
		Email:          c.Application.Email,
		Methods:        methods,
		KonbiniDays:    days,
		SuccessURL:     back + "/paid?session_id={CHECKOUT_SESSION_ID}",
		CancelURL:      back,
		ExpiresAt:      p.ExpiresAt,
		IdempotencyKey: p.IdempotencyKey,
	})
	if err != nil {
		// Stripe keeps an answered error for the key: a new row next time.
		// With no answer, the session may exist: the same key next time.
		answered := !stripe.KeyReusable(err)
		if ferr := f.Store.CheckoutFailed(context.WithoutCancel(ctx), p.ID, answered, err.Error()); ferr != nil {
			f.Log.Error("payment: record failed create", "payment", p.ID, "err", ferr)
		}
		f.Log.Warn("payment: create checkout session", "payment", p.ID, "err", err)
		return p, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := f.Store.CheckoutCreated(context.WithoutCancel(ctx), p.ID, s.ID, s.URL, s.ExpiresAt); err != nil {
		return p, err
	}
	p.SessionID, p.URL, p.ExpiresAt = s.ID, s.URL, s.ExpiresAt
	if p.Status == payment.StatusCreating {
		p.Status = payment.StatusOpen
	}
	return p, nil
}

// Return is the participant back from Stripe's page with a session id
// (untrusted: it must be a session of the application with token): the
// session is read back at once, so 入金済 shows without waiting for the
// webhook.
func (f *Flow) Return(ctx context.Context, token, sessionID string) error {
	a, err := f.Store.ApplicationByToken(ctx, token)
	if err != nil {
		return err
	}
	p, err := f.Store.PaymentBySession(ctx, a.ID, sessionID)
	if err != nil {
		return err
	}
	_, err = f.readBack(ctx, p)
	return err
}

// readBack reads the payment's session from Stripe and records it.
func (f *Flow) readBack(ctx context.Context, p store.Payment) (store.Observed, error) {
	cl, _, err := f.client(ctx, p.ConnectionID)
	if err != nil {
		return store.Observed{}, err
	}
	s, err := cl.CheckoutSession(ctx, p.SessionID)
	if err != nil {
		return store.Observed{}, err
	}
	return f.Store.ObservePayment(ctx, p.ConnectionID, Observation(s, false))
}

// Observation is what a session says, in package payment's terms.
func Observation(s stripe.Session, asyncFailed bool) payment.Observation {
	o := payment.Observation{
		PaymentID: s.PaymentID, SessionID: s.ID, SessionStatus: s.Status, PaymentStatus: s.PaymentStatus,
		AsyncFailed: asyncFailed, Amount: s.AmountTotal, Currency: s.Currency, PaymentIntentID: s.PaymentIntentID,
		Method: s.Method, ExpiresAt: s.ExpiresAt,
	}
	switch {
	case s.Voucher != nil:
		b, _ := json.Marshal(s.Voucher)
		o.Instructions, o.Method = string(b), payment.MethodKonbini
	case s.Transfer != nil:
		b, _ := json.Marshal(s.Transfer)
		o.Instructions, o.Method = string(b), payment.MethodBankTransfer
	}
	return o
}

// HandleEvent applies one stored webhook event of a connection. Events
// about sessions kaisai does not know are ignored (handled false).
func (f *Flow) HandleEvent(ctx context.Context, w store.StripeWebhook) (handled bool, err error) {
	o, err := f.Observe(ctx, w)
	if err != nil {
		return false, err
	}
	if o == nil {
		return f.handleRefunds(ctx, w)
	}
	res, err := f.Store.ObservePayment(ctx, w.ConnectionID, *o)
	if errors.Is(err, event.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	f.LogObserved(res)
	return true, nil
}

// handleRefunds applies what an event says of refunds; handled false
// when it names none kaisai knows.
func (f *Flow) handleRefunds(ctx context.Context, w store.StripeWebhook) (bool, error) {
	os, err := f.ObserveRefunds(ctx, w)
	if err != nil {
		return false, err
	}
	handled := false
	for _, o := range os {
		err := f.Store.ObserveRefund(ctx, w.ConnectionID, o)
		if errors.Is(err, event.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		handled = true
	}
	return handled, nil
}

// Observe reads what a stored event says of a session, for the store to
// apply (store.ApplyStripeEvents, ObservePayment); nil for events kaisai
// does not act on. An event's session does not carry its payment, so a
// completed one is read back from Stripe for the method, and the voucher
// or transfer to show; failing that, the event alone still moves the
// payment on.
func (f *Flow) Observe(ctx context.Context, w store.StripeWebhook) (*payment.Observation, error) {
	ev, err := stripe.DecodeEvent(w.Body)
	if err != nil {
		return nil, err
	}
	if ev.Session == nil {
		return nil, nil // refunds and charges: see ObserveRefunds
	}
	o := Observation(*ev.Session, ev.Type == "checkout.session.async_payment_failed")
	if ev.Type == "checkout.session.completed" && o.PaymentStatus == "paid" && o.Method == "" {
		// Paid as it completed: a card. コンビニ and 銀行振込 complete unpaid
		// (their money comes later), and the customer Checkout makes for a
		// bank transfer has no balance to pay at once. No read-back needed.
		o.Method = payment.MethodCard
	}
	if o.SessionStatus == "complete" && (o.Method == "" || (o.PaymentStatus == "unpaid" && o.Instructions == "")) {
		if s, err := f.sessionNow(ctx, w.ConnectionID, o.SessionID); err == nil {
			if s.Status == o.SessionStatus || o.PaymentStatus == "unpaid" {
				more := Observation(s, o.AsyncFailed)
				o.Method, o.Instructions, o.PaymentIntentID = more.Method, more.Instructions, more.PaymentIntentID
				if o.PaymentID == 0 {
					o.PaymentID = more.PaymentID
				}
			}
		} else {
			f.Log.Info("payment: read back for details", "session", o.SessionID, "err", err)
		}
	}
	return &o, nil
}

func (f *Flow) sessionNow(ctx context.Context, connID int64, id string) (stripe.Session, error) {
	cl, _, err := f.client(ctx, connID)
	if err != nil {
		return stripe.Session{}, err
	}
	return cl.CheckoutSession(ctx, id)
}

// LogObserved logs a payment that moved.
func (f *Flow) LogObserved(res store.Observed) {
	if !res.Step.Changed {
		return
	}
	f.Log.Info("payment: session moved", "payment", res.Payment.ID, "application", res.Payment.ApplicationID,
		"status", res.Payment.Status, "problem", res.Payment.Problem)
}

// sweepStale is how long a pending voucher or a row still creating waits
// between two reads.
const sweepStale = 5 * time.Minute

// Sweep reads back the sessions a lost webhook could leave behind (see
// store.PaymentsToCheck), asks again for rows whose create got no answer,
// and expires the open sessions of applications no longer payable. It
// returns how many it looked at.
func (f *Flow) Sweep(ctx context.Context, limit int) (int, error) {
	ps, err := f.Store.PaymentsToCheck(ctx, f.now().Add(-sweepStale), limit)
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, p := range ps {
		if err := f.check(ctx, p); err != nil {
			errs = append(errs, fmt.Errorf("payment %d: %w", p.ID, err))
			if rerr := f.Store.PaymentChecked(context.WithoutCancel(ctx), p.ID, err.Error()); rerr != nil {
				errs = append(errs, rerr)
			}
		}
	}
	return len(ps), errors.Join(errs...)
}

func (f *Flow) check(ctx context.Context, p store.Payment) error {
	if p.SessionID == "" {
		c, err := f.Store.CheckoutOf(ctx, p.ID)
		if err != nil {
			return err
		}
		if err := payment.Payable(&c.Event, &c.Application, c.Application.PaymentDueAt, f.now()); err != nil {
			// Nobody will pay it now: a session made with the key is
			// expired by the sweep once a webhook names it.
			return f.Store.CheckoutFailed(ctx, p.ID, true, "not payable any more")
		}
		_, err = f.create(ctx, c)
		return err
	}
	a, err := f.Store.ApplicationByIDUnscoped(ctx, p.ApplicationID)
	if err != nil {
		return err
	}
	cl, _, err := f.client(ctx, p.ConnectionID)
	if err != nil {
		return err
	}
	var s stripe.Session
	if p.Status == payment.StatusOpen && (a.Status != event.Applied || a.Payment != event.PaymentUnpaid) {
		s, err = cl.ExpireCheckoutSession(ctx, p.SessionID)
	} else {
		s, err = cl.CheckoutSession(ctx, p.SessionID)
	}
	if err != nil {
		return err
	}
	res, err := f.Store.ObservePayment(ctx, p.ConnectionID, Observation(s, false))
	if err != nil {
		return err
	}
	f.LogObserved(res)
	if !res.Step.Changed {
		return f.Store.PaymentChecked(ctx, p.ID, "")
	}
	return nil
}

// CancelOverdue cancels every application still unpaid past its 支払期限
// (store.CancelOverdue), and returns how many.
func (f *Flow) CancelOverdue(ctx context.Context, limit int) (int, error) {
	ids, err := f.Store.OverdueApplications(ctx, limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		ok, err := f.Store.CancelOverdue(ctx, id)
		if err != nil {
			return n, err
		}
		if ok {
			n++
			f.Log.Info("payment: cancelled past its deadline", "application", strconv.FormatInt(id, 10))
		}
	}
	return n, nil
}

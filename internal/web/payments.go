package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"kaisai/internal/event"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/stripe"
)

// 決済設定 (DESIGN.md §8): the organization's own Stripe account. A pasted
// key is checked (GET /v1/account), kaisai's webhook endpoint registered on
// the account, and both stored sealed; the methods offered are chosen here;
// 解除 deletes the endpoint, then the key and secret. Beside the Stripe
// simulator, its test account connects in one click.

// StripeConfig is how 決済設定 reaches Stripe.
type StripeConfig struct {
	// APIURL is the Stripe-compatible server; empty: Stripe's own.
	APIURL     string
	HTTPClient *http.Client
	// Simulated says APIURL is a Stripe simulator: every organizer page
	// says so in a banner.
	Simulated bool
	// TestAccountKey is the key of the simulator's test account, for
	// 「テストアカウントを接続」; nil without a simulator.
	TestAccountKey func(context.Context) (string, error)
	// PublicURL is kaisai's public base URL, where Stripe sends webhooks.
	PublicURL func() string
}

const paymentsPath = "/settings/payments"

// stripeAPI is Stripe's own API, where the client goes when no other is set.
const stripeAPI = "https://api.stripe.com"

// StripeWebhookPath is where a connection's webhooks arrive:
// /webhooks/stripe/{connection id}.
const StripeWebhookPath = "/webhooks/stripe/"

// stripeConnView is a connection on the page.
type stripeConnView struct {
	store.StripeConnection
	ModeKey    string
	StatusKey  string
	WebhookURL string
	Enabled    map[payment.Method]bool
}

// paymentMethods are the methods an organizer may offer, in page order.
var paymentMethods = []payment.Method{payment.MethodCard, payment.MethodKonbini, payment.MethodBankTransfer}

func (s *Server) stripeView(c store.StripeConnection) stripeConnView {
	v := stripeConnView{StripeConnection: c, ModeKey: "stripe.mode.test", StatusKey: "stripe.status." + string(c.Status),
		Enabled: map[payment.Method]bool{}}
	if c.Account.Live {
		v.ModeKey = "stripe.mode.live"
	}
	if c.WebhookEndpointID != "" {
		v.WebhookURL = s.stripeWebhookURL(c.ID)
	}
	for _, m := range c.Methods {
		v.Enabled[m] = true
	}
	return v
}

func (s *Server) stripeWebhookURL(id int64) string {
	base := ""
	if s.stripe.PublicURL != nil {
		base = strings.TrimRight(s.stripe.PublicURL(), "/")
	}
	return base + StripeWebhookPath + strconv.FormatInt(id, 10)
}

func (s *Server) payments(w http.ResponseWriter, r *http.Request) {
	s.renderPayments(w, r, http.StatusOK, "")
}

// renderPayments shows the page, with problem (a message key and its
// arguments) when the last action failed. The key field is never filled
// in again.
func (s *Server) renderPayments(w http.ResponseWriter, r *http.Request, status int, problem string, args ...any) {
	m, _ := memberFrom(r.Context())
	conns, err := s.store.StripeConnections(r.Context(), m.OrgID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var current *stripeConnView
	var earlier []stripeConnView
	for _, c := range conns {
		v := s.stripeView(c)
		switch {
		case c.Status == store.StripeConnected && current == nil:
			current = &v
		case c.Status == store.StripeDisconnected:
			earlier = append(earlier, v)
		}
	}
	p := s.newPage(r, map[string]any{"Current": current, "Earlier": earlier, "Methods": paymentMethods,
		"Simulated": s.stripe.Simulated, "TestAccount": s.stripe.TestAccountKey != nil})
	p.Message, p.MsgArgs = problem, args
	s.render(w, r, status, "payments", p)
}

// stripeClient makes a client for key, or says why it cannot.
func (s *Server) stripeClient(key string) (*stripe.Client, error) {
	return stripe.New(stripe.Config{APIURL: s.stripe.APIURL, Key: key, HTTPClient: s.stripe.HTTPClient})
}

// stripeProblem turns a failed call to Stripe into the page's message.
func (s *Server) stripeProblem(err error) (status int, key string, args []any) {
	var se *stripe.Error
	switch {
	case errors.Is(err, stripe.ErrBadKey):
		return http.StatusBadRequest, "stripe.err.bad_key", nil
	case errors.Is(err, stripe.ErrLiveKeyOffStripe):
		return http.StatusBadRequest, "stripe.err.live_off_stripe", []any{cmp.Or(s.stripe.APIURL, stripeAPI)}
	case stripe.IsInvalidKey(err):
		return http.StatusBadRequest, "stripe.err.invalid_key", nil
	case errors.As(err, &se) && se.Status >= 500:
		return http.StatusBadGateway, "stripe.err.server", []any{se.Status}
	case errors.As(err, &se) && se.Status > 0:
		return http.StatusBadGateway, "stripe.err.refused", []any{se.Status}
	default: // no answer: the network, a timeout
		return http.StatusBadGateway, "stripe.err.unreachable", nil
	}
}

// stripeConnect connects with a pasted key.
func (s *Server) stripeConnect(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	s.connectStripe(w, r, strings.TrimSpace(r.PostForm.Get("key")))
}

// stripeConnectTest connects the simulator's test account in one click.
func (s *Server) stripeConnectTest(w http.ResponseWriter, r *http.Request) {
	if s.stripe.TestAccountKey == nil {
		s.renderPayments(w, r, http.StatusNotFound, "stripe.no_simulator")
		return
	}
	key, err := s.stripe.TestAccountKey(r.Context())
	if err != nil {
		s.log.Warn("stripe: the simulator's test account", "err", err)
		s.renderPayments(w, r, http.StatusBadGateway, "stripe.err.unreachable")
		return
	}
	s.connectStripe(w, r, key)
}

// connectStripe checks the key with Stripe, stores it, registers the
// webhook endpoint (its URL names the stored connection) and records it.
// Anything failing after the key is stored leaves no connection behind.
func (s *Server) connectStripe(w http.ResponseWriter, r *http.Request, key string) {
	m, _ := memberFrom(r.Context())
	ctx := r.Context()
	if _, err := s.store.ConnectedStripe(ctx, m.OrgID); err == nil {
		s.renderPayments(w, r, http.StatusConflict, "stripe.already_connected")
		return
	} else if !errors.Is(err, event.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	cl, err := s.stripeClient(key)
	if err != nil {
		status, msg, args := s.stripeProblem(err)
		s.renderPayments(w, r, status, msg, args...)
		return
	}
	acct, err := cl.Account(ctx)
	if err != nil {
		s.log.Warn("stripe connect: account", "org", m.OrgID, "err", err)
		status, msg, args := s.stripeProblem(err)
		s.renderPayments(w, r, status, msg, args...)
		return
	}
	apiURL := cmp.Or(s.stripe.APIURL, stripeAPI)
	id, err := s.store.BeginStripeConnection(ctx, m.OrgID,
		store.StripeAccount{ID: acct.ID, DisplayName: acct.Name, Live: acct.Live}, key, apiURL)
	if err != nil {
		s.failPayments(w, r, err)
		return
	}
	// From here on, the request's end must not strand a half-made
	// connection: the rest runs to its end.
	ctx = context.WithoutCancel(ctx)
	abandon := func() {
		if err := s.store.DisconnectStripeConnection(ctx, m.OrgID, id); err != nil {
			s.log.Error("stripe connect: abandon", "org", m.OrgID, "conn", id, "err", err)
		}
	}
	ep, err := cl.CreateWebhookEndpoint(ctx, s.stripeWebhookURL(id))
	if err != nil {
		s.log.Warn("stripe connect: webhook endpoint", "org", m.OrgID, "conn", id, "err", err)
		abandon()
		status, msg, args := s.stripeProblem(err)
		s.renderPayments(w, r, status, msg, args...)
		return
	}
	if err := s.store.CompleteStripeConnection(ctx, m.OrgID, id, ep.ID, ep.Secret); err != nil {
		if derr := cl.DeleteWebhookEndpoint(ctx, ep.ID); derr != nil {
			s.log.Warn("stripe connect: delete the endpoint of an abandoned connection", "conn", id,
				"endpoint", ep.ID, "err", derr)
		}
		abandon()
		s.failPayments(w, r, err)
		return
	}
	s.log.Info("stripe connected", "org", m.OrgID, "conn", id, "account", acct.ID, "live", acct.Live,
		"endpoint", ep.ID)
	redirect(w, r, paymentsPath, "flash.stripe_connected")
}

// failPayments shows a domain error on the page, anything else as fail does.
func (s *Server) failPayments(w http.ResponseWriter, r *http.Request, err error) {
	var ee *event.Error
	var fe event.FieldErrors
	switch {
	case errors.As(err, &ee) && ee.Code == event.EConflict:
		s.renderPayments(w, r, http.StatusConflict, ee.Key, ee.Args...)
	case errors.As(err, &fe):
		s.renderPayments(w, r, http.StatusBadRequest, fe[0].Key, fe[0].Args...)
	default:
		s.fail(w, r, err)
	}
}

func (s *Server) stripeConnOf(w http.ResponseWriter, r *http.Request) (store.StripeConnection, bool) {
	m, _ := memberFrom(r.Context())
	id, ok := pathID(r, "connID")
	if !ok {
		s.notFound(w, r)
		return store.StripeConnection{}, false
	}
	c, err := s.store.StripeConnection(r.Context(), m.OrgID, id)
	if err != nil {
		s.fail(w, r, err)
		return c, false
	}
	return c, true
}

// stripeMethods saves the methods offered (カード, コンビニ, 銀行振込; at least one).
func (s *Server) stripeMethods(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	c, ok := s.stripeConnOf(w, r)
	if !ok {
		return
	}
	var ms []payment.Method
	for _, v := range r.PostForm["method"] {
		m := payment.Method(v)
		if !m.Valid() || m == payment.MethodManual {
			s.renderPayments(w, r, http.StatusBadRequest, "stripe.methods_required")
			return
		}
		ms = append(ms, m)
	}
	if err := s.store.SetStripeMethods(r.Context(), c.OrgID, c.ID, ms); err != nil {
		s.failPayments(w, r, err)
		return
	}
	redirect(w, r, paymentsPath, "flash.stripe_methods_saved")
}

// stripeDisconnectConfirm asks before 解除.
func (s *Server) stripeDisconnectConfirm(w http.ResponseWriter, r *http.Request) {
	c, ok := s.stripeConnOf(w, r)
	if !ok {
		return
	}
	if c.Status != store.StripeConnected {
		http.Redirect(w, r, paymentsPath, http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "stripe_disconnect", map[string]any{"Conn": s.stripeView(c)})
}

// stripeDisconnect deletes the webhook endpoint at Stripe (one already
// gone is fine), then the key and secret, and marks the connection
// 解除済. While Stripe cannot be asked, the connection stays as it is:
// an endpoint left behind would keep sending events nobody verifies.
func (s *Server) stripeDisconnect(w http.ResponseWriter, r *http.Request) {
	c, ok := s.stripeConnOf(w, r)
	if !ok {
		return
	}
	if c.Status == store.StripeDisconnected {
		redirect(w, r, paymentsPath, "flash.stripe_disconnected")
		return
	}
	key, err := s.store.StripeConnectionKey(r.Context(), c.OrgID, c.ID)
	switch {
	case errors.Is(err, store.ErrStripeNotConnected): // nothing left to call Stripe with
	case err != nil:
		s.fail(w, r, err)
		return
	case c.WebhookEndpointID != "":
		cl, err := s.stripeClient(key)
		if err == nil {
			err = cl.DeleteWebhookEndpoint(r.Context(), c.WebhookEndpointID)
		}
		if err != nil {
			s.log.Warn("stripe disconnect: delete the webhook endpoint", "org", c.OrgID, "conn", c.ID,
				"endpoint", c.WebhookEndpointID, "err", err)
			var se *stripe.Error
			switch {
			case stripe.IsInvalidKey(err):
				// The key is revoked: kaisai can never delete the endpoint,
				// so it lets go and the organizer deletes it at Stripe.
				if err := s.store.DisconnectStripeConnection(r.Context(), c.OrgID, c.ID); err != nil {
					s.fail(w, r, err)
					return
				}
				s.renderPayments(w, r, http.StatusOK, "stripe.err.disconnect_key", c.WebhookEndpointID)
			case errors.As(err, &se) && se.Status > 0:
				s.renderPayments(w, r, http.StatusBadGateway, "stripe.err.disconnect_server", se.Status)
			default:
				s.renderPayments(w, r, http.StatusBadGateway, "stripe.err.disconnect_unreachable")
			}
			return
		}
	}
	if err := s.store.DisconnectStripeConnection(r.Context(), c.OrgID, c.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("stripe disconnected", "org", c.OrgID, "conn", c.ID, "account", c.Account.ID)
	redirect(w, r, paymentsPath, "flash.stripe_disconnected")
}

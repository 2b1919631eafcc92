package stripesim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The control API under /_sim/: what the exported methods of *Server do,
// over HTTP with JSON in and out, for tests in other processes and for
// people with curl. It is no part of Stripe and needs no key. Bad input
// answers 400 {"error": "…"}; an unknown object 404; a payment the
// object's state does not allow 409.

// Snapshot is the whole visible state: what GET /_sim/state answers and
// what the web UI shows. Objects are in Stripe's JSON shape, newest first.
type Snapshot struct {
	Now            time.Time        `json:"now"`
	Accounts       []Account        `json:"accounts"`
	Sessions       []map[string]any `json:"checkout_sessions"`
	PaymentIntents []map[string]any `json:"payment_intents"`
	Charges        []map[string]any `json:"charges"`
	Refunds        []map[string]any `json:"refunds"`
	Endpoints      []map[string]any `json:"webhook_endpoints"` // with their secrets
	Events         int              `json:"events"`
	Deliveries     int              `json:"webhook_deliveries"`
}

// State returns a snapshot of everything.
func (s *Server) State() Snapshot {
	s.mu.Lock()
	snap := Snapshot{Now: s.nowLocked(), Events: len(s.st.Events)}
	for _, a := range s.st.Accounts {
		snap.Accounts = append(snap.Accounts, *a)
	}
	slices.SortFunc(snap.Accounts, func(a, b Account) int { return strings.Compare(a.ID, b.ID) })
	for _, cs := range sortedBySeq(s.st.Sessions, func(cs *Session) int64 { return -cs.Seq }) {
		snap.Sessions = append(snap.Sessions, s.sessionJSON(cs))
	}
	for _, pi := range sortedBySeq(s.st.Intents, func(pi *PaymentIntent) int64 { return -pi.Created }) {
		snap.PaymentIntents = append(snap.PaymentIntents, s.intentJSON(pi))
	}
	for _, ch := range sortedBySeq(s.st.Charges, func(ch *Charge) int64 { return -ch.Created }) {
		snap.Charges = append(snap.Charges, s.chargeJSON(ch))
	}
	for _, r := range sortedBySeq(s.st.Refunds, func(r *Refund) int64 { return -r.Seq }) {
		snap.Refunds = append(snap.Refunds, s.refundJSON(r))
	}
	for _, e := range sortedBySeq(s.st.Endpoints, func(e *WebhookEndpoint) int64 { return -e.Seq }) {
		snap.Endpoints = append(snap.Endpoints, s.endpointJSON(e, true))
	}
	s.mu.Unlock()
	snap.Deliveries = len(s.Deliveries())
	return snap
}

// Events returns every event so far, oldest first, in Stripe's shape.
func (s *Server) Events() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, len(s.st.Events))
	for i, ev := range s.st.Events {
		out[i] = s.eventJSON(ev)
	}
	return out
}

// Reset goes back to the seed: every object, event, idempotency key,
// fault and webhook delivery is forgotten, and the clock's advance too.
func (s *Server) Reset() error {
	s.ClearFaults()
	h := s.hooksQueue()
	s.mu.Lock()
	h.mu.Lock()
	h.deliveries, h.queue, h.held = nil, nil, nil
	h.epoch++
	h.notifyLocked()
	h.mu.Unlock()
	s.st, s.offset = newState(), 0
	err := s.addSeedLocked()
	s.saveLocked()
	s.mu.Unlock()
	return err
}

func (s *Server) controlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sim/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.State())
	})
	mux.HandleFunc("GET /_sim/clock", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"now": s.Now()})
	})
	mux.HandleFunc("POST /_sim/clock", s.ctlClock)
	mux.HandleFunc("POST /_sim/accounts", s.ctlAddAccount)
	mux.HandleFunc("POST /_sim/checkout/sessions/{id}/pay", s.ctlPay)
	mux.HandleFunc("POST /_sim/checkout/sessions/{id}/three_d_secure", s.ctlThreeDS)
	mux.HandleFunc("POST /_sim/payment_intents/{id}/pay", s.ctlPayVoucher)
	mux.HandleFunc("POST /_sim/payment_intents/{id}/lapse", func(w http.ResponseWriter, r *http.Request) {
		ctlResult(w, s.LapseVoucher(r.PathValue("id")))
	})
	mux.HandleFunc("POST /_sim/refunds/{id}/succeed", func(w http.ResponseWriter, r *http.Request) {
		ctlResult(w, s.SettleRefund(r.PathValue("id"), true, ""))
	})
	mux.HandleFunc("POST /_sim/refunds/{id}/fail", s.ctlFailRefund)
	mux.HandleFunc("POST /_sim/faults", s.ctlSetFaults)
	mux.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, faultsJSON(s.Faults()))
	})
	mux.HandleFunc("DELETE /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sim/webhooks", s.ctlWebhooks)
	mux.HandleFunc("POST /_sim/reset", func(w http.ResponseWriter, r *http.Request) {
		ctlResult(w, s.Reset())
	})
	mux.HandleFunc("/_sim/", func(w http.ResponseWriter, r *http.Request) {
		ctlError(w, http.StatusNotFound, errors.New("no such control route"))
	})
}

func ctlError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": strings.TrimPrefix(err.Error(), "stripesim: ")})
}

// ctlResult answers 204, or the error: 404 for an unknown object, 409
// otherwise (the object's state does not allow it).
func ctlResult(w http.ResponseWriter, err error) {
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrNotFound):
		ctlError(w, http.StatusNotFound, err)
	default:
		ctlError(w, http.StatusConflict, err)
	}
}

// ctlDecode reads a JSON object (an empty body is {}); unknown fields are
// refused, so a typo does not silently do nothing.
func ctlDecode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && err.Error() != "EOF" {
		ctlError(w, http.StatusBadRequest, fmt.Errorf("bad JSON body: %w", err))
		return false
	}
	return true
}

// ctlClock: POST /_sim/clock {"advance": "1h30m"}: the clock moves
// forward and what falls due happens; answers {"now"}.
func (s *Server) ctlClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Advance string `json:"advance"`
	}
	if !ctlDecode(w, r, &req) {
		return
	}
	d, err := time.ParseDuration(req.Advance)
	if err == nil {
		err = s.Advance(d)
	}
	if err != nil {
		ctlError(w, http.StatusBadRequest, fmt.Errorf("advance: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"now": s.Now()})
}

// ctlAddAccount: POST /_sim/accounts, an Account (all fields optional) → 201.
func (s *Server) ctlAddAccount(w http.ResponseWriter, r *http.Request) {
	var a Account
	if !ctlDecode(w, r, &a) {
		return
	}
	if a.SecretKey != "" && !strings.HasPrefix(a.SecretKey, "sk_test_") || a.RestrictedKey != "" && !strings.HasPrefix(a.RestrictedKey, "rk_test_") {
		ctlError(w, http.StatusBadRequest, errors.New("keys must begin with sk_test_ and rk_test_"))
		return
	}
	a, err := s.AddAccount(a)
	if err != nil {
		ctlError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// ctlPay: POST /_sim/checkout/sessions/{id}/pay {"method": "card" |
// "konbini" | "customer_balance", "card": "4242424242424242", "email"}.
// Answers 200 {"outcome": "succeeded" | "declined" | "requires_action"
// (3-D Secure) | "voucher" | "transfer", "payment_intent": id}.
func (s *Server) ctlPay(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Method string `json:"method"`
		Card   string `json:"card"`
		Email  string `json:"email"`
	}
	if !ctlDecode(w, r, &req) {
		return
	}
	id := r.PathValue("id")
	var outcome string
	var err error
	switch req.Method {
	case "card", "":
		if req.Card == "" {
			req.Card = CardSuccess
		}
		err = s.PayCard(id, req.Card, req.Email)
		switch {
		case err == nil:
			outcome = "succeeded"
		case errors.Is(err, ErrDeclined):
			outcome, err = "declined", nil
		case errors.Is(err, ErrNeedsThreeDS):
			outcome, err = "requires_action", nil
		}
	case "konbini":
		if req.Email == "" {
			req.Email = "buyer@example.com"
		}
		_, err = s.PayKonbini(id, req.Email)
		outcome = "voucher"
	case "customer_balance":
		_, err = s.PayBankTransfer(id, req.Email)
		outcome = "transfer"
	default:
		ctlError(w, http.StatusBadRequest, fmt.Errorf("method must be card, konbini or customer_balance, not %q", req.Method))
		return
	}
	if err != nil {
		ctlResult(w, err)
		return
	}
	s.mu.Lock()
	pi := ""
	if cs := s.st.Sessions[id]; cs != nil {
		pi = cs.PaymentIntent
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"outcome": outcome, "payment_intent": pi})
}

// ctlThreeDS: POST /_sim/checkout/sessions/{id}/three_d_secure {"ok": true}.
func (s *Server) ctlThreeDS(w http.ResponseWriter, r *http.Request) {
	var req struct {
		OK bool `json:"ok"`
	}
	if !ctlDecode(w, r, &req) {
		return
	}
	err := s.ConfirmThreeDSecure(r.PathValue("id"), req.OK)
	if errors.Is(err, ErrDeclined) {
		err = nil
	}
	ctlResult(w, err)
}

// ctlPayVoucher: POST /_sim/payment_intents/{id}/pay {"store": "lawson"}.
func (s *Server) ctlPayVoucher(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Store string `json:"store"`
	}
	if !ctlDecode(w, r, &req) {
		return
	}
	ctlResult(w, s.PayVoucher(r.PathValue("id"), req.Store))
}

// ctlFailRefund: POST /_sim/refunds/{id}/fail {"failure_reason": "declined"}.
func (s *Server) ctlFailRefund(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Reason string `json:"failure_reason"`
	}
	if !ctlDecode(w, r, &req) {
		return
	}
	ctlResult(w, s.SettleRefund(r.PathValue("id"), false, req.Reason))
}

type faultJSON struct {
	Kind   FaultKind `json:"kind"`
	Op     string    `json:"op,omitempty"`
	Rate   float64   `json:"rate,omitempty"`
	Count  int       `json:"count,omitempty"`
	Status int       `json:"status,omitempty"`
	Delay  string    `json:"delay,omitempty"`
}

func faultsJSON(fs []Fault) []faultJSON {
	out := []faultJSON{}
	for _, f := range fs {
		j := faultJSON{Kind: f.Kind, Op: f.Op, Rate: f.Rate, Count: f.Count, Status: f.Status}
		if f.Delay > 0 {
			j.Delay = f.Delay.String()
		}
		out = append(out, j)
	}
	return out
}

// ctlSetFaults: POST /_sim/faults {"seed": 1, "faults": [{"kind", "op",
// "rate", "count", "status", "delay": "2s"}]} replaces the faults → 204.
func (s *Server) ctlSetFaults(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Seed   uint64      `json:"seed"`
		Faults []faultJSON `json:"faults"`
	}
	if !ctlDecode(w, r, &req) {
		return
	}
	var fs []Fault
	for i, f := range req.Faults {
		if !slices.Contains(faultKinds, f.Kind) {
			ctlError(w, http.StatusBadRequest, fmt.Errorf("faults[%d].kind: unknown %q", i, f.Kind))
			return
		}
		if f.Rate < 0 || f.Rate > 1 {
			ctlError(w, http.StatusBadRequest, fmt.Errorf("faults[%d].rate must be 0–1", i))
			return
		}
		if f.Status != 0 && f.Status != http.StatusTooManyRequests && (f.Status < 500 || f.Status > 599) {
			ctlError(w, http.StatusBadRequest, fmt.Errorf("faults[%d].status must be 5xx or 429", i))
			return
		}
		if f.Count < 0 {
			ctlError(w, http.StatusBadRequest, fmt.Errorf("faults[%d].count must not be negative", i))
			return
		}
		var delay time.Duration
		if f.Delay != "" {
			d, err := time.ParseDuration(f.Delay)
			if err != nil || d < 0 {
				ctlError(w, http.StatusBadRequest, fmt.Errorf("faults[%d].delay: bad duration %q", i, f.Delay))
				return
			}
			delay = d
		}
		fs = append(fs, Fault{Kind: f.Kind, Op: f.Op, Rate: f.Rate, Count: f.Count, Status: f.Status, Delay: delay})
	}
	s.SetFaults(req.Seed, fs...)
	w.WriteHeader(http.StatusNoContent)
}

// deliveryJSON is a Delivery with its body as JSON.
type deliveryJSON struct {
	Delivery
	Body json.RawMessage `json:"body"`
}

// ctlWebhooks: GET /_sim/webhooks[?event=checkout.session.completed]
// lists deliveries, oldest first.
func (s *Server) ctlWebhooks(w http.ResponseWriter, r *http.Request) {
	event := r.URL.Query().Get("event")
	out := []deliveryJSON{}
	for _, d := range s.Deliveries() {
		if event != "" && d.Event != event {
			continue
		}
		out = append(out, deliveryJSON{Delivery: d, Body: d.Body})
	}
	writeJSON(w, http.StatusOK, out)
}

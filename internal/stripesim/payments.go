package stripesim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Paying a Checkout Session, as the hosted page (ui.go) and the control
// API (control.go) do, and what the passing of time does.

// Test card numbers, as at Stripe.
const (
	CardSuccess      = "4242424242424242"
	CardDeclined     = "4000000000000002"
	CardThreeDSecure = "4000000000003220"
	CardInsufficient = "4000000000009995"
)

// Outcomes of PayCard.
var (
	ErrDeclined         = errors.New("stripesim: the card was declined")
	ErrNeedsThreeDS     = errors.New("stripesim: the card asks for 3-D Secure")
	ErrSessionNotOpen   = errors.New("stripesim: the Checkout Session is not open")
	ErrMethodNotAllowed = errors.New("stripesim: the Checkout Session does not offer this payment method")
	ErrNotFound         = errors.New("stripesim: no such object")
)

// konbiniStores are the chains Stripe's konbini covers.
var konbiniStores = []string{"familymart", "lawson", "ministop", "seicomart"}

func (s *Server) openSessionLocked(id, method string) (*Session, error) {
	cs := s.st.Sessions[id]
	if cs == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if cs.Status != "open" {
		return nil, ErrSessionNotOpen
	}
	if !slices.Contains(cs.PaymentMethodTypes, method) {
		return nil, ErrMethodNotAllowed
	}
	return cs, nil
}

// intentForLocked is the session's PaymentIntent, made at the first
// attempt to pay, as Checkout does.
func (s *Server) intentForLocked(cs *Session, now time.Time) *PaymentIntent {
	if pi := s.st.Intents[cs.PaymentIntent]; pi != nil {
		return pi
	}
	pi := &PaymentIntent{ID: newID("pi"), Account: cs.Account, Created: now.Unix(), Amount: cs.amountTotal(),
		Currency: cs.Currency, Status: "requires_payment_method", PaymentMethodTypes: slices.Clone(cs.PaymentMethodTypes),
		Customer: cs.Customer, Description: cs.Description, Metadata: cs.PaymentMetadata, Session: cs.ID}
	s.st.Intents[pi.ID] = pi
	cs.PaymentIntent = pi.ID
	return pi
}

// PayCard pays an open session by card: CardSuccess (or any other number)
// succeeds, CardDeclined and CardInsufficient are declined (the session
// stays open for another try), CardThreeDSecure waits for
// ConfirmThreeDSecure.
func (s *Server) PayCard(sessionID, number, email string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked()
	cs, err := s.openSessionLocked(sessionID, "card")
	if err != nil {
		return err
	}
	number = strings.ReplaceAll(strings.ReplaceAll(number, " ", ""), "-", "")
	if len(number) < 12 || strings.Trim(number, "0123456789") != "" {
		return errors.New("stripesim: カード番号が正しくありません")
	}
	now := s.nowLocked()
	if email != "" && cs.CustomerEmail == "" {
		cs.CustomerEmail = email
	}
	pi := s.intentForLocked(cs, now)
	defer s.saveLocked()
	switch number {
	case CardDeclined:
		s.declineLocked(pi, number, "card_declined", "generic_decline", "Your card was declined.")
		return ErrDeclined
	case CardInsufficient:
		s.declineLocked(pi, number, "card_declined", "insufficient_funds", "Your card has insufficient funds.")
		return ErrDeclined
	case CardThreeDSecure:
		pi.Status, pi.ThreeDS, pi.ThreeDSCard, pi.Method = "requires_action", true, number, "card"
		return ErrNeedsThreeDS
	}
	s.cardSucceedsLocked(cs, pi, number, now)
	return nil
}

// ConfirmThreeDSecure completes (or fails) the 3-D Secure step of a
// session's card payment.
func (s *Server) ConfirmThreeDSecure(sessionID string, ok bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, err := s.openSessionLocked(sessionID, "card")
	if err != nil {
		return err
	}
	pi := s.st.Intents[cs.PaymentIntent]
	if pi == nil || !pi.ThreeDS {
		return errors.New("stripesim: no 3-D Secure step is waiting")
	}
	defer s.saveLocked()
	pi.ThreeDS = false
	if !ok {
		pi.Status = "requires_payment_method"
		pi.LastError = &PaymentError{Type: "invalid_request_error", Code: "payment_intent_authentication_failure",
			Message: "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again."}
		return ErrDeclined
	}
	s.cardSucceedsLocked(cs, pi, pi.ThreeDSCard, s.nowLocked())
	return nil
}

func (s *Server) declineLocked(pi *PaymentIntent, number, code, decline, msg string) {
	ch := &Charge{ID: newID("ch"), Account: pi.Account, Created: s.nowLocked().Unix(), Amount: pi.Amount, Currency: pi.Currency,
		PaymentIntent: pi.ID, Method: "card", Status: "failed", Customer: pi.Customer, Metadata: pi.Metadata,
		Last4: number[len(number)-4:], FailureCode: code, FailureMessage: msg}
	s.st.Charges[ch.ID] = ch
	pi.Status, pi.LatestCharge, pi.Method = "requires_payment_method", ch.ID, "card"
	pi.LastError = &PaymentError{Type: "card_error", Code: code, DeclineCode: decline, Message: msg}
}

func (s *Server) cardSucceedsLocked(cs *Session, pi *PaymentIntent, number string, now time.Time) {
	ch := &Charge{ID: newID("ch"), Account: pi.Account, Created: now.Unix(), Amount: pi.Amount, Currency: pi.Currency,
		PaymentIntent: pi.ID, Method: "card", Status: "succeeded", Customer: pi.Customer, Metadata: pi.Metadata,
		Last4: number[len(number)-4:]}
	s.st.Charges[ch.ID] = ch
	pi.Status, pi.LatestCharge, pi.Method, pi.LastError = "succeeded", ch.ID, "card", nil
	pi.PaymentMethod = newID("pm")
	cs.Status, cs.PaymentStatus = "complete", "paid"
	s.emitLocked(cs.Account, "checkout.session.completed", s.sessionJSON(cs), nil, "", "")
}

// endOfDayJST is 23:59:59 JST, days days after t (konbini vouchers).
func endOfDayJST(t time.Time, days int) time.Time {
	d := t.In(jst).AddDate(0, 0, days)
	return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, jst)
}

// PayKonbini chooses コンビニ on an open session: a voucher is issued
// (its confirmation number and expiry at 23:59:59 JST,
// expires_after_days days from now), the session completes unpaid and
// checkout.session.completed is sent. The money comes with PayVoucher.
func (s *Server) PayKonbini(sessionID, email string) (Voucher, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked()
	cs, err := s.openSessionLocked(sessionID, "konbini")
	if err != nil {
		return Voucher{}, err
	}
	if email == "" && cs.CustomerEmail == "" {
		return Voucher{}, errors.New("stripesim: コンビニ払いにはメールアドレスが必要です")
	}
	if cs.CustomerEmail == "" {
		cs.CustomerEmail = email
	}
	now := s.nowLocked()
	pi := s.intentForLocked(cs, now)
	pi.Method, pi.Status, pi.LastError, pi.PaymentMethod = "konbini", "requires_action", nil, newID("pm")
	pi.Konbini = &Voucher{ConfirmationNumber: randomDigits(11), ExpiresAt: endOfDayJST(now, cs.KonbiniDays).Unix()}
	cs.Status = "complete"
	s.emitLocked(cs.Account, "checkout.session.completed", s.sessionJSON(cs), nil, "", "")
	s.saveLocked()
	return *pi.Konbini, nil
}

// PayBankTransfer chooses 銀行振込 on an open session: the customer gets
// a virtual account at a Japanese bank to transfer to, the session
// completes unpaid and checkout.session.completed is sent; the money
// comes with PayVoucher (the transfer arrives).
func (s *Server) PayBankTransfer(sessionID, email string) (Transfer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked()
	cs, err := s.openSessionLocked(sessionID, "customer_balance")
	if err != nil {
		return Transfer{}, err
	}
	if cs.CustomerEmail == "" {
		cs.CustomerEmail = email
	}
	now := s.nowLocked()
	if cs.Customer == "" {
		cs.Customer = newID("cus")
	}
	pi := s.intentForLocked(cs, now)
	pi.Customer = cs.Customer
	pi.Method, pi.Status, pi.LastError, pi.PaymentMethod = "customer_balance", "requires_action", nil, newID("pm")
	pi.Transfer = &Transfer{Type: "jp_bank_transfer", Reference: randomDigits(8), BankCode: "0999", BankName: "ストライプ銀行",
		BranchCode: randomDigits(3), BranchName: "シミュレーター支店", AccountNumber: randomDigits(7),
		AccountHolder: "ｽﾄﾗｲﾌﾟｼﾞｬﾊﾟﾝ(ｶ"}
	cs.Status = "complete"
	s.emitLocked(cs.Account, "checkout.session.completed", s.sessionJSON(cs), nil, "", "")
	s.saveLocked()
	return *pi.Transfer, nil
}

// PayVoucher pays a waiting konbini voucher (at store, one of
// familymart, lawson, ministop, seicomart; "" is familymart) or makes a
// bank transfer arrive: the PaymentIntent succeeds and
// checkout.session.async_payment_succeeded is sent.
func (s *Server) PayVoucher(intentID, store string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked()
	pi := s.st.Intents[intentID]
	if pi == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, intentID)
	}
	if pi.Status != "requires_action" || (pi.Konbini == nil && pi.Transfer == nil) {
		return fmt.Errorf("stripesim: %s is not waiting for a konbini payment or a transfer (status %s)", pi.ID, pi.Status)
	}
	if store == "" {
		store = "familymart"
	}
	if !slices.Contains(konbiniStores, store) {
		return fmt.Errorf("stripesim: store must be one of %s", strings.Join(konbiniStores, ", "))
	}
	now := s.nowLocked()
	ch := &Charge{ID: newID("ch"), Account: pi.Account, Created: now.Unix(), Amount: pi.Amount, Currency: pi.Currency,
		PaymentIntent: pi.ID, Method: pi.Method, Status: "succeeded", Customer: pi.Customer, Metadata: pi.Metadata}
	if pi.Konbini != nil {
		ch.Store, pi.Konbini.Store = store, store
	}
	s.st.Charges[ch.ID] = ch
	pi.Status, pi.LatestCharge = "succeeded", ch.ID
	if cs := s.st.Sessions[pi.Session]; cs != nil {
		cs.PaymentStatus = "paid"
		s.emitLocked(cs.Account, "checkout.session.async_payment_succeeded", s.sessionJSON(cs), nil, "", "")
	}
	s.saveLocked()
	return nil
}

// LapseVoucher lets a konbini voucher or a bank transfer lapse unpaid
// (a voucher does by itself at its expires_at): the PaymentIntent is
// canceled and checkout.session.async_payment_failed is sent.
func (s *Server) LapseVoucher(intentID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi := s.st.Intents[intentID]
	if pi == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, intentID)
	}
	if pi.Status != "requires_action" || (pi.Konbini == nil && pi.Transfer == nil) {
		return fmt.Errorf("stripesim: %s is not waiting for a konbini payment or a transfer (status %s)", pi.ID, pi.Status)
	}
	s.lapseLocked(pi)
	s.saveLocked()
	return nil
}

func (s *Server) lapseLocked(pi *PaymentIntent) {
	pi.Status, pi.CanceledAt, pi.Cancellation = "canceled", s.nowLocked().Unix(), "abandoned"
	if cs := s.st.Sessions[pi.Session]; cs != nil {
		s.emitLocked(cs.Account, "checkout.session.async_payment_failed", s.sessionJSON(cs), nil, "", "")
	}
}

func (s *Server) expireSessionLocked(cs *Session, reqID, idemKey string) {
	cs.Status = "expired"
	if pi := s.st.Intents[cs.PaymentIntent]; pi != nil && pi.Status != "succeeded" && pi.Status != "canceled" {
		pi.Status, pi.CanceledAt, pi.Cancellation, pi.ThreeDS = "canceled", s.nowLocked().Unix(), "abandoned", false
	}
	s.emitLocked(cs.Account, "checkout.session.expired", s.sessionJSON(cs), map[string]any{"status": "open"}, reqID, idemKey)
}

// refundInstructionsValid is how long the customer of a konbini refund
// has to give a bank account. Stripe documents 45 days for bank transfer
// refunds, which ask the same; the simulator takes it for konbini too,
// and shows it as next_action.display_details.expires_at without acting
// on it (SettleRefund ends such a refund).
const refundInstructionsValid = 45 * 24 * time.Hour

// SettleRefund ends a pending refund, or a konbini refund waiting for the
// customer's bank account (requires_action; succeeding is the customer
// giving it and the money going out): succeeded, or failed with a
// failure_reason (lost_or_stolen_card, expired_or_canceled_card,
// charge_for_pending_refund_disputed, insufficient_funds, declined,
// merchant_request or unknown). refund.updated is sent, and refund.failed
// too when it failed (the charge's amount_refunded goes back down).
func (s *Server) SettleRefund(refundID string, succeed bool, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.Refunds[refundID]
	if r == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, refundID)
	}
	if r.Status != "pending" && r.Status != "requires_action" {
		return fmt.Errorf("stripesim: refund %s is %s, not pending or requires_action", r.ID, r.Status)
	}
	if !succeed && reason == "" {
		reason = "unknown"
	}
	s.settleRefundLocked(r, succeed, reason)
	s.saveLocked()
	return nil
}

func (s *Server) settleRefundLocked(r *Refund, succeed bool, reason string) {
	prev := map[string]any{"status": r.Status}
	if r.Status == "requires_action" {
		prev["next_action"] = s.refundJSON(r)["next_action"]
	}
	if succeed {
		r.Status = "succeeded"
		s.emitLocked(r.Account, "refund.updated", s.refundJSON(r), prev, "", "")
		return
	}
	r.Status, r.FailureReason = "failed", reason
	if ch := s.st.Charges[r.Charge]; ch != nil {
		ch.AmountRefunded -= r.Amount
	}
	s.emitLocked(r.Account, "refund.updated", s.refundJSON(r), prev, "", "")
	s.emitLocked(r.Account, "refund.failed", s.refundJSON(r), prev, "", "")
}

// Tick applies the passing of time: open sessions past expires_at expire,
// konbini vouchers past theirs lapse, pending refunds older than
// Options.RefundSettleAfter succeed.
func (s *Server) Tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tickLocked()
}

func (s *Server) tickLocked() {
	now := s.nowLocked().Unix()
	changed := false
	for _, cs := range sortedBySeq(s.st.Sessions, func(cs *Session) int64 { return cs.Seq }) {
		if cs.Status == "open" && now >= cs.ExpiresAt {
			s.expireSessionLocked(cs, "", "")
			changed = true
		}
	}
	for _, pi := range sortedBySeq(s.st.Intents, func(pi *PaymentIntent) int64 { return pi.Created }) {
		if pi.Status == "requires_action" && pi.Konbini != nil && now > pi.Konbini.ExpiresAt {
			s.lapseLocked(pi)
			changed = true
		}
	}
	if s.opts.RefundSettleAfter > 0 {
		after := int64(s.opts.RefundSettleAfter / time.Second)
		for _, r := range sortedBySeq(s.st.Refunds, func(r *Refund) int64 { return r.Seq }) {
			if r.Status == "pending" && now-r.Created >= after {
				s.settleRefundLocked(r, true, "")
				changed = true
			}
		}
	}
	if changed {
		s.saveLocked()
	}
}

func sortedBySeq[T any](m map[string]T, seq func(T) int64) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b T) int { return int(seq(a) - seq(b)) })
	return out
}

package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kaisai/internal/payment"
	"kaisai/internal/stripesim"
)

func TestNewKeys(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer other.Close()
	for _, tc := range []struct {
		key, url string
		want     error
	}{
		{"sk_test_abc123", other.URL, nil},
		{"rk_test_abc123", other.URL, nil},
		{"sk_live_abc123", "", nil},
		{"rk_live_abc123", "https://api.stripe.com", nil},
		{"sk_live_abc123", "https://api.stripe.com/", nil},
		{"sk_live_abc123", other.URL, ErrLiveKeyOffStripe},
		{"rk_live_abc123", other.URL, ErrLiveKeyOffStripe},
		{"sk_live_abc123", "http://api.stripe.com", ErrLiveKeyOffStripe},
		{"sk_live_abc123", "https://api.stripe.com.example.net", ErrLiveKeyOffStripe},
		{"sk_live_abc123", "https://api.stripe.com:8443", ErrLiveKeyOffStripe},
		{"sk_live_abc123", "https://API.stripe.com", ErrLiveKeyOffStripe},
		{"sk_live_abc123", "https://api.stripe.com/v1", ErrLiveKeyOffStripe},
		{"", other.URL, ErrBadKey},
		{"pk_test_abc123", other.URL, ErrBadKey},
		{"pk_live_abc123", "", ErrBadKey},
		{"whsec_abc123", other.URL, ErrBadKey},
		{"sk_test_", other.URL, ErrBadKey},
		{"sk_test_abc 123", other.URL, ErrBadKey},
		{"sk_test_abc\n", other.URL, ErrBadKey},
	} {
		c, err := New(Config{APIURL: tc.url, Key: tc.key})
		if !errors.Is(err, tc.want) || (err == nil) != (c != nil) {
			t.Errorf("New(%q, %q) = %v, want %v", tc.key, tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "abc") {
			t.Errorf("New's error shows the key: %v", err)
		}
	}
	if _, err := New(Config{APIURL: "ftp://example.net", Key: "sk_test_abc"}); err == nil {
		t.Error("an ftp API URL was accepted")
	}
	if hits.Load() != 0 {
		t.Errorf("New made %d requests", hits.Load())
	}
	for key, live := range map[string]bool{"sk_live_x": true, "rk_live_x": true, "sk_test_x": false, "rk_test_x": false, "pk_live_x": false, "": false} {
		if KeyIsLive(key) != live {
			t.Errorf("KeyIsLive(%q) = %v", key, !live)
		}
	}
}

func TestAccount(t *testing.T) {
	s := newSim(t)
	seed := stripesim.DefaultSeed().Accounts[0]
	for _, key := range []string{seed.SecretKey, seed.RestrictedKey} {
		c, err := New(Config{APIURL: s.base, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		a, err := c.Account(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if a.ID != seed.ID || a.Name != seed.DisplayName || a.Country != "JP" || a.Email != seed.Email || a.Live {
			t.Errorf("account %+v, seed %+v", a, seed)
		}
	}
}

func TestCardPayment(t *testing.T) {
	s := newSim(t)
	c, rec := s.client(t)
	ctx := context.Background()
	p := checkoutParams("app-42-1")
	cs, err := c.CreateCheckoutSession(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cs.ID, "cs_") || !strings.HasPrefix(cs.URL, s.base) || cs.ClientReferenceID != "42" ||
		cs.Status != "open" || cs.PaymentStatus != "unpaid" || cs.AmountTotal != 3000 || cs.Currency != "jpy" ||
		!cs.ExpiresAt.Equal(p.ExpiresAt) || cs.Method != "" || cs.Voucher != nil || cs.Transfer != nil {
		t.Errorf("new session %+v", cs)
	}
	// What the simulator holds of it: the parameters as sent.
	st := sessionState(t, s, cs.ID)
	if st["locale"] != "ja" || st["customer_email"] != "hanako@example.com" ||
		!slices.Equal(anyStrings(st["payment_method_types"]), []string{"card", "konbini", "customer_balance"}) {
		t.Errorf("session as stored %v", st)
	}
	if md, _ := st["metadata"].(map[string]any); md["application_id"] != "42" {
		t.Errorf("metadata %v", st["metadata"])
	}
	if err := s.PayCard(cs.ID, "4000000000000002", ""); err == nil {
		t.Error("declined card paid")
	}
	if got, err := c.CheckoutSession(ctx, cs.ID); err != nil || got.Status != "open" || got.PaymentStatus != "unpaid" {
		t.Errorf("after a decline: %+v %v", got, err)
	}
	if err := s.PayCard(cs.ID, "4242424242424242", ""); err != nil {
		t.Fatal(err)
	}
	got, err := c.CheckoutSession(ctx, cs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "complete" || got.PaymentStatus != "paid" || got.Method != payment.MethodCard ||
		!strings.HasPrefix(got.PaymentIntentID, "pi_") || got.AmountTotal != 3000 || got.Voucher != nil || got.Transfer != nil {
		t.Errorf("paid session %+v", got)
	}
	create := rec.sent()[0]
	if create.method != http.MethodPost || create.path != "/v1/checkout/sessions" || create.idemKey != "app-42-1" {
		t.Errorf("create sent %+v", create)
	}
	for k, want := range map[string]string{
		"mode": "payment", "client_reference_id": "42", "metadata[application_id]": "42",
		"payment_intent_data[metadata][application_id]": "42", "customer_creation": "always",
		"line_items[0][price_data][currency]": "jpy", "line_items[0][price_data][unit_amount]": "3000",
		"line_items[0][quantity]": "1", "payment_method_options[konbini][expires_after_days]": "2",
		"payment_method_options[customer_balance][funding_type]":        "bank_transfer",
		"payment_method_options[customer_balance][bank_transfer][type]": "jp_bank_transfer",
	} {
		if got := create.form.Get(k); got != want {
			t.Errorf("create sent %s=%q, want %q", k, got, want)
		}
	}
}

func TestKonbiniPaidLater(t *testing.T) {
	s := newSim(t)
	c, _ := s.client(t)
	ctx := context.Background()
	cs, err := c.CreateCheckoutSession(ctx, checkoutParams("app-42-k", payment.MethodKonbini))
	if err != nil {
		t.Fatal(err)
	}
	if days := sessionState(t, s, cs.ID)["payment_method_options"].(map[string]any)["konbini"].(map[string]any)["expires_after_days"]; days != float64(2) {
		t.Errorf("expires_after_days %v", days)
	}
	v, err := s.PayKonbini(cs.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.CheckoutSession(ctx, cs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "complete" || got.PaymentStatus != "unpaid" || got.Method != payment.MethodKonbini || got.Voucher == nil {
		t.Fatalf("pending konbini %+v", got)
	}
	vo := got.Voucher
	wantStores := []string{"familymart", "lawson", "ministop", "seicomart"}
	if vo.Number != v.ConfirmationNumber || !slices.Equal(vo.Stores, wantStores) || vo.ExpiresAt.Unix() != v.ExpiresAt ||
		!strings.HasPrefix(vo.URL, s.base+"/c/voucher/pi_") {
		t.Errorf("voucher %+v, simulator's %+v", vo, v)
	}
	jst := time.FixedZone("JST", 9*3600)
	if e := vo.ExpiresAt.In(jst); e.Hour() != 23 || e.Minute() != 59 || e.Second() != 59 {
		t.Errorf("voucher lapses at %v, not 23:59:59 JST", e)
	}
	if err := s.PayVoucher(got.PaymentIntentID, "lawson"); err != nil {
		t.Fatal(err)
	}
	got, err = c.CheckoutSession(ctx, cs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PaymentStatus != "paid" || got.Method != payment.MethodKonbini || got.Voucher != nil {
		t.Errorf("paid konbini %+v", got)
	}
}

func TestBankTransfer(t *testing.T) {
	s := newSim(t)
	c, _ := s.client(t)
	ctx := context.Background()
	cs, err := c.CreateCheckoutSession(ctx, checkoutParams("app-42-b", payment.MethodBankTransfer))
	if err != nil {
		t.Fatal(err)
	}
	st := sessionState(t, s, cs.ID)
	if st["customer"] != nil || st["customer_email"] != "hanako@example.com" {
		t.Errorf("a bank-transfer session is made without a customer of kaisai's: %v %v", st["customer"], st["customer_email"])
	}
	tr, err := s.PayBankTransfer(cs.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.CheckoutSession(ctx, cs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PaymentStatus != "unpaid" || got.Method != payment.MethodBankTransfer || got.Transfer == nil || got.Voucher != nil {
		t.Fatalf("pending transfer %+v", got)
	}
	want := Transfer{BankName: tr.BankName, BranchName: tr.BranchName, AccountType: "futsu", AccountNumber: tr.AccountNumber,
		AccountHolder: tr.AccountHolder, Amount: 3000, URL: s.base + "/c/transfer/" + got.PaymentIntentID}
	if *got.Transfer != want {
		t.Errorf("transfer %+v, want %+v", *got.Transfer, want)
	}
	if err := s.PayVoucher(got.PaymentIntentID, ""); err != nil {
		t.Fatal(err)
	}
	got, err = c.CheckoutSession(ctx, cs.ID)
	if err != nil || got.PaymentStatus != "paid" || got.Method != payment.MethodBankTransfer || got.Transfer != nil {
		t.Errorf("transfer arrived %+v %v", got, err)
	}
}

func TestExpire(t *testing.T) {
	s := newSim(t)
	c, _ := s.client(t)
	ctx := context.Background()
	open, err := c.CreateCheckoutSession(ctx, checkoutParams("app-42-e1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ExpireCheckoutSession(ctx, open.ID)
	if err != nil || got.Status != "expired" || got.ID != open.ID {
		t.Errorf("expire: %+v %v", got, err)
	}
	got, err = c.ExpireCheckoutSession(ctx, open.ID)
	if err != nil || got.Status != "expired" {
		t.Errorf("expire again: %+v %v", got, err)
	}
	paid, err := c.CreateCheckoutSession(ctx, checkoutParams("app-42-e2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PayCard(paid.ID, "4242424242424242", ""); err != nil {
		t.Fatal(err)
	}
	got, err = c.ExpireCheckoutSession(ctx, paid.ID)
	if err != nil || got.Status != "complete" || got.PaymentStatus != "paid" || got.Method != payment.MethodCard {
		t.Errorf("expire a paid session: %+v %v", got, err)
	}
	if _, err := c.ExpireCheckoutSession(ctx, "cs_test_nosuch"); !IsNotFound(err) {
		t.Errorf("expire an unknown session: %v", err)
	}
	if _, err := c.CheckoutSession(ctx, "cs_test_nosuch"); !IsNotFound(err) || IsRetryable(err) {
		t.Errorf("read an unknown session: %v", err)
	}
}

func TestRefunds(t *testing.T) {
	s := newSim(t)
	c, rec := s.client(t)
	ctx := context.Background()
	cs, err := c.CreateCheckoutSession(ctx, checkoutParams("app-42-r"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PayCard(cs.ID, "4242424242424242", ""); err != nil {
		t.Fatal(err)
	}
	cs, err = c.CheckoutSession(ctx, cs.ID)
	if err != nil {
		t.Fatal(err)
	}
	part, err := c.CreateRefund(ctx, cs.PaymentIntentID, 1000, "refund-42-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(part.ID, "re_") || part.PaymentIntentID != cs.PaymentIntentID || part.Status != "pending" || part.Amount != 1000 {
		t.Errorf("partial refund %+v", part)
	}
	again, err := c.CreateRefund(ctx, cs.PaymentIntentID, 1000, "refund-42-1")
	if err != nil || again.ID != part.ID {
		t.Errorf("the same refund again: %+v %v", again, err)
	}
	rest, err := c.CreateRefund(ctx, cs.PaymentIntentID, 0, "refund-42-2")
	if err != nil || rest.Amount != 2000 {
		t.Errorf("refund the rest: %+v %v", rest, err)
	}
	if _, err := c.CreateRefund(ctx, cs.PaymentIntentID, 0, "refund-42-3"); err == nil || IsRetryable(err) {
		t.Errorf("refund more than was paid: %v", err)
	}
	if err := s.SettleRefund(part.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.SettleRefund(rest.ID, false, "declined"); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Refund(ctx, part.ID); err != nil || r.Status != "succeeded" || r.Amount != 1000 {
		t.Errorf("settled refund %+v %v", r, err)
	}
	if r, err := c.Refund(ctx, rest.ID); err != nil || r.Status != "failed" || r.FailureReason != "declined" {
		t.Errorf("failed refund %+v %v", r, err)
	}
	if _, err := c.Refund(ctx, "re_nosuch"); !IsNotFound(err) {
		t.Errorf("unknown refund: %v", err)
	}
	tagged, err := c.CreateRefundFor(ctx, cs.PaymentIntentID, 500, "refund-42-4", 77)
	if err != nil || tagged.KaisaiRefund != 77 {
		t.Errorf("a refund naming kaisai's row: %+v %v", tagged, err)
	}
	if all, err := c.RefundsOf(ctx, cs.PaymentIntentID); err != nil || len(all) != 3 || all[0].ID != tagged.ID || all[0].KaisaiRefund != 77 {
		t.Errorf("the refunds of the payment: %+v %v", all, err)
	}
	var keys []string
	for _, r := range rec.sent() {
		if r.method == http.MethodPost && r.path == "/v1/refunds" {
			keys = append(keys, r.idemKey)
		}
	}
	if !slices.Equal(keys, []string{"refund-42-1", "refund-42-1", "refund-42-2", "refund-42-3", "refund-42-4"}) {
		t.Errorf("refunds sent with keys %q", keys)
	}
}

func TestIdempotency(t *testing.T) {
	s := newSim(t)
	c, _ := s.client(t)
	ctx := context.Background()
	p := checkoutParams("app-42-1")
	first, err := c.CreateCheckoutSession(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.CreateCheckoutSession(ctx, p)
	if err != nil || second.ID != first.ID {
		t.Errorf("same key, same parameters: %+v %v", second, err)
	}
	p.Amount = 4000
	_, err = c.CreateCheckoutSession(ctx, p)
	if !IsIdempotencyConflict(err) || IsRetryable(err) || IsNotFound(err) {
		t.Errorf("same key, other amount: %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Type != "idempotency_error" || e.RequestID == "" {
		t.Errorf("error %+v", e)
	}
	if n := len(s.State().Sessions); n != 1 {
		t.Errorf("%d sessions", n)
	}
	// An answer lost on the way: the client sends again with the same
	// key and gets the session made the first time.
	s.SetFaults(1, stripesim.Fault{Kind: stripesim.FaultLostAnswer, Op: "PostCheckoutSessions", Count: 1})
	lost, err := c.CreateCheckoutSession(ctx, checkoutParams("app-42-2"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.State().Sessions); n != 2 || lost.ID == first.ID {
		t.Errorf("after a lost answer: %d sessions, %s", n, lost.ID)
	}
}

func TestLocalRefusals(t *testing.T) {
	s := newSim(t)
	c, rec := s.client(t)
	for name, p := range map[string]CheckoutParams{
		"no amount":  func() CheckoutParams { p := checkoutParams("k"); p.Amount = 0; return p }(),
		"no methods": func() CheckoutParams { p := checkoutParams("k"); p.Methods = nil; return p }(),
		"manual":     checkoutParams("k", payment.MethodManual),
	} {
		if _, err := c.CreateCheckoutSession(context.Background(), p); err == nil || IsRetryable(err) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := len(rec.sent()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func sessionState(t *testing.T, s *sim, id string) map[string]any {
	t.Helper()
	// Through JSON, as GET /_sim/state shows it.
	b, err := json.Marshal(s.State().Sessions)
	if err != nil {
		t.Fatal(err)
	}
	var all []map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	for _, cs := range all {
		if cs["id"] == id {
			return cs
		}
	}
	t.Fatalf("no session %s in the simulator", id)
	return nil
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

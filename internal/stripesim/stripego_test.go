package stripesim

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"
)

// stripe-go, unchanged, with its backend URL pointed at the simulator
// (every exchange checked against spec3.json on the way).
func (ts *testSim) stripeClient(t testing.TB, retries int64) *stripe.Client {
	cfg := &stripe.BackendConfig{
		URL:               stripe.String(ts.base),
		HTTPClient:        &http.Client{Transport: &specTransport{t: t, base: ts.base}, Timeout: 10 * time.Second},
		MaxNetworkRetries: stripe.Int64(retries),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	return stripe.NewClient(ts.key, stripe.WithBackends(stripe.NewBackendsWithConfig(cfg)))
}

func kaisaiSessionParams() *stripe.CheckoutSessionCreateParams {
	p := &stripe.CheckoutSessionCreateParams{
		Mode: stripe.String(string(stripe.CheckoutSessionModePayment)),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripe.String("jpy"),
				UnitAmount:  stripe.Int64(3000),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String("Go 勉強会 参加費")},
			},
			Quantity: stripe.Int64(1),
		}},
		ClientReferenceID:  stripe.String("app-42"),
		PaymentMethodTypes: stripe.StringSlice([]string{"card", "konbini", "customer_balance"}),
		PaymentMethodOptions: &stripe.CheckoutSessionCreatePaymentMethodOptionsParams{
			Konbini: &stripe.CheckoutSessionCreatePaymentMethodOptionsKonbiniParams{ExpiresAfterDays: stripe.Int64(3)},
			CustomerBalance: &stripe.CheckoutSessionCreatePaymentMethodOptionsCustomerBalanceParams{
				FundingType: stripe.String("bank_transfer"),
				BankTransfer: &stripe.CheckoutSessionCreatePaymentMethodOptionsCustomerBalanceBankTransferParams{
					Type: stripe.String("jp_bank_transfer"),
				},
			},
		},
		SuccessURL: stripe.String("http://127.0.0.1:8080/paid?session={CHECKOUT_SESSION_ID}"),
		CancelURL:  stripe.String("http://127.0.0.1:8080/applications/42"),
		ExpiresAt:  stripe.Int64(testStart.Add(2 * time.Hour).Unix()),
		Metadata:   map[string]string{"application": "42"},
	}
	p.SetIdempotencyKey("app-42-1")
	return p
}

func TestStripeGo(t *testing.T) {
	ts := newSim(t, Options{RefundSettleAfter: -1})
	ctx := context.Background()
	sc := ts.stripeClient(t, 0)
	rc := newReceiver(t)

	acct, err := sc.V1Accounts.Retrieve(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acct.Country != "JP" || acct.BusinessProfile.Name != "開催テスト株式会社" {
		t.Errorf("account %+v", acct)
	}
	we, err := sc.V1WebhookEndpoints.Create(ctx, &stripe.WebhookEndpointCreateParams{
		URL:           stripe.String(rc.srv.URL),
		EnabledEvents: stripe.StringSlice([]string{"checkout.session.completed", "checkout.session.async_payment_succeeded", "charge.refunded"}),
		APIVersion:    stripe.String(stripe.APIVersion),
	})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := sc.V1CheckoutSessions.Create(ctx, kaisaiSessionParams())
	if err != nil {
		t.Fatal(err)
	}
	again, err := sc.V1CheckoutSessions.Create(ctx, kaisaiSessionParams())
	if err != nil || again.ID != cs.ID {
		t.Fatalf("idempotent create: %v %v", again, err)
	}
	other := kaisaiSessionParams()
	other.ClientReferenceID = stripe.String("app-43")
	_, err = sc.V1CheckoutSessions.Create(ctx, other)
	var se *stripe.Error
	if !errors.As(err, &se) || se.Type != stripe.ErrorTypeIdempotency || se.HTTPStatusCode != 400 {
		t.Errorf("other params, same key: %v", err)
	}
	if cs.AmountTotal != 3000 || cs.Currency != "jpy" || cs.Status != stripe.CheckoutSessionStatusOpen ||
		cs.PaymentMethodOptions.Konbini.ExpiresAfterDays != 3 || !strings.HasPrefix(cs.URL, ts.base) {
		t.Errorf("session %+v", cs)
	}

	if _, err := ts.PayKonbini(cs.ID, "buyer@example.com"); err != nil {
		t.Fatal(err)
	}
	rp := &stripe.CheckoutSessionRetrieveParams{}
	rp.AddExpand("payment_intent")
	got, err := sc.V1CheckoutSessions.Retrieve(ctx, cs.ID, rp)
	if err != nil {
		t.Fatal(err)
	}
	pi := got.PaymentIntent
	if got.PaymentStatus != stripe.CheckoutSessionPaymentStatusUnpaid || pi == nil || pi.NextAction == nil ||
		pi.NextAction.KonbiniDisplayDetails == nil || pi.NextAction.KonbiniDisplayDetails.Stores.Lawson.ConfirmationNumber == "" {
		t.Fatalf("konbini session %+v", got)
	}
	if err := ts.PayVoucher(pi.ID, "lawson"); err != nil {
		t.Fatal(err)
	}
	pi, err = sc.V1PaymentIntents.Retrieve(ctx, pi.ID, nil)
	if err != nil || pi.Status != stripe.PaymentIntentStatusSucceeded {
		t.Fatalf("intent %+v %v", pi, err)
	}
	rf := &stripe.RefundCreateParams{PaymentIntent: stripe.String(pi.ID), Amount: stripe.Int64(3000)}
	rf.SetIdempotencyKey("refund-app-42")
	re, err := sc.V1Refunds.Create(ctx, rf)
	// A konbini payment is refunded to a bank account the customer is
	// asked for by e-mail.
	if err != nil || re.Status != stripe.RefundStatusRequiresAction || re.NextAction == nil ||
		re.NextAction.DisplayDetails.EmailSent.EmailSentTo != "buyer@example.com" {
		t.Fatalf("refund %+v %v", re, err)
	}
	if err := ts.SettleRefund(re.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if re, err = sc.V1Refunds.Retrieve(ctx, re.ID, nil); err != nil || re.Status != stripe.RefundStatusSucceeded {
		t.Errorf("refund %+v %v", re, err)
	}

	// The deliveries, verified as kaisai will verify them: with the
	// 5-minute tolerance against the real time.
	hooks := waitTypes(t, rc, "checkout.session.completed", "checkout.session.async_payment_succeeded", "charge.refunded")
	for _, h := range hooks {
		ev, err := webhook.ConstructEventWithOptions(h.Body, h.Signature, we.Secret, webhook.ConstructEventOptions{})
		if err != nil {
			t.Fatalf("ConstructEventWithOptions: %v", err)
		}
		if string(ev.Type) != h.Type || ev.APIVersion != stripe.APIVersion {
			t.Errorf("event %s %s", ev.Type, ev.APIVersion)
		}
	}
	if _, err := webhook.ConstructEventWithOptions(hooks[0].Body, hooks[0].Signature, "whsec_wrong",
		webhook.ConstructEventOptions{IgnoreTolerance: true}); err == nil {
		t.Error("a wrong secret verified")
	}

	var types []string
	for ev, err := range sc.V1Events.List(ctx, &stripe.EventListParams{}).All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, string(ev.Type))
	}
	if len(types) < 5 || types[len(types)-1] != "checkout.session.completed" {
		t.Errorf("events %v", types)
	}
	if _, err := sc.V1WebhookEndpoints.Delete(ctx, we.ID, nil); err != nil {
		t.Fatal(err)
	}
	bad := stripe.NewClient("sk_test_nope", stripe.WithBackends(stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		URL: stripe.String(ts.base), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}})))
	if _, err := bad.V1Accounts.Retrieve(ctx, nil); !errors.As(err, &se) || se.HTTPStatusCode != 401 {
		t.Errorf("wrong key: %v", err)
	}
}

func mustSession(t testing.TB, sc *stripe.Client) string {
	t.Helper()
	p := kaisaiSessionParams()
	p.SetIdempotencyKey("fresh")
	p.ExpiresAt = nil
	cs, err := sc.V1CheckoutSessions.Create(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return cs.ID
}

// TestSignedOnTheWallClock: deliveries are signed with the real time of
// each attempt, so that stripe-go's check of the 5-minute tolerance
// against time.Now passes however far the simulator's clock was moved
// (a test lapses a voucher days ahead); the event's created stays on the
// simulator's clock.
func TestSignedOnTheWallClock(t *testing.T) {
	// The simulator's clock starts ten days back, so that three days on it
	// is still in the past: stripe-go refuses only old signatures.
	start := time.Now().Add(-10 * 24 * time.Hour).Truncate(time.Second)
	ts := newSim(t, Options{Now: fixedClock(start)})
	sc := ts.stripeClient(t, 0)
	rc := newReceiver(t)
	ctx := context.Background()
	we, err := sc.V1WebhookEndpoints.Create(ctx, &stripe.WebhookEndpointCreateParams{
		URL: stripe.String(rc.srv.URL), EnabledEvents: stripe.StringSlice([]string{"*"})})
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Advance(3 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.V1CheckoutSessions.Expire(ctx, mustSession(t, sc), nil); err != nil {
		t.Fatal(err)
	}
	h := waitTypes(t, rc, "checkout.session.expired")[0]
	ev, err := webhook.ConstructEventWithOptions(h.Body, h.Signature, we.Secret, webhook.ConstructEventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sigT, _, _ := strings.Cut(strings.TrimPrefix(h.Signature, "t="), ",")
	if unix, err := strconv.ParseInt(sigT, 10, 64); err != nil || time.Since(time.Unix(unix, 0)).Abs() > time.Minute {
		t.Errorf("signature %s: t is not the real time", h.Signature)
	}
	if want := start.Add(3 * 24 * time.Hour).Unix(); ev.Created != want {
		t.Errorf("event created %d, want the simulator's clock %d", ev.Created, want)
	}
	var cs stripe.CheckoutSession
	if err := cs.UnmarshalJSON(ev.Data.Raw); err != nil || cs.Status != stripe.CheckoutSessionStatusExpired {
		t.Errorf("session in event: %+v %v", cs, err)
	}
}

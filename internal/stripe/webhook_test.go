package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	stripego "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"kaisai/internal/eventually"
	"kaisai/internal/payment"
)

// TestWebhooks registers an endpoint on the simulator, pays, refunds and
// lets a session expire, and reads every delivery as kaisai's handler
// will; then forges, re-signs and ages deliveries.
func TestWebhooks(t *testing.T) {
	s := newSim(t)
	c, _ := s.client(t)
	ctx := context.Background()
	rc := newReceiver(t)
	ep, err := c.CreateWebhookEndpoint(ctx, rc.url)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ep.ID, "we_") || !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Fatalf("endpoint %+v", ep)
	}
	b, _ := json.Marshal(s.State().Endpoints)
	var eps []struct {
		URL           string   `json:"url"`
		EnabledEvents []string `json:"enabled_events"`
		APIVersion    string   `json:"api_version"`
	}
	if err := json.Unmarshal(b, &eps); err != nil || len(eps) != 1 {
		t.Fatalf("endpoints %s %v", b, err)
	}
	if eps[0].URL != rc.url || !slices.Equal(eps[0].EnabledEvents, Events) || eps[0].APIVersion != stripego.APIVersion {
		t.Errorf("endpoint as registered %+v", eps[0])
	}

	card, err := c.CreateCheckoutSession(ctx, checkoutParams("w-1", payment.MethodCard))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PayCard(card.ID, "4242424242424242", ""); err != nil {
		t.Fatal(err)
	}
	paid, err := c.CheckoutSession(ctx, card.ID)
	if err != nil {
		t.Fatal(err)
	}
	re, err := c.CreateRefund(ctx, paid.PaymentIntentID, 0, "w-refund")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SettleRefund(re.ID, false, "declined"); err != nil {
		t.Fatal(err)
	}
	konbini, err := c.CreateCheckoutSession(ctx, checkoutParams("w-2", payment.MethodKonbini))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PayKonbini(konbini.ID, ""); err != nil {
		t.Fatal(err)
	}
	k, err := c.CheckoutSession(ctx, konbini.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PayVoucher(k.PaymentIntentID, "familymart"); err != nil {
		t.Fatal(err)
	}
	expired, err := c.CreateCheckoutSession(ctx, checkoutParams("w-3"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExpireCheckoutSession(ctx, expired.ID); err != nil {
		t.Fatal(err)
	}

	want := []string{"checkout.session.completed", "charge.refunded", "refund.updated", "refund.failed",
		"checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.expired"}
	var events []Event
	eventually.True(t, "the deliveries", func() bool {
		events = events[:0]
		for _, d := range rc.deliveries() {
			ev, err := ParseEvent(d.body, d.sig, ep.Secret)
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			events = append(events, ev)
		}
		return len(events) >= len(want)
	})
	byType := map[string][]Event{}
	var types []string
	for _, ev := range events {
		if !strings.HasPrefix(ev.ID, "evt_") || time.Since(ev.Created) > time.Minute {
			t.Errorf("event %+v", ev)
		}
		byType[ev.Type] = append(byType[ev.Type], ev)
		types = append(types, ev.Type)
	}
	slices.Sort(types)
	slices.Sort(want)
	if !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	for _, ev := range byType["checkout.session.completed"] {
		cs := ev.Session
		switch cs.ID {
		case card.ID:
			if cs.PaymentStatus != "paid" || cs.ClientReferenceID != "42" || cs.AmountTotal != 3000 || cs.PaymentIntentID != paid.PaymentIntentID {
				t.Errorf("card completed %+v", cs)
			}
		case konbini.ID:
			if cs.PaymentStatus != "unpaid" || cs.Status != "complete" {
				t.Errorf("konbini completed %+v", cs)
			}
		default:
			t.Errorf("completed %+v", cs)
		}
	}
	if cs := byType["checkout.session.async_payment_succeeded"][0].Session; cs.ID != konbini.ID || cs.PaymentStatus != "paid" || cs.PaymentIntentID != k.PaymentIntentID {
		t.Errorf("async succeeded %+v", cs)
	}
	if cs := byType["checkout.session.expired"][0].Session; cs.ID != expired.ID || cs.Status != "expired" {
		t.Errorf("expired %+v", cs)
	}
	if ev := byType["charge.refunded"][0]; ev.ChargePaymentIntentID != paid.PaymentIntentID || ev.Session != nil || ev.Refund != nil {
		t.Errorf("charge.refunded %+v", ev)
	}
	if r := byType["refund.failed"][0].Refund; r == nil || r.ID != re.ID || r.Status != "failed" || r.FailureReason != "declined" || r.PaymentIntentID != paid.PaymentIntentID {
		t.Errorf("refund.failed %+v", r)
	}

	// Forged, re-signed, stale and unsigned deliveries.
	d := rc.deliveries()[0]
	tampered := []byte(strings.Replace(string(d.body), `"amount_total":3000`, `"amount_total":1`, 1))
	if string(tampered) == string(d.body) {
		t.Fatal("nothing to tamper with")
	}
	signed := func(body []byte, secret string, at time.Time) string {
		return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at}).Header
	}
	for _, tc := range []struct {
		name   string
		body   []byte
		header string
		bad    bool
	}{
		{"as delivered", d.body, d.sig, false},
		{"body changed", tampered, d.sig, true},
		{"signed with another secret", tampered, signed(tampered, "whsec_forged", time.Now()), true},
		{"wrong endpoint secret", d.body, signed(d.body, ep.Secret+"x", time.Now()), true},
		{"re-signed now", d.body, signed(d.body, ep.Secret, time.Now()), false},
		{"4 minutes old", d.body, signed(d.body, ep.Secret, time.Now().Add(-4*time.Minute)), false},
		{"6 minutes old", d.body, signed(d.body, ep.Secret, time.Now().Add(-6*time.Minute)), true},
		{"no header", d.body, "", true},
		{"garbage header", d.body, "t=abc,v1=zz", true},
		{"only a v0 signature", d.body, strings.Replace(d.sig, "v1=", "v0=", 1), true},
	} {
		_, err := ParseEvent(tc.body, tc.header, ep.Secret)
		if tc.bad != errors.Is(err, ErrBadSignature) || !tc.bad && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// Signed, but not an event: another error.
	for _, body := range []string{`{"object":"charge","id":"ch_1"}`, `not json`, `{"object":"event"}`} {
		_, err := ParseEvent([]byte(body), signed([]byte(body), ep.Secret, time.Now()), ep.Secret)
		if err == nil || errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v", body, err)
		}
	}

	if err := c.DeleteWebhookEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(s.State().Endpoints); n != 0 {
		t.Errorf("%d endpoints left", n)
	}
	if err := c.DeleteWebhookEndpoint(ctx, ep.ID); err != nil {
		t.Errorf("delete again: %v", err)
	}
}

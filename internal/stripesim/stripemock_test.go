package stripesim

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85"

	"kaisai/internal/eventually"
)

// stripeMock starts Stripe's own mock server (stripe-mock, installed with
// `go install github.com/stripe/stripe-mock@v0.203.0`) on a Unix socket
// and returns a stripe-go client for it. The test is skipped when it is
// not installed, and fails in CI (which installs it).
func stripeMock(t *testing.T) *stripe.Client {
	bin, err := exec.LookPath("stripe-mock")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(string(trimNL(gopath)), "bin", "stripe-mock")
		if _, err := os.Stat(bin); err != nil {
			const how = "stripe-mock is not installed: go install github.com/stripe/stripe-mock@v0.203.0"
			if os.Getenv("CI") == "true" {
				t.Fatal(how) // CI installs it: nothing may skip there
			}
			t.Skip(how)
		}
	}
	sock := filepath.Join(t.TempDir(), "stripe-mock.sock")
	cmd := exec.Command(bin, "-http-unix", sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: dial}, Timeout: 10 * time.Second}
	eventually.True(t, "stripe-mock listening", func() bool {
		c, err := dial(context.Background(), "", "")
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	cfg := &stripe.BackendConfig{URL: stripe.String("http://stripe-mock"), HTTPClient: hc,
		MaxNetworkRetries: stripe.Int64(0), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}}
	return stripe.NewClient("sk_test_123", stripe.WithBackends(stripe.NewBackendsWithConfig(cfg)))
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// TestStripeMockAcceptsKaisaiCalls sends the requests kaisai makes, built
// as TestStripeGo builds them, to Stripe's own validator.
func TestStripeMockAcceptsKaisaiCalls(t *testing.T) {
	sc := stripeMock(t)
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("stripe-mock refused %s: %v", what, err)
		}
	}
	_, err := sc.V1Accounts.Retrieve(ctx, nil)
	must("GET /v1/account", err)
	we, err := sc.V1WebhookEndpoints.Create(ctx, &stripe.WebhookEndpointCreateParams{
		URL:           stripe.String("https://kaisai.example/webhooks/stripe/1"),
		EnabledEvents: stripe.StringSlice(knownEvents),
		APIVersion:    stripe.String(stripe.APIVersion),
	})
	must("POST /v1/webhook_endpoints", err)
	cs, err := sc.V1CheckoutSessions.Create(ctx, kaisaiSessionParams())
	must("POST /v1/checkout/sessions", err)
	if err != nil {
		return
	}
	rp := &stripe.CheckoutSessionRetrieveParams{}
	rp.AddExpand("payment_intent")
	_, err = sc.V1CheckoutSessions.Retrieve(ctx, cs.ID, rp)
	must("GET /v1/checkout/sessions/{id}", err)
	for _, err := range sc.V1CheckoutSessions.List(ctx, &stripe.CheckoutSessionListParams{PaymentIntent: stripe.String("pi_123")}).All(ctx) {
		must("GET /v1/checkout/sessions", err)
		break
	}
	_, err = sc.V1CheckoutSessions.Expire(ctx, cs.ID, nil)
	must("POST /v1/checkout/sessions/{id}/expire", err)
	_, err = sc.V1PaymentIntents.Retrieve(ctx, "pi_123", nil)
	must("GET /v1/payment_intents/{id}", err)
	rf := &stripe.RefundCreateParams{PaymentIntent: stripe.String("pi_123"), Amount: stripe.Int64(3000),
		Reason: stripe.String("requested_by_customer")}
	rf.SetIdempotencyKey("refund-app-42")
	re, err := sc.V1Refunds.Create(ctx, rf)
	must("POST /v1/refunds", err)
	if err == nil {
		_, err = sc.V1Refunds.Retrieve(ctx, re.ID, nil)
		must("GET /v1/refunds/{id}", err)
	}
	for _, err := range sc.V1Events.List(ctx, &stripe.EventListParams{Types: stripe.StringSlice(knownEvents)}).All(ctx) {
		must("GET /v1/events", err)
		break
	}
	_, err = sc.V1Events.Retrieve(ctx, "evt_123", nil)
	must("GET /v1/events/{id}", err)
	if we != nil {
		_, err = sc.V1WebhookEndpoints.Delete(ctx, we.ID, nil)
		must("DELETE /v1/webhook_endpoints/{id}", err)
	}
	// And it does refuse what Stripe refuses, so that its silence means something.
	bad := kaisaiSessionParams()
	bad.Mode = stripe.String("pay")
	if _, err := sc.V1CheckoutSessions.Create(ctx, bad); err == nil {
		t.Error("stripe-mock accepted mode=pay")
	}
}

package stripe

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kaisai/internal/eventually"
	"kaisai/internal/payment"
)

// stripeMock starts Stripe's own mock server (stripe-mock, installed with
// `go install github.com/stripe/stripe-mock@v0.203.0`), which checks
// every request against Stripe's OpenAPI specification, on a Unix socket,
// and returns a kaisai client of it. The test is skipped when stripe-mock
// is not installed, and fails in CI (which installs it).
func stripeMock(t *testing.T) *Client {
	t.Helper()
	bin, err := exec.LookPath("stripe-mock")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "stripe-mock")
		if _, err := os.Stat(bin); err != nil {
			const how = "stripe-mock is not installed: go install github.com/stripe/stripe-mock@v0.203.0"
			if os.Getenv("CI") == "true" {
				t.Fatal(how)
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
	eventually.True(t, "stripe-mock listening", func() bool {
		c, err := dial(context.Background(), "", "")
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	hc := &http.Client{Transport: &http.Transport{DialContext: dial}, Timeout: 10 * time.Second}
	c, err := New(Config{APIURL: "http://stripe-mock", Key: "sk_test_123", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStripeMockAcceptsKaisaiCalls makes every call of the client, with
// the parameters kaisai sends, to Stripe's own validator.
func TestStripeMockAcceptsKaisaiCalls(t *testing.T) {
	c := stripeMock(t)
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("stripe-mock refused %s: %v", what, err)
		}
	}
	_, err := c.Account(ctx)
	must("Account", err)
	ep, err := c.CreateWebhookEndpoint(ctx, "https://kaisai.example.jp/webhooks/stripe/1")
	must("CreateWebhookEndpoint", err)
	must("DeleteWebhookEndpoint", c.DeleteWebhookEndpoint(ctx, ep.ID))

	for name, p := range map[string]CheckoutParams{
		"all methods":   checkoutParams("mock-1"),
		"card":          checkoutParams("mock-2", payment.MethodCard),
		"konbini":       checkoutParams("mock-3", payment.MethodKonbini),
		"bank transfer": checkoutParams("mock-4", payment.MethodBankTransfer),
		"defaults": func() CheckoutParams {
			p := checkoutParams("", payment.MethodCard, payment.MethodKonbini)
			p.KonbiniDays, p.ExpiresAt, p.Locale, p.Email, p.CancelURL = 0, time.Time{}, "", "", ""
			return p
		}(),
		"english": func() CheckoutParams { p := checkoutParams("mock-5"); p.Locale = "en"; return p }(),
	} {
		_, err := c.CreateCheckoutSession(ctx, p)
		must("CreateCheckoutSession "+name, err)
	}
	_, err = c.CheckoutSession(ctx, "cs_test_123")
	must("CheckoutSession", err)
	_, err = c.ExpireCheckoutSession(ctx, "cs_test_123")
	must("ExpireCheckoutSession", err)
	_, err = c.CreateRefund(ctx, "pi_123", 1000, "refund-1")
	must("CreateRefund (part)", err)
	_, err = c.CreateRefund(ctx, "pi_123", 0, "refund-2")
	must("CreateRefund (all)", err)
	_, err = c.CreateRefundFor(ctx, "pi_123", 1000, "refund-3", 42)
	must("CreateRefundFor", err)
	_, err = c.Refund(ctx, "re_123")
	must("Refund", err)
	_, err = c.RefundsOf(ctx, "pi_123")
	must("RefundsOf", err)

	// The validator does refuse what Stripe would: an unknown locale.
	p := checkoutParams("mock-6")
	p.Locale = "tlh"
	if _, err := c.CreateCheckoutSession(ctx, p); err == nil {
		t.Error("stripe-mock accepted locale tlh: it checks nothing")
	}
}

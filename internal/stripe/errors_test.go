package stripe

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"kaisai/internal/stripesim"
)

func TestErrors(t *testing.T) {
	s := newSim(t)
	c, _ := s.client(t)
	ctx := context.Background()

	const unknownKey = "sk_test_unknownKey0000000000"
	bad, err := New(Config{APIURL: s.base, Key: unknownKey})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Account(ctx)
	if !IsInvalidKey(err) || IsRetryable(err) || IsNotFound(err) || IsRateLimited(err) {
		t.Errorf("unknown key: %v", err)
	}
	if strings.Contains(err.Error(), unknownKey) || strings.Contains(err.Error(), "unknownKey0000") {
		t.Errorf("the error shows the key: %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Type != "invalid_request_error" {
		t.Errorf("401 as %+v", e)
	}

	_, err = c.CheckoutSession(ctx, "cs_test_nosuch")
	if !IsNotFound(err) || IsRetryable(err) || IsInvalidKey(err) {
		t.Errorf("404: %v", err)
	}
	if !errors.As(err, &e) || e.Code != "resource_missing" || e.Param == "" || !strings.Contains(err.Error(), "GET /v1/checkout/sessions/cs_test_nosuch") {
		t.Errorf("404 as %+v: %v", e, err)
	}

	for _, tc := range []struct {
		name  string
		fault stripesim.Fault
		is    func(error) bool
	}{
		{"429", stripesim.Fault{Kind: stripesim.FaultRateLimit, Op: "GetAccount"}, IsRateLimited},
		{"500", stripesim.Fault{Kind: stripesim.FaultStatus, Op: "GetAccount", Status: 500}, func(err error) bool {
			return errors.As(err, &e) && e.Status == 500 && e.Type == "api_error"
		}},
		{"503", stripesim.Fault{Kind: stripesim.FaultStatus, Op: "GetAccount", Status: 503}, func(err error) bool {
			return errors.As(err, &e) && e.Status == 503
		}},
	} {
		s.SetFaults(1, tc.fault)
		_, err := c.Account(ctx)
		s.ClearFaults()
		if !tc.is(err) || !IsRetryable(err) || IsNotFound(err) || IsInvalidKey(err) || IsIdempotencyConflict(err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}

	// A 5xx comes back to the caller, retryable; its retry with the same
	// key makes the session.
	s.SetFaults(1, stripesim.Fault{Kind: stripesim.FaultStatus, Op: "PostCheckoutSessions", Status: 502, Count: 1})
	if _, err := c.CreateCheckoutSession(ctx, checkoutParams("e-1")); !IsRetryable(err) {
		t.Errorf("one 502: %v", err)
	}
	if _, err := c.CreateCheckoutSession(ctx, checkoutParams("e-1")); err != nil {
		t.Errorf("after one 502: %v", err)
	}
	if n := len(s.State().Sessions); n != 1 {
		t.Errorf("%d sessions", n)
	}
	s.ClearFaults()

	// No answer within the attempt's time: retryable, not an *Error.
	short, err := New(Config{APIURL: s.base, Key: s.key, HTTPClient: &http.Client{Timeout: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	s.SetFaults(1, stripesim.Fault{Kind: stripesim.FaultLatency, Op: "GetAccount", Delay: time.Second})
	_, err = short.Account(ctx)
	s.ClearFaults()
	if !IsRetryable(err) || errors.As(err, &e) || IsNotFound(err) {
		t.Errorf("timeout: %v", err)
	}
	// A server that is not there.
	gone, err := New(Config{APIURL: "http://127.0.0.1:1", Key: s.key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gone.Account(ctx); !IsRetryable(err) {
		t.Errorf("connection refused: %v", err)
	}
	// The caller gave up: not retryable here.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Account(cancelled); err == nil || IsRetryable(err) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestRedact: a Stripe-like server that echoes the key in its message
// does not get it into kaisai's errors.
func TestRedact(t *testing.T) {
	const key = "sk_test_echoedSecret123"
	srv := httptestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: ` + key + `"}}`))
	})
	c, err := New(Config{APIURL: srv, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Account(context.Background())
	if !IsInvalidKey(err) || strings.Contains(err.Error(), "echoedSecret") {
		t.Errorf("%v", err)
	}
}

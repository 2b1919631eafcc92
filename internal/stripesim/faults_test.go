package stripesim

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85"
)

func TestFaultStatusAndRateLimit(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t)
	ts.SetFaults(1, Fault{Kind: FaultStatus, Op: "PostCheckoutSessions", Count: 1, Status: 503},
		Fault{Kind: FaultRateLimit, Op: "GET /v1/account", Count: 1})
	status, out, _ := c.do("POST", "/v1/checkout/sessions", sessionForm())
	if status != 503 || errOf(out)["type"] != "api_error" {
		t.Errorf("503: %d %v", status, out)
	}
	if n := len(ts.State().Sessions); n != 0 {
		t.Errorf("a 5xx made %d sessions", n)
	}
	status, out, _ = c.do("GET", "/v1/account", "")
	if status != 429 || errOf(out)["code"] != "rate_limit" {
		t.Errorf("429: %d %v", status, out)
	}
	c.must(200, "POST", "/v1/checkout/sessions", sessionForm())
	c.must(200, "GET", "/v1/account", "")
	if len(ts.Faults()) != 0 {
		t.Errorf("faults left %v", ts.Faults())
	}
}

// A lost answer: the refund is made, the answer never comes; stripe-go
// retries with the same Idempotency-Key and gets the first refund, not a
// second one.
func TestFaultLostAnswerIdempotentRetry(t *testing.T) {
	ts := newSim(t, Options{RefundSettleAfter: -1})
	c := ts.client(t)
	id := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)
	if err := ts.PayCard(id, CardSuccess, ""); err != nil {
		t.Fatal(err)
	}
	pi := c.must(200, "GET", "/v1/checkout/sessions/"+id, "")["payment_intent"].(string)
	ts.SetFaults(1, Fault{Kind: FaultLostAnswer, Op: "PostRefunds", Count: 1})
	sc := ts.stripeClient(t, 2)
	p := &stripe.RefundCreateParams{PaymentIntent: stripe.String(pi), Amount: stripe.Int64(500)}
	p.SetIdempotencyKey("refund-1")
	re, err := sc.V1Refunds.Create(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ts.State().Refunds); n != 1 || re.Amount != 500 {
		t.Errorf("%d refunds after a lost answer and a retry; got %+v", n, re)
	}
}

func TestFaultTimeout(t *testing.T) {
	ts := newSim(t, Options{})
	ts.SetFaults(1, Fault{Kind: FaultTimeout, Op: "GetAccount", Count: 1, Delay: 50 * time.Millisecond})
	req, _ := http.NewRequest("GET", ts.base+"/v1/account", nil)
	req.Header.Set("Authorization", "Bearer "+ts.key)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d", resp.StatusCode)
	}
}

func TestFaultWebhooks(t *testing.T) {
	// The held webhook waits for the next one, however slow the machine.
	ts := newSim(t, Options{Webhooks: WebhookOptions{TimeScale: 0.0001, ReorderHold: time.Hour}})
	c := ts.client(t)
	rc := newReceiver(t)
	c.register(t, rc.srv.URL)
	ts.SetFaults(1,
		Fault{Kind: FaultDropWebhook, Op: "refund.created", Count: 1},
		Fault{Kind: FaultDuplicateWebhook, Op: "checkout.session.completed", Count: 1},
		Fault{Kind: FaultReorderWebhook, Op: "charge.refunded", Count: 1})
	id := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)
	if err := ts.PayCard(id, CardSuccess, ""); err != nil {
		t.Fatal(err)
	}
	pi := c.must(200, "GET", "/v1/checkout/sessions/"+id, "")["payment_intent"].(string)
	c.must(200, "POST", "/v1/refunds", "payment_intent="+pi)
	_ = ts.Advance(time.Minute) // refund.updated
	hooks := waitTypes(t, rc, "checkout.session.completed", "checkout.session.completed", "refund.updated", "charge.refunded")
	if string(hooks[0].Body) != string(hooks[1].Body) {
		t.Error("the duplicate differs")
	}
	// The dropped event is still listed.
	evs := c.must(200, "GET", "/v1/events", "type=refund.created")["data"].([]any)
	if len(evs) != 1 {
		t.Errorf("refund.created listed %d times", len(evs))
	}
	ds := ts.Deliveries()
	if !slices.ContainsFunc(ds, func(d Delivery) bool { return d.Dropped && d.Event == "refund.created" }) {
		t.Errorf("deliveries %+v", ds)
	}
}

func TestFaultRate(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t)
	ts.SetFaults(7, Fault{Kind: FaultStatus, Op: "GetAccount", Rate: 0.5})
	failed := 0
	for range 40 {
		if status, _, _ := c.do("GET", "/v1/account", ""); status == 500 {
			failed++
		}
	}
	if failed < 8 || failed > 32 {
		t.Errorf("%d of 40 failed at rate 0.5", failed)
	}
}

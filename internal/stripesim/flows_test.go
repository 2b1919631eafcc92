package stripesim

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"kaisai/internal/eventually"
)

// register adds a webhook endpoint for every event and returns its secret.
func (c *client) register(t testing.TB, url string) (id, secret string) {
	t.Helper()
	we := c.must(200, "POST", "/v1/webhook_endpoints", "url="+url+"&enabled_events[0]=*")
	return we["id"].(string), we["secret"].(string)
}

// waitTypes waits until the receiver got these event types, in order.
func waitTypes(t testing.TB, rc *receiver, want ...string) []received {
	t.Helper()
	eventually.True(t, "webhooks "+strings.Join(want, ", "), func() bool { return len(rc.received()) >= len(want) })
	got := rc.types()
	if !slices.Equal(got, want) {
		t.Fatalf("webhooks %v, want %v", got, want)
	}
	return rc.received()
}

func TestCardPaymentAndRefund(t *testing.T) {
	ts := newSim(t, Options{RefundSettleAfter: time.Minute, WallClock: fixedClock(testWall)})
	c := ts.client(t)
	rc := newReceiver(t)
	_, secret := c.register(t, rc.srv.URL)
	cs := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())
	id := cs["id"].(string)

	if err := ts.PayCard(id, "4000 0000 0000 0002", "buyer@example.com"); err != ErrDeclined {
		t.Fatalf("declined card: %v", err)
	}
	got := c.must(200, "GET", "/v1/checkout/sessions/"+id, "expand[]=payment_intent")
	pi := got["payment_intent"].(map[string]any)
	if got["status"] != "open" || pi["status"] != "requires_payment_method" ||
		pi["last_payment_error"].(map[string]any)["decline_code"] != "generic_decline" {
		t.Fatalf("after decline: %v %v", got["status"], pi)
	}
	if err := ts.PayCard(id, CardSuccess, ""); err != nil {
		t.Fatal(err)
	}
	got = c.must(200, "GET", "/v1/checkout/sessions/"+id, "expand[]=payment_intent.latest_charge")
	pi = got["payment_intent"].(map[string]any)
	if got["status"] != "complete" || got["payment_status"] != "paid" || pi["status"] != "succeeded" ||
		pi["amount_received"].(float64) != 3000 || pi["latest_charge"].(map[string]any)["paid"] != true {
		t.Fatalf("after payment: %v", got)
	}
	hooks := waitTypes(t, rc, "checkout.session.completed")
	checkEvent(t, ts.base, hooks[0].Body)
	var first map[string]any
	_ = json.Unmarshal(hooks[0].Body, &first)
	if first["api_version"] != APIVersion {
		t.Errorf("api_version %v, want the account's %s", first["api_version"], APIVersion)
	}
	if hooks[0].Signature != stripeSignature(secret, testWall.Unix(), hooks[0].Body) {
		t.Errorf("signature %s", hooks[0].Signature)
	}

	re := c.must(200, "POST", "/v1/refunds", "payment_intent="+pi["id"].(string)+"&amount=1000&reason=requested_by_customer")
	if !strings.HasPrefix(re["id"].(string), "re_") || re["status"] != "pending" || re["amount"].(float64) != 1000 {
		t.Fatalf("refund %v", re)
	}
	status, out, _ := c.do("POST", "/v1/refunds", "payment_intent="+pi["id"].(string)+"&amount=2001")
	if status != 400 || errOf(out)["code"] != "amount_too_large" {
		t.Errorf("too large: %d %v", status, out)
	}
	if err := ts.Advance(time.Minute); err != nil {
		t.Fatal(err)
	}
	if r := c.must(200, "GET", "/v1/refunds/"+re["id"].(string), ""); r["status"] != "succeeded" {
		t.Errorf("refund after a minute: %v", r["status"])
	}
	hooks = waitTypes(t, rc, "checkout.session.completed", "charge.refunded", "refund.created", "refund.updated")
	for _, h := range hooks {
		checkEvent(t, ts.base, h.Body)
	}
	var ev map[string]any
	_ = json.Unmarshal(hooks[1].Body, &ev)
	if ev["data"].(map[string]any)["object"].(map[string]any)["amount_refunded"].(float64) != 1000 {
		t.Errorf("charge.refunded %s", hooks[1].Body)
	}
	// The event shows the refund as it was then: pending at creation.
	_ = json.Unmarshal(hooks[2].Body, &ev)
	if ev["data"].(map[string]any)["object"].(map[string]any)["status"] != "pending" {
		t.Errorf("refund.created %s", hooks[2].Body)
	}
}

func TestThreeDSecure(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t)
	id := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)
	if err := ts.PayCard(id, CardThreeDSecure, ""); err != ErrNeedsThreeDS {
		t.Fatal(err)
	}
	cs := c.must(200, "GET", "/v1/checkout/sessions/"+id, "expand[]=payment_intent")
	if pi := cs["payment_intent"].(map[string]any); pi["status"] != "requires_action" ||
		pi["next_action"].(map[string]any)["type"] != "redirect_to_url" {
		t.Fatalf("3DS pending: %v", pi)
	}
	if err := ts.ConfirmThreeDSecure(id, true); err != nil {
		t.Fatal(err)
	}
	if cs := c.must(200, "GET", "/v1/checkout/sessions/"+id, ""); cs["payment_status"] != "paid" {
		t.Errorf("after 3DS: %v", cs["payment_status"])
	}
}

func TestKonbiniVoucherPaidAndLapsed(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t)
	rc := newReceiver(t)
	c.register(t, rc.srv.URL)
	a := c.must(200, "POST", "/v1/checkout/sessions", sessionForm("payment_method_options[konbini][expires_after_days]", "2"))["id"].(string)
	b := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)
	v, err := ts.PayKonbini(a, "buyer@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-12-01 10:00 JST + 2 days → 2026-12-03 23:59:59 JST.
	if want := time.Date(2026, 12, 3, 23, 59, 59, 0, jst).Unix(); v.ExpiresAt != want {
		t.Errorf("voucher expires %v, want %v", time.Unix(v.ExpiresAt, 0).In(jst), time.Unix(want, 0).In(jst))
	}
	cs := c.must(200, "GET", "/v1/checkout/sessions/"+a, "expand[]=payment_intent")
	pi := cs["payment_intent"].(map[string]any)
	na := pi["next_action"].(map[string]any)
	if cs["status"] != "complete" || cs["payment_status"] != "unpaid" || na["type"] != "konbini_display_details" ||
		na["konbini_display_details"].(map[string]any)["expires_at"].(float64) != float64(v.ExpiresAt) {
		t.Fatalf("konbini: %v", cs)
	}
	if _, err := ts.PayKonbini(b, "buyer2@example.com"); err != nil {
		t.Fatal(err)
	}
	piB := c.must(200, "GET", "/v1/checkout/sessions/"+b, "")["payment_intent"].(string)
	if err := ts.PayVoucher(pi["id"].(string), "lawson"); err != nil {
		t.Fatal(err)
	}
	// b's voucher (3 days) lapses after 2026-12-04 23:59:59 JST.
	if err := ts.Advance(3*24*time.Hour + 13*time.Hour + 59*time.Minute + 59*time.Second); err != nil {
		t.Fatal(err)
	}
	if p := c.must(200, "GET", "/v1/payment_intents/"+piB, ""); p["status"] != "requires_action" {
		t.Fatalf("before the last second: %v", p["status"])
	}
	if err := ts.Advance(time.Second); err != nil {
		t.Fatal(err)
	}
	if p := c.must(200, "GET", "/v1/payment_intents/"+piB, ""); p["status"] != "canceled" {
		t.Errorf("after expiry: %v", p["status"])
	}
	hooks := waitTypes(t, rc, "checkout.session.completed", "checkout.session.completed",
		"checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed")
	for _, h := range hooks {
		checkEvent(t, ts.base, h.Body)
	}
	if p := c.must(200, "GET", "/v1/payment_intents/"+pi["id"].(string), "expand[]=latest_charge"); p["status"] != "succeeded" ||
		p["latest_charge"].(map[string]any)["payment_method_details"].(map[string]any)["konbini"].(map[string]any)["store"].(map[string]any)["chain"] != "lawson" {
		t.Errorf("paid voucher: %v", p)
	}
}

func TestBankTransfer(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t)
	id := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)
	tr, err := ts.PayBankTransfer(id, "buyer@example.com")
	if err != nil {
		t.Fatal(err)
	}
	cs := c.must(200, "GET", "/v1/checkout/sessions/"+id, "expand[]=payment_intent")
	pi := cs["payment_intent"].(map[string]any)
	ins := pi["next_action"].(map[string]any)["display_bank_transfer_instructions"].(map[string]any)
	zengin := ins["financial_addresses"].([]any)[0].(map[string]any)["zengin"].(map[string]any)
	if ins["type"] != "jp_bank_transfer" || zengin["account_number"] != tr.AccountNumber || ins["amount_remaining"].(float64) != 3000 ||
		!strings.HasPrefix(cs["customer"].(string), "cus_") {
		t.Fatalf("transfer: %v", cs)
	}
	if err := ts.PayVoucher(pi["id"].(string), ""); err != nil {
		t.Fatal(err)
	}
	if cs := c.must(200, "GET", "/v1/checkout/sessions/"+id, ""); cs["payment_status"] != "paid" {
		t.Errorf("after transfer: %v", cs["payment_status"])
	}
}

func TestSessionExpiresAtExpiresAt(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t)
	rc := newReceiver(t)
	c.register(t, rc.srv.URL)
	id := c.must(200, "POST", "/v1/checkout/sessions", sessionForm("expires_at", itoa(testStart.Unix()+3600)))["id"].(string)
	_ = ts.Advance(59 * time.Minute)
	if cs := c.must(200, "GET", "/v1/checkout/sessions/"+id, ""); cs["status"] != "open" {
		t.Fatalf("before expires_at: %v", cs["status"])
	}
	_ = ts.Advance(time.Minute)
	if cs := c.must(200, "GET", "/v1/checkout/sessions/"+id, ""); cs["status"] != "expired" {
		t.Fatalf("at expires_at: %v", cs["status"])
	}
	if err := ts.PayCard(id, CardSuccess, ""); err != ErrSessionNotOpen {
		t.Errorf("paying an expired session: %v", err)
	}
	checkEvent(t, ts.base, waitTypes(t, rc, "checkout.session.expired")[0].Body)
}

func TestRefundFails(t *testing.T) {
	ts := newSim(t, Options{RefundSettleAfter: -1})
	c := ts.client(t)
	rc := newReceiver(t)
	c.register(t, rc.srv.URL)
	id := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)
	if err := ts.PayCard(id, CardSuccess, ""); err != nil {
		t.Fatal(err)
	}
	pi := c.must(200, "GET", "/v1/checkout/sessions/"+id, "")["payment_intent"].(string)
	re := c.must(200, "POST", "/v1/refunds", "payment_intent="+pi)
	_ = ts.Advance(time.Hour)
	if r := c.must(200, "GET", "/v1/refunds/"+re["id"].(string), ""); r["status"] != "pending" {
		t.Fatalf("refund settled by itself: %v", r["status"])
	}
	if err := ts.SettleRefund(re["id"].(string), false, "declined"); err != nil {
		t.Fatal(err)
	}
	r := c.must(200, "GET", "/v1/refunds/"+re["id"].(string), "expand[]=charge")
	if r["status"] != "failed" || r["failure_reason"] != "declined" || r["charge"].(map[string]any)["amount_refunded"].(float64) != 0 {
		t.Errorf("failed refund: %v", r)
	}
	for _, h := range waitTypes(t, rc, "checkout.session.completed", "charge.refunded", "refund.created", "refund.updated", "refund.failed") {
		checkEvent(t, ts.base, h.Body)
	}
}

func TestWebhookRetriesAndPending(t *testing.T) {
	ts := newSim(t, Options{WallClock: fixedClock(testWall)})
	c := ts.client(t)
	rc := newReceiver(t)
	rc.fail = 2
	_, secret := c.register(t, rc.srv.URL)
	id := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)
	c.must(200, "POST", "/v1/checkout/sessions/"+id+"/expire", "")
	ds, err := ts.WaitDeliveries(ctxTimeout(t), func(ds []Delivery) bool { return len(ds) == 1 && ds[0].Delivered })
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ds[0].Attempts); n != 3 || ds[0].Attempts[0].Status != 500 || ds[0].Attempts[2].Status != 200 {
		t.Errorf("attempts %+v", ds[0].Attempts)
	}
	for _, r := range rc.received() {
		if r.Signature != stripeSignature(secret, testWall.Unix(), r.Body) {
			t.Errorf("signature %s", r.Signature)
		}
	}
	// pending_webhooks comes down once the delivery is done.
	eventually.True(t, "pending_webhooks 0", func() bool {
		ev := c.must(200, "GET", "/v1/events", "")["data"].([]any)[0].(map[string]any)
		return ev["pending_webhooks"].(float64) == 0
	})
}

func TestWebhookEndpointsAPI(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t)
	we := c.must(200, "POST", "/v1/webhook_endpoints",
		"url=https://kaisai.example/webhooks/stripe/1&enabled_events[0]=checkout.session.completed&enabled_events[1]=refund.updated&api_version=2026-03-25.dahlia")
	id := we["id"].(string)
	if !strings.HasPrefix(id, "we_") || !strings.HasPrefix(we["secret"].(string), "whsec_") || we["status"] != "enabled" {
		t.Fatalf("endpoint %v", we)
	}
	if got := c.must(200, "GET", "/v1/webhook_endpoints/"+id, ""); got["secret"] != nil {
		t.Errorf("secret shown again: %v", got)
	}
	// Event names are those of spec3.json; Stripe refuses any other.
	for _, tc := range []struct {
		events string
		param  string // "" when accepted
	}{
		{"enabled_events[0]=no_such", "enabled_events[0]"},
		{"enabled_events[0]=refund.updated&enabled_events[1]=checkout.session.complete", "enabled_events[1]"},
		{"enabled_events[0]=payment_intent.succeeded&enabled_events[1]=refund.faild", "enabled_events[1]"},
		{"enabled_events[0]=customer.created&enabled_events[1]=charge.refund.updated", ""},
		{"enabled_events[0]=*", ""},
	} {
		status, out, _ := c.unchecked().do("POST", "/v1/webhook_endpoints", "url=https://kaisai.example/x&"+tc.events)
		switch {
		case tc.param == "" && status != 200:
			t.Errorf("%s: %d %v, want 200", tc.events, status, out)
		case tc.param != "" && (status != 400 || errOf(out)["type"] != "invalid_request_error" || errOf(out)["param"] != tc.param):
			t.Errorf("%s: %d %v, want 400 invalid_request_error on %s", tc.events, status, out, tc.param)
		}
	}
	del := c.must(200, "DELETE", "/v1/webhook_endpoints/"+id, "")
	if del["deleted"] != true {
		t.Errorf("delete %v", del)
	}
	if status, _, _ := c.do("DELETE", "/v1/webhook_endpoints/"+id, ""); status != http.StatusNotFound {
		t.Errorf("delete twice: %d", status)
	}
}

func TestStateFile(t *testing.T) {
	file := t.TempDir() + "/stripesim.json"
	ts := newSim(t, Options{StateFile: file})
	c := ts.client(t)
	id := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)
	if _, err := ts.PayKonbini(id, "buyer@example.com"); err != nil {
		t.Fatal(err)
	}
	ts2 := newSim(t, Options{StateFile: file})
	cs := ts2.client(t).must(200, "GET", "/v1/checkout/sessions/"+id, "expand[]=payment_intent")
	if cs["status"] != "complete" || cs["payment_intent"].(map[string]any)["status"] != "requires_action" {
		t.Errorf("after restart: %v", cs)
	}
	if len(ts2.State().Accounts) != 1 {
		t.Errorf("accounts %v", ts2.State().Accounts)
	}
}

func ctxTimeout(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestDeliveriesSurviveRestart: a delivery that failed is in the state
// file with its attempts, and a server started from it sends the retry
// when it is due.
func TestDeliveriesSurviveRestart(t *testing.T) {
	file := t.TempDir() + "/stripesim.json"
	retries := WebhookOptions{RetryDelays: []time.Duration{time.Hour, time.Hour}}
	ts := newSim(t, Options{StateFile: file, Webhooks: retries})
	c := ts.client(t)
	rc := newReceiver(t)
	rc.status = http.StatusServiceUnavailable
	c.register(t, rc.srv.URL)
	id := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)
	c.must(200, "POST", "/v1/checkout/sessions/"+id+"/expire", "")
	if _, err := ts.WaitDeliveries(ctxTimeout(t), func(ds []Delivery) bool { return len(ds) == 1 && len(ds[0].Attempts) == 1 }); err != nil {
		t.Fatal(err)
	}
	ts.Close()

	// An hour and a bit later, the receiver is up again.
	rc.mu.Lock()
	rc.status = http.StatusOK
	rc.mu.Unlock()
	later := time.Now().Add(61 * time.Minute)
	ts2 := newSim(t, Options{StateFile: file, Webhooks: retries, WallClock: func() time.Time { return later }})
	ds, err := ts2.WaitDeliveries(ctxTimeout(t), func(ds []Delivery) bool { return len(ds) == 1 && ds[0].Delivered })
	if err != nil {
		t.Fatalf("%v: %+v", err, ds)
	}
	if a := ds[0].Attempts; len(a) != 2 || a[0].Status != 503 || a[1].Status != 200 || ds[0].Event != "checkout.session.expired" {
		t.Errorf("delivery %+v", ds[0])
	}
	if got := rc.types(); len(got) != 2 || got[1] != "checkout.session.expired" {
		t.Errorf("received %v", got)
	}
	eventually.True(t, "pending_webhooks 0", func() bool {
		ev := ts2.client(t).must(200, "GET", "/v1/events", "")["data"].([]any)[0].(map[string]any)
		return ev["pending_webhooks"].(float64) == 0
	})
}

// TestKonbiniRefund: cash paid at a konbini cannot go back the same way;
// Stripe e-mails the customer for a bank account and the refund waits in
// requires_action (not settled by time) until the control API or the UI
// says the customer gave it (succeeded) or the refund failed.
func TestKonbiniRefund(t *testing.T) {
	ts := newSim(t, Options{RefundSettleAfter: time.Minute})
	c := ts.client(t)
	rc := newReceiver(t)
	c.register(t, rc.srv.URL)
	id := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)
	if _, err := ts.PayKonbini(id, "buyer@example.com"); err != nil {
		t.Fatal(err)
	}
	pi := c.must(200, "GET", "/v1/checkout/sessions/"+id, "")["payment_intent"].(string)
	if err := ts.PayVoucher(pi, "lawson"); err != nil {
		t.Fatal(err)
	}

	re := c.must(200, "POST", "/v1/refunds", "payment_intent="+pi+"&amount=1000")
	na, _ := re["next_action"].(map[string]any)
	dd, _ := na["display_details"].(map[string]any)
	sent, _ := dd["email_sent"].(map[string]any)
	if re["status"] != "requires_action" || na["type"] != "display_details" || sent["email_sent_to"] != "buyer@example.com" ||
		sent["email_sent_at"].(float64) != float64(testStart.Unix()) ||
		dd["expires_at"].(float64) != float64(testStart.Add(45*24*time.Hour).Unix()) {
		t.Fatalf("konbini refund %v", re)
	}
	first := re["id"].(string)
	if err := ts.Advance(2 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if r := c.must(200, "GET", "/v1/refunds/"+first, ""); r["status"] != "requires_action" {
		t.Fatalf("a konbini refund settled by itself: %v", r["status"])
	}
	ts.ctl(t, "POST", "/_sim/refunds/"+first+"/succeed", ``, 204)
	if r := c.must(200, "GET", "/v1/refunds/"+first, ""); r["status"] != "succeeded" || r["next_action"] != nil {
		t.Errorf("completed konbini refund %v", r)
	}

	re = c.must(200, "POST", "/v1/refunds", "payment_intent="+pi+"&amount=500&instructions_email=other@example.com")
	second := re["id"].(string)
	if re["status"] != "requires_action" || re["instructions_email"] != "other@example.com" {
		t.Fatalf("refund with instructions_email %v", re)
	}
	if _, body := get(t, ts.base+"/"); !strings.Contains(body, "口座情報の依頼を other@example.com に送信済み") {
		t.Error("the UI does not show the konbini refund waiting")
	}
	post(t, ts.base+"/_ui/refunds/"+second+"/fail", nil)
	r := c.must(200, "GET", "/v1/refunds/"+second, "expand[]=charge")
	if r["status"] != "failed" || r["charge"].(map[string]any)["amount_refunded"].(float64) != 1000 {
		t.Errorf("failed konbini refund %v", r)
	}

	hooks := waitTypes(t, rc, "checkout.session.completed", "checkout.session.async_payment_succeeded",
		"charge.refunded", "refund.created", "refund.updated", "charge.refunded", "refund.created", "refund.updated", "refund.failed")
	for _, h := range hooks {
		checkEvent(t, ts.base, h.Body)
	}
	var updated struct {
		Data struct {
			Object   map[string]any `json:"object"`
			Previous map[string]any `json:"previous_attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(hooks[4].Body, &updated); err != nil {
		t.Fatal(err)
	}
	if updated.Data.Object["status"] != "succeeded" || updated.Data.Previous["status"] != "requires_action" {
		t.Errorf("refund.updated %s", hooks[4].Body)
	}
}

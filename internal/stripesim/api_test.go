package stripesim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestAccountAndKeys(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t)
	acct := c.must(200, "GET", "/v1/account", "")
	if acct["id"] != "acct_1KaisaiSimulator" || acct["country"] != "JP" || acct["default_currency"] != "jpy" {
		t.Errorf("account = %v", acct)
	}
	rk := ts.client(t)
	rk.key = DefaultSeed().Accounts[0].RestrictedKey
	rk.must(200, "GET", "/v1/account", "")

	bad := ts.client(t)
	bad.key = "sk_test_wrong0000000000000000000000"
	status, out, _ := bad.do("GET", "/v1/account", "")
	if status != http.StatusUnauthorized || errOf(out)["type"] != "invalid_request_error" ||
		!strings.Contains(errOf(out)["message"].(string), "Invalid API Key provided: sk_test_") {
		t.Errorf("wrong key: %d %v", status, out)
	}
	none := ts.client(t)
	none.key = ""
	if status, _, _ := none.do("GET", "/v1/account", ""); status != http.StatusUnauthorized {
		t.Errorf("no key: %d", status)
	}
	_, _, h := c.with("Stripe-Version", "2026-03-25.dahlia").do("GET", "/v1/account", "")
	if h.Get("Stripe-Version") != "2026-03-25.dahlia" || !strings.HasPrefix(h.Get("Request-Id"), "req_") {
		t.Errorf("headers %v", h)
	}
}

func TestCheckoutSessionCreateGetListExpire(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t)
	cs := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())
	id := cs["id"].(string)
	if !strings.HasPrefix(id, "cs_test_") || cs["amount_total"].(float64) != 3000 || cs["currency"] != "jpy" ||
		cs["status"] != "open" || cs["payment_status"] != "unpaid" || cs["client_reference_id"] != "app-42" ||
		cs["payment_intent"] != nil || !strings.HasPrefix(cs["url"].(string), ts.base+"/c/pay/") {
		t.Errorf("session = %v", cs)
	}
	if cs["expires_at"].(float64) != float64(testStart.Unix()+24*3600) {
		t.Errorf("expires_at = %v", cs["expires_at"])
	}
	got := c.must(200, "GET", "/v1/checkout/sessions/"+id, "expand[]=line_items")
	li := got["line_items"].(map[string]any)["data"].([]any)
	if len(li) != 1 || li[0].(map[string]any)["description"] != "Go 勉強会 参加費" {
		t.Errorf("line items %v", li)
	}
	list := c.must(200, "GET", "/v1/checkout/sessions", "limit=1")
	if d := list["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != id {
		t.Errorf("list %v", list)
	}
	exp := c.must(200, "POST", "/v1/checkout/sessions/"+id+"/expire", "")
	if exp["status"] != "expired" || exp["url"] != nil {
		t.Errorf("expired %v", exp)
	}
	status, out, _ := c.do("POST", "/v1/checkout/sessions/"+id+"/expire", "")
	if status != 400 || errOf(out)["type"] != "invalid_request_error" {
		t.Errorf("expire twice: %d %v", status, out)
	}
	status, out, _ = c.do("GET", "/v1/checkout/sessions/cs_test_nope", "")
	if status != 404 || errOf(out)["code"] != "resource_missing" || errOf(out)["param"] != "session" {
		t.Errorf("unknown: %d %v", status, out)
	}
}

func TestCheckoutSessionValidation(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t)
	for _, tc := range []struct {
		form, param string
	}{
		{sessionForm("expires_at", "1"), "expires_at"},
		{sessionForm("expires_at", itoa(testStart.Unix()+29*60)), "expires_at"},
		{sessionForm("expires_at", itoa(testStart.Unix()+25*3600)), "expires_at"},
		{sessionForm("payment_method_options[konbini][expires_after_days]", "61"), "payment_method_options[konbini][expires_after_days]"},
		{sessionForm("line_items[0][price_data][unit_amount]", "100"), "line_items"}, // konbini minimum ¥120
		{sessionForm("payment_method_options[customer_balance][bank_transfer][type]", "eu_bank_transfer"), "payment_method_options[customer_balance][bank_transfer][type]"},
		{sessionForm("bogus", "1"), "bogus"},
		{strings.Replace(sessionForm(), "mode=payment", "", 1), "mode"},
	} {
		status, out, _ := c.unchecked().do("POST", "/v1/checkout/sessions", tc.form)
		if status != 400 || errOf(out)["param"] != tc.param || errOf(out)["type"] != "invalid_request_error" {
			t.Errorf("%s: %d %v", tc.param, status, out)
		}
	}
	ok := c.must(200, "POST", "/v1/checkout/sessions", sessionForm("expires_at", itoa(testStart.Unix()+30*60)))
	if ok["payment_method_options"].(map[string]any)["konbini"].(map[string]any)["expires_after_days"].(float64) != 3 {
		t.Errorf("options %v", ok["payment_method_options"])
	}
}

func TestIdempotency(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t).with("Idempotency-Key", "app-42-attempt-1")
	first := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())
	status, again, h := c.do("POST", "/v1/checkout/sessions", sessionForm())
	if status != 200 || again["id"] != first["id"] || h.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %v %v", status, again["id"], h)
	}
	status, out, _ := c.do("POST", "/v1/checkout/sessions", sessionForm("client_reference_id", "app-43"))
	if status != 400 || errOf(out)["type"] != "idempotency_error" {
		t.Errorf("other params: %d %v", status, out)
	}
	if n := len(ts.State().Sessions); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
	other := c.with("Idempotency-Key", "app-42-attempt-2").must(200, "POST", "/v1/checkout/sessions", sessionForm())
	if other["id"] == first["id"] {
		t.Error("another key gave the same session")
	}
}

// TestSpecCheckCatches sees the request check fail on what the spec
// refuses, so that its silence elsewhere means something.
func TestSpecCheckCatches(t *testing.T) {
	ts := newSim(t, Options{})
	route, _ := specOperation(t, ts.base, mustRequest(t, "POST", ts.base+"/v1/checkout/sessions"))
	for _, form := range []string{
		sessionForm("bogus", "1"),
		sessionForm("payment_method_types[0]", "cardx"),
		sessionForm("line_items[0][quantity]", "one"),
		sessionForm("payment_method_options[customer_balance][bank_transfer][type]", "jp_transfer"),
	} {
		if err := validateStripeRequest(route, nil, []byte(form)); err == nil {
			t.Errorf("accepted %s", form)
		}
	}
	if err := validateStripeRequest(route, nil, []byte(sessionForm())); err != nil {
		t.Errorf("refused a good request: %v", err)
	}
}

func mustRequest(t testing.TB, method, url string) *http.Request {
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestEventsListAndGet(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t)
	cs := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())
	c.must(200, "POST", "/v1/checkout/sessions/"+cs["id"].(string)+"/expire", "")
	list := c.must(200, "GET", "/v1/events", "type=checkout.session.expired")
	data := list["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("events %v", list)
	}
	ev := data[0].(map[string]any)
	if !strings.HasPrefix(ev["id"].(string), "evt_") || ev["data"].(map[string]any)["object"].(map[string]any)["status"] != "expired" {
		t.Errorf("event %v", ev)
	}
	got := c.must(200, "GET", "/v1/events/"+ev["id"].(string), "")
	body, _ := json.Marshal(got)
	checkEvent(t, ts.base, body)
	if status, _, _ := c.do("GET", "/v1/events/evt_nope", ""); status != 404 {
		t.Errorf("unknown event: %d", status)
	}
}

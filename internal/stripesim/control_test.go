package stripesim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// ctl calls the control API and decodes the answer (nil when empty).
func (ts *testSim) ctl(t testing.TB, method, path, body string, want int) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, ts.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, raw, want)
	}
	var out map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &out)
	}
	return out
}

func TestControlAPI(t *testing.T) {
	ts := newSim(t, Options{RefundSettleAfter: -1})
	c := ts.client(t)
	a := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)
	b := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)
	d := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)

	out := ts.ctl(t, "POST", "/_sim/checkout/sessions/"+a+"/pay", `{"method": "card", "card": "4000000000000002"}`, 200)
	if out["outcome"] != "declined" {
		t.Errorf("declined: %v", out)
	}
	out = ts.ctl(t, "POST", "/_sim/checkout/sessions/"+a+"/pay", `{"method": "card", "card": "4000000000003220"}`, 200)
	if out["outcome"] != "requires_action" {
		t.Errorf("3DS: %v", out)
	}
	ts.ctl(t, "POST", "/_sim/checkout/sessions/"+a+"/three_d_secure", `{"ok": true}`, 204)
	ts.ctl(t, "POST", "/_sim/checkout/sessions/"+a+"/pay", `{}`, 409) // no longer open
	piA := c.must(200, "GET", "/v1/checkout/sessions/"+a, "")["payment_intent"].(string)

	out = ts.ctl(t, "POST", "/_sim/checkout/sessions/"+b+"/pay", `{"method": "konbini", "email": "k@example.com"}`, 200)
	piB := out["payment_intent"].(string)
	ts.ctl(t, "POST", "/_sim/payment_intents/"+piB+"/pay", `{"store": "ministop"}`, 204)
	ts.ctl(t, "POST", "/_sim/payment_intents/"+piB+"/lapse", ``, 409)
	out = ts.ctl(t, "POST", "/_sim/checkout/sessions/"+d+"/pay", `{"method": "customer_balance"}`, 200)
	ts.ctl(t, "POST", "/_sim/payment_intents/"+out["payment_intent"].(string)+"/lapse", ``, 204)
	ts.ctl(t, "POST", "/_sim/payment_intents/pi_nope/pay", `{}`, 404)

	re := c.must(200, "POST", "/v1/refunds", "payment_intent="+piA)["id"].(string)
	ts.ctl(t, "POST", "/_sim/refunds/"+re+"/fail", `{"failure_reason": "declined"}`, 204)
	ts.ctl(t, "POST", "/_sim/refunds/"+re+"/succeed", ``, 409)

	ts.ctl(t, "POST", "/_sim/faults", `{"faults": [{"kind": "bogus"}]}`, 400)
	ts.ctl(t, "POST", "/_sim/faults", `{"seed": 3, "faults": [{"kind": "status", "op": "GetAccount", "count": 1, "status": 502}]}`, 204)
	if status, _, _ := c.do("GET", "/v1/account", ""); status != 502 {
		t.Errorf("fault: %d", status)
	}
	ts.ctl(t, "DELETE", "/_sim/faults", ``, 204)

	now := ts.ctl(t, "POST", "/_sim/clock", `{"advance": "25h"}`, 200)
	if n, _ := time.Parse(time.RFC3339, now["now"].(string)); !n.Equal(testStart.Add(25 * time.Hour)) {
		t.Errorf("clock %v", now)
	}
	ts.ctl(t, "POST", "/_sim/clock", `{"advance": "-1h"}`, 400)
	ts.ctl(t, "POST", "/_sim/clock", `{"advanc": "1h"}`, 400)

	st := ts.ctl(t, "GET", "/_sim/state", "", 200)
	if len(st["checkout_sessions"].([]any)) != 3 || st["accounts"].([]any)[0].(map[string]any)["secret_key"] != ts.key {
		t.Errorf("state %v", st)
	}
	ts.ctl(t, "POST", "/_sim/accounts", `{"display_name": "二つ目"}`, 201)
	ts.ctl(t, "POST", "/_sim/reset", ``, 204)
	if st := ts.State(); len(st.Sessions) != 0 || len(st.Accounts) != 1 || !st.Now.Equal(testStart) {
		t.Errorf("after reset %+v", st)
	}
	ts.ctl(t, "GET", "/_sim/nope", "", 404)
}

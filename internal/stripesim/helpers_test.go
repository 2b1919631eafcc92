package stripesim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// testSim is a started simulator on a fake clock.
type testSim struct {
	*Server
	base string
	key  string
}

var testStart = time.Date(2026, 12, 1, 10, 0, 0, 0, jst)

// testWall is a wall clock for tests that check exact signatures; it
// differs from testStart so that they see which clock signs.
var testWall = testStart.Add(17 * time.Second)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func newSim(t testing.TB, opts Options) *testSim {
	t.Helper()
	if opts.Seed.Accounts == nil {
		opts.Seed = DefaultSeed()
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testStart }
	}
	if opts.Webhooks.TimeScale == 0 && opts.Webhooks.RetryDelays == nil {
		opts.Webhooks.TimeScale = 0.0001
	}
	if opts.TickEvery == 0 {
		opts.TickEvery = time.Hour // tests apply time themselves
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	base, err := s.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		s.Close()
	})
	return &testSim{Server: s, base: base, key: DefaultSeed().Accounts[0].SecretKey}
}

// client is a /v1 client with every exchange checked against spec3.json.
type client struct {
	t       testing.TB
	ts      *testSim
	key     string
	hc      *http.Client
	headers map[string]string
}

func (ts *testSim) client(t testing.TB) *client {
	return &client{t: t, ts: ts, key: ts.key, hc: &http.Client{Transport: &specTransport{t: t, base: ts.base}}}
}

// do sends form (url.Values or "a=b&c=d") and decodes the answer.
func (c *client) do(method, path string, form string) (int, map[string]any, http.Header) {
	c.t.Helper()
	var body io.Reader
	target := c.ts.base + path
	if method == http.MethodGet || method == http.MethodDelete {
		if form != "" {
			target += "?" + form
		}
	} else {
		body = strings.NewReader(form)
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, raw)
	}
	return resp.StatusCode, out, resp.Header
}

func (c *client) must(want int, method, path, form string) map[string]any {
	c.t.Helper()
	status, out, _ := c.do(method, path, form)
	if status != want {
		c.t.Fatalf("%s %s: %d %v, want %d", method, path, status, out, want)
	}
	return out
}

func (c *client) with(header, value string) *client {
	d := *c
	d.headers = map[string]string{header: value}
	for k, v := range c.headers {
		if k != header {
			d.headers[k] = v
		}
	}
	return &d
}

// unchecked is the same client without the spec checks, for requests the
// spec itself refuses (the simulator must still answer them as Stripe).
func (c *client) unchecked() *client {
	d := *c
	d.hc = http.DefaultClient
	return &d
}

func errOf(out map[string]any) map[string]any {
	e, _ := out["error"].(map[string]any)
	return e
}

// sessionForm is a typical kaisai session: one ticket of ¥3,000.
func sessionForm(extra ...string) string {
	v := url.Values{}
	v.Set("mode", "payment")
	v.Set("line_items[0][price_data][currency]", "jpy")
	v.Set("line_items[0][price_data][unit_amount]", "3000")
	v.Set("line_items[0][price_data][product_data][name]", "Go 勉強会 参加費")
	v.Set("line_items[0][quantity]", "1")
	v.Set("client_reference_id", "app-42")
	v.Set("payment_method_types[0]", "card")
	v.Set("payment_method_types[1]", "konbini")
	v.Set("payment_method_types[2]", "customer_balance")
	v.Set("payment_method_options[konbini][expires_after_days]", "3")
	v.Set("payment_method_options[customer_balance][funding_type]", "bank_transfer")
	v.Set("payment_method_options[customer_balance][bank_transfer][type]", "jp_bank_transfer")
	v.Set("success_url", "http://127.0.0.1:8080/paid?session={CHECKOUT_SESSION_ID}")
	v.Set("cancel_url", "http://127.0.0.1:8080/applications/42")
	v.Set("metadata[application]", "42")
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v.Encode()
}

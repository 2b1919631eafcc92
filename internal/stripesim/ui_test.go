package stripesim

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// browser follows no redirects, so that each step can be looked at.
var browser = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t testing.TB, u string) (int, string) {
	t.Helper()
	resp, err := browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t testing.TB, u string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := browser.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func TestCheckoutPageCard(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t)
	cs := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())
	id, page := cs["id"].(string), cs["url"].(string)
	status, body := get(t, page)
	for _, want := range []string{"お支払い", "¥3,000", "Go 勉強会 参加費", "カード", "コンビニ", "銀行振込", "シミュレーター"} {
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("page lacks %q (%d)", want, status)
		}
	}
	status, _, body = post(t, page, url.Values{"method": {"card"}, "card": {"4000 0000 0000 0002"}, "email": {"b@example.com"}})
	if status != http.StatusPaymentRequired || !strings.Contains(body, "カードが拒否されました") {
		t.Fatalf("declined: %d", status)
	}
	status, loc, _ := post(t, page, url.Values{"method": {"card"}, "card": {"4000 0000 0000 3220"}})
	if status != http.StatusSeeOther || loc != "/c/3ds/"+id {
		t.Fatalf("3DS: %d %s", status, loc)
	}
	if _, body := get(t, ts.base+loc); !strings.Contains(body, "3D セキュア認証") {
		t.Fatal("no 3DS page")
	}
	status, _, _ = post(t, ts.base+loc, url.Values{"ok": {"false"}})
	if status != http.StatusPaymentRequired {
		t.Fatalf("3DS failed: %d", status)
	}
	status, loc, _ = post(t, page, url.Values{"method": {"card"}, "card": {"4242 4242 4242 4242"}})
	if status != http.StatusSeeOther || loc != "http://127.0.0.1:8080/paid?session="+id {
		t.Fatalf("paid: %d %s", status, loc)
	}
	if got := c.must(200, "GET", "/v1/checkout/sessions/"+id, ""); got["payment_status"] != "paid" {
		t.Errorf("session %v", got["payment_status"])
	}
	if _, body := get(t, page); !strings.Contains(body, "完了しています") {
		t.Error("the page of a paid session still offers to pay")
	}
}

func TestCheckoutPageKonbiniAndTransfer(t *testing.T) {
	ts := newSim(t, Options{})
	c := ts.client(t)
	cs := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())
	status, loc, _ := post(t, cs["url"].(string), url.Values{"method": {"konbini"}, "email": {"b@example.com"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/c/voucher/pi_") {
		t.Fatalf("konbini: %d %s", status, loc)
	}
	_, body := get(t, ts.base+loc)
	for _, want := range []string{"コンビニでのお支払い", "2026-12-04 23:59:59 JST", "ローソン", "お支払い待ち"} {
		if !strings.Contains(body, want) {
			t.Errorf("voucher page lacks %q", want)
		}
	}
	// The UI pays it.
	pi := strings.TrimPrefix(loc, "/c/voucher/")
	status, loc2, _ := post(t, ts.base+"/_ui/payment_intents/"+pi+"/pay", url.Values{"store": {"seicomart"}})
	if status != http.StatusSeeOther || !strings.Contains(loc2, "msg=") {
		t.Fatalf("ui pay: %d %s", status, loc2)
	}
	if _, body := get(t, ts.base+loc); !strings.Contains(body, "お支払い済み") {
		t.Error("voucher not shown paid")
	}

	cs = c.must(200, "POST", "/v1/checkout/sessions", sessionForm())
	status, loc, _ = post(t, cs["url"].(string), url.Values{"method": {"customer_balance"}, "email": {"b@example.com"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/c/transfer/pi_") {
		t.Fatalf("transfer: %d %s", status, loc)
	}
	if _, body := get(t, ts.base+loc); !strings.Contains(body, "銀行振込でのお支払い") || !strings.Contains(body, "口座名義") {
		t.Error("transfer page")
	}
}

func TestUIHome(t *testing.T) {
	ts := newSim(t, Options{RefundSettleAfter: -1})
	c := ts.client(t)
	id := c.must(200, "POST", "/v1/checkout/sessions", sessionForm())["id"].(string)
	_ = ts.PayCard(id, CardSuccess, "")
	pi := c.must(200, "GET", "/v1/checkout/sessions/"+id, "")["payment_intent"].(string)
	re := c.must(200, "POST", "/v1/refunds", "payment_intent="+pi)["id"].(string)
	_, body := get(t, ts.base+"/")
	for _, want := range []string{"Stripe シミュレーター", ts.key, id, pi, re, "成功させる", "本物の Stripe ではなく"} {
		if !strings.Contains(body, want) {
			t.Errorf("UI lacks %q", want)
		}
	}
	post(t, ts.base+"/_ui/refunds/"+re+"/fail", nil)
	if r := c.must(200, "GET", "/v1/refunds/"+re, ""); r["status"] != "failed" {
		t.Errorf("refund %v", r["status"])
	}
	post(t, ts.base+"/_ui/clock", url.Values{"advance": {"2h"}})
	if !ts.Now().Equal(testStart.Add(2 * time.Hour)) {
		t.Errorf("clock %v", ts.Now())
	}
}

package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"kaisai/internal/app"
	"kaisai/internal/stripesim"
	"kaisai/internal/testdb"
)

// networkSwitch is the network between kaisai and Stripe, which a test can
// cut: calls then fail as with no route to the host.
type networkSwitch struct{ down atomic.Bool }

func (n *networkSwitch) RoundTrip(r *http.Request) (*http.Response, error) {
	if n.down.Load() {
		return nil, errors.New("network is unreachable")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// simAdapter is app.StripeSimulator over a stripesim.Server, as cmd/kaisai makes it.
type stripeSimAdapter struct{ *stripesim.Server }

func (s stripeSimAdapter) TestAccountKey(context.Context) (string, error) {
	seeded := stripesim.DefaultSeed().Accounts[0].ID
	for _, a := range s.State().Accounts {
		if a.ID == seeded {
			return a.SecretKey, nil
		}
	}
	return "", errors.New("no seeded account")
}

type stripeWorld struct {
	app  *app.App
	sim  *stripesim.Server
	base string // the simulator's URL
	net  *networkSwitch
	log  *logBuffer
	acct stripesim.Account
}

// startStripeWorld starts a Stripe simulator over HTTP and kaisai pointed
// at it: beside kaisai as `kaisai serve` runs it (simulated), or as any
// Stripe-compatible server at KAISAI_STRIPE_API_URL.
func startStripeWorld(t *testing.T, db testdb.DB, simulated bool) *stripeWorld {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sim, err := stripesim.New(stripesim.Options{Seed: stripesim.DefaultSeed(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	base, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &stripeWorld{sim: sim, base: base, net: &networkSwitch{}, log: &logBuffer{}, acct: stripesim.DefaultSeed().Accounts[0]}
	w.app = startKaisai(t, db, func(c *app.Config) {
		c.Logger = slog.New(slog.NewTextHandler(w.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.StripeHTTPClient = &http.Client{Transport: w.net}
		if simulated {
			c.StripeSimulator = stripeSimAdapter{sim}
		} else {
			c.StripeAPIURL = base
		}
	})
	return w
}

// endpoints are the webhook endpoints on the simulator: URL → secret.
func (w *stripeWorld) endpoints() map[string]string {
	out := map[string]string{}
	for _, e := range w.sim.State().Endpoints {
		out[e["url"].(string)] = e["secret"].(string)
	}
	return out
}

func (w *stripeWorld) connID(t *testing.T, c *client) string {
	t.Helper()
	r := c.get("/settings/payments")
	id := r.doc(t).First("#stripe-connection").Attr("data-conn")
	if id == "" {
		t.Fatalf("no connected account on the page: %s", r)
	}
	return id
}

// problem is the message 決済設定 shows after a failed action.
func problem(t *testing.T, r *resp) string {
	t.Helper()
	return r.doc(t).First("#stripe-problem").Text()
}

// TestStripeConnectWithKey: a pasted restricted key connects the account:
// its name and テストモード on the page, kaisai's webhook endpoint on the
// account (at /webhooks/stripe/{connection} of kaisai's URL), the methods
// all enabled; and neither the key nor the signing secret in any page or
// in the log.
func TestStripeConnectWithKey(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startStripeWorld(t, db, false)
		c := newClient(t, w.app)
		c.signup("決済社", "owner@pay.example")

		r := c.get("/settings/payments")
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("stripe.none"))
		if r.doc(t).Has("#stripe-connect-test") || r.doc(t).Has("#stripe-simulated") {
			t.Errorf("without a simulator beside kaisai, the page offers the test account or a banner: %s", r)
		}
		r = c.post("/settings/payments/connect-test", url.Values{})
		wantStatus(t, r, http.StatusNotFound)
		if got := problem(t, r); got != ja("stripe.no_simulator") || len(w.endpoints()) != 0 {
			t.Errorf("the test account without a simulator: %q, endpoints %v", got, w.endpoints())
		}
		if !c.get("/events").doc(t).Has(`a[href="/settings/payments"]`) {
			t.Error("the organizer navigation has no 決済設定")
		}

		r = c.post("/settings/payments/connect", url.Values{"key": {" " + w.acct.RestrictedKey + " "}})
		wantRedirect(t, r, "/settings/payments")
		page := c.get("/settings/payments")
		wantText(t, page, ja("flash.stripe_connected"), w.acct.DisplayName, w.acct.ID)
		doc := page.doc(t)
		if got := doc.First("#stripe-mode").Text(); got != ja("stripe.mode.test") {
			t.Errorf("mode = %q, want %q", got, ja("stripe.mode.test"))
		}
		id := w.connID(t, c)
		hook := w.app.URL() + "/webhooks/stripe/" + id
		eps := w.endpoints()
		secret, ok := eps[hook]
		if !ok || len(eps) != 1 {
			t.Fatalf("webhook endpoints on the simulator: %v, want one at %s", eps, hook)
		}
		if got := doc.First("#stripe-webhook-url").Text(); got != hook {
			t.Errorf("the page shows the endpoint %q, want %q", got, hook)
		}
		for _, m := range []string{"card", "konbini", "bank_transfer"} {
			if _, checked := doc.First(`#stripe-methods input[value="` + m + `"]`).LookupAttr("checked"); !checked {
				t.Errorf("method %s not enabled on a new connection", m)
			}
		}
		// The webhook handler's reader finds the secret Stripe gave.
		cid := itoaMust(t, id)
		conn, sec, err := w.app.Store.StripeConnectionSecrets(context.Background(), cid)
		if err != nil || sec.WebhookSecret != secret || sec.Key != w.acct.RestrictedKey || conn.APIURL != w.base {
			t.Errorf("stored connection %+v (secret matches %v, key matches %v), %v", conn,
				sec.WebhookSecret == secret, sec.Key == w.acct.RestrictedKey, err)
		}

		// A second account while one is connected: refused, nothing registered.
		r = c.post("/settings/payments/connect", url.Values{"key": {w.acct.SecretKey}})
		wantStatus(t, r, http.StatusConflict)
		if got := problem(t, r); got != ja("stripe.already_connected") {
			t.Errorf("second account: %q", got)
		}
		if n := len(w.endpoints()); n != 1 {
			t.Errorf("%d endpoints after a refused second connect", n)
		}

		pages := page.Body + c.get("/settings/payments/"+id+"/disconnect").Body + r.Body + c.get("/events").Body
		for _, s := range []string{w.acct.RestrictedKey, w.acct.SecretKey, secret} {
			if strings.Contains(pages, s) {
				t.Errorf("a page shows the secret %.12s…", s)
			}
			if strings.Contains(w.log.String(), s) {
				t.Errorf("the log holds the secret %.12s…", s)
			}
		}
	})
}

func itoaMust(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, ch := range s {
		if ch < '0' || ch > '9' {
			t.Fatalf("not an id: %q", s)
		}
		n = n*10 + int64(ch-'0')
	}
	return n
}

// TestStripeConnectErrors: a wrong key, a key of the wrong shape, a live
// key off Stripe, the network down and Stripe failing each say so in
// both languages, keep the key out of the page, and connect nothing.
func TestStripeConnectErrors(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startStripeWorld(t, db, false)
		c := newClient(t, w.app)
		c.signup("失敗社", "owner@fail.example")

		try := func(name, key string, status int, msg string, args ...any) {
			t.Helper()
			r := c.post("/settings/payments/connect", url.Values{"key": {key}})
			wantStatus(t, r, status)
			if got := problem(t, r); got != ja(msg, args...) {
				t.Errorf("%s: the page says %q, want %q", name, got, ja(msg, args...))
			}
			if strings.Contains(r.Body, key) {
				t.Errorf("%s: the page shows the key", name)
			}
			if r.doc(t).Has("#stripe-connection") || len(w.endpoints()) != 0 {
				t.Errorf("%s: connected anyway (endpoints %v)", name, w.endpoints())
			}
		}
		try("wrong key", "sk_test_51NotAKeyOfTheSimulator0000000000000000000000", http.StatusBadRequest, "stripe.err.invalid_key")
		try("not a key", "pk_test_publishable", http.StatusBadRequest, "stripe.err.bad_key")
		try("live key", "sk_live_51SomethingLive", http.StatusBadRequest, "stripe.err.live_off_stripe", w.base)

		w.net.down.Store(true)
		try("network down", w.acct.SecretKey, http.StatusBadGateway, "stripe.err.unreachable")
		w.net.down.Store(false)

		w.sim.SetFaults(1, stripesim.Fault{Kind: stripesim.FaultStatus, Op: "GET /v1/account", Rate: 1, Status: 503})
		try("Stripe 503", w.acct.SecretKey, http.StatusBadGateway, "stripe.err.server", 503)
		// The account answers, the endpoint does not: no connection is left.
		w.sim.SetFaults(1, stripesim.Fault{Kind: stripesim.FaultStatus, Op: "POST /v1/webhook_endpoints", Rate: 1, Status: 500})
		try("endpoint 500", w.acct.SecretKey, http.StatusBadGateway, "stripe.err.server", 500)
		w.sim.ClearFaults()
		if _, err := w.app.Store.ConnectedStripe(context.Background(), 1); err == nil {
			t.Error("a connection is left after its endpoint failed")
		}

		c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		r := c.post("/settings/payments/connect", url.Values{"key": {"sk_test_51NotAKeyOfTheSimulator0000000000000000000000"}})
		if got := problem(t, r); got != en("stripe.err.invalid_key") {
			t.Errorf("in English: %q", got)
		}

		// It connects once all is well again.
		wantRedirect(t, c.post("/settings/payments/connect", url.Values{"key": {w.acct.SecretKey}}), "/settings/payments")
		if n := len(w.endpoints()); n != 1 {
			t.Errorf("%d endpoints after connecting", n)
		}
		if strings.Contains(w.log.String(), w.acct.SecretKey) {
			t.Error("the log holds the key")
		}
	})
}

// TestStripeSimulatedTestAccount: with the simulator beside kaisai, every
// organizer page says payments are simulated, and 決済設定 connects the
// simulator's test account in one click.
func TestStripeSimulatedTestAccount(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startStripeWorld(t, db, true)
		c := newClient(t, w.app)
		c.signup("模擬社", "owner@sim.example")
		eventID := c.createEvent(eventSpec{Title: "模擬のイベント"})
		for _, path := range []string{"/events", "/settings/payments", "/integrations", itoaPath("/events/", eventID)} {
			r := c.get(path)
			wantStatus(t, r, http.StatusOK)
			b := r.doc(t).First("#stripe-simulated")
			if b.Attr("role") != "status" || b.Attr("class") != "sim-banner" || b.Text() != ja("stripe.simulated_banner") {
				t.Errorf("%s: no Stripe simulator banner: %s", path, r)
			}
		}
		// Where a participant pays, the banner says so too (DESIGN.md §8).
		public := newClient(t, w.app)
		if r := public.get(c.publicPath(eventID)); !r.doc(t).Has("#stripe-simulated") {
			t.Error("the public event page, where paying starts, has no simulated-payments banner")
		}

		r := c.get("/settings/payments")
		if !r.doc(t).Has("#stripe-connect-test") {
			t.Fatalf("no 「テストアカウントを接続」: %s", r)
		}
		wantText(t, r, ja("stripe.connect_test_account"))
		wantRedirect(t, c.post("/settings/payments/connect-test", url.Values{}), "/settings/payments")
		page := c.get("/settings/payments")
		wantText(t, page, w.acct.DisplayName, ja("stripe.mode.test"))
		id := w.connID(t, c)
		if _, ok := w.endpoints()[w.app.URL()+"/webhooks/stripe/"+id]; !ok {
			t.Errorf("no endpoint for kaisai on the simulator: %v", w.endpoints())
		}
		if strings.Contains(page.Body, w.acct.SecretKey) || strings.Contains(w.log.String(), w.acct.SecretKey) {
			t.Error("the test account's key shows in the page or the log")
		}
		c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		if got := c.get("/events").doc(t).First("#stripe-simulated").Text(); got != en("stripe.simulated_banner") {
			t.Errorf("English banner: %q", got)
		}
	})
}

func itoaPath(prefix string, id int64) string { return prefix + itoa(id) }

// TestStripeMethodsAndDisconnect: the methods offered change (at least one
// stays); 解除 asks first, deletes the endpoint at Stripe, then the key and
// secret; with Stripe unreachable or failing it says so and keeps the
// connection; an endpoint already gone at Stripe is no obstacle.
func TestStripeMethodsAndDisconnect(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := startStripeWorld(t, db, false)
		c := newClient(t, w.app)
		c.signup("解除社", "owner@off.example")
		other := newClient(t, w.app)
		other.signup("他社", "owner@other.example")
		wantRedirect(t, c.post("/settings/payments/connect", url.Values{"key": {w.acct.SecretKey}}), "/settings/payments")
		id := w.connID(t, c)
		cid := itoaMust(t, id)

		// Methods.
		wantRedirect(t, c.post("/settings/payments/"+id+"/methods", url.Values{"method": {"konbini", "card"}}), "/settings/payments")
		page := c.get("/settings/payments")
		wantText(t, page, ja("flash.stripe_methods_saved"))
		for m, want := range map[string]bool{"card": true, "konbini": true, "bank_transfer": false} {
			if _, checked := page.doc(t).First(`#stripe-methods input[value="` + m + `"]`).LookupAttr("checked"); checked != want {
				t.Errorf("method %s checked %v, want %v", m, checked, want)
			}
		}
		r := c.post("/settings/payments/"+id+"/methods", url.Values{})
		wantStatus(t, r, http.StatusBadRequest)
		if got := problem(t, r); got != ja("stripe.methods_required") {
			t.Errorf("no method: %q", got)
		}
		r = c.post("/settings/payments/"+id+"/methods", url.Values{"method": {"manual"}})
		wantStatus(t, r, http.StatusBadRequest)
		if conn, _ := w.app.Store.StripeConnection(ctx, 1, cid); len(conn.Methods) != 2 {
			t.Errorf("methods after refused changes: %v", conn.Methods)
		}
		// Another organization can neither change nor disconnect it.
		wantStatus(t, other.post("/settings/payments/"+id+"/methods", url.Values{"method": {"card"}}), http.StatusNotFound)
		wantStatus(t, other.get("/settings/payments/"+id+"/disconnect"), http.StatusNotFound)
		wantStatus(t, other.post("/settings/payments/"+id+"/disconnect", url.Values{}), http.StatusNotFound)
		// Nor can another site, however the browser is logged in.
		wantStatus(t, c.post("/settings/payments/"+id+"/disconnect", url.Values{}, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)

		// 解除 asks first.
		confirm := c.get("/settings/payments/" + id + "/disconnect")
		wantStatus(t, confirm, http.StatusOK)
		wantText(t, confirm, ja("stripe.disconnect_explain"), w.acct.DisplayName)
		if !confirm.doc(t).Has(`form[action="/settings/payments/` + id + `/disconnect"] #confirm-disconnect`) {
			t.Errorf("no confirmation form: %s", confirm)
		}

		// Stripe unreachable, then failing: the connection stays.
		w.net.down.Store(true)
		r = c.post("/settings/payments/"+id+"/disconnect", url.Values{})
		w.net.down.Store(false)
		wantStatus(t, r, http.StatusBadGateway)
		if got := problem(t, r); got != ja("stripe.err.disconnect_unreachable") {
			t.Errorf("unreachable: %q", got)
		}
		w.sim.SetFaults(1, stripesim.Fault{Kind: stripesim.FaultStatus, Op: "DeleteWebhookEndpointsWebhookEndpoint", Rate: 1, Status: 500})
		r = c.post("/settings/payments/"+id+"/disconnect", url.Values{})
		w.sim.ClearFaults()
		wantStatus(t, r, http.StatusBadGateway)
		if got := problem(t, r); got != ja("stripe.err.disconnect_server", 500) {
			t.Errorf("Stripe 500: %q", got)
		}
		if _, _, err := w.app.Store.StripeConnectionSecrets(ctx, cid); err != nil || len(w.endpoints()) != 1 {
			t.Fatalf("after failed 解除: %v, endpoints %v; want the connection kept", err, w.endpoints())
		}

		wantRedirect(t, c.post("/settings/payments/"+id+"/disconnect", url.Values{}), "/settings/payments")
		page = c.get("/settings/payments")
		wantText(t, page, ja("flash.stripe_disconnected"), ja("stripe.none"), ja("stripe.status.disconnected"))
		if n := len(w.endpoints()); n != 0 {
			t.Errorf("%d endpoints left on the simulator after 解除", n)
		}
		if conn, _, err := w.app.Store.StripeConnectionSecrets(ctx, cid); err == nil || conn.HasKey {
			t.Errorf("after 解除: %+v, %v; want no key nor secret", conn, err)
		}

		// Connected again; the endpoint deleted at Stripe meanwhile: 解除 still works.
		wantRedirect(t, c.post("/settings/payments/connect", url.Values{"key": {w.acct.SecretKey}}), "/settings/payments")
		id2 := w.connID(t, c)
		if id2 == id {
			t.Fatal("connected again as the same connection")
		}
		for _, e := range w.sim.State().Endpoints {
			req, _ := http.NewRequest(http.MethodDelete, w.base+"/v1/webhook_endpoints/"+e["id"].(string), nil)
			req.SetBasicAuth(w.acct.SecretKey, "")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("delete at Stripe: %v %v", resp, err)
			}
			resp.Body.Close()
		}
		wantRedirect(t, c.post("/settings/payments/"+id2+"/disconnect", url.Values{}), "/settings/payments")
		if _, err := w.app.Store.ConnectedStripe(ctx, 1); err == nil {
			t.Error("still connected after 解除 of an endpoint Stripe had already deleted")
		}
	})
}

// TestEventPaymentDaysField: the event form edits 支払期限 (1–60 days,
// 7 on a new event); out of range it says so, in both languages.
func TestEventPaymentDaysField(t *testing.T) {
	t.Parallel()
	db := testdb.SQLite(t)
	a := startKaisai(t, db)
	c := newClient(t, a)
	c.signup("期限社", "owner@days.example")
	if v := c.get("/events/new").doc(t).First(`input[name="payment_days"]`).Attr("value"); v != "7" {
		t.Errorf("a new event's 支払期限 = %q, want 7", v)
	}
	id := c.createEvent(eventSpec{Title: "有料セミナー", Paid: true, Price: 3000})
	edit := "/events/" + itoa(id) + "/edit"
	form := eventSpec{Title: "有料セミナー", Paid: true, Price: 3000}.form()
	for _, bad := range []string{"0", "61", "-3", "七"} {
		form.Set("payment_days", bad)
		r := c.post(edit, form)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.payment_days_range", 60))
	}
	form.Set("payment_days", "14")
	wantRedirect(t, c.post(edit, form), "/events/"+itoa(id))
	if v := c.get(edit).doc(t).First(`input[name="payment_days"]`).Attr("value"); v != "14" {
		t.Errorf("saved 支払期限 = %q, want 14", v)
	}
	if e, err := a.Store.Event(context.Background(), 1, id); err != nil || e.PaymentDays != 14 {
		t.Errorf("stored: %d, %v", e.PaymentDays, err)
	}
	if got := c.get("/events/" + itoa(id)).doc(t).First("#payment-days").Text(); got != ja("event.payment_days_value", 14) {
		t.Errorf("the event page shows 支払期限 %q", got)
	}
	c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	form.Set("payment_days", "61")
	wantText(t, c.post(edit, form), en("validation.payment_days_range", 60))
}

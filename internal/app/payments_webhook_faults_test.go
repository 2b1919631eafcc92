package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	stripewebhook "github.com/stripe/stripe-go/v85/webhook"

	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/stripesim"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

// holdReordered keeps an event held by a reorder_webhook fault until the
// next event is sent, however slow the test is to cause that one.
func holdReordered(o *stripesim.Options) { o.Webhooks.ReorderHold = 2 * time.Minute }

// settled waits until the simulator has no delivery left to make and
// kaisai has processed every event it stored; it returns the stored rows,
// newest first.
func (p *payScene) settled(t *testing.T, wantRows int) []store.StripeWebhookRow {
	t.Helper()
	type delivery struct {
		Event                string
		Delivered, Done, Dup bool
		Attempts             []stripesim.Attempt
	}
	type seen struct {
		Deliveries []delivery
		Stored     []store.StripeWebhookRow
	}
	s := eventually.Value(t, fmt.Sprintf("%d Stripe events delivered and processed", wantRows), func() (seen, bool) {
		var s seen
		for _, d := range p.ssim.Deliveries() {
			s.Deliveries = append(s.Deliveries, delivery{d.Event, d.Delivered, d.Done, d.Duplicate, d.Attempts})
		}
		var err error
		if s.Stored, err = p.app.Store.StripeWebhooks(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
		for _, d := range s.Deliveries {
			if !d.Done {
				return s, false
			}
		}
		for _, w := range s.Stored {
			if !w.Status.Done() {
				return s, false
			}
		}
		return s, len(s.Stored) == wantRows
	})
	return s.Stored
}

// paidOnce checks that the application is 入金済 via method, with one 入金
// line in its history and one 入金完了 mail.
func (p *payScene) paidOnce(t *testing.T, id int64, method payment.Method) {
	t.Helper()
	ctx := context.Background()
	if a := p.application(t, id); a.Status != event.Applied || a.Payment != event.PaymentPaid || a.PaidVia != string(method) {
		t.Errorf("application %s / %s via %q, want 申込済 / 入金済 via %s", a.Status, a.Payment, a.PaidVia, method)
	}
	hist, err := p.app.Store.Activity(ctx, p.org.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for _, h := range hist {
		if h.Action == store.ActPaid {
			lines++
		}
	}
	if lines != 1 {
		t.Errorf("%d 入金 lines in the history, want 1: %+v", lines, hist)
	}
	mails, err := p.app.Store.Mails(ctx, p.org.ID, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	paidMails := 0
	for _, m := range mails {
		if m.ApplicationID == id && m.Kind == event.MailPaid {
			paidMails++
		}
	}
	if paidMails != 1 {
		t.Errorf("%d 入金完了 mails, want 1", paidMails)
	}
}

func storedOrder(ws []store.StripeWebhookRow) []string {
	out := make([]string, 0, len(ws))
	for i := len(ws) - 1; i >= 0; i-- {
		out = append(out, ws[i].Type)
	}
	return out
}

// TestKonbiniWebhooksDuplicatedAndReordered: Stripe sends the voucher's
// payment (async_payment_succeeded) twice, and the session's completion
// (unpaid, a voucher issued) only after it. The application ends 入金済
// by konbini exactly once: one 入金 line, one 入金完了 mail, one
// registrant on Zoom; the late completion moves nothing back.
func TestKonbiniWebhooksDuplicatedAndReordered(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		p := startPayScene(t, db, 10, false, holdReordered)
		p.ssim.SetFaults(1,
			stripesim.Fault{Kind: stripesim.FaultReorderWebhook, Op: "checkout.session.completed", Count: 1},
			stripesim.Fault{Kind: stripesim.FaultDuplicateWebhook, Op: "checkout.session.async_payment_succeeded", Count: 1},
		)
		loc, a := p.applyOnline(t, "konbini-faults@example.com")
		cs := sessionOf(t, loc)
		if _, err := p.ssim.PayKonbini(cs, "konbini-faults@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := p.ssim.PayVoucher(intentIn(t, p.ssim, cs), "familymart"); err != nil {
			t.Fatal(err)
		}
		ws := p.settled(t, 2)
		// Stored in the order they came: the payment first, its session's
		// completion after, and the duplicate not at all.
		if got := storedOrder(ws); fmt.Sprint(got) != "[checkout.session.async_payment_succeeded checkout.session.completed]" {
			t.Fatalf("stored events %v: the faults did not reorder them", got)
		}
		sent := 0
		for _, d := range p.ssim.Deliveries() {
			if d.Event == "checkout.session.async_payment_succeeded" && d.Delivered {
				sent++
			}
		}
		if sent != 2 {
			t.Fatalf("the payment was delivered %d times, want 2 (the duplicate fault)", sent)
		}
		for _, w := range ws {
			if w.Status != zoompolicy.WebhookProcessed {
				t.Errorf("event %s %s: %s (%s)", w.Type, w.EventID, w.Status, w.LastError)
			}
		}
		p.paidOnce(t, a.ID, payment.MethodKonbini)
		pay, err := p.app.Store.PaymentBySession(context.Background(), a.ID, cs)
		if err != nil {
			t.Fatal(err)
		}
		if pay.Status != payment.StatusPaid || pay.Method != payment.MethodKonbini {
			t.Errorf("payment %s via %s, want paid via konbini", pay.Status, pay.Method)
		}
		waitRegistrants(t, p.meetingWorld, p.ze, "konbini-faults@example.com")
	})
}

// TestExpiredAfterPaidStaysPaid: the participant's first session expires,
// but Stripe's checkout.session.expired for it arrives only after the
// card payment of the second session; and then an expired event for the
// paid session itself, validly signed, comes late. The application stays
// 入金済 with one 入金 line and one 入金完了 mail; the paid session stays
// paid.
func TestExpiredAfterPaidStaysPaid(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		p := startPayScene(t, db, 10, false, holdReordered)
		p.ssim.SetFaults(1, stripesim.Fault{Kind: stripesim.FaultReorderWebhook, Op: "checkout.session.expired", Count: 1})
		loc, a := p.applyOnline(t, "late-expiry@example.com")
		first := sessionOf(t, loc)

		// A day on, the first session has expired at Stripe (its event held
		// back); 「お支払いへ進む」 makes a second.
		p.offset.Store(int64(24 * time.Hour))
		if err := p.ssim.Advance(24 * time.Hour); err != nil {
			t.Fatal(err)
		}
		resp, err := participant.PostForm(p.app.URL()+"/a/"+a.Token+"/pay", url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		second := sessionOf(t, resp.Header.Get("Location"))
		if second == first {
			t.Fatalf("paying again gave the expired session %s", first)
		}
		if err := p.ssim.PayCard(second, "4242424242424242", "late-expiry@example.com"); err != nil {
			t.Fatal(err)
		}
		ws := p.settled(t, 2)
		if got := storedOrder(ws); fmt.Sprint(got) != "[checkout.session.completed checkout.session.expired]" {
			t.Fatalf("stored events %v: the expiry did not come after the payment", got)
		}
		p.paidOnce(t, a.ID, payment.MethodCard)

		// An expired event for the paid session itself, signed with the
		// endpoint's secret, arrives late: Stripe does not promise order.
		var secret string
		for _, e := range p.ssim.State().Endpoints {
			secret = e["secret"].(string)
		}
		body := fmt.Appendf(nil, `{"id":"evt_late_expired_1","object":"event","api_version":"2025-01-01","created":%d,`+
			`"livemode":false,"pending_webhooks":1,"type":"checkout.session.expired","data":{"object":{"id":%q,`+
			`"object":"checkout.session","status":"expired","payment_status":"unpaid","amount_total":3000,"currency":"jpy",`+
			`"client_reference_id":%q,"metadata":{}}}}`, time.Now().Unix(), second, strconv.FormatInt(a.ID, 10))
		sig := stripewebhook.GenerateTestSignedPayload(&stripewebhook.UnsignedPayload{Payload: body, Secret: secret}).Header
		req, err := http.NewRequest(http.MethodPost, p.app.URL()+"/webhooks/stripe/"+strconv.FormatInt(p.conn, 10), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Stripe-Signature", sig)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("late expired event: %d", res.StatusCode)
		}
		p.settled(t, 3)

		p.paidOnce(t, a.ID, payment.MethodCard)
		for cs, want := range map[string]payment.Status{first: payment.StatusExpired, second: payment.StatusPaid} {
			pay, err := p.app.Store.PaymentBySession(ctx, a.ID, cs)
			if err != nil {
				t.Fatal(err)
			}
			if pay.Status != want {
				t.Errorf("session %s: %s, want %s", cs, pay.Status, want)
			}
		}
		waitRegistrants(t, p.meetingWorld, p.ze, "late-expiry@example.com")
	})
}

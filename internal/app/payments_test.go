package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/jobs"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/stripe"
	"kaisai/internal/stripesim"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

// payScene is kaisai beside the Zoom and Stripe simulators: an
// organization with a licensed Zoom user linked and the Stripe simulator's
// test account connected as 決済設定 connects it, and a paid (¥3,000) event
// whose Zoom group has 登録 on. kaisai's clock runs offset from real time
// by what the test moves it.
type payScene struct {
	*meetingWorld
	ssim   *stripesim.Server
	conn   int64
	ze     zoomEvent
	offset atomic.Int64 // added to kaisai's clock
}

func (p *payScene) now() time.Time { return time.Now().Add(time.Duration(p.offset.Load())) }

// fastPayments applies Stripe's events and sweeps payments within
// milliseconds of being nudged, and sweeps often.
func fastPayments(c *app.Config) {
	c.Payments = jobs.PaymentOptions{Sweep: 200 * time.Millisecond,
		Webhooks: jobs.WebhookOptions{RetryBase: 50 * time.Millisecond, RetryMax: 300 * time.Millisecond, Sweep: 200 * time.Millisecond}}
}

// startPayScene starts the scene; simOpts adjust the Stripe simulator's
// options before it starts.
func startPayScene(t *testing.T, db testdb.DB, capacity int, waitlist bool, simOpts ...func(*stripesim.Options)) *payScene {
	t.Helper()
	return startPaySceneWith(t, db, capacity, waitlist, nil, simOpts...)
}

// startPaySceneWith is startPayScene with kaisai's configuration adjusted
// by cfgOpts too (a mail server, say).
func startPaySceneWith(t *testing.T, db testdb.DB, capacity int, waitlist bool, cfgOpts []func(*app.Config),
	simOpts ...func(*stripesim.Options)) *payScene {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p := &payScene{}
	p.meetingWorld = startMeetingWorld(t, db, append([]func(*app.Config){fastPayments,
		func(c *app.Config) { c.Now = p.now }}, cfgOpts...)...)
	var err error
	so := stripesim.Options{Seed: stripesim.DefaultSeed(), Webhooks: stripesim.WebhookOptions{TimeScale: 0.0001}}
	for _, o := range simOpts {
		o(&so)
	}
	p.ssim, err = stripesim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.ssim.Close)
	base, err := p.ssim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// As 決済設定 connects a key: checked, stored, endpoint registered.
	st := p.app.Store
	key := stripesim.DefaultSeed().Accounts[0].SecretKey
	cl, err := stripe.New(stripe.Config{APIURL: base, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := cl.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.conn, err = st.BeginStripeConnection(ctx, p.org.ID, store.StripeAccount{ID: acct.ID, DisplayName: acct.Name}, key, base)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := cl.CreateWebhookEndpoint(ctx, p.app.URL()+"/webhooks/stripe/"+strconv.FormatInt(p.conn, 10))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CompleteStripeConnection(ctx, p.org.ID, p.conn, ep.ID, ep.Secret); err != nil {
		t.Fatal(err)
	}
	z := licensedZoom
	z.ConnID = p.link(t, "licensed@example.com")
	p.ze = newZoomEvent(t, st, p.org.ID, z, 1)
	p.ze.event.Fee, p.ze.event.PriceJPY, p.ze.event.PaymentDays, p.ze.event.WaitlistEnabled = event.FeePaid, 3000, 3, waitlist
	if err := st.UpdateEvent(ctx, &p.ze.event); err != nil {
		t.Fatal(err)
	}
	sc := p.ze.schedules[0]
	sc.Capacity = capacity
	if err := st.UpdateSchedule(ctx, &sc); err != nil {
		t.Fatal(err)
	}
	p.waitInStep(t)
	return p
}

// participant is a browser without cookies that follows no redirect.
var participant = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, u string) (int, string, string) {
	t.Helper()
	resp, err := participant.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// applyOnline applies through the event's public form, as a browser
// would: it answers where kaisai sent the participant and the application.
func (p *payScene) applyOnline(t *testing.T, email string) (string, event.Application) {
	t.Helper()
	page := p.app.URL() + "/e/" + p.ze.event.Slug
	_, _, body := get(t, page)
	form, err := apptest.BrowserForm(body, "/e/"+p.ze.event.Slug+"/confirm")
	if err != nil {
		t.Fatal(err)
	}
	form.Set("schedule_id", strconv.FormatInt(p.ze.schedules[0].ID, 10))
	form.Set("name", "参加者 "+email)
	form.Set("email", email)
	// The form leads to the 確認画面, whose 「申し込む」 applies.
	resp, err := participant.PostForm(page+"/confirm", form)
	if err != nil {
		t.Fatal(err)
	}
	confirm, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	if form, err = apptest.BrowserForm(string(confirm), "/e/"+p.ze.event.Slug+"/apply"); err != nil {
		t.Fatal(err)
	}
	resp, err = participant.PostForm(page+"/apply", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("apply: %d", resp.StatusCode)
	}
	id, err := p.app.Store.ApplicationByEmailUnscoped(context.Background(), p.ze.schedules[0].ID, email)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.app.Store.ApplicationByIDUnscoped(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header.Get("Location"), a
}

var sessionInURL = regexp.MustCompile(`/c/pay/(cs_test_[A-Za-z0-9]+)$`)

func sessionOf(t *testing.T, location string) string {
	t.Helper()
	m := sessionInURL.FindStringSubmatch(location)
	if m == nil {
		t.Fatalf("sent to %q, not to a Checkout page of the simulator", location)
	}
	return m[1]
}

func (p *payScene) application(t *testing.T, id int64) event.Application {
	t.Helper()
	a, err := p.app.Store.ApplicationByIDUnscoped(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestPaidByCardIsOnZoom: applying sends the participant to Stripe's page;
// nothing is on Zoom while unpaid; a declined card leaves the session open
// for another try; paid, the return page shows 入金済 at once, the
// registrant appears on Zoom once, and the webhook that follows changes
// nothing more.
func TestPaidByCardIsOnZoom(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		p := startPayScene(t, db, 10, false)
		loc, a := p.applyOnline(t, "card@example.com")
		cs := sessionOf(t, loc)
		if a.Status != event.Applied || a.Payment != event.PaymentUnpaid || a.PaymentDueAt.IsZero() {
			t.Fatalf("applied: %+v", a)
		}
		// Clicking 「お支払いへ進む」 again gives the same session.
		resp, err := participant.PostForm(p.app.URL()+"/a/"+a.Token+"/pay", url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if again := sessionOf(t, resp.Header.Get("Location")); again != cs {
			t.Errorf("pay again: session %s, want %s", again, cs)
		}
		if err := p.ssim.PayCard(cs, "4000000000000002", "card@example.com"); err == nil {
			t.Errorf("the declined card paid")
		}
		waitRegistrants(t, p.meetingWorld, p.ze) // 未入金: nobody on Zoom
		if err := p.ssim.PayCard(cs, "4242424242424242", "card@example.com"); err != nil {
			t.Fatal(err)
		}
		status, back, _ := get(t, p.app.URL()+"/a/"+a.Token+"/paid?session_id="+cs)
		if status != http.StatusSeeOther || back != "/a/"+a.Token {
			t.Fatalf("return from Stripe: %d %s", status, back)
		}
		// Read back at once: 入金済 before any webhook need arrive.
		if got := p.application(t, a.ID); got.Payment != event.PaymentPaid || got.PaidVia != string(payment.MethodCard) {
			t.Errorf("after the return: %s via %q, want paid via card", got.Payment, got.PaidVia)
		}
		waitRegistrants(t, p.meetingWorld, p.ze, "card@example.com")
		// The webhooks arrive, are stored once and processed, and move nothing.
		eventually.True(t, "Stripe's events processed", func() bool {
			ws, err := p.app.Store.StripeWebhooks(context.Background(), 50)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range ws {
				if w.Type == "checkout.session.completed" && w.Status.Done() {
					return true
				}
			}
			return false
		})
		hist, err := p.app.Store.Activity(context.Background(), p.org.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		paid := 0
		for _, h := range hist {
			if h.Action == store.ActPaid {
				paid++
				if !strings.Contains(h.Detail, cs) || !strings.HasPrefix(h.Detail, "stripe pi_") {
					t.Errorf("history line %q: want the payment's ids", h.Detail)
				}
			}
		}
		if paid != 1 {
			t.Errorf("%d 入金 lines, want 1", paid)
		}
		_, _, page := get(t, p.app.URL()+"/a/"+a.Token)
		if !strings.Contains(page, `id="paid-via"`) || !strings.Contains(page, `id="join-button"`) {
			t.Errorf("the application page after paying shows no method or no join button")
		}
	})
}

// TestKonbiniPaidLater: the voucher is shown on the application's page;
// the money arrives later through the webhook alone (the participant
// never comes back), and the registrant appears on Zoom.
func TestKonbiniPaidLater(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		p := startPayScene(t, db, 10, false)
		loc, a := p.applyOnline(t, "konbini@example.com")
		cs := sessionOf(t, loc)
		v, err := p.ssim.PayKonbini(cs, "konbini@example.com")
		if err != nil {
			t.Fatal(err)
		}
		page := eventually.Value(t, "the voucher on the application's page", func() (string, bool) {
			_, _, body := get(t, p.app.URL()+"/a/"+a.Token)
			return body, strings.Contains(body, `id="voucher-number"`)
		})
		if !strings.Contains(page, v.ConfirmationNumber) {
			t.Errorf("the page does not show the voucher's number %s", v.ConfirmationNumber)
		}
		waitRegistrants(t, p.meetingWorld, p.ze) // not paid yet: nobody
		if err := p.ssim.PayVoucher(intentIn(t, p.ssim, cs), "lawson"); err != nil {
			t.Fatal(err)
		}
		waitRegistrants(t, p.meetingWorld, p.ze, "konbini@example.com")
		if got := p.application(t, a.ID); got.Payment != event.PaymentPaid || got.PaidVia != string(payment.MethodKonbini) {
			t.Errorf("after the voucher was paid: %s via %q", got.Payment, got.PaidVia)
		}
	})
}

// TestKonbiniLapsedPastDeadline: a voucher left unpaid past the 支払期限
// cancels the application, frees the seat and promotes the first on the
// waitlist, whose own payment then puts them on Zoom.
func TestKonbiniLapsedPastDeadline(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		p := startPayScene(t, db, 1, true)
		loc, a := p.applyOnline(t, "late@example.com")
		cs := sessionOf(t, loc)
		if _, err := p.ssim.PayKonbini(cs, "late@example.com"); err != nil {
			t.Fatal(err)
		}
		wloc, b := p.applyOnline(t, "waiting@example.com")
		if b.Status != event.Waitlisted || !strings.HasPrefix(wloc, "/a/") {
			t.Fatalf("second applicant: %s, sent to %s", b.Status, wloc)
		}
		// Past the deadline: kaisai's clock and Stripe's move on.
		past := time.Until(a.PaymentDueAt) + time.Minute
		p.offset.Store(int64(past))
		if err := p.ssim.Advance(past); err != nil {
			t.Fatal(err)
		}
		eventually.True(t, "the unpaid application cancelled and the waitlist promoted", func() bool {
			return p.application(t, a.ID).Status == event.Cancelled && p.application(t, b.ID).Status == event.Applied
		})
		got := p.application(t, b.ID)
		if !got.PaymentDueAt.After(p.now()) {
			t.Errorf("the promoted application's deadline %v is not ahead", got.PaymentDueAt)
		}
		waitRegistrants(t, p.meetingWorld, p.ze) // nobody paid
		// The lapsed voucher's payment is over; paying it now fails at Stripe.
		if err := p.ssim.PayVoucher(intentIn(t, p.ssim, cs), "lawson"); err == nil {
			t.Errorf("a voucher past its expiry was paid")
		}
		// The promoted participant pays by card from their page.
		resp, err := participant.PostForm(p.app.URL()+"/a/"+b.Token+"/pay", url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cs2 := sessionOf(t, resp.Header.Get("Location"))
		if err := p.ssim.PayCard(cs2, "4242424242424242", "waiting@example.com"); err != nil {
			t.Fatal(err)
		}
		waitRegistrants(t, p.meetingWorld, p.ze, "waiting@example.com")
		regs, err := p.app.Store.ApplicationRegistrantsUnscoped(context.Background(), []int64{b.ID})
		if err != nil {
			t.Fatal(err)
		}
		if r := regs[b.ID]; r.Status != zoompolicy.RegistrantRegistered {
			t.Errorf("promoted and paid: registrant %+v", r)
		}
	})
}

// TestNoMethodBeforeDeadline: an organizer who accepts only コンビニ, and
// a deadline too close for a voucher to lapse before it: 「お支払いへ進む」
// says so (409) instead of offering a method the organizer never chose,
// and asking again says the same.
func TestNoMethodBeforeDeadline(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		p := startPayScene(t, db, 10, false)
		st := p.app.Store
		if err := st.SetStripeMethods(ctx, p.org.ID, p.conn, []payment.Method{payment.MethodKonbini}); err != nil {
			t.Fatal(err)
		}
		sc := p.ze.schedules[0]
		sc.StartsAt = time.Now().Add(20 * time.Hour).Truncate(time.Minute).UTC()
		sc.EndsAt = sc.StartsAt.Add(2 * time.Hour)
		if err := st.UpdateSchedule(ctx, &sc); err != nil {
			t.Fatal(err)
		}
		res, err := st.Apply(ctx, &p.ze.event, event.ApplicationInput{ScheduleID: sc.ID, Name: "直前の人",
			Email: "late@example.com", SubmitKey: fmt.Sprintf("late-%d-000001-abcdefgh", p.ze.event.ID)})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			resp, err := participant.PostForm(p.app.URL()+"/a/"+res.Application.Token+"/pay", url.Values{})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "主催者が受け付けている方法ではお支払いいただけません") {
				t.Errorf("click %d: %d, want 409 saying no method can be offered", i+1, resp.StatusCode)
			}
		}
		if n := len(p.ssim.State().Sessions); n != 0 {
			t.Errorf("%d sessions made at Stripe, want none", n)
		}
	})
}

package e2e

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/eventually"
	"kaisai/internal/jobs"
	"kaisai/internal/stripesim"
	"kaisai/internal/zoomsim"
)

// The payment tests' world: the Zoom world with the Stripe simulator
// beside kaisai as `kaisai serve` runs it (決済設定 connects its test
// account in one click), kaisai's clock movable by the test, and the
// payment jobs quick.
type payWorld struct {
	zoom   *zoomsim.Server
	stripe *stripesim.Server
	kaisai *app.App
	offset atomic.Int64 // added to kaisai's clock
}

// e2eStripeSim is app.StripeSimulator over the simulator of the test.
type e2eStripeSim struct{ *stripesim.Server }

func (s e2eStripeSim) TestAccountKey(context.Context) (string, error) {
	return stripesim.DefaultSeed().Accounts[0].SecretKey, nil
}

func (w *payWorld) now() time.Time { return time.Now().Add(time.Duration(w.offset.Load())) }

func startPayWorld(t *testing.T) *payWorld {
	t.Helper()
	w := &payWorld{}
	ctx, stop := context.WithCancel(context.Background())
	sim, err := stripesim.New(stripesim.Options{Seed: stripesim.DefaultSeed(),
		Webhooks: stripesim.WebhookOptions{TimeScale: 0.0001}})
	if err != nil {
		t.Fatalf("create the Stripe simulator: %v", err)
	}
	t.Cleanup(func() { stop(); sim.Close() })
	if _, err := sim.Start(ctx, "127.0.0.1:0"); err != nil {
		t.Fatalf("start the Stripe simulator: %v", err)
	}
	w.stripe = sim
	w.zoom, w.kaisai = startZoomWorld(t, func(c *app.Config) {
		c.Now = w.now
		c.StripeSimulator = e2eStripeSim{sim}
		c.Payments = jobs.PaymentOptions{Sweep: 200 * time.Millisecond,
			Webhooks: jobs.WebhookOptions{RetryBase: 50 * time.Millisecond, RetryMax: 300 * time.Millisecond,
				Sweep: 200 * time.Millisecond}}
	})
	return w
}

// advance moves kaisai's clock and Stripe's by d.
func (w *payWorld) advance(t *testing.T, d time.Duration) {
	t.Helper()
	w.offset.Add(int64(d))
	if err := w.stripe.Advance(d); err != nil {
		t.Fatalf("advance the Stripe simulator's clock: %v", err)
	}
}

// paidZoomEvent is what the organizer set up: the event's public page
// and the organizer's page of it.
type paidZoomEvent struct {
	publicPath string
	eventPath  string
}

// setUpPaidZoomEvent has the organizer, in the browser, sign up, link the
// simulator's licensed Zoom user, connect the Stripe simulator's test
// account on 決済設定 (カード and コンビニ offered), and publish a ¥3,000
// event (支払期限 3 days) with a Zoom group, 登録 ON, and one 日程 of the
// capacity given, キャンセル待ち as asked. It waits for the meeting on Zoom.
func setUpPaidZoomEvent(t *testing.T, org *tab, capacity int, waitlist bool) paidZoomEvent {
	t.Helper()
	signUpAndLinkZoom(t, org, "有料セミナーの会", "owner@pay-e2e.example", "licensed@example.com")

	org.open("/settings/payments", `^/settings/payments$`)
	org.follow("connect the simulator's test account", "#stripe-connect-test button", `^/settings/payments$`)
	if got := org.text("#stripe-mode"); got != "テストモード" {
		t.Fatalf("organizer: 決済設定 shows mode %q, want テストモード%s", got, org.page())
	}
	for _, m := range []string{"card", "konbini"} {
		sel := `#stripe-methods input[name="method"][value="` + m + `"]`
		if org.eval(`document.querySelector('`+sel+`')?.checked ? "on" : "off"`) != "on" {
			t.Fatalf("organizer: 決済設定 does not offer %s after connecting", m)
		}
	}

	org.open("/events/new", `^/events/new$`)
	org.fill(`input[name="title"]`, "有料Zoomセミナー")
	org.click(`input[name="fee"][value="paid"]`)
	org.fill(`input[name="price"]`, "3000")
	org.setValue(`input[name="payment_days"]`, "3")
	if waitlist {
		org.click(`input[name="waitlist"]`)
	}
	org.click(`input[name="status"][value="published"]`)
	m := org.follow("create the event", `form[action="/events/new"] button[type="submit"]`, `^/events/(\d+)$`)
	eventPath := "/events/" + m[1]

	org.follow("open the new group form", `a[href="`+eventPath+`/groups/new"]`, `^/events/\d+/groups/new$`)
	org.click("#venue-zoom")
	chooseHost(org, hostValue(t, org, "licensed@example.com"))
	org.click("#zoom-registration")
	if got := registration(org); got != "enabled on" {
		t.Fatalf("organizer: 登録 is %s after ticking it, want enabled on", got)
	}
	org.follow("create the Zoom group", `form[action$="/groups/new"] button[type="submit"]`,
		`^/events/\d+/groups/\d+/schedules/new$`)
	day := time.Now().AddDate(0, 0, 14)
	org.setValue(`input[name="date"]`, day.Format("2006-01-02"))
	org.setValue(`input[name="start_time"]`, "19:00")
	org.setValue(`input[name="end_time"]`, "20:30")
	org.setValue(`input[name="capacity"]`, strconv.Itoa(capacity))
	org.follow("create the schedule", `form[action$="/schedules/new"] button[type="submit"]`, `^`+eventPath+`$`)
	org.waitFor("the Zoom meeting to be created",
		`document.querySelector('#groups .zoom-meeting[data-state="created"] a.join-url')?.getAttribute("href")`)
	m = org.follow("open the public page", "#public-link", `^/e/([^/]+)$`)
	return paidZoomEvent{publicPath: "/e/" + m[1], eventPath: eventPath}
}

// apply fills the public form as the participant, submits it and
// applies on the 確認画面; it returns the path landed on, which must
// match wantPath.
func (e paidZoomEvent) apply(p *tab, name, email, wantPath string) []string {
	p.t.Helper()
	p.open(e.publicPath, `^/e/[^/]+$`)
	p.click(`#apply-form input[name="schedule_id"]`)
	p.fill(`#apply-form input[name="name"]`, name)
	p.fill(`#apply-form input[name="email"]`, email)
	p.follow("review the application", "#apply-submit", `^/e/[^/]+/confirm$`)
	return p.follow("apply", "#confirm-submit", wantPath)
}

// onZoom is who Zoom's meetings have as approved registrants, sorted.
func (w *payWorld) onZoom() []string {
	var emails []string
	for _, m := range w.zoom.State().Meetings {
		for _, r := range m.Registrants {
			if r.Status == "approved" {
				emails = append(emails, r.Email)
			}
		}
	}
	slices.Sort(emails)
	return emails
}

// waitOnZoom waits until kaisai has no registrant list left to push and
// Zoom's registrants are exactly want: an empty want checks that nobody
// was pushed once kaisai is done pushing.
func (w *payWorld) waitOnZoom(t *testing.T, want ...string) {
	t.Helper()
	slices.Sort(want)
	eventually.Within(t, meetingTimeout, "Zoom's registrants to be ["+strings.Join(want, " ")+"], kaisai's lists idle", func() bool {
		idle, err := w.kaisai.Store.RegistrantListsIdle(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return idle && slices.Equal(w.onZoom(), want)
	})
}

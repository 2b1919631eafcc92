package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestScreensWithZoomAndStripeFitAndPassAxe looks, as TestScreensFitAndPassAxe
// does, at the screens that need Zoom and Stripe beside kaisai (the
// simulators, as `kaisai serve` runs them): the event page with its Zoom
// meeting, the forms of its group, 日程 and event, the delete and cancel
// confirmations, the mail templates, a paid applicant with a Zoom
// registration, the linked Zoom user and Stripe account and their unlink
// pages; and, as the participant, the public page, the paid application
// with its join button, the cancel confirmation and the links page. On
// every organizer page both simulator banners open the page and stay in
// view when it scrolls; a participant's page has the Stripe one only.
func TestScreensWithZoomAndStripeFitAndPassAxe(t *testing.T) {
	chrome := findChrome(t)
	axeJS := findAxe(t)
	shots := screenshotsDir(t)
	w := startPayWorld(t)
	browserCtx := startBrowserWithin(t, chrome, payTimeout+screensTimeout)
	org := newTab(t, browserCtx, "organizer", w.kaisai.URL())
	p := newTab(t, browserCtx, "participant", w.kaisai.URL())

	ev := setUpPaidZoomEvent(t, org, 10, true)
	ev.apply(p, "画面 花子", "screens@pay-e2e.example", checkoutPath)
	token := payByCard(p, "4242 4242 4242 4242", 200, appPath)[1]
	reloadUntil(t, p, token, "the join button", "#join-button")

	ids := func(query string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := w.kaisai.Store.WriteDB().QueryRowContext(context.Background(), query, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return id
	}
	eventID, err := strconv.ParseInt(strings.TrimPrefix(ev.eventPath, "/events/"), 10, 64)
	if err != nil {
		t.Fatalf("event path %q: %v", ev.eventPath, err)
	}
	groupID := ids(`SELECT id FROM schedule_groups WHERE event_id = $1`, eventID)
	scheduleID := ids(`SELECT id FROM schedules WHERE event_id = $1`, eventID)
	appID := ids(`SELECT id FROM applications WHERE token = $1`, token)
	zoomID := ids(`SELECT id FROM zoom_connections ORDER BY id LIMIT 1`)
	stripeID := ids(`SELECT id FROM stripe_connections ORDER BY id LIMIT 1`)

	e := ev.eventPath
	screens := []screen{
		{"zoom-event", org, e},
		{"zoom-event-edit", org, e + "/edit"},
		{"zoom-event-delete", org, e + "/delete"},
		{"zoom-group-edit", org, fmt.Sprintf("%s/groups/%d/edit", e, groupID)},
		{"zoom-group-delete", org, fmt.Sprintf("%s/groups/%d/delete", e, groupID)},
		{"zoom-schedule-new", org, fmt.Sprintf("%s/groups/%d/schedules/new", e, groupID)},
		{"zoom-schedule-edit", org, fmt.Sprintf("%s/schedules/%d/edit", e, scheduleID)},
		{"zoom-schedule-delete", org, fmt.Sprintf("%s/schedules/%d/delete", e, scheduleID)},
		{"zoom-mail-templates", org, e + "/mail"},
		{"zoom-poster", org, e + "/poster"},
		{"zoom-events", org, "/events"},
		{"zoom-applications", org, e + "/applications"},
		{"zoom-application-detail", org, fmt.Sprintf("%s/applications/%d", e, appID)},
		{"zoom-application-cancel", org, fmt.Sprintf("%s/applications/%d/cancel", e, appID)},
		{"zoom-application-delete", org, fmt.Sprintf("%s/applications/%d/delete", e, appID)},
		{"zoom-integrations", org, "/integrations"},
		{"zoom-unlink", org, fmt.Sprintf("/integrations/zoom/%d/unlink", zoomID)},
		{"stripe-payments", org, "/settings/payments"},
		{"stripe-disconnect", org, fmt.Sprintf("/settings/payments/%d/disconnect", stripeID)},
		{"zoom-mails", org, "/mails"},
		{"zoom-public-event", p, ev.publicPath},
		{"zoom-application", p, "/a/" + token},
		{"zoom-cancel-confirm", p, "/a/" + token + "/cancel"},
		{"zoom-links", p, ev.publicPath + "/links"},
	}
	visitScreens(t, screens, axeJS, shots, func(b *tab, s screen, where string, _ bool) {
		b.checkBanners(where, b == org)
	})
}

// checkBanners checks the simulator banners: an organizer's page opens
// with both (Zoom's and Stripe's) and they stay at the top of the view
// when the page is scrolled to its end; a participant's page has only
// Stripe's, since paying starts there.
func (b *tab) checkBanners(where string, organizer bool) {
	b.t.Helper()
	got := b.eval(`(() => {
		const box = document.body.firstElementChild;
		if (!box || !box.classList.contains("sim-banners")) return "no banners first";
		const ids = Array.from(box.querySelectorAll(".sim-banner")).map(e => e.id).join(" ");
		window.scrollTo(0, document.scrollingElement.scrollHeight);
		const top = Math.round(box.getBoundingClientRect().top);
		const shown = box.checkVisibility() && box.getBoundingClientRect().height > 0;
		window.scrollTo(0, 0);
		return ids + " top " + top + (shown ? "" : " hidden");
	})()`)
	want := "stripe-simulated top 0"
	if organizer {
		want = "zoom-simulated stripe-simulated top 0"
	}
	if got != want {
		b.t.Errorf("%s: %s: the simulator banners: %s, want %s (first on the page, in view at the end of the page)", b.who, where, got, want)
	}
}

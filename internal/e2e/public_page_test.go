package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kaisai/internal/app/apptest"
	"kaisai/internal/event"
	"kaisai/internal/testdb"
)

// publicPageTimeout bounds the public page test: two widths of axe-core
// on a loaded 2-core machine, and an application.
const publicPageTimeout = 5 * time.Minute

// TestPublicPageConfirmAndConsentOnPhone: on a 390 px phone, the public
// page shows who holds the event, how to reach them and what it costs; the
// form cannot be sent without consent to the organizer's terms; with it, a
// 確認画面 shows what was typed, 「修正する」 brings it all back, and
// 「申し込む」 applies. Both pages fit the phone and pass axe-core. The
// organizer's event page offers the full URL to copy and its QR code.
func TestPublicPageConfirmAndConsentOnPhone(t *testing.T) {
	chrome := findChrome(t)
	axeJS := findAxe(t)
	kaisai := apptest.Start(t, testdb.SQLite(t))
	browserCtx := startBrowserWithin(t, chrome, publicPageTimeout)
	org := newTab(t, browserCtx, "organizer", kaisai.URL())
	participant := newTab(t, browserCtx, "participant", kaisai.URL())

	org.open("/signup", `^/signup$`)
	org.fill(`input[name="org_name"]`, "かいさい勉強会")
	org.fill(`input[name="name"]`, "主催 太郎")
	org.fill(`input[name="email"]`, "owner@public-e2e.example")
	org.fill(`input[name="password"]`, "correct-horse-battery")
	org.follow("sign up", `form[action="/signup"] button[type="submit"]`, `^/events$`)
	w := screensWorld(t, kaisai.Store, "owner@public-e2e.example")
	ctx := context.Background()
	e, err := kaisai.Store.PublishedEvent(ctx, w.slug)
	if err != nil {
		t.Fatal(err)
	}
	e.Contact, e.TermsURL, e.PrivacyURL = "info@public-e2e.example", "https://public-e2e.example/terms", "https://public-e2e.example/privacy"
	if err := kaisai.Store.UpdateEvent(ctx, &e); err != nil {
		t.Fatal(err)
	}
	// A second, online group with a 日程 that has seats.
	g := event.ScheduleGroup{OrgID: e.OrgID, EventID: e.ID, Venue: event.VenueURL, Name: "オンライン参加",
		OnlineURL: "https://meet.public-e2e.example/live"}
	if _, err := kaisai.Store.CreateGroup(ctx, &g, ""); err != nil {
		t.Fatal(err)
	}
	start := time.Now().AddDate(0, 0, 21).Truncate(time.Hour)
	sc := event.Schedule{OrgID: e.OrgID, EventID: e.ID, GroupID: g.ID, StartsAt: start, EndsAt: start.Add(time.Hour), Capacity: 30}
	if _, err := kaisai.Store.CreateSchedule(ctx, &sc, ""); err != nil {
		t.Fatal(err)
	}

	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch)
	publicPath := "/e/" + w.slug

	// The organizer's event page: the full URL, 「コピー」 and the QR code.
	org.do("emulate a 390 px phone", phone)
	org.open("/events/"+itoa(e.ID), `^/events/\d+$`)
	if got := org.attr("#public-url", "value"); got != kaisai.URL()+publicPath {
		t.Fatalf("organizer: the public URL field holds %q, want %s%s", got, kaisai.URL(), publicPath)
	}
	org.waitFor("the QR code to load", `(() => { const i = document.querySelector("#public-qr"); return i && i.complete && i.naturalWidth > 0 ? "loaded" : ""; })()`)
	if org.eval(`String(document.querySelector("#copy-public-url").hidden)`) != "false" {
		t.Fatalf("organizer: 「コピー」 stays hidden with script on%s", org.page())
	}
	org.click("#copy-public-url")
	org.waitFor("the copy to be confirmed", `document.querySelector("#copy-status").textContent`)
	org.checkFits("the event page's public link at 390 px")
	shot(org, "public-link-390.png")

	participant.do("emulate a 390 px phone", phone)
	participant.open(publicPath, `^`+regexp.QuoteMeta(publicPath)+`$`)
	if got := participant.text("#organizer"); !strings.Contains(got, "かいさい勉強会") {
		t.Fatalf("participant: the organizer line reads %q", got)
	}
	if got := participant.attr("#contact a", "href"); got != "mailto:info@public-e2e.example" {
		t.Fatalf("participant: the contact links %q", got)
	}
	if got := participant.text("#public-price"); !strings.Contains(got, "3,000") || !strings.Contains(got, "税込") {
		t.Fatalf("participant: the price reads %q, want ¥3,000 (税込)", got)
	}
	if got := participant.texts("section.public-group h3"); len(got) != 2 {
		t.Fatalf("participant: group cards %q, want two", got)
	}
	participant.checkFits("the public page at 390 px")
	shot(participant, "public-page-390.png")
	participant.checkAxe("the public page at 390 px", axeJS)

	participant.click(`#apply-form input[name="schedule_id"][value="` + itoa(sc.ID) + `"]`)
	participant.fill(`#apply-form input[name="name"]`, "スマホ 花子")
	participant.fill(`#apply-form input[name="email"]`, "phone@public-e2e.example")
	// Without consent the browser does not send the form.
	if got := participant.eval(`String(document.querySelector("#apply-form").checkValidity())`); got != "false" {
		t.Fatalf("participant: the form is valid without consent")
	}
	if got := participant.attr("#terms-link", "href"); got != "https://public-e2e.example/terms" {
		t.Fatalf("participant: the terms link %q", got)
	}
	participant.click(`#apply-form input[name="consent"]`)

	participant.follow("review the application", "#apply-submit", `^/e/[^/]+/confirm$`)
	if got := participant.text("#confirm-name"); got != "スマホ 花子" {
		t.Fatalf("participant: the 確認画面 shows the name %q", got)
	}
	if got := participant.text("#confirm-schedule"); !strings.Contains(got, "オンライン参加") {
		t.Fatalf("participant: the 確認画面 shows the 日程 %q, want the online group's", got)
	}
	if got := participant.text("#confirm-next"); !strings.Contains(got, "お支払い") {
		t.Fatalf("participant: what happens next reads %q, want the payment", got)
	}
	participant.checkFits("the 確認画面 at 390 px")
	shot(participant, "apply-confirm-390.png")
	participant.checkAxe("the 確認画面 at 390 px", axeJS)

	// 「修正する」: the form again, everything as typed.
	participant.follow("edit the application", "#confirm-back", `^`+regexp.QuoteMeta(publicPath)+`$`)
	if got := participant.eval(`document.querySelector('#apply-form input[name="name"]').value`); got != "スマホ 花子" {
		t.Fatalf("participant: after 「修正する」 the name holds %q", got)
	}
	if got := participant.eval(`String(document.querySelector('#apply-form input[name="schedule_id"][value="` + itoa(sc.ID) + `"]').checked && document.querySelector('#apply-form input[name="consent"]').checked)`); got != "true" {
		t.Fatalf("participant: after 「修正する」 the 日程 or the consent is not kept")
	}
	participant.follow("review the application again", "#apply-submit", `^/e/[^/]+/confirm$`)
	participant.follow("apply", "#confirm-submit", `^/a/([^/]+)$`)
	if got := participant.text("#application-status"); got != "申込済" {
		t.Fatalf("participant: application status is %q, want 申込済", got)
	}
}

// shot saves the page's screenshot as file in $KAISAI_SCREENSHOTS, when set,
// for a person to look at.
func shot(b *tab, file string) {
	if dir := os.Getenv("KAISAI_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatal(err)
		}
		b.screenshot(filepath.Join(dir, file))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

package e2e

import (
	"context"
	"fmt"
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
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// screensTimeout bounds the whole screens test: a dozen pages, each
// checked with axe-core, at two widths, on a loaded 2-core machine.
const screensTimeout = 6 * time.Minute

// TestScreensFitAndPassAxe visits kaisai's main screens, as an organizer
// and as a participant, at 1280 px and on a 390 px phone: the page never
// scrolls sideways, every table heading and badge sits on one line, and
// axe-core finds no serious or critical accessibility violation. With
// KAISAI_SCREENSHOTS=/some/dir it saves each page's full-page screenshot
// there, for a person to look at.
func TestScreensFitAndPassAxe(t *testing.T) {
	chrome := findChrome(t)
	axeJS := findAxe(t)
	shots := screenshotsDir(t)
	kaisai := apptest.Start(t, testdb.SQLite(t))
	browserCtx := startBrowserWithin(t, chrome, screensTimeout)
	org := newTab(t, browserCtx, "organizer", kaisai.URL())
	participant := newTab(t, browserCtx, "participant", kaisai.URL())

	org.open("/signup", `^/signup$`)
	org.fill(`input[name="org_name"]`, "かいさい勉強会")
	org.fill(`input[name="name"]`, "主催 太郎")
	org.fill(`input[name="email"]`, "owner@screens-e2e.example")
	org.fill(`input[name="password"]`, "correct-horse-battery")
	org.follow("sign up", `form[action="/signup"] button[type="submit"]`, `^/events$`)
	w := screensWorld(t, kaisai.Store, "owner@screens-e2e.example")

	screens := []screen{
		{"events", org, "/events"},
		{"event-new", org, "/events/new"},
		{"mails", org, "/mails"},
		{"members", org, "/members"},
		{"integrations", org, "/integrations"},
		{"event", org, fmt.Sprintf("/events/%d", w.eventID)},
		{"applications", org, fmt.Sprintf("/events/%d/applications", w.eventID)},
		{"application-detail", org, fmt.Sprintf("/events/%d/applications/%d", w.eventID, w.applicationID)},
		{"payments", org, "/settings/payments"},
		{"billing", org, "/settings/billing"},
		{"public-event", participant, "/e/" + w.slug},
		{"application", participant, "/a/" + w.token},
		{"receipt", participant, "/a/" + w.token + "/receipt"},
		{"home", participant, "/"},
		{"login", participant, "/login"},
		{"signup", participant, "/signup"},
	}
	visitScreens(t, screens, axeJS, shots, func(b *tab, s screen, where string, phone bool) {
		if s.name != "applications" {
			return
		}
		// The list shows every badge the test asks about.
		got := b.texts("#applications .badge")
		for _, want := range []string{"入金済", "未入金", "キャンセル待ち"} {
			if !containsString(got, want) {
				t.Fatalf("%s: the list shows badges %q, want one reading %s", where, got, want)
			}
		}
		b.checkListLayout(where, phone)
	})

	// In English, where words are longer and plurals are spelled out.
	for _, b := range []struct {
		*tab
		path string
	}{{org, "/events"}, {participant, "/"}} {
		b.open(b.path, `^`+b.path+`$`)
		b.follow("switch to English", "#lang-switch", `^`+b.path+`$`)
		if got := b.text("#lang-switch"); got != "日本語" {
			t.Fatalf("%s: after switching, the language switch reads %q, want 日本語", b.who, got)
		}
	}
	var english []screen
	for _, s := range screens {
		switch s.name {
		case "events", "event", "applications", "application-detail", "public-event", "application":
			english = append(english, screen{s.name + "-en", s.who, s.path})
		}
	}
	visitScreens(t, english, axeJS, shots, nil)
}

// screen is a page to look at, as who sees it.
type screen struct {
	name string
	who  *tab
	path string
}

// screenshotsDir is $KAISAI_SCREENSHOTS, created, or "" when unset.
func screenshotsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KAISAI_SCREENSHOTS")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("KAISAI_SCREENSHOTS=%s: %v", dir, err)
		}
	}
	return dir
}

// visitScreens opens each screen at 1280 px and then on a 390 px phone and
// checks it fits (checkFits; on the phone checkCards too) and passes
// axe-core; more, when given, checks more of a screen. With shots set it
// saves each page's full-page screenshot there as <name>-<width>.png.
func visitScreens(t *testing.T, screens []screen, axeJS, shots string, more func(b *tab, s screen, where string, phone bool)) {
	t.Helper()
	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"1280", 1280, 900, false}, {"390", 390, 844, true}} {
		for _, s := range screens {
			b := s.who
			if size.mobile {
				b.do("emulate a 390 px phone", chromedp.EmulateViewport(size.width, size.height, chromedp.EmulateMobile, chromedp.EmulateTouch))
			} else {
				b.do("emulate a 1280 px screen", chromedp.EmulateViewport(size.width, size.height))
			}
			b.open(s.path, `^`+regexp.QuoteMeta(strings.SplitN(s.path, "?", 2)[0])+`$`)
			where := s.name + " at " + size.name + " px"
			if more != nil {
				more(b, s, where, size.mobile)
			}
			b.checkFits(where)
			if size.mobile {
				b.checkCards(where)
			}
			b.checkAxe(where, axeJS)
			if shots != "" {
				b.screenshot(filepath.Join(shots, s.name+"-"+size.name+".png"))
			}
		}
	}
}

// screens is what screensWorld set up.
type screens struct {
	eventID, applicationID int64
	slug, token            string
}

// screensWorld gives the organization of the member ownerEmail, through
// the store, a published ¥3,000 event with キャンセル待ち, a 会場 group with
// one 日程 of 25 seats, and 30 applications: 25 applied (10 of them
// 入金済), 5 waitlisted. It returns the event and one paid application.
func screensWorld(t *testing.T, st *store.Store, ownerEmail string) screens {
	t.Helper()
	ctx := context.Background()
	var orgID int64
	if err := st.WriteDB().QueryRowContext(ctx, `SELECT org_id FROM members WHERE email = $1`, ownerEmail).Scan(&orgID); err != nil {
		t.Fatalf("find the organization of %s: %v", ownerEmail, err)
	}
	e := event.Event{OrgID: orgID, Title: "Go言語で作るWebサービス入門 — 実践ハンズオン", Description: "ブラウザテストのイベントです。\n会場で手を動かします。",
		Fee: event.FeePaid, PriceJPY: 3000, PaymentDays: 3, TimeZone: "Asia/Tokyo", Status: event.StatusPublished, WaitlistEnabled: true}
	if _, err := st.CreateEvent(ctx, &e, ""); err != nil {
		t.Fatal(err)
	}
	g := event.ScheduleGroup{OrgID: orgID, EventID: e.ID, Venue: event.VenuePlace, Address: "東京都千代田区丸の内1-1-1 かいさいビル 8階 大会議室"}
	if _, err := st.CreateGroup(ctx, &g, ""); err != nil {
		t.Fatal(err)
	}
	start := time.Now().AddDate(0, 0, 14).Truncate(time.Hour)
	sc := event.Schedule{OrgID: orgID, EventID: e.ID, GroupID: g.ID, StartsAt: start, EndsAt: start.Add(2 * time.Hour), Capacity: 25}
	if _, err := st.CreateSchedule(ctx, &sc, ""); err != nil {
		t.Fatal(err)
	}
	w := screens{eventID: e.ID, slug: e.Slug}
	for i := range 30 {
		name := fmt.Sprintf("参加 花子%d", i+1)
		email := fmt.Sprintf("hanako%d@example.com", i+1)
		if i%7 == 3 { // some long names and addresses, as real lists have
			name = fmt.Sprintf("長谷川 英一郎右衛門%d", i+1)
			email = fmt.Sprintf("hasegawa.eiichiro.uemon.%d@very-long-company-name.example.co.jp", i+1)
		}
		res, err := st.Apply(ctx, &e, event.ApplicationInput{ScheduleID: sc.ID, Name: name, Email: email,
			SubmitKey: "screens-e2e-key-" + strconv.Itoa(i) + "-abcdefghijkl"})
		if err != nil {
			t.Fatal(err)
		}
		if i < 10 {
			if err := st.SetPayment(ctx, orgID, e.ID, res.Application.ID, 0, event.PaymentPaid); err != nil {
				t.Fatal(err)
			}
			if w.token == "" {
				w.token, w.applicationID = res.Application.Token, res.Application.ID
			}
		}
	}
	return w
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

// checkFits fails the test when the page scrolls sideways or a table
// heading or a badge breaks onto a second line.
func (b *tab) checkFits(where string) {
	b.t.Helper()
	width, _ := strconv.Atoi(b.eval(`String(document.scrollingElement.clientWidth)`))
	scroll, _ := strconv.Atoi(b.eval(`String(document.scrollingElement.scrollWidth)`))
	if scroll > width {
		// What sticks out: elements, and text running out of its box (a
		// long unbreakable word, such as a Stripe id).
		wide := b.eval(`(() => {
			const edge = document.scrollingElement.clientWidth + 0.5;
			const out = Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > edge)
				.slice(0, 5).map(e => e.tagName + "#" + e.id + "." + e.className);
			const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
			for (let n; (n = walk.nextNode()) && out.length < 8;) {
				const r = document.createRange();
				r.selectNodeContents(n);
				if (Array.from(r.getClientRects()).some(c => c.right > edge)) {
					out.push("text 「" + n.textContent.trim().slice(0, 40) + "」 in " + n.parentElement.tagName + "." + n.parentElement.className);
				}
			}
			return out.join(", ");
		})()`)
		b.t.Errorf("%s: %s: the page is %d px wide but scrolls to %d px; too wide: %s", b.who, where, width, scroll, wide)
	}
	// An element's lines: the distinct tops of its text's line boxes
	// (a Range's client rects), tops closer than half a line counted
	// as one line.
	broken := b.evalStrings(`(() => {
		const lines = el => {
			const r = document.createRange();
			r.selectNodeContents(el);
			const lh = parseFloat(getComputedStyle(el).fontSize) * 1.2;
			const tops = [];
			for (const c of r.getClientRects()) {
				if (c.width === 0 || c.height === 0) continue;
				if (!tops.some(t => Math.abs(t - c.top) < lh / 2)) tops.push(c.top);
			}
			return tops.length;
		};
		return Array.from(document.querySelectorAll("th, .badge"))
			.filter(el => el.getClientRects().length > 0 && el.innerText.trim() !== "" && lines(el) > 1)
			.map(el => el.tagName.toLowerCase() + " 「" + el.innerText.trim().replace(/\s+/g, "/") + "」 (" + lines(el) + " lines)");
	})()`)
	if len(broken) > 0 {
		b.t.Errorf("%s: %s: headings or badges break onto more lines: %s", b.who, where, strings.Join(broken, ", "))
	}
}

// checkCards fails the test when, on a phone, a list's row (a card) shows
// a value without its label: every cell but the card's title (name-cell),
// its actions and an empty state says what it is (data-label). A row that
// has its own heading (th) is labelled by it.
func (b *tab) checkCards(where string) {
	b.t.Helper()
	bare := b.evalStrings(`Array.from(document.querySelectorAll("table.list tbody tr:not(:has(th)) td:not(.name-cell):not(.actions):not(.actions-cell):not(.empty):not([data-label])"))
		.filter(td => td.getClientRects().length > 0 && td.innerText.trim() !== "")
		.slice(0, 5).map(td => "「" + td.innerText.trim().replace(/\s+/g, " ").slice(0, 30) + "」")`)
	if len(bare) > 0 {
		b.t.Errorf("%s: %s: list cells show a value without its label (data-label) on a phone: %s", b.who, where, strings.Join(bare, ", "))
	}
}

// checkAxe injects axe-core into the page, runs it, and fails the test
// for each serious or critical violation.
func (b *tab) checkAxe(where, axeJS string) {
	b.t.Helper()
	// axe-core checks a long list for seconds on a loaded machine.
	ctx, cancel := context.WithTimeout(b.ctx, 3*stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[*string](axeJS+"\n;undefined")); err != nil {
		b.t.Fatalf("%s: %s: inject axe-core: %v", b.who, where, err)
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v =>
			v.impact + " " + v.id + ": " + v.help + " — " + v.nodes.slice(0, 3).map(n => n.target.join(" ") + " (" + (n.failureSummary || "").replace(/\s+/g, " ") + ")").join("; ")))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %s: run axe-core: %v", b.who, where, err)
	}
	for _, v := range found {
		b.t.Errorf("%s: %s: axe-core: %s", b.who, where, v)
	}
}

// screenshot saves a full-page PNG of the tab's page to file.
func (b *tab) screenshot(file string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("%s: screenshot: %v", b.who, err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// findAxe reads axe-core's script from internal/e2e/axe/node_modules; when
// it is not installed the test skips, saying how to install it, except in
// CI (CI=true).
func findAxe(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("axe", "node_modules", "axe-core", "axe.min.js"))
	if err == nil {
		return string(src)
	}
	msg := fmt.Sprintf("the screens test needs axe-core (%v): install it with `cd internal/e2e/axe && npm ci`", err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: the browser test may not skip)")
	}
	t.Skip(msg)
	return ""
}

// checkListLayout checks the 申込者一覧's layout: on a phone each
// applicant is a card whose cells are labelled by their heading; on a
// wide screen the heading row stays in view while the list scrolls.
func (b *tab) checkListLayout(where string, phone bool) {
	b.t.Helper()
	if phone {
		got := b.eval(`(() => {
			const row = document.querySelector("#applications tr.application");
			const email = row.querySelector("td.email-cell");
			return getComputedStyle(row).display + " " + getComputedStyle(email, "::before").content;
		})()`)
		if got != `block "メールアドレス"` {
			b.t.Errorf("%s: %s: an applicant's row is laid out as %s, want a card (block) whose e-mail cell is labelled \"メールアドレス\"", b.who, where, got)
		}
		return
	}
	got := b.eval(`(() => {
		const box = document.querySelector("#applications .table-scroll");
		if (!box) return "the list does not scroll";
		box.scrollTop = 600;
		const th = box.querySelector("thead th");
		const off = Math.round(th.getBoundingClientRect().top - box.getBoundingClientRect().top);
		box.scrollTop = 0;
		return box.scrollHeight > box.clientHeight ? String(off) : "the list does not scroll";
	})()`)
	switch got {
	case "0":
	case "the list does not scroll":
		b.t.Errorf("%s: %s: the list of 30 does not scroll in its own box (.table-scroll), so its heading row cannot stay in view", b.who, where)
	default:
		b.t.Errorf("%s: %s: scrolled down the list, its heading row is %s px below the list's top, want 0 (sticky)", b.who, where, got)
	}
}

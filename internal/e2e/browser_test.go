package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kaisai/internal/app/apptest"
	"kaisai/internal/testdb"
)

// The whole browser test must finish within totalTimeout, one step within
// stepTimeout: a page that never loads fails the test instead of hanging it.
const (
	totalTimeout = 4 * time.Minute
	stepTimeout  = 45 * time.Second
)

// TestOrganizerPublishesParticipantApplies walks the core flow in a real
// browser: an organizer signs up, creates and publishes a free online event
// with one schedule; a participant, in a second browser context with its own
// cookies, applies on the public page and sees 申込済 and the online URL; the
// organizer then finds the participant on the applicants page.
func TestOrganizerPublishesParticipantApplies(t *testing.T) {
	chrome := findChrome(t)
	kaisai := apptest.Start(t, testdb.SQLite(t))

	browserCtx := startBrowser(t, chrome)

	org := newTab(t, browserCtx, "organizer", kaisai.URL())
	participant := newTab(t, browserCtx, "participant", kaisai.URL())

	const (
		title     = "Go入門セミナー"
		onlineURL = "https://meet.example.com/kaisai-e2e"
		applicant = "参加 花子"
		email     = "hanako@example.com"
	)
	day := time.Now().AddDate(0, 0, 30)
	// How kaisai shows the schedule in Japanese, in the event's time zone
	// (Asia/Tokyo, in which the organizer enters the times).
	wantDate := fmt.Sprintf("%d年%d月%d日", day.Year(), day.Month(), day.Day())

	// The organizer signs up.
	org.open("/signup", `^/signup$`)
	org.fill(`input[name="org_name"]`, "かいさい勉強会")
	org.fill(`input[name="name"]`, "主催 太郎")
	org.fill(`input[name="email"]`, "owner@example.com")
	org.fill(`input[name="password"]`, "correct-horse-battery")
	org.follow("sign up", `form[action="/signup"] button[type="submit"]`, `^/events$`)

	// … creates a free, published event,
	org.open("/events/new", `^/events/new$`)
	org.fill(`input[name="title"]`, title)
	org.fill(`textarea[name="description"]`, "ブラウザテストのイベントです。")
	org.click(`input[name="fee"][value="free"]`)
	org.click(`input[name="status"][value="published"]`)
	m := org.follow("create the event", `form[action="/events/new"] button[type="submit"]`, `^/events/(\d+)$`)
	eventPath := "/events/" + m[1]

	// … adds an online schedule group with a manual URL,
	org.follow("open the new group form", `a[href="`+eventPath+`/groups/new"]`, `^/events/\d+/groups/new$`)
	org.click(`input[name="venue"][value="url"]`)
	org.fill(`input[name="online_url"]`, onlineURL)
	org.follow("create the group", `form[action$="/groups/new"] button[type="submit"]`,
		`^/events/\d+/groups/\d+/schedules/new$`)

	// … and a schedule 30 days ahead. Date and time inputs are set through
	// their value: typing into them depends on the browser's locale.
	org.setValue(`input[name="date"]`, day.Format("2006-01-02"))
	org.setValue(`input[name="start_time"]`, "10:00")
	org.setValue(`input[name="end_time"]`, "12:00")
	org.setValue(`input[name="capacity"]`, "20")
	org.follow("create the schedule", `form[action$="/schedules/new"] button[type="submit"]`, `^`+eventPath+`$`)
	rows := org.texts(`section.group tbody tr`)
	if len(rows) != 1 || !strings.Contains(rows[0], wantDate) || !strings.Contains(rows[0], "10:00") ||
		!strings.Contains(rows[0], "12:00") {
		t.Fatalf("organizer: event page lists schedules %q, want one row with %s 10:00 – 12:00", rows, wantDate)
	}

	// The organizer opens the public page through the event page's link.
	m = org.follow("open the public page", "#public-link", `^/e/([^/]+)$`)
	publicPath := "/e/" + m[1]
	if h := org.text("h1"); h != title {
		t.Fatalf("organizer: public page heading is %q, want %q", h, title)
	}

	// The participant's browser context shares no cookies with the
	// organizer's: organizer pages send it to the login page.
	participant.open("/events", `^/login$`)

	// The participant applies on the public page.
	participant.open(publicPath, `^`+regexp.QuoteMeta(publicPath)+`$`)
	if h := participant.text("h1"); h != title {
		t.Fatalf("participant: public page heading is %q, want %q", h, title)
	}
	choices := participant.texts(`#apply-form label.choice`)
	if len(choices) != 1 || !strings.Contains(choices[0], wantDate) {
		t.Fatalf("participant: the form offers schedules %q, want one on %s", choices, wantDate)
	}
	participant.click(`#apply-form input[name="schedule_id"]`)
	participant.fill(`#apply-form input[name="name"]`, applicant)
	participant.fill(`#apply-form input[name="email"]`, email)
	// The form leads to the 確認画面; its 「申し込む」 applies.
	participant.follow("review the application", "#apply-submit", `^/e/[^/]+/confirm$`)
	if got := participant.text("#confirm-email"); got != email {
		t.Fatalf("participant: the 確認画面 shows the e-mail %q, want %s", got, email)
	}
	applied := participant.follow("apply", "#confirm-submit", `^/a/([^/]+)$`)

	if got := participant.text("#application-status"); got != "申込済" {
		t.Fatalf("participant: application status is %q, want 申込済", got)
	}
	if got := participant.text("#online-url"); !strings.Contains(got, onlineURL) {
		t.Fatalf("participant: online URL shows %q, want it to show %s (a free event's URL is shown at once)", got, onlineURL)
	}
	if got := participant.attr("#online-url a", "href"); got != onlineURL {
		t.Fatalf("participant: online URL links to %q, want %s", got, onlineURL)
	}
	if !participant.exists("#cancel-application") {
		t.Fatalf("participant: the application page has no cancel button")
	}
	// The join URL is a large button, the URL beside it to copy; the
	// message of the redirect is shown once, not again on a reload.
	if got := participant.text("#join-button"); got != "オンライン会場に参加する" {
		t.Fatalf("participant: the join button reads %q, want オンライン会場に参加する", got)
	}
	if h, _ := strconv.ParseFloat(participant.eval(`String(document.querySelector("#join-button").getBoundingClientRect().height)`), 64); h < 40 {
		t.Fatalf("participant: the join button is %.0f px high, want a large button (≥ 40 px)", h)
	}
	if got := participant.text(".flash"); !strings.Contains(got, "お申し込みを受け付けました") {
		t.Fatalf("participant: the application page says %q, want the 受付 message", got)
	}
	participant.open("/a/"+applied[1], `^/a/`+regexp.QuoteMeta(applied[1])+`$`)
	if participant.exists(".flash") {
		t.Fatalf("participant: the reloaded application page says %q again", participant.text(".flash"))
	}

	// Back in the organizer's browser context, the applicant is listed.
	org.open(eventPath+"/applications", `^`+eventPath+`/applications$`)
	emails := org.attrs("tr.application", "data-email")
	if !slices.Equal(emails, []string{email}) {
		t.Fatalf("organizer: applicants page lists %q, want exactly [%s]", emails, email)
	}
	row := org.text(`tr.application[data-email="` + email + `"]`)
	if !strings.Contains(row, applicant) || !strings.Contains(row, "申込済") {
		t.Fatalf("organizer: applicant row reads %q, want the name %s and status 申込済", row, applicant)
	}
}

// findChrome returns the Chromium to test with: $KAISAI_TEST_CHROME, else
// Debian's chromium or another Chrome on PATH. Without one the test skips,
// except in CI (CI=true), where nothing may skip.
func findChrome(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KAISAI_TEST_CHROME"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("KAISAI_TEST_CHROME=%s: %v", p, err)
		}
		return path
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	const msg = "browser test needs Chromium: install it with `apt-get install -y chromium` " +
		"or point KAISAI_TEST_CHROME at a Chrome binary"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: the browser test may not skip)")
	}
	t.Skip(msg)
	return ""
}

// allocatorOptions starts Chromium headless with a fresh profile, as root
// (no sandbox) and without reaching out to Google's services, which this
// machine's closed network refuses.
func allocatorOptions(chrome, userDataDir string, out *syncBuffer) []chromedp.ExecAllocatorOption {
	opts := slices.Clone(chromedp.DefaultExecAllocatorOptions[:]) // headless, no-first-run, disable-sync, disable-background-networking …
	return append(opts,
		chromedp.ExecPath(chrome),
		chromedp.UserDataDir(userDataDir),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.CombinedOutput(out),
	)
}

// tab is one person's browser tab. Its methods fail the test with what that
// person was doing and what the page showed.
type tab struct {
	t    *testing.T
	who  string
	base string
	ctx  context.Context
}

// newTab opens a tab in a new browser context, with its own cookies, of the
// browser in browserCtx.
func newTab(t *testing.T, browserCtx context.Context, who, base string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first Do opens the tab with no deadline of its own, so that a
	// step's timeout ends that step and not the tab.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open a tab in a new browser context: %v", who, err)
	}
	return &tab{t: t, who: who, base: base, ctx: ctx}
}

// open navigates to path and checks that the page loaded with 200 at a path
// matching wantPath (after redirects).
func (b *tab) open(path, wantPath string) []string {
	b.t.Helper()
	return b.openURL(b.base+path, wantPath)
}

// openURL is open for a page of another site (a simulator's).
func (b *tab) openURL(u, wantPath string) []string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.t.Fatalf("%s: open %s: %v%s", b.who, u, err, b.page())
	}
	return b.landed("open "+u, resp.Status, 200, resp.URL, wantPath)
}

// follow clicks the link or submit button sel, waits for the next page and
// checks it as open does. It returns wantPath's submatches.
func (b *tab) follow(what, sel, wantPath string) []string {
	b.t.Helper()
	return b.followStatus(what, sel, 200, wantPath)
}

// followStatus is follow for a page answered with another status than
// 200 (a form shown again with its error).
func (b *tab) followStatus(what, sel string, wantStatus int64, wantPath string) []string {
	b.t.Helper()
	b.mustExist(what, sel)
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("%s: %s (click %s): %v%s", b.who, what, sel, err, b.page())
	}
	return b.landed(what, resp.Status, wantStatus, resp.URL, wantPath)
}

func (b *tab) landed(what string, status, wantStatus int64, rawURL, wantPath string) []string {
	b.t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		b.t.Fatalf("%s: %s: bad URL %q: %v", b.who, what, rawURL, err)
	}
	m := regexp.MustCompile(wantPath).FindStringSubmatch(u.Path)
	if status != wantStatus || m == nil {
		b.t.Fatalf("%s: %s: got status %d at %s, want %d at a path matching %s%s",
			b.who, what, status, u.Path, wantStatus, wantPath, b.page())
	}
	return m
}

func (b *tab) fill(sel, value string) {
	b.t.Helper()
	b.mustExist("fill "+sel, sel)
	b.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), value))
	if got := b.eval(fmt.Sprintf(`document.querySelector(%s).value`, jsString(sel))); got != value {
		b.t.Fatalf("%s: typed %q into %s, but it holds %q", b.who, value, sel, got)
	}
}

func (b *tab) setValue(sel, value string) {
	b.t.Helper()
	b.mustExist("set "+sel, sel)
	b.do("set "+sel, chromedp.SetValue(chromedp.CSS(sel), value))
	if got := b.eval(fmt.Sprintf(`document.querySelector(%s).value`, jsString(sel))); got != value {
		b.t.Fatalf("%s: set %s to %q, but it holds %q (the browser rejected the value)", b.who, sel, value, got)
	}
}

func (b *tab) click(sel string) {
	b.t.Helper()
	b.mustExist("click "+sel, sel)
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %s: %v%s", b.who, what, err, b.page())
	}
}

// eval evaluates a JavaScript expression whose value is a string.
func (b *tab) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[*string](expr))
	if err != nil {
		b.t.Fatalf("%s: evaluate %s: %v", b.who, expr, err)
	}
	if v == nil {
		return ""
	}
	return *v
}

// exists reports whether the page has an element matching sel. Checking
// first, instead of letting chromedp wait for the element, makes a missing
// element fail at once with a clear message.
func (b *tab) exists(sel string) bool {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`document.querySelector(%s) ? "yes" : "no"`, jsString(sel))) == "yes"
}

func (b *tab) mustExist(what, sel string) {
	b.t.Helper()
	if !b.exists(sel) {
		b.t.Fatalf("%s: %s: the page has no %s%s", b.who, what, sel, b.page())
	}
}

// text is the visible text of the first element matching sel; a missing
// element fails the test.
func (b *tab) text(sel string) string {
	b.t.Helper()
	b.mustExist("read "+sel, sel)
	return strings.TrimSpace(b.eval(fmt.Sprintf(`document.querySelector(%s).innerText`, jsString(sel))))
}

func (b *tab) attr(sel, name string) string {
	b.t.Helper()
	b.mustExist("read "+sel, sel)
	return b.eval(fmt.Sprintf(`document.querySelector(%s).getAttribute(%s)`, jsString(sel), jsString(name)))
}

// texts is the visible text of every element matching sel.
func (b *tab) texts(sel string) []string {
	b.t.Helper()
	return b.evalStrings(fmt.Sprintf(`Array.from(document.querySelectorAll(%s), e => e.innerText.trim())`, jsString(sel)))
}

// attrs is attribute name of every element matching sel.
func (b *tab) attrs(sel, name string) []string {
	b.t.Helper()
	return b.evalStrings(fmt.Sprintf(`Array.from(document.querySelectorAll(%s), e => e.getAttribute(%s) ?? "")`,
		jsString(sel), jsString(name)))
}

func (b *tab) evalStrings(expr string) []string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](expr))
	if err != nil {
		b.t.Fatalf("%s: evaluate %s: %v", b.who, expr, err)
	}
	return v
}

// page describes the current page for a failure message: its URL, heading
// and any messages or field errors it shows.
func (b *tab) page() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[
		"URL: " + location.href,
		"heading: " + (document.querySelector("h1")?.innerText ?? "(none)"),
		"messages: " + (Array.from(document.querySelectorAll(".flash, .field-error, [role=alert], .err, .msg"), e => e.innerText.trim()).join(" / ") || "(none)"),
	].join("\n    ")`))
	if err != nil {
		return fmt.Sprintf("\n  (could not read the page: %v)", err)
	}
	return "\n  the page:\n    " + v
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// syncBuffer collects Chromium's output, written from another goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail returns the last n lines, leaving out the D-Bus errors that headless
// Chromium prints on a machine without a session bus.
func (b *syncBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var lines []string
	for line := range strings.Lines(b.buf.String()) {
		if !strings.Contains(line, "dbus/") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines[max(0, len(lines)-n):], "")
}

// startBrowser starts Chromium for one test, within totalTimeout, and stops
// it when the test ends; a failing test logs Chromium's last output.
func startBrowser(t *testing.T, chrome string) context.Context {
	t.Helper()
	return startBrowserWithin(t, chrome, totalTimeout)
}

// startBrowserWithin is startBrowser for a test that may take up to total.
func startBrowserWithin(t *testing.T, chrome string, total time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), total)
	t.Cleanup(cancel)
	var chromeOut syncBuffer
	t.Cleanup(func() {
		if out := chromeOut.tail(40); t.Failed() && out != "" {
			t.Logf("Chromium's output (last lines, without D-Bus noise):\n%s", out)
		}
	})
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, allocatorOptions(chrome, t.TempDir(), &chromeOut)...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start Chromium %s: %v", chrome, err)
	}
	return browserCtx
}

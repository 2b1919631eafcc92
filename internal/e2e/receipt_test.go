package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"kaisai/internal/app/apptest"
	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// TestReceiptPrintsAsPDF: kaisai's PDF of a 領収書 is the browser's print
// of the receipt page (receipt.css). A participant of a paid application
// issues the receipt in Chromium; the page printed to PDF, as 「PDFとして
// 保存」 does, is one A4 page whose text (pdftotext) has the 領収書, the
// 登録番号 and the 消費税額, and none of the page's navigation or buttons.
// On a phone (390 px) the page, with a long 宛名, does not scroll sideways.
func TestReceiptPrintsAsPDF(t *testing.T) {
	chrome := findChrome(t)
	pdftotext := findPoppler(t, "pdftotext")
	pdfinfo := findPoppler(t, "pdfinfo")
	needJapaneseFont(t)
	kaisai := apptest.Start(t, testdb.SQLite(t))
	token := paidApplication(t, kaisai.Store)

	browserCtx := startBrowser(t, chrome)
	p := newTab(t, browserCtx, "participant", kaisai.URL())
	receiptPath := "/a/" + token + "/receipt"

	p.open("/a/"+token, `^/a/[^/]+$`)
	p.follow("open the receipt", "#receipt-link", `^/a/[^/]+/receipt$`)
	if got := p.attr(`#issue-form input[name="addressee"]`, "value"); got != "上様" {
		t.Fatalf("participant: the 宛名 starts as %q, want 上様", got)
	}
	p.eval(`document.querySelector('#issue-form input[name="addressee"]').value = ""`)
	p.fill(`#issue-form input[name="addressee"]`, "株式会社テスト")
	p.follow("issue the receipt", "#issue-receipt", `^/a/[^/]+/receipt$`)
	for sel, want := range map[string]string{
		"#receipt-registration": "登録番号 T7000012050002",
		"#receipt-tax":          "10%対象 ¥3,000 (消費税 ¥272)",
		"#receipt-addressee":    "株式会社テスト 様",
	} {
		if got := p.text(sel); got != want {
			t.Fatalf("participant: %s reads %q, want %q%s", sel, got, want, p.page())
		}
	}
	if !p.exists("#print-receipt:not([hidden])") {
		t.Fatalf("participant: no 「印刷 / PDFで保存」 button is shown (receipt.js)%s", p.page())
	}

	// Printed to PDF as the browser's 「PDFとして保存」 does: the page's own
	// @page size (A4).
	pdf := p.printToPDF()
	file := filepath.Join(t.TempDir(), "receipt.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	info := run(t, pdfinfo, file)
	if !regexp.MustCompile(`(?m)^Pages:\s+1$`).MatchString(info) || !regexp.MustCompile(`(?m)^Page size:.*\(A4\)`).MatchString(info) {
		t.Fatalf("the receipt's PDF is not one A4 page; pdfinfo says:\n%s", info)
	}
	text := run(t, pdftotext, "-layout", file, "-")
	compact := strings.Join(strings.Fields(text), "")
	for _, want := range []string{"領収書", "T7000012050002", "消費税¥272", "¥3,000-", "株式会社テスト様", "株式会社かいさい"} {
		if !strings.Contains(compact, want) {
			t.Errorf("the receipt's PDF lacks %q; its text:\n%s", want, text)
		}
	}
	for _, unwanted := range []string{"印刷", "再発行する", "English", "お申し込み内容に戻る"} {
		if strings.Contains(compact, unwanted) {
			t.Errorf("the receipt's PDF shows %q, which the print stylesheet should hide; its text:\n%s", unwanted, text)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// On a phone, with the longest 宛名 (60 letters, no space to break
	// at, as a company's romanized name may be): re-issued, nothing wider
	// than the screen.
	p.do("emulate a 390 px phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	p.open(receiptPath, `^/a/[^/]+/receipt$`)
	long := strings.Repeat("KAISAI", 10)
	p.eval(`document.querySelector('#reissue-form input[name="addressee"]').value = ""`)
	p.fill(`#reissue-form input[name="addressee"]`, long)
	p.follow("re-issue the receipt", "#reissue-receipt", `^/a/[^/]+/receipt$`)
	if got := p.text("#receipt-reissued"); got != "再発行" {
		t.Fatalf("participant: the re-issued receipt says %q, want 再発行%s", got, p.page())
	}
	width, _ := strconv.Atoi(p.eval(`String(window.innerWidth)`))
	scroll, _ := strconv.Atoi(p.eval(`String(document.documentElement.scrollWidth)`))
	if width != 390 || scroll > width {
		wide := p.eval(`Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5).slice(0, 5).map(e => e.tagName + "#" + e.id + "." + e.className).join(", ")`)
		t.Fatalf("participant: on a 390 px phone the page is laid out %d px wide and scrolls to %d px (want no sideways scroll); too wide: %s",
			width, scroll, wide)
	}
}

// paidApplication sets up, through the store, an organization whose
// billing profile has 登録番号 T7000012050002, a published ¥3,000 event and
// an application to it marked 入金済 by hand; it returns the
// application's token.
func paidApplication(t *testing.T, st *store.Store) string {
	t.Helper()
	ctx := context.Background()
	org, _, err := st.CreateOrganization(ctx, event.SignupInput{OrgName: "領収書の会", Name: "主催 太郎",
		Email: "owner@receipt-e2e.example"}, "not-a-hash")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.WriteDB().ExecContext(ctx, `UPDATE organizations SET billing_name = $1, billing_address = $2,
		billing_registration = $3 WHERE id = $4`, "株式会社かいさい", "東京都千代田区丸の内1-1", "T7000012050002", org.ID); err != nil {
		t.Fatal(err)
	}
	e := event.Event{OrgID: org.ID, Title: "有料セミナー", Fee: event.FeePaid, PriceJPY: 3000, PaymentDays: 3,
		TimeZone: "Asia/Tokyo", Status: event.StatusPublished}
	if _, err := st.CreateEvent(ctx, &e, ""); err != nil {
		t.Fatal(err)
	}
	g := event.ScheduleGroup{OrgID: org.ID, EventID: e.ID, Venue: event.VenuePlace, Address: "東京都港区1-1"}
	if _, err := st.CreateGroup(ctx, &g, ""); err != nil {
		t.Fatal(err)
	}
	start := time.Now().AddDate(0, 0, 14).Truncate(time.Hour)
	sc := event.Schedule{OrgID: org.ID, EventID: e.ID, GroupID: g.ID, StartsAt: start, EndsAt: start.Add(2 * time.Hour), Capacity: 10}
	if _, err := st.CreateSchedule(ctx, &sc, ""); err != nil {
		t.Fatal(err)
	}
	res, err := st.Apply(ctx, &e, event.ApplicationInput{ScheduleID: sc.ID, Name: "領収 花子", Email: "hanako@example.com",
		SubmitKey: "receipt-e2e-key-abcdefghijkl"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetPayment(ctx, org.ID, e.ID, res.Application.ID, 0, event.PaymentPaid); err != nil {
		t.Fatal(err)
	}
	return res.Application.Token
}

// printToPDF prints the tab's page as the browser's 「PDFとして保存」
// does, with the page's own @page size.
func (b *tab) printToPDF() []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	yes := true
	pdf, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		res, err := cdp.Call(ctx, t, page.PrintToPDF, page.PrintToPDFParams{PreferCSSPageSize: &yes, PrintBackground: &yes})
		return res.Data, err
	})
	if err != nil {
		b.t.Fatalf("%s: print the page to PDF: %v%s", b.who, err, b.page())
	}
	return pdf
}

// findPoppler finds one of poppler-utils' commands; without it the test
// skips, saying how to install it, except in CI (CI=true).
func findPoppler(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := "the receipt's PDF test needs " + name + ": install it with `apt-get install -y poppler-utils`"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: the browser test may not skip)")
	}
	t.Skip(msg)
	return ""
}

// needJapaneseFont checks that Chromium has a Japanese font to print
// with: without one the PDF holds no Japanese text to find.
func needJapaneseFont(t *testing.T) {
	t.Helper()
	out, err := exec.Command("fc-list", ":lang=ja", "family").Output()
	if err == nil && strings.TrimSpace(string(out)) != "" {
		return
	}
	msg := "the receipt's PDF test needs a Japanese font: install one with `apt-get install -y fonts-ipafont-gothic`"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: the browser test may not skip)")
	}
	t.Skip(msg)
}

// run runs a command and returns its output; a failure fails the test.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

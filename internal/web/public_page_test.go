package web_test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"

	"kaisai/internal/testdb"
)

// The public page people trust (issue 19, part 4): who holds the event and
// how to reach them, the price 税込 and how it is paid, the 日程 by group,
// consent to the organizer's terms, a 確認画面 before applying, and the
// organizer's copyable URL and QR code.

// editEvent posts the event form of eventID with spec's values and extra.
func (c *client) editEvent(eventID int64, spec eventSpec, extra url.Values) *resp {
	c.t.Helper()
	f := spec.form()
	for k, v := range extra {
		f[k] = v
	}
	return c.post(fmt.Sprintf("/events/%d/edit", eventID), f)
}

// TestPublicPageShowsOrganizerContactAndPayment: the organization's name,
// the event's お問い合わせ先, the price 税込, the payment methods the
// organization takes online (or that the organizer will say how), and each
// group a card with its venue and its 日程's seats.
func TestPublicPageShowsOrganizerContactAndPayment(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startStripeWorld(t, db, true)
		owner := newClient(t, w.app)
		owner.signup("セミナー企画室", "owner@seminar.example")
		spec := eventSpec{Title: "有料セミナー", Paid: true, Price: 3000}
		eventID := owner.createEvent(spec)
		// A contact that is neither an address nor a URL is refused, and
		// what was typed stays.
		r := owner.editEvent(eventID, spec, url.Values{"contact": {"電話でどうぞ"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.contact"))
		if got := r.doc(t).First(`input[name="contact"]`).Attr("value"); got != "電話でどうぞ" {
			t.Errorf("the refused contact is not kept: %q", got)
		}
		wantRedirect(t, owner.editEvent(eventID, spec, url.Values{"contact": {" info@seminar.example "}}),
			fmt.Sprintf("/events/%d", eventID))
		hall := owner.addGroup(eventID, url.Values{"venue": {"place"}, "address": {"東京都千代田区1-1 会議室A"}, "name": {"東京会場"}})
		owner.addSchedule(eventID, hall, 10)
		online := owner.addGroup(eventID, urlGroup("https://meet.example.com/x"))
		onlineSchedule := owner.addSchedule(eventID, online, 5)
		public := owner.publicPath(eventID)

		participant := newClient(t, w.app)
		r = participant.get(public)
		wantStatus(t, r, http.StatusOK)
		doc := r.doc(t)
		if got := doc.First("#organizer").Text(); !strings.Contains(got, "セミナー企画室") {
			t.Errorf("organizer line %q, want the organization's name", got)
		}
		if got := doc.First(`#contact a`).Attr("href"); got != "mailto:info@seminar.example" {
			t.Errorf("contact links %q, want mailto:info@seminar.example", got)
		}
		if got := doc.First("#public-price").Text(); !strings.Contains(got, "3,000") || !strings.Contains(got, ja("public.tax_included")) {
			t.Errorf("price %q, want ¥3,000 with 税込", got)
		}
		// No Stripe account yet: the organizer says how to pay.
		if got := doc.First("#pay-methods").Text(); got != ja("public.pay_by_organizer") {
			t.Errorf("payment methods without Stripe: %q", got)
		}
		cards := doc.Find("section.public-group")
		if len(cards) != 2 {
			t.Fatalf("%d group cards, want 2: %s", len(cards), r)
		}
		if got := cards[0].Text(); !strings.Contains(got, "東京会場") || !strings.Contains(got, "東京都千代田区1-1 会議室A") ||
			!strings.Contains(got, ja("public.seats_left_n", 10)) {
			t.Errorf("the hall's card: %q", got)
		}
		if got := seatsLeft(t, r, onlineSchedule); got != ja("public.seats_left_n", 5) {
			t.Errorf("the online 日程's seats: %q", got)
		}
		if len(doc.Find(`#apply-form .choice-group`)) != 2 {
			t.Errorf("the form's 日程 are not grouped by group: %s", r)
		}

		// Stripe connected, カード and コンビニ enabled: those are shown.
		wantRedirect(t, owner.post("/settings/payments/connect-test", url.Values{}), "/settings/payments")
		conn := w.connID(t, owner)
		wantRedirect(t, owner.post("/settings/payments/"+conn+"/methods", url.Values{"method": {"card", "konbini"}}),
			"/settings/payments")
		r = participant.get(public)
		var methods []string
		for _, li := range r.doc(t).Find("#pay-methods li") {
			methods = append(methods, li.Attr("data-method")+"="+li.Text())
		}
		if want := []string{"card=" + ja("payment.method.card"), "konbini=" + ja("payment.method.konbini")}; !slices.Equal(methods, want) {
			t.Errorf("payment methods %q, want %q", methods, want)
		}
		// A URL contact links the URL; a free event says 無料 and no methods.
		free := eventSpec{Title: "無料セミナー"}
		freeID := owner.createEvent(free)
		wantRedirect(t, owner.editEvent(freeID, free, url.Values{"contact": {"https://seminar.example/contact"}}),
			fmt.Sprintf("/events/%d", freeID))
		owner.addSchedule(freeID, owner.addGroup(freeID, urlGroup("https://meet.example.com/y")), 3)
		r = participant.get(owner.publicPath(freeID))
		doc = r.doc(t)
		if got := doc.First(`#contact a`).Attr("href"); got != "https://seminar.example/contact" {
			t.Errorf("URL contact links %q", got)
		}
		if doc.Has("#pay-methods") || doc.First("#public-price").Text() != ja("fee.free") {
			t.Errorf("a free event's price and methods: %s", r)
		}
	})
}

// confirmValues are the values the 確認画面's form posts.
func confirmValues(t testing.TB, r *resp) url.Values {
	t.Helper()
	v := url.Values{}
	for _, in := range r.doc(t).Find(`form#confirm-form input[type="hidden"]`) {
		v.Add(in.Attr("name"), in.Attr("value"))
	}
	if len(v) == 0 {
		t.Fatalf("no 確認画面 form: %s", r)
	}
	return v
}

// TestConfirmPageBeforeApplying: the form leads to a 確認画面 that applies
// nothing; 「修正する」 gives the form back filled in; 「申し込む」 applies,
// once however often it is sent; errors are shown on the form.
func TestConfirmPageBeforeApplying(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("確認主催", "owner@confirm.example")
		eventID := owner.createEvent(eventSpec{Title: "確認つきイベント", Waitlist: true})
		group := owner.addGroup(eventID, placeGroup("大阪市北区2-2"))
		scheduleID := owner.addSchedule(eventID, group, 1)
		public := owner.publicPath(eventID)

		participant := newClient(t, a)
		r := participant.get(public)
		if got := r.doc(t).First("form#apply-form").Attr("action"); got != public+"/confirm" {
			t.Fatalf("the form posts to %q, want %s/confirm", got, public)
		}
		key := participant.applyForm(public)
		form := applyValues(scheduleID, "確認 花子", "hanako@confirm.example", key)

		// An error is shown on the form, with what was typed.
		bad := applyValues(scheduleID, "確認 花子", "hanako@", key)
		r = participant.post(public+"/confirm", bad)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("validation.email"))
		if doc := r.doc(t); doc.Has("#confirm-form") || doc.First(`input[name="name"]`).Attr("value") != "確認 花子" ||
			doc.First(`input[name="email"]`).Attr("value") != "hanako@" {
			t.Fatalf("a bad e-mail: want the form again, filled in: %s", r)
		}

		r = participant.post(public+"/confirm", form)
		wantStatus(t, r, http.StatusOK)
		doc := r.doc(t)
		if got := doc.First("#confirm-name").Text(); got != "確認 花子" {
			t.Errorf("confirm name %q", got)
		}
		if got := doc.First("#confirm-email").Text(); got != "hanako@confirm.example" {
			t.Errorf("confirm e-mail %q", got)
		}
		if got := doc.First("#confirm-schedule").Text(); !strings.Contains(got, "13:00 – 15:00") || !strings.Contains(got, "大阪市北区2-2") {
			t.Errorf("confirm 日程 %q", got)
		}
		if got := doc.First("#public-price").Text(); got != ja("fee.free") {
			t.Errorf("confirm price %q", got)
		}
		if got := doc.First("#confirm-next").Text(); !strings.Contains(got, ja("confirm.next_free")) {
			t.Errorf("what happens next: %q", got)
		}
		if doc.Has("#confirm-waitlist") {
			t.Errorf("a 日程 with a seat is shown as waitlisted")
		}
		if rows := owner.applications(eventID); len(rows) != 0 {
			t.Fatalf("the 確認画面 applied: %+v", rows)
		}
		sent := confirmValues(t, r)
		if sent.Get("submit_key") != key || sent.Get("name") != "確認 花子" || sent.Get("schedule_id") != itoa(scheduleID) {
			t.Fatalf("the 確認画面 sends %v", sent)
		}
		back := doc.First("#confirm-back").Attr("formaction")
		if back != public+"#apply" {
			t.Fatalf("「修正する」 posts to %q, want %s#apply", back, public)
		}

		// 「修正する」: the form again, everything filled in, the same key.
		r = participant.post(public, sent)
		wantStatus(t, r, http.StatusOK)
		doc = r.doc(t)
		if doc.First(`#apply-form input[name="name"]`).Attr("value") != "確認 花子" ||
			doc.First(`#apply-form input[name="email"]`).Attr("value") != "hanako@confirm.example" ||
			!doc.Has(fmt.Sprintf(`#apply-form input[name="schedule_id"][value="%d"][checked]`, scheduleID)) ||
			submitKey(t, r) != key {
			t.Fatalf("「修正する」 does not give the form back filled in: %s", r)
		}

		// 「申し込む」 applies; sent twice, one application.
		r = participant.post(public+"/apply", sent)
		token := tokenOf(t, r)
		if again := tokenOf(t, participant.post(public+"/apply", sent)); again != token {
			t.Errorf("a double 「申し込む」 made another application: %s, %s", token, again)
		}
		if rows := owner.applications(eventID); len(rows) != 1 {
			t.Fatalf("applications after 「申し込む」: %+v", rows)
		}

		// The one seat taken: the next one's 確認画面 says キャンセル待ち.
		other := newClient(t, a)
		r = other.post(public+"/confirm", applyValues(scheduleID, "待ち 次郎", "jiro@confirm.example", other.applyForm(public)))
		wantStatus(t, r, http.StatusOK)
		if doc := r.doc(t); !doc.Has("#confirm-waitlist") || !strings.Contains(doc.First("#confirm-next").Text(), ja("confirm.next_waitlist")) {
			t.Errorf("a full 日程 with キャンセル待ち: %s", r)
		}
		// Without a waitlist a full 日程 is refused on the form.
		noWait := owner.createEvent(eventSpec{Title: "待ちなし"})
		full := owner.addSchedule(noWait, owner.addGroup(noWait, placeGroup("名古屋")), 1)
		noWaitPublic := owner.publicPath(noWait)
		participant.apply(noWaitPublic, full, "先着", "first@confirm.example")
		// (The page offers no form now: a form opened before it filled.)
		r = other.post(noWaitPublic+"/confirm", applyValues(full, "遅れ", "late@confirm.example", "opened-before-it-filled"))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, ja("apply.full"))
		if r.doc(t).Has("#confirm-form") {
			t.Errorf("a full 日程 reached the 確認画面: %s", r)
		}
	})
}

// TestConsentToTerms: with a 利用規約 and/or プライバシーポリシー set, the
// form asks for consent, linking only the documents set; applying without
// it is refused (ja and en), nothing typed lost; without either no box.
func TestConsentToTerms(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("規約主催", "owner@terms.example")
		spec := eventSpec{Title: "規約つきイベント"}
		eventID := owner.createEvent(spec)
		scheduleID := owner.addSchedule(eventID, owner.addGroup(eventID, urlGroup("https://meet.example.com/t")), 10)
		public := owner.publicPath(eventID)
		participant := newClient(t, a)

		// No documents: no box, applying needs no consent.
		if r := participant.get(public); r.doc(t).Has(`input[name="consent"]`) {
			t.Fatalf("a consent box without terms: %s", r)
		}

		// URLs are checked, what was typed kept.
		r := owner.editEvent(eventID, spec, url.Values{"terms_url": {"terms.example/kiyaku"}, "privacy_url": {"javascript:alert(1)"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if doc := r.doc(t); len(doc.Find(".field-error")) < 2 || doc.First(`input[name="terms_url"]`).Attr("value") != "terms.example/kiyaku" {
			t.Fatalf("bad terms URLs: %s", r)
		}
		wantText(t, r, ja("validation.url"))
		wantRedirect(t, owner.editEvent(eventID, spec, url.Values{"terms_url": {"https://terms.example/kiyaku"},
			"privacy_url": {"https://terms.example/privacy"}}), fmt.Sprintf("/events/%d", eventID))
		if r := owner.get(fmt.Sprintf("/events/%d/edit", eventID)); r.doc(t).First(`input[name="privacy_url"]`).Attr("value") != "https://terms.example/privacy" {
			t.Fatalf("the privacy URL is not kept: %s", r)
		}

		r = participant.get(public)
		doc := r.doc(t)
		if !doc.Has(`#apply-form input[type="checkbox"][name="consent"][required]`) ||
			doc.First("#terms-link").Attr("href") != "https://terms.example/kiyaku" ||
			doc.First("#privacy-link").Attr("href") != "https://terms.example/privacy" {
			t.Fatalf("the consent box and its links: %s", r)
		}
		wantText(t, r, "利用規約とプライバシーポリシーに同意する")

		// Without consent: refused at the 確認画面 and at 「申し込む」.
		form := applyValues(scheduleID, "規約 読太", "yomuta@terms.example", participant.applyForm(public))
		for _, step := range []string{"/confirm", "/apply"} {
			r = participant.post(public+step, form)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantText(t, r, ja("validation.consent"))
			if doc := r.doc(t); doc.First(`input[name="name"]`).Attr("value") != "規約 読太" ||
				doc.First(`input[name="email"]`).Attr("value") != "yomuta@terms.example" || doc.Has("#confirm-form") {
				t.Fatalf("%s without consent: want the form again, filled in: %s", step, r)
			}
		}
		if rows := owner.applications(eventID); len(rows) != 0 {
			t.Fatalf("applied without consent: %+v", rows)
		}
		english := newClient(t, a)
		english.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		r = english.post(public+"/confirm", applyValues(scheduleID, "Reader", "reader@terms.example", english.applyForm(public)))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantText(t, r, en("validation.consent"))

		// With consent: the 確認画面 carries it, 「申し込む」 applies.
		form.Set("consent", "1")
		r = participant.post(public+"/confirm", form)
		wantStatus(t, r, http.StatusOK)
		sent := confirmValues(t, r)
		if sent.Get("consent") != "1" {
			t.Fatalf("the 確認画面 drops the consent: %v", sent)
		}
		tokenOf(t, participant.post(public+"/apply", sent))

		// Only a privacy policy: the box names and links it alone.
		wantRedirect(t, owner.editEvent(eventID, spec, url.Values{"privacy_url": {"https://terms.example/privacy"}}),
			fmt.Sprintf("/events/%d", eventID))
		r = participant.get(public)
		doc = r.doc(t)
		if doc.Has("#terms-link") || !doc.Has("#privacy-link") ||
			!strings.Contains(doc.First("#consent label").Text(), ja("public.consent_privacy")) {
			t.Fatalf("only a privacy policy: %s", r)
		}
	})
}

// svgQR reads the modules of kaisai's QR SVG: one unit square per module,
// drawn as runs "M x y h n v1 h-n z".
func svgQR(t *testing.T, body string) [][]bool {
	t.Helper()
	var svg struct {
		XMLName xml.Name `xml:"svg"`
		ViewBox string   `xml:"viewBox,attr"`
		Title   string   `xml:"title"`
		Paths   []struct {
			D string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal([]byte(body), &svg); err != nil {
		t.Fatalf("not an SVG: %v\n%s", err, body)
	}
	var n int
	if _, err := fmt.Sscanf(svg.ViewBox, "0 0 %d %d", &n, &n); err != nil || len(svg.Paths) != 1 {
		t.Fatalf("unexpected SVG shape: viewBox %q, %d paths", svg.ViewBox, len(svg.Paths))
	}
	grid := make([][]bool, n)
	for i := range grid {
		grid[i] = make([]bool, n)
	}
	run := regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
	d := svg.Paths[0].D
	if rest := run.ReplaceAllString(d, ""); rest != "" {
		t.Fatalf("unexpected path data %q", rest)
	}
	for _, m := range run.FindAllStringSubmatch(d, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		for i := range w {
			grid[y][x+i] = true
		}
	}
	return grid
}

// formatInfo reads a QR symbol's format information next to its top-left
// finder (ISO/IEC 18004 §7.9) and checks its BCH code: the error
// correction level's two bits, or -1 when it is not a valid code.
func formatInfo(grid [][]bool, quiet int) int {
	at := func(x, y int) int {
		if grid[quiet+y][quiet+x] {
			return 1
		}
		return 0
	}
	// Bits 14..0: row 8 columns 0-5, 7, 8, then column 8 rows 7, 5..0.
	var bits int
	for _, p := range [][2]int{{0, 8}, {1, 8}, {2, 8}, {3, 8}, {4, 8}, {5, 8}, {7, 8}, {8, 8}, {8, 7}, {8, 5}, {8, 4}, {8, 3}, {8, 2}, {8, 1}, {8, 0}} {
		bits = bits<<1 | at(p[0], p[1])
	}
	bits ^= 0x5412
	// The 10 BCH bits are the remainder of the 5 data bits times x^10.
	rem := bits >> 10 << 10
	for i := 14; i >= 10; i-- {
		if rem&(1<<i) != 0 {
			rem ^= 0x537 << (i - 10)
		}
	}
	if rem != bits&0x3ff {
		return -1
	}
	return bits >> 13
}

// TestPublicLinkAndQRCode: a published event's page shows its full public
// URL to copy, a QR code of exactly that URL and a page to print; a draft
// has none, and another organization gets 404.
func TestPublicLinkAndQRCode(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		owner := newClient(t, a)
		owner.signup("QR主催", "owner@qr.example")
		eventID := owner.createEvent(eventSpec{Title: "QRイベント"})
		public := owner.publicPath(eventID)

		r := owner.get(fmt.Sprintf("/events/%d", eventID))
		doc := r.doc(t)
		input := doc.First("#public-share input#public-url")
		full := input.Attr("value")
		if _, ro := input.LookupAttr("readonly"); !ro || full != a.URL()+public {
			t.Fatalf("the public URL field: %q (readonly %v), want %s%s", full, ro, a.URL(), public)
		}
		if !doc.Has(`button#copy-public-url[data-copy="#public-url"]`) {
			t.Errorf("no 「コピー」 button: %s", r)
		}
		qrPath := doc.First("img#public-qr").Attr("src")
		if qrPath != fmt.Sprintf("/events/%d/qr.svg", eventID) {
			t.Fatalf("QR image at %q", qrPath)
		}
		poster := doc.First("#public-poster-link").Attr("href")
		r = owner.get(poster)
		wantStatus(t, r, http.StatusOK)
		if got := r.doc(t).First(".qr-poster-url").Text(); got != full {
			t.Errorf("the print page's URL %q, want %q", got, full)
		}

		r = owner.get(qrPath)
		wantStatus(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "image/svg+xml" {
			t.Fatalf("QR Content-Type %q", ct)
		}
		grid := svgQR(t, r.Body)
		const quiet = 4
		size := len(grid) - 2*quiet
		if size < 21 || (size-21)%4 != 0 {
			t.Fatalf("a %d-module symbol is no QR code", size)
		}
		// The three finder patterns: 7×7 dark ring, light ring, 3×3 core.
		for _, o := range [][2]int{{0, 0}, {size - 7, 0}, {0, size - 7}} {
			for y := range 7 {
				for x := range 7 {
					ring := max(abs(x-3), abs(y-3))
					if want := ring != 2; grid[quiet+o[1]+y][quiet+o[0]+x] != want {
						t.Fatalf("finder pattern at %v broken at (%d,%d)", o, x, y)
					}
				}
			}
		}
		// Valid format information, error correction M (bits 00).
		if lvl := formatInfo(grid, quiet); lvl != 0 {
			t.Errorf("format information: level bits %d, want 0 (M)", lvl)
		}
		// And module for module the code of the public URL.
		want, err := qrcode.New(full, qrcode.Medium)
		if err != nil {
			t.Fatal(err)
		}
		if wb := want.Bitmap(); !slices.EqualFunc(wb, grid, slices.Equal[[]bool]) {
			t.Errorf("the QR code is not the public URL's")
		}
		if !strings.Contains(r.Body, "<title>"+full+"</title>") {
			t.Errorf("the SVG's title is not the URL: %.300s", r.Body)
		}

		// Another organization: 404. A draft: no link, no QR code.
		stranger := newClient(t, a)
		stranger.signup("他社", "owner@other.example")
		wantStatus(t, stranger.get(qrPath), http.StatusNotFound)
		draft := owner.createEvent(eventSpec{Title: "下書き", Draft: true})
		if r := owner.get(fmt.Sprintf("/events/%d", draft)); r.doc(t).Has("#public-share") {
			t.Errorf("a draft shows its public link: %s", r)
		}
		wantStatus(t, owner.get(fmt.Sprintf("/events/%d/qr.svg", draft)), http.StatusNotFound)
		wantStatus(t, owner.get(fmt.Sprintf("/events/%d/poster", draft)), http.StatusNotFound)
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

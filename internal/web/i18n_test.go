package web_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"kaisai/internal/event"
	"kaisai/internal/i18n"
	"kaisai/internal/payment"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

// TestLanguageSwitch: pages are Japanese by default; POST /lang switches to
// English with a cookie, for public and organizer pages and their messages.
func TestLanguageSwitch(t *testing.T) {
	t.Parallel()
	a := startKaisai(t, testdb.SQLite(t))
	c := newClient(t, a)

	r := c.get("/")
	wantStatus(t, r, http.StatusOK)
	if r.doc(t).First("html").Attr("lang") != "ja" {
		t.Fatalf("the default page is not marked Japanese: %s", r)
	}
	wantText(t, r, ja("home.headline"), ja("home.signup"))
	// The switch offers English and comes back to this page.
	r = c.get("/login")
	if doc := r.doc(t); !doc.Has(`[name="next"][value="/login"]`) || !doc.Has(`[name="lang"][value="en"]`) {
		t.Fatalf("the language switch on /login does not offer English and come back: %s", r)
	}

	r = c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
	if r.Status != http.StatusSeeOther || r.Location() != "/" {
		t.Fatalf("POST /lang: %s", r)
	}
	if c.cookie("kaisai_lang") != "en" {
		t.Fatalf("POST /lang set no kaisai_lang=en cookie (Set-Cookie %q)", r.Header.Values("Set-Cookie"))
	}
	r = c.get("/")
	if r.doc(t).First("html").Attr("lang") != "en" {
		t.Fatalf("after switching, the page is not marked English: %s", r)
	}
	wantText(t, r, en("home.headline"), en("home.signup"))
	wantNoText(t, r, ja("home.headline"))

	// Messages too: a failed login, a missing page, a form error.
	r = c.login("nobody@example.com", "wrong-password")
	wantStatus(t, r, http.StatusUnauthorized)
	wantText(t, r, en("login.failed"))
	r = c.get("/no/such/page")
	wantStatus(t, r, http.StatusNotFound)
	wantText(t, r, en("error.not_found"))

	c.signup("English Org", "english@example.com")
	r = c.get("/events")
	wantText(t, r, en("events.title"), en("events.empty"), en("nav.logout"))
	r = c.post("/events/new", url.Values{"title": {""}, "fee": {"free"}, "time_zone": {"Asia/Tokyo"}, "status": {"draft"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantText(t, r, en("validation.required"))
	wantNoText(t, r, ja("validation.required"))

	// next stays on this site.
	r = c.post("/lang", url.Values{"lang": {"en"}, "next": {"//evil.example/"}})
	if r.Location() != "/" {
		t.Errorf("POST /lang with an off-site next went to %q", r.Location())
	}
	r = c.post("/lang", url.Values{"lang": {"en"}, "next": {"/events?x=1"}})
	if r.Location() != "/events?x=1" {
		t.Errorf("POST /lang lost next: went to %q", r.Location())
	}

	// Back to Japanese; an unknown language is Japanese.
	wantRedirect(t, c.post("/lang", url.Values{"lang": {"ja"}, "next": {"/events"}}), "/events")
	wantText(t, c.get("/events"), ja("events.empty"))
	c.post("/lang", url.Values{"lang": {"fr"}, "next": {"/"}})
	wantText(t, c.get("/events"), ja("events.empty"))
}

// TestCatalogsMatch: the Japanese and English catalogs have the same keys,
// each with the same placeholders, and the English one is not left in
// Japanese.
func TestCatalogsMatch(t *testing.T) {
	jaKeys, enKeys := catalog.Keys(i18n.Japanese), catalog.Keys(i18n.English)
	if len(jaKeys) < 50 {
		t.Fatalf("only %d Japanese messages: is the catalog loaded?", len(jaKeys))
	}
	for _, k := range jaKeys {
		if !catalog.Has(i18n.English, k) {
			t.Errorf("%q is in messages.ja.json but not messages.en.json", k)
		}
	}
	for _, k := range enKeys {
		if !catalog.Has(i18n.Japanese, k) {
			t.Errorf("%q is in messages.en.json but not messages.ja.json", k)
		}
	}
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	for _, k := range jaKeys {
		jaForms := catalog.Forms(i18n.Japanese, k)
		if len(jaForms) != 1 {
			t.Errorf("%q has plural forms in Japanese, which does not inflect", k)
		}
		jv := verbs.FindAllString(rawMessage(t, i18n.Japanese, k), -1)
		// Each English form (a plural's one and other) takes the same
		// arguments as the Japanese text.
		for _, en := range catalog.Forms(i18n.English, k) {
			ev := verbs.FindAllString(en, -1)
			if !slices.Equal(jv, ev) {
				t.Errorf("%q: placeholders %v in Japanese but %v in English %q", k, jv, ev, en)
			}
			if strings.TrimSpace(en) == "" {
				t.Errorf("%q has an empty English text", k)
			}
			// The switch to Japanese is rightly in Japanese.
			if k != "nav.switch_lang" && strings.ContainsFunc(en, func(r rune) bool {
				return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
			}) {
				t.Errorf("%q: the English text is in Japanese", k)
			}
			// Counted words are inflected, not written "seat(s)".
			if strings.Contains(en, "(s)") {
				t.Errorf("%q: %q writes a plural as (s): give it one and other forms", k, en)
			}
		}
		if strings.TrimSpace(rawMessage(t, i18n.Japanese, k)) == "" {
			t.Errorf("%q has an empty text", k)
		}
	}
}

// rawMessage is a message's text with its verbs unfilled.
func rawMessage(t *testing.T, l i18n.Lang, key string) string {
	t.Helper()
	return catalog.T(l, key)
}

// dynamicKeys are the message families templates build with print, and
// every value the domain gives them: a new value (or family) must be added
// here and to the catalogs.
var dynamicKeys = map[string][]string{
	"status.":             {string(event.StatusDraft), string(event.StatusPublished)},
	"application_status.": {string(event.Applied), string(event.Waitlisted), string(event.Cancelled)},
	"payment.":            {string(event.PaymentUnpaid), string(event.PaymentPaid)},
	"venue.":              {string(event.VenuePlace), string(event.VenueURL), string(event.VenueZoom)},
	"public_venue.":       {string(event.VenuePlace), string(event.VenueURL), string(event.VenueZoom)},
	"role.":               {string(event.RoleOwner), string(event.RoleStaff)},
	"fee.":                {string(event.FeeFree), string(event.FeePaid)},
	"checkin_source.":     {event.CheckinManual, event.CheckinZoom},
	"activity.": {store.ActApplied, store.ActWaitlisted, store.ActCancelled, store.ActPaid, store.ActUnpaid,
		store.ActCheckedIn, store.ActCheckinUndone, store.ActMemo, store.ActEdited, store.ActPromoted,
		store.ActPaymentExpired, store.ActReinstated, store.ActPaymentResolved,
		store.ActReceiptIssued, store.ActReceiptReissued, store.ActRefundRequested,
		store.ActRefunded, store.ActRefundFailed, store.ActRefundRefused, store.ActRefundCanceled},
	"zoom.status.":        asStrings(zoompolicy.ConnStatuses()),
	"zoom.meeting_state.": asStrings(zoompolicy.MeetingStates()),
	"payment.method.": asStrings([]payment.Method{payment.MethodCard, payment.MethodKonbini, payment.MethodBankTransfer,
		payment.MethodManual}),
	"payment.store.":               {"familymart", "lawson", "ministop", "seicomart"},
	"payment_status.":              asStrings(payment.Statuses()),
	"payments.problem.":            asStrings([]payment.Problem{payment.ProblemMismatch, payment.ProblemAfterCancel, payment.ProblemTwice}),
	"applications.payment_filter.": store.PaymentFilters,
	"refund.status.":               asStrings(payment.RefundStatuses()),
	"refund.participant_status.":   asStrings(payment.RefundStatuses()),
}

// asStrings are a typed value list as plain strings.
func asStrings[S ~string](vs []S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// TestTemplateMessageKeysExist: every key a template translates is in both
// catalogs. Keys passed in variables (.T .Flash, .T $d.What) come from Go
// code, which TestGoMessageKeysExist checks.
func TestTemplateMessageKeysExist(t *testing.T) {
	literal := regexp.MustCompile(`\.T\s+"([^"]+)"`)
	printed := regexp.MustCompile(`\.T\s+\(\s*print\s+"([^"]+)"`)
	var keys []string
	prefixes := map[string]bool{}
	err := fs.WalkDir(os.DirFS("templates"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		b, err := os.ReadFile(filepath.Join("templates", p))
		if err != nil {
			return err
		}
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
		for _, m := range printed.FindAllStringSubmatch(string(b), -1) {
			prefixes[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 50 {
		t.Fatalf("found only %d message keys in the templates: is the scan broken?", len(keys))
	}
	for p := range prefixes {
		values, ok := dynamicKeys[p]
		if !ok {
			t.Errorf("templates build keys %q+value: list its values in dynamicKeys", p)
			continue
		}
		for _, v := range values {
			keys = append(keys, p+v)
		}
	}
	for _, k := range keys {
		for _, l := range i18n.Langs {
			if !catalog.Has(l, k) {
				t.Errorf("templates use %q, missing from messages.%s.json", k, l)
			}
		}
	}
}

// TestGoMessageKeysExist: every message key in the Go code that reaches
// people (web handlers, domain validation, store errors) is in both
// catalogs. A key is a string literal like "validation.required" whose first
// part names one of the catalogs' families.
func TestGoMessageKeysExist(t *testing.T) {
	families := map[string]bool{}
	for _, k := range catalog.Keys(i18n.Japanese) {
		families[strings.SplitN(k, ".", 2)[0]] = true
	}
	keyRE := regexp.MustCompile(`^[a-z_]+(\.[a-z_]+)+$`)
	var files []string
	for _, dir := range []string{".", "../event", "../store", "../payment"} {
		m, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if !strings.HasSuffix(f, "_test.go") {
				files = append(files, f)
			}
		}
	}
	fset := token.NewFileSet()
	found := 0
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !keyRE.MatchString(s) || !families[strings.SplitN(s, ".", 2)[0]] {
				return true
			}
			found++
			for _, l := range i18n.Langs {
				if !catalog.Has(l, s) {
					t.Errorf("%s uses %q, missing from messages.%s.json", fset.Position(lit.Pos()), s, l)
				}
			}
			return true
		})
	}
	if found < 30 {
		t.Fatalf("found only %d message keys in %d Go files: is the scan broken?", found, len(files))
	}
}

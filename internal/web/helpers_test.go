package web_test

// Helpers that drive a real kaisai (apptest.Start: real HTTP on port 0, a
// real database) with a real HTTP client, the way a browser would: a cookie
// jar, forms posted as application/x-www-form-urlencoded, redirects looked at
// rather than followed.

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/htmltest"
	"kaisai/internal/i18n"
	"kaisai/internal/testdb"
)

// catalog is the real message catalog: tests compare pages against its texts.
var catalog = func() *i18n.Catalog {
	c, err := i18n.Load()
	if err != nil {
		panic(err)
	}
	return c
}()

// ja is the Japanese text of a message key; it panics on an unknown key so a
// test never compares against the key itself.
func ja(key string, args ...any) string {
	if !catalog.Has(i18n.Japanese, key) {
		panic("no message " + key)
	}
	return catalog.T(i18n.Japanese, key, args...)
}

// en is the English text of a message key.
func en(key string, args ...any) string {
	if !catalog.Has(i18n.English, key) {
		panic("no message " + key)
	}
	return catalog.T(i18n.English, key, args...)
}

// clock is a test clock that can be moved forward; kaisai reads it through
// app.Config.Now.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time                { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration)       { c.offset.Add(int64(d)) }
func (c *clock) option() func(cfg *app.Config) { return func(cfg *app.Config) { cfg.Now = c.Now } }

// startKaisai starts kaisai on db.
func startKaisai(t *testing.T, db testdb.DB, opts ...func(*app.Config)) *app.App {
	t.Helper()
	return apptest.Start(t, db, opts...)
}

// client is one browser: its own cookies.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func newClient(t testing.TB, a *app.App) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: a.URL(), hc: &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		// Redirects are part of what is tested: never follow them.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// resp is an answer, read whole.
type resp struct {
	Method, Path string
	Status       int
	Header       http.Header
	Body         string // raw HTML
}

// Location is the redirect target.
func (r *resp) Location() string { return r.Header.Get("Location") }

// LocationPath is the path of the redirect target, without its query.
func (r *resp) LocationPath() string {
	u, err := url.Parse(r.Location())
	if err != nil {
		return r.Location()
	}
	return u.Path
}

// Text is the body with HTML entities decoded, for comparing with messages.
func (r *resp) Text() string { return html.UnescapeString(r.Body) }

// Has reports whether the page shows s.
func (r *resp) Has(s string) bool { return strings.Contains(r.Text(), s) }

func (r *resp) String() string {
	body := r.Text()
	if len(body) > 3000 {
		body = body[:3000] + "…"
	}
	return fmt.Sprintf("%s %s → %d (Location %q)\n%s", r.Method, r.Path, r.Status, r.Location(), body)
}

func (c *client) do(req *http.Request) *resp {
	c.t.Helper()
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return &resp{Method: req.Method, Path: req.URL.RequestURI(), Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

func (c *client) request(method, path string, body io.Reader, header ...string) *http.Request {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// get fetches path; header is name, value pairs.
func (c *client) get(path string, header ...string) *resp {
	c.t.Helper()
	return c.do(c.request(http.MethodGet, path, nil, header...))
}

// post submits a form to path; header is name, value pairs.
func (c *client) post(path string, form url.Values, header ...string) *resp {
	c.t.Helper()
	return c.do(c.request(http.MethodPost, path, strings.NewReader(form.Encode()), header...))
}

// cookie returns the value of one of the client's cookies for kaisai.
func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// setCookie puts a cookie in the client's jar as if kaisai had set it.
func (c *client) setCookie(name, value string) {
	u, _ := url.Parse(c.base)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// wantStatus fails the test unless r answered status.
func wantStatus(t testing.TB, r *resp, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("want %d, got %s", status, r)
	}
}

// wantRedirect fails unless r is a 303 to path (query ignored); it returns
// the full Location.
func wantRedirect(t testing.TB, r *resp, path string) string {
	t.Helper()
	if r.Status != http.StatusSeeOther || r.LocationPath() != path {
		t.Fatalf("want 303 to %s, got %s", path, r)
	}
	return r.Location()
}

// wantText fails unless the page shows each text.
func wantText(t testing.TB, r *resp, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !r.Has(s) {
			t.Fatalf("page does not show %q: %s", s, r)
		}
	}
}

// wantNoText fails if the page shows any of texts.
func wantNoText(t testing.TB, r *resp, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if r.Has(s) {
			t.Fatalf("page shows %q but should not: %s", s, r)
		}
	}
}

// password is long enough for sign-up's 10-character minimum.
const password = "correct-horse-battery"

// signup registers a new organization and leaves c logged in as its owner.
func (c *client) signup(orgName, email string) {
	c.t.Helper()
	r := c.post("/signup", url.Values{"org_name": {orgName}, "name": {"担当 " + orgName}, "email": {email},
		"password": {password}})
	wantRedirect(c.t, r, "/events")
	if c.cookie("kaisai_session") == "" {
		c.t.Fatalf("sign-up set no session cookie: %s", r)
	}
}

// login logs c in.
func (c *client) login(email, pw string) *resp {
	c.t.Helper()
	return c.post("/login", url.Values{"email": {email}, "password": {pw}})
}

// eventSpec is the event form.
type eventSpec struct {
	Title    string
	Paid     bool
	Price    int
	Draft    bool
	Waitlist bool
}

func (e eventSpec) form() url.Values {
	f := url.Values{"title": {e.Title}, "description": {"説明: " + e.Title}, "fee": {"free"},
		"time_zone": {"Asia/Tokyo"}, "status": {"published"}}
	if e.Paid {
		f.Set("fee", "paid")
		f.Set("price", strconv.Itoa(e.Price))
	}
	if e.Draft {
		f.Set("status", "draft")
	}
	if e.Waitlist {
		f.Set("waitlist", "1")
	}
	return f
}

var (
	eventPathRE = regexp.MustCompile(`^/events/(\d+)$`)
	groupPathRE = regexp.MustCompile(`^/events/(\d+)/groups/(\d+)/schedules/new$`)
	tokenPathRE = regexp.MustCompile(`^/a/([A-Za-z0-9_-]+)$`)
)

// doc parses the answer's page.
func (r *resp) doc(t testing.TB) htmltest.Node {
	t.Helper()
	return htmltest.Parse(t, r.Body)
}

// versionedCSS is the page's stylesheet link when it names a version
// (/static/app.css?v=…), or "".
func versionedCSS(t testing.TB, r *resp) string {
	t.Helper()
	href := r.doc(t).First(`link[rel="stylesheet"]`).Attr("href")
	v, ok := strings.CutPrefix(href, "/static/app.css?v=")
	if !ok || v == "" || strings.Trim(v, "0123456789abcdef") != "" {
		return ""
	}
	return href
}

// submitKey is the value of the page's submit_key input ("" when none).
func submitKey(t testing.TB, r *resp) string {
	t.Helper()
	return r.doc(t).First(`input[name="submit_key"]`).Attr("value")
}

// createEvent submits the event form and returns the new event's id.
func (c *client) createEvent(e eventSpec) int64 {
	c.t.Helper()
	r := c.post("/events/new", e.form())
	m := eventPathRE.FindStringSubmatch(r.LocationPath())
	if r.Status != http.StatusSeeOther || m == nil {
		c.t.Fatalf("create event: %s", r)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// placeGroup and urlGroup are the two venues of a schedule group.
func placeGroup(address string) url.Values {
	return url.Values{"venue": {"place"}, "address": {address}}
}

func urlGroup(onlineURL string) url.Values {
	return url.Values{"venue": {"url"}, "online_url": {onlineURL}}
}

// addGroup adds a schedule group to an event and returns its id.
func (c *client) addGroup(eventID int64, form url.Values) int64 {
	c.t.Helper()
	r := c.post(fmt.Sprintf("/events/%d/groups/new", eventID), form)
	m := groupPathRE.FindStringSubmatch(r.LocationPath())
	if r.Status != http.StatusSeeOther || m == nil || m[1] != strconv.FormatInt(eventID, 10) {
		c.t.Fatalf("add group: %s", r)
	}
	id, _ := strconv.ParseInt(m[2], 10, 64)
	return id
}

// futureDate is a day far enough ahead that every schedule of a test is open,
// even after a test moves its clock forward by weeks.
func futureDate(days int) string {
	return time.Now().In(tokyo).AddDate(0, 0, days).Format("2006-01-02")
}

var tokyo = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return loc
}()

func scheduleForm(date, start, end, capacity string) url.Values {
	return url.Values{"date": {date}, "start_time": {start}, "end_time": {end}, "capacity": {capacity}}
}

// addSchedule adds a schedule 60 days ahead with the given capacity and
// returns its id, read from the event page (the redirect goes there).
func (c *client) addSchedule(eventID, groupID int64, capacity int) int64 {
	c.t.Helper()
	before := c.scheduleIDs(eventID)
	r := c.post(fmt.Sprintf("/events/%d/groups/%d/schedules/new", eventID, groupID),
		scheduleForm(futureDate(60), "13:00", "15:00", strconv.Itoa(capacity)))
	wantRedirect(c.t, r, fmt.Sprintf("/events/%d", eventID))
	var id int64
	for s := range c.scheduleIDs(eventID) {
		if !before[s] {
			if id != 0 {
				c.t.Fatalf("more than one new schedule on event %d", eventID)
			}
			id = s
		}
	}
	if id == 0 {
		c.t.Fatalf("the new schedule is not on event %d's page", eventID)
	}
	return id
}

// scheduleIDs lists the schedules shown on the organizer's event page.
func (c *client) scheduleIDs(eventID int64) map[int64]bool {
	c.t.Helper()
	r := c.get(fmt.Sprintf("/events/%d", eventID))
	wantStatus(c.t, r, http.StatusOK)
	prefix := fmt.Sprintf("/events/%d/schedules/", eventID)
	ids := map[int64]bool{}
	for _, a := range r.doc(c.t).Find("a[href]") {
		rest, ok := strings.CutPrefix(a.Attr("href"), prefix)
		if id, err := strconv.ParseInt(strings.TrimSuffix(rest, "/edit"), 10, 64); ok && err == nil && strings.HasSuffix(rest, "/edit") {
			ids[id] = true
		}
	}
	return ids
}

// publicPath is the participants' page of a published event, as its
// organizer's page links it.
func (c *client) publicPath(eventID int64) string {
	c.t.Helper()
	r := c.get(fmt.Sprintf("/events/%d", eventID))
	wantStatus(c.t, r, http.StatusOK)
	href := r.doc(c.t).First("a#public-link").Attr("href")
	if !strings.HasPrefix(href, "/e/") {
		c.t.Fatalf("no public link on event %d's page: %s", eventID, r)
	}
	return href
}

// applyForm fetches a public event page and returns its form's submit_key.
func (c *client) applyForm(publicPath string) string {
	c.t.Helper()
	r := c.get(publicPath)
	wantStatus(c.t, r, http.StatusOK)
	key := submitKey(c.t, r)
	if key == "" {
		c.t.Fatalf("no submit_key in the application form: %s", r)
	}
	return key
}

func applyValues(scheduleID int64, name, email, submitKey string) url.Values {
	return url.Values{"schedule_id": {strconv.FormatInt(scheduleID, 10)}, "name": {name}, "email": {email},
		"submit_key": {submitKey}}
}

// postApply submits an application form.
func (c *client) postApply(publicPath string, form url.Values, header ...string) *resp {
	c.t.Helper()
	return c.post(publicPath+"/apply", form, header...)
}

// apply fetches the form, applies and returns the application's token.
func (c *client) apply(publicPath string, scheduleID int64, name, email string) string {
	c.t.Helper()
	key := c.applyForm(publicPath)
	return tokenOf(c.t, c.postApply(publicPath, applyValues(scheduleID, name, email, key)))
}

// tokenOf reads the application token from an apply answer's redirect.
func tokenOf(t testing.TB, r *resp) string {
	t.Helper()
	m := tokenPathRE.FindStringSubmatch(r.LocationPath())
	if r.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("apply did not lead to an application page: %s", r)
	}
	return m[1]
}

// applicationStatus reads the status and payment badges of an application page.
func applicationStatus(t testing.TB, r *resp) (status, payment string) {
	t.Helper()
	doc := r.doc(t)
	badge := doc.First("#application-status")
	if !badge.Valid() {
		t.Fatalf("no status on the application page: %s", r)
	}
	return badge.Text(), doc.First("#payment-status").Text()
}

// applicationRow is a row of the organizer's 申込者一覧.
type applicationRow struct {
	ID     int64
	Email  string
	Status string // as shown
}

// applications reads the organizer's list of an event's applications.
func (c *client) applications(eventID int64) []applicationRow {
	c.t.Helper()
	r := c.get(fmt.Sprintf("/events/%d/applications", eventID))
	wantStatus(c.t, r, http.StatusOK)
	var rows []applicationRow
	for _, tr := range r.doc(c.t).Find("tr.application") {
		row := applicationRow{Email: tr.Attr("data-email")}
		row.ID, _ = strconv.ParseInt(tr.Attr("data-id"), 10, 64)
		row.Status = applicationBadge(tr)
		rows = append(rows, row)
	}
	return rows
}

// seatsLeft reads the seats-left cell of a schedule on the public page.
func seatsLeft(t testing.TB, r *resp, scheduleID int64) string {
	t.Helper()
	cell := r.doc(t).First(fmt.Sprintf(`tr.schedule[data-schedule-id="%d"] td.seats-left`, scheduleID))
	if !cell.Valid() {
		t.Fatalf("schedule %d is not on the public page: %s", scheduleID, r)
	}
	return cell.Text()
}

// applicationBadge is the text of a row's application status badge.
func applicationBadge(row htmltest.Node) string {
	for _, b := range row.Find("span.badge") {
		switch b.Attr("class") {
		case "badge applied", "badge waitlisted", "badge cancelled":
			return b.Text()
		}
	}
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

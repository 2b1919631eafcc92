package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The organizer's and the participants' side of kaisai over real HTTP, the
// way a browser drives it (see internal/web/helpers_test.go, which these
// follow): forms posted as application/x-www-form-urlencoded, redirects
// looked at rather than followed.

var (
	eventPathRE  = regexp.MustCompile(`^/events/(\d+)$`)
	groupPathRE  = regexp.MustCompile(`^/events/(\d+)/groups/(\d+)/schedules/new$`)
	tokenPathRE  = regexp.MustCompile(`^/a/[A-Za-z0-9_-]+$`)
	publicLinkRE = regexp.MustCompile(`<a\b[^>]*\bid="public-link"[^>]*>`)
	hrefRE       = regexp.MustCompile(`\bhref="([^"]*)"`)
	submitKeyRE  = regexp.MustCompile(`<input\b[^>]*\bname="submit_key"[^>]*>`)
	valueRE      = regexp.MustCompile(`\bvalue="([^"]*)"`)
)

// organizer is a logged-in organizer's browser: its own cookie jar.
type organizer struct {
	base string
	hc   *http.Client
}

func newOrganizer(base string, t *http.Transport) (*organizer, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	hc := newHTTPClient(t)
	hc.Jar = jar
	return &organizer{base: base, hc: hc}, nil
}

// page is an answer, read whole.
type page struct {
	Status   int
	Location string
	Body     string
}

func (p *page) locationPath() string {
	u, err := url.Parse(p.Location)
	if err != nil {
		return p.Location
	}
	return u.Path
}

func (p *page) String() string {
	body := p.Body
	if len(body) > 500 {
		body = body[:500] + "…"
	}
	return fmt.Sprintf("%d (Location %q) %s", p.Status, p.Location, body)
}

func (o *organizer) do(ctx context.Context, method, path string, form url.Values) (*page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, o.base+path, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := o.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return &page{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(b)}, nil
}

func (o *organizer) signup(ctx context.Context) error {
	p, err := o.do(ctx, http.MethodPost, "/signup", url.Values{"org_name": {"ベンチ株式会社"}, "name": {"担当 ベンチ"},
		"email": {"organizer@bench.example.com"}, "password": {"bench-password-123"}})
	if err != nil {
		return err
	}
	if p.Status != http.StatusSeeOther || p.locationPath() != "/events" {
		return fmt.Errorf("sign-up: %s", p)
	}
	return nil
}

// createEvent makes a published free event without a waitlist, so that a
// full schedule answers 422.
func (o *organizer) createEvent(ctx context.Context) (int64, error) {
	p, err := o.do(ctx, http.MethodPost, "/events/new", url.Values{"title": {"申込ベンチマーク"},
		"description": {"kaisai-bench apply"}, "fee": {"free"}, "time_zone": {"Asia/Tokyo"}, "status": {"published"}})
	if err != nil {
		return 0, err
	}
	m := eventPathRE.FindStringSubmatch(p.locationPath())
	if p.Status != http.StatusSeeOther || m == nil {
		return 0, fmt.Errorf("create event: %s", p)
	}
	return strconv.ParseInt(m[1], 10, 64)
}

func (o *organizer) addGroup(ctx context.Context, eventID int64) (int64, error) {
	p, err := o.do(ctx, http.MethodPost, fmt.Sprintf("/events/%d/groups/new", eventID),
		url.Values{"venue": {"place"}, "address": {"東京都千代田区丸の内1-1-1"}})
	if err != nil {
		return 0, err
	}
	m := groupPathRE.FindStringSubmatch(p.locationPath())
	if p.Status != http.StatusSeeOther || m == nil {
		return 0, fmt.Errorf("add group: %s", p)
	}
	return strconv.ParseInt(m[2], 10, 64)
}

// addSchedule adds a schedule days ahead and returns its id, read from the
// event page.
func (o *organizer) addSchedule(ctx context.Context, eventID, groupID int64, days, capacity int) (int64, error) {
	before, err := o.scheduleIDs(ctx, eventID)
	if err != nil {
		return 0, err
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return 0, err
	}
	date := time.Now().In(tokyo).AddDate(0, 0, days).Format("2006-01-02")
	p, err := o.do(ctx, http.MethodPost, fmt.Sprintf("/events/%d/groups/%d/schedules/new", eventID, groupID),
		url.Values{"date": {date}, "start_time": {"13:00"}, "end_time": {"15:00"}, "capacity": {strconv.Itoa(capacity)}})
	if err != nil {
		return 0, err
	}
	if p.Status != http.StatusSeeOther || p.locationPath() != fmt.Sprintf("/events/%d", eventID) {
		return 0, fmt.Errorf("add schedule: %s", p)
	}
	after, err := o.scheduleIDs(ctx, eventID)
	if err != nil {
		return 0, err
	}
	var id int64
	for s := range after {
		if !before[s] {
			if id != 0 {
				return 0, fmt.Errorf("add schedule: more than one new schedule on event %d", eventID)
			}
			id = s
		}
	}
	if id == 0 {
		return 0, fmt.Errorf("add schedule: the new schedule is not on event %d's page", eventID)
	}
	return id, nil
}

func (o *organizer) scheduleIDs(ctx context.Context, eventID int64) (map[int64]bool, error) {
	p, err := o.do(ctx, http.MethodGet, fmt.Sprintf("/events/%d", eventID), nil)
	if err != nil {
		return nil, err
	}
	if p.Status != http.StatusOK {
		return nil, fmt.Errorf("event page: %s", p)
	}
	re := regexp.MustCompile(fmt.Sprintf(`/events/%d/schedules/(\d+)/edit`, eventID))
	ids := map[int64]bool{}
	for _, m := range re.FindAllStringSubmatch(p.Body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		ids[id] = true
	}
	return ids, nil
}

// publicPath is the participants' page of the event, as the organizer's page
// links it.
func (o *organizer) publicPath(ctx context.Context, eventID int64) (string, error) {
	p, err := o.do(ctx, http.MethodGet, fmt.Sprintf("/events/%d", eventID), nil)
	if err != nil {
		return "", err
	}
	m := hrefRE.FindStringSubmatch(publicLinkRE.FindString(p.Body))
	if p.Status != http.StatusOK || m == nil || !strings.HasPrefix(m[1], "/e/") {
		return "", fmt.Errorf("no public link on event %d's page: %s", eventID, p)
	}
	return html.UnescapeString(m[1]), nil
}

// applicant is the participants' side: each iteration fetches the event
// page, reads the form's submit_key and posts the application, as a browser
// does. No cookies: the public pages need none.
type applicant struct {
	hc         *http.Client
	base       string
	publicPath string
	scheduleID int64
	prefix     string // keeps names and e-mail addresses unique across phases
}

// iterate is one application. A 303 to /a/{token} that sets the flash
// flash.applied is accepted; 422 is a correct refusal (the schedule is full).
func (a *applicant) iterate(ctx context.Context, worker, seq int) sample {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	began := time.Now()
	key, err := a.submitKey(ctx)
	if err != nil {
		return sample{Outcome: failed, Detail: err.Error()}
	}
	form := url.Values{"schedule_id": {strconv.FormatInt(a.scheduleID, 10)},
		"name":       {fmt.Sprintf("ベンチ 参加者%d-%d", worker, seq)},
		"email":      {fmt.Sprintf("%s-%d-%d@bench.example.com", a.prefix, worker, seq)},
		"submit_key": {key}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+a.publicPath+"/apply", strings.NewReader(form.Encode()))
	if err != nil {
		return sample{Outcome: failed, Detail: err.Error()}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	posted := time.Now()
	res, err := a.hc.Do(req)
	if err != nil {
		return sample{Outcome: failed, Detail: "POST apply: " + errorClass(err)}
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	done := time.Now()
	s := sample{Post: done.Sub(posted), Iter: done.Sub(began)}
	loc, _ := url.Parse(res.Header.Get("Location"))
	switch {
	case err != nil:
		s.Outcome, s.Detail = failed, "POST apply: read body: "+errorClass(err)
	case res.StatusCode == http.StatusSeeOther && loc != nil && tokenPathRE.MatchString(loc.Path) &&
		flashOf(res) == "flash.applied":
		s.Outcome = accepted
	case res.StatusCode == http.StatusSeeOther:
		s.Outcome, s.Detail = failed, "POST apply: 303 to "+redactToken(loc)+" flash="+flashOf(res)
	case res.StatusCode == http.StatusUnprocessableEntity:
		s.Outcome, s.Detail = rejected, "POST apply: 422"
	default:
		s.Outcome, s.Detail = failed, "POST apply: "+res.Status
	}
	return s
}

func (a *applicant) submitKey(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+a.publicPath, nil)
	if err != nil {
		return "", err
	}
	res, err := a.hc.Do(req)
	if err != nil {
		return "", errors.New("GET event page: " + errorClass(err))
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", errors.New("GET event page: read body: " + errorClass(err))
	}
	if res.StatusCode != http.StatusOK {
		return "", errors.New("GET event page: " + res.Status)
	}
	m := valueRE.FindSubmatch(submitKeyRE.Find(b))
	if m == nil || len(m[1]) == 0 {
		return "", errors.New("GET event page: no submit_key in the form")
	}
	return html.UnescapeString(string(m[1])), nil
}

// errorClass shortens a transport error so that failures group by kind.
func errorClass(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// redactToken keeps application tokens out of the counted reasons.
func redactToken(u *url.URL) string {
	if u == nil {
		return "(no Location)"
	}
	path := u.Path
	if tokenPathRE.MatchString(path) {
		path = "/a/…"
	}
	return path
}

// flashOf is the message key of the flash a response sets for the page it
// redirects to: kaisai keeps it in a short-lived cookie, "key~pagehash".
func flashOf(res *http.Response) string {
	for _, c := range res.Cookies() {
		if c.Name == "kaisai_flash" && c.MaxAge >= 0 {
			key, _, _ := strings.Cut(c.Value, "~")
			return key
		}
	}
	return ""
}

package zoomsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Zoom's rate limits, as published in "Rate limits"
// (https://developers.zoom.us/docs/api/rate-limits/): limits apply per
// account, shared by every app on it, by the account's plan and by each
// operation's category, its "Rate Limit Label" in the spec:
//
//	                    Free                Pro          Business+
//	Light               4/s, 6,000/day      30/s         80/s
//	Medium              2/s, 2,000/day      20/s         60/s
//	Heavy               1/s, 1,000/day      10/s *       40/s *
//	Resource-intensive  10/min, 30,000/day  10/min *     20/min *
//
//	* Heavy and Resource-intensive share one daily limit: Pro 30,000, Business+ 60,000.
//
// User- and resource-level limits documented on the operations and in
// Zoom's developer forum: a host's meetings may be created or updated 100
// times a UTC day ("100 requests per day" in meetingCreate and
// meetingUpdate); the same e-mail may be added to a meeting as a
// registrant 3 times a UTC day; a meeting takes at most 4,999 registrants
// (meetingRegistrantCreate; beyond it, 400 code 3043).

// Plan is a Zoom account's plan, which sets its rate limits.
type Plan string

const (
	PlanFree     Plan = "Free"
	PlanPro      Plan = "Pro"
	PlanBusiness Plan = "Business" // also Education, Enterprise and Partner accounts
)

// Category is an operation's Rate Limit Label.
type Category string

const (
	Light             Category = "Light"
	Medium            Category = "Medium"
	Heavy             Category = "Heavy"
	ResourceIntensive Category = "Resource-intensive"
)

// Rate is N requests per period (a second, or a minute for
// resource-intensive operations).
type Rate struct {
	N   int
	Per time.Duration
}

// PlanLimits are one plan's account-level limits.
type PlanLimits struct {
	Rate  map[Category]Rate
	Daily map[Category]int // per UTC day; absent: none
	// HeavyShared makes Heavy and Resource-intensive draw on one daily
	// count, whose limit is Daily[Heavy].
	HeavyShared bool
}

// Limits configure the simulator's rate limits. Options.Limits nil means
// ZoomLimits(); tests switch them off with Off or shorten them by editing
// a copy of ZoomLimits().
type Limits struct {
	Off   bool
	Plans map[Plan]PlanLimits
	// MeetingWritesPerHost is how many meeting creates and updates a host
	// may make per UTC day (Zoom: 100).
	MeetingWritesPerHost int
	// RegistrantAddsPerEmail is how many times one e-mail may be added to
	// one meeting per UTC day (Zoom: 3).
	RegistrantAddsPerEmail int
	// RegistrantsPerMeeting is a meeting's capacity (Zoom: 4,999).
	RegistrantsPerMeeting int
}

// ZoomLimits are Zoom's published limits.
func ZoomLimits() Limits {
	perSec := func(n int) Rate { return Rate{N: n, Per: time.Second} }
	perMin := func(n int) Rate { return Rate{N: n, Per: time.Minute} }
	return Limits{
		Plans: map[Plan]PlanLimits{
			PlanFree: {
				Rate:  map[Category]Rate{Light: perSec(4), Medium: perSec(2), Heavy: perSec(1), ResourceIntensive: perMin(10)},
				Daily: map[Category]int{Light: 6000, Medium: 2000, Heavy: 1000, ResourceIntensive: 30000},
			},
			PlanPro: {
				Rate:        map[Category]Rate{Light: perSec(30), Medium: perSec(20), Heavy: perSec(10), ResourceIntensive: perMin(10)},
				Daily:       map[Category]int{Heavy: 30000},
				HeavyShared: true,
			},
			PlanBusiness: {
				Rate:        map[Category]Rate{Light: perSec(80), Medium: perSec(60), Heavy: perSec(40), ResourceIntensive: perMin(20)},
				Daily:       map[Category]int{Heavy: 60000},
				HeavyShared: true,
			},
		},
		MeetingWritesPerHost:   100,
		RegistrantAddsPerEmail: 3,
		RegistrantsPerMeeting:  4999,
	}
}

// operation is a REST operation the simulator serves: its operationId and
// Rate Limit Label in Zoom's spec (Meetings.json, Users.json).
type operation struct {
	id       string
	category Category
}

// operations by the route pattern they are served under.
var operations = map[string]operation{
	"GET /v2/users/{userId}":                                     {"user", Light},
	"GET /v2/users/{userId}/settings":                            {"userSettings", Medium},
	"POST /v2/users/{userId}/meetings":                           {"meetingCreate", Light},
	"GET /v2/users/{userId}/meetings":                            {"meetings", Medium},
	"GET /v2/meetings/{meetingId}":                               {"meeting", Light},
	"PATCH /v2/meetings/{meetingId}":                             {"meetingUpdate", Light},
	"DELETE /v2/meetings/{meetingId}":                            {"meetingDelete", Light},
	"POST /v2/meetings/{meetingId}/registrants":                  {"meetingRegistrantCreate", Light},
	"GET /v2/meetings/{meetingId}/registrants":                   {"meetingRegistrants", Medium},
	"POST /v2/meetings/{meetingId}/batch_registrants":            {"addBatchRegistrants", Heavy},
	"PUT /v2/meetings/{meetingId}/registrants/status":            {"meetingRegistrantStatus", Medium},
	"DELETE /v2/meetings/{meetingId}/registrants/{registrantId}": {"meetingregistrantdelete", Light},
	"GET /v2/past_meetings/{meetingId}/participants":             {"pastMeetingParticipants", Medium},
}

// counter counts uses in a window that began at start.
type counter struct {
	start time.Time
	n     int
}

// limiter keeps the counts; it is used with Server.mu held.
type limiter struct {
	cfg      Limits
	plans    map[string]Plan     // by account id, set by SetPlan
	windows  map[string]*counter // account|category: per-second (per-minute) counts
	days     map[string]*counter // account|category: per-day counts
	hosts    map[string]*counter // user id: meeting creates and updates today
	emailAdd map[string]*counter // meeting id|e-mail: registrant adds today
}

func newLimiter(cfg *Limits) *limiter {
	l := &limiter{plans: map[string]Plan{}}
	if cfg == nil {
		l.cfg = ZoomLimits()
	} else {
		l.cfg = *cfg
	}
	l.reset()
	return l
}

func (l *limiter) reset() {
	l.windows, l.days = map[string]*counter{}, map[string]*counter{}
	l.hosts, l.emailAdd = map[string]*counter{}, map[string]*counter{}
}

// SetPlan sets an account's plan. Without one, an account whose user is
// Basic is on Free, any other on Pro.
func (s *Server) SetPlan(accountID string, p Plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.plans[accountID] = p
}

// SetLimits replaces the limits and forgets the counts so far.
func (s *Server) SetLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits.cfg = l
	s.limits.reset()
}

func (l *limiter) plan(u *User) Plan {
	if p, ok := l.plans[u.AccountID]; ok {
		return p
	}
	if u.Type == UserBasic {
		return PlanFree
	}
	return PlanPro
}

// take counts c in window (a fixed window of per beginning at a multiple of
// per) and reports whether it is within n, with the count after it.
func take(m map[string]*counter, key string, now time.Time, per time.Duration, n int) (ok bool, used int, resetAt time.Time) {
	start := now.Truncate(per)
	c := m[key]
	if c == nil || !c.start.Equal(start) {
		c = &counter{start: start}
		m[key] = c
	}
	resetAt = start.Add(per)
	if c.n >= n {
		return false, c.n, resetAt
	}
	c.n++
	return true, c.n, resetAt
}

const day = 24 * time.Hour

// tooMany is a 429 with Zoom's rate limit headers.
func tooMany(w http.ResponseWriter, cat, typ string, limit int, retry string, format string, args ...any) *apiError {
	h := w.Header()
	h.Set("X-RateLimit-Category", cat)
	h.Set("X-RateLimit-Type", typ)
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("Retry-After", retry)
	return zerr(http.StatusTooManyRequests, 429, format, args...)
}

// retryAt is when a daily limit resets: 00:00 UTC, written as in Zoom's
// example header (Retry-After: 2020-05-31T00:00:00Z).
func retryAt(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// admitRate applies the account's per-second and per-day limits and the
// host's daily meeting writes to an authenticated call.
func (l *limiter) admitRate(c *call) error {
	op, known := operations[c.r.Pattern]
	if l.cfg.Off || !known {
		return nil
	}
	now := c.s.now().UTC()
	w := c.w
	cat := string(op.category)
	pl := l.cfg.Plans[l.plan(c.user)]
	acct := c.user.AccountID + "|"
	if r, ok := pl.Rate[op.category]; ok && r.N > 0 {
		if ok, _, _ := take(l.windows, acct+cat, now, r.Per, r.N); !ok {
			return perSecondHit(w, op.category, r, now)
		}
	}
	hdrLimit, hdrUsed, hdrType := 0, 0, ""
	pool := op.category
	if pl.HeavyShared && pool == ResourceIntensive {
		pool = Heavy
	}
	if n, ok := pl.Daily[pool]; ok && n > 0 {
		ok, used, _ := take(l.days, acct+string(pool), now, day, n)
		if !ok {
			return accountDailyHit(w, op.category, n, now)
		}
		hdrLimit, hdrUsed, hdrType = n, used, "Daily-limit"
	}
	if isMeetingWrite(op) && l.cfg.MeetingWritesPerHost > 0 {
		n := l.cfg.MeetingWritesPerHost
		ok, used, _ := take(l.hosts, c.user.ID, now, day, n)
		if !ok {
			return hostDailyHit(w, op.category, n, now)
		}
		hdrLimit, hdrUsed, hdrType = n, used, "Daily-limit"
	}
	w.Header().Set("X-RateLimit-Category", cat)
	if hdrType != "" {
		w.Header().Set("X-RateLimit-Type", hdrType)
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(hdrLimit))
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(hdrLimit-hdrUsed))
	}
	return nil
}

func isMeetingWrite(op operation) bool { return op.id == "meetingCreate" || op.id == "meetingUpdate" }

// The 429 answers of hit limits, shared by the limiter and injected faults.

// perSecondHit: the account's per-second (per-minute) limit r is hit;
// Retry-After is the rest of the window in whole seconds.
func perSecondHit(w http.ResponseWriter, cat Category, r Rate, now time.Time) error {
	reset := now.Truncate(r.Per).Add(r.Per)
	secs := max(1, int((reset.Sub(now)+time.Second-1)/time.Second))
	return tooMany(w, string(cat), "QPS", r.N, strconv.Itoa(secs),
		"You have reached the maximum per-second rate limit for this API. Try again later.")
}

// accountDailyHit: the account's daily limit n is hit, until 00:00 UTC.
func accountDailyHit(w http.ResponseWriter, cat Category, n int, now time.Time) error {
	return tooMany(w, string(cat), "Daily-limit", n, retryAt(now.Truncate(day).Add(day)),
		"You have reached the maximum daily rate limit for this API. Refer to the response header for details on when you can make another request.")
}

// hostDailyHit: the host's n meeting creates and updates a day are spent.
func hostDailyHit(w http.ResponseWriter, cat Category, n int, now time.Time) error {
	return tooMany(w, string(cat), "Daily-limit", n, retryAt(now.Truncate(day).Add(day)),
		"You have exceeded the daily rate limit (%d) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00.", n)
}

// injected is the 429 of a FaultRateLimit: what the limiter would answer
// had the call hit the account's per-second limit (or, daily, the host's
// meeting writes or the account's daily limit), with the simulator's
// figures, or Zoom's published ones where the simulator has none (limits
// off, or no daily limit on the plan: then the Free plan's).
func (l *limiter) injected(c *call, daily bool) error {
	op := operations[c.r.Pattern]
	now := c.s.now().UTC()
	zoom := ZoomLimits()
	plan := l.plan(c.user)
	pl, ok := l.cfg.Plans[plan]
	if l.cfg.Off || !ok {
		pl = zoom.Plans[plan]
	}
	if !daily {
		r := pl.Rate[op.category]
		if r.N <= 0 {
			r = zoom.Plans[plan].Rate[op.category]
		}
		return perSecondHit(c.w, op.category, r, now)
	}
	if isMeetingWrite(op) {
		n := l.cfg.MeetingWritesPerHost
		if l.cfg.Off || n <= 0 {
			n = zoom.MeetingWritesPerHost
		}
		return hostDailyHit(c.w, op.category, n, now)
	}
	pool := op.category
	if pl.HeavyShared && pool == ResourceIntensive {
		pool = Heavy
	}
	n := pl.Daily[pool]
	if n <= 0 {
		n = zoom.Plans[PlanFree].Daily[op.category]
	}
	return accountDailyHit(c.w, op.category, n, now)
}

// admitRegistrants applies the per-meeting limits to adding emails to m:
// the meeting's capacity and the daily adds of one e-mail. It counts the
// adds, so call it once the request is otherwise valid.
func (s *Server) admitRegistrants(c *call, m *meeting, emails []string) error {
	l := s.limits
	if l.cfg.Off {
		return nil
	}
	if capacity := l.cfg.RegistrantsPerMeeting; capacity > 0 {
		known := map[string]bool{}
		for _, r := range m.Registrants {
			known[strings.ToLower(r.Email)] = true
		}
		added := 0
		for _, e := range emails {
			if e := strings.ToLower(e); !known[e] {
				known[e] = true
				added++
			}
		}
		if len(m.Registrants)+added > capacity {
			return zerr(http.StatusBadRequest, 3043, "Meeting has reached maximum attendee capacity.")
		}
	}
	n := l.cfg.RegistrantAddsPerEmail
	if n <= 0 {
		return nil
	}
	now := s.now().UTC()
	key := func(e string) string { return fmt.Sprintf("%d|%s", m.ID, strings.ToLower(e)) }
	for _, e := range emails {
		if cnt := l.emailAdd[key(e)]; cnt != nil && cnt.start.Equal(now.Truncate(day)) && cnt.n >= n {
			return tooMany(c.w, string(operations[c.r.Pattern].category), "Daily-limit", n, retryAt(now.Truncate(day).Add(day)),
				"You have exceeded the daily rate limit (%d) of Add meeting registrant API requests permitted for (%s) this particular registrant. You may resume these requests at GMT 00:00:00.", n, e)
		}
	}
	for _, e := range emails {
		take(l.emailAdd, key(e), now, day, n)
	}
	return nil
}

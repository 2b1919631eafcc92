package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/event"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

// placeholderRE finds the {name} wildcards of a ServeMux pattern.
var placeholderRE = regexp.MustCompile(`\{([^}]*)\}`)

// fillPattern turns an organizer route's pattern into a path with ids; it
// fails on a wildcard the walk does not know, so a new kind of id in a new
// route makes the walk fail until it is taught that id.
func fillPattern(pattern string, ids map[string]int64) (string, error) {
	var unknown []string
	path := placeholderRE.ReplaceAllStringFunc(pattern, func(ph string) string {
		name := strings.Trim(ph, "{}")
		if name == "$" {
			return ""
		}
		id, ok := ids[name]
		if !ok {
			unknown = append(unknown, ph)
			return ph
		}
		return strconv.FormatInt(id, 10)
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("route %q has wildcards %v the authorization walk does not know: give it an id of another organization", pattern, unknown)
	}
	return path, nil
}

// idNames are the wildcards the walk knows.
var idNames = []string{"eventID", "groupID", "scheduleID", "appID", "mailID", "connID", "meetingID", "sessionID", "paymentID", "refundID"}

func hasWildcard(pattern string) bool {
	for _, m := range placeholderRE.FindAllStringSubmatch(pattern, -1) {
		if m[1] != "$" {
			return true
		}
	}
	return false
}

// hasChildWildcard reports whether a pattern names something inside an event.
func hasChildWildcard(pattern string) bool {
	for _, m := range placeholderRE.FindAllStringSubmatch(pattern, -1) {
		if m[1] != "$" && m[1] != "eventID" {
			return true
		}
	}
	return false
}

// plausibleForm is a body every organizer form would accept: if a handler
// forgot to check whose id it was given, the request would succeed and
// change something, instead of failing validation first.
func plausibleForm() url.Values {
	return url.Values{
		"title": {"B による書き換え"}, "description": {"B"}, "fee": {"paid"}, "price": {"1"},
		"time_zone": {"UTC"}, "status": {"draft"}, "waitlist": {"1"},
		"name": {"B スタッフ"}, "venue": {"place"}, "address": {"B の住所"}, "online_url": {"https://b.example/"},
		"date": {futureDate(90)}, "start_time": {"09:00"}, "end_time": {"10:00"}, "capacity": {"99"},
		"payment": {"paid"}, "email": {"intruder-staff@b.example"}, "password": {"intruder-password"},
	}
}

// orgAFixture is organization A's data: a paid, published event with a
// group, a schedule, and an application.
type orgAFixture struct {
	app                            *app.App
	owner                          *client
	eventID, groupID, scheduleID   int64
	appID                          int64
	mailID                         int64 // the 申込完了 mail of the application
	connID                         int64 // a linked Zoom user (サービス連携)
	zoomScheduleID                 int64 // a schedule of a Zoom group of the event
	meetingID                      int64 // its Zoom meeting (作成中)
	sessionID                      int64 // a guest's session in that meeting, matched to no application
	paymentID                      int64 // a payment of the application that needs a person (要対応)
	refundID                       int64 // a failed refund of that payment (返金を再試行)
	orgID                          int64
	title, address, applicantEmail string
	publicPath, token              string
}

func newOrgA(t *testing.T, a *app.App) orgAFixture {
	t.Helper()
	c := newClient(t, a)
	f := orgAFixture{app: a, owner: c, title: "A社の秘密セミナー", address: "東京都千代田区A-1", applicantEmail: "taro@a.example"}
	c.signup("A社", "owner@a.example")
	f.eventID = c.createEvent(eventSpec{Title: f.title, Paid: true, Price: 3000})
	f.groupID = c.addGroup(f.eventID, placeGroup(f.address))
	f.scheduleID = c.addSchedule(f.eventID, f.groupID, 10)
	f.publicPath = c.publicPath(f.eventID)
	f.token = newClient(t, f.app).apply(f.publicPath, f.scheduleID, "山田 太郎", f.applicantEmail)
	rows := c.applications(f.eventID)
	if len(rows) != 1 || rows[0].ID == 0 {
		t.Fatalf("A's applications: %+v", rows)
	}
	f.appID = rows[0].ID
	row := c.get("/mails").doc(t).First("tr.mail[data-id]")
	if !row.Valid() {
		t.Fatal("A's mail log shows no mail")
	}
	f.mailID, _ = strconv.ParseInt(row.Attr("data-id"), 10, 64)
	ctx := context.Background()
	owner, _, err := a.Store.MemberForLogin(ctx, "owner@a.example")
	if err != nil {
		t.Fatal(err)
	}
	f.orgID = owner.OrgID
	f.connID, err = a.Store.LinkZoomConnection(ctx, f.orgID,
		store.ZoomUser{ID: "zoom-user-a", Email: zoomEmailA, DisplayName: "A社のZoom", Type: 2},
		store.ZoomTokens{AccessToken: "a-access", RefreshToken: "a-refresh", Expiry: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	zg := &event.ScheduleGroup{OrgID: f.orgID, EventID: f.eventID, Venue: event.VenueZoom,
		Zoom: &event.ZoomSettings{ConnID: f.connID, Passcode: "a1b2c3", HostVideo: true}}
	if _, err := a.Store.CreateGroup(ctx, zg, ""); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(60 * 24 * time.Hour).Truncate(time.Minute)
	zs := &event.Schedule{OrgID: f.orgID, EventID: f.eventID, GroupID: zg.ID, StartsAt: start,
		EndsAt: start.Add(time.Hour), Capacity: 10}
	if _, err := a.Store.CreateSchedule(ctx, zs, ""); err != nil {
		t.Fatal(err)
	}
	f.zoomScheduleID = zs.ID
	zm, err := a.Store.ScheduleZoomMeeting(ctx, f.orgID, zs.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.meetingID = zm.ID
	if _, err := a.Store.RecordZoomSessions(ctx, store.CheckInMeeting{OrgID: f.orgID, ScheduleID: zs.ID, ZoomID: 81234567890,
		MeetingRowID: zm.ID}, []store.ZoomSession{{InstanceUUID: "a-instance", ParticipantID: "a-guest",
		Name: "A社のゲスト", JoinedAt: start.Add(-time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	ps, err := a.Store.UnmatchedParticipants(ctx, f.orgID, f.eventID)
	if err != nil || len(ps) != 1 {
		t.Fatalf("A's unmatched participants: %+v, %v", ps, err)
	}
	f.sessionID = ps[0].ID
	// A payment Stripe confirmed twice: 要対応, which only A may settle.
	err = a.Store.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO payments (org_id, event_id, application_id, connection_id, attempt,
			idempotency_key, status, amount, session_id, expires_at, method, paid_amount, currency, payment_intent_id,
			problem, created_at, updated_at, paid_at)
			VALUES ($1, $2, $3, 1, 1, 'a-key', 'paid', 3000, 'cs_a', $4, 'card', 3000, 'jpy', 'pi_a', 'paid_twice', $4, $4, $4)
			RETURNING id`, f.orgID, f.eventID, f.appID, time.Now().UTC()).Scan(&f.paymentID); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO refunds (org_id, event_id, application_id, payment_id, connection_id,
			attempt, idempotency_key, status, amount, failure_reason, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 1, 1, 'a-refund-key', 'failed', 1000, 'declined', $5, $5) RETURNING id`,
			f.orgID, f.eventID, f.appID, f.paymentID, time.Now().UTC()).Scan(&f.refundID)
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// ids are A's ids by wildcard name.
func (f orgAFixture) ids() map[string]int64 {
	return map[string]int64{"eventID": f.eventID, "groupID": f.groupID, "scheduleID": f.scheduleID,
		"appID": f.appID, "mailID": f.mailID, "connID": f.connID, "meetingID": f.meetingID, "sessionID": f.sessionID,
		"paymentID": f.paymentID, "refundID": f.refundID}
}

// zoomEmailA is organization A's linked Zoom user.
const zoomEmailA = "zoom-owner@a.example"

// assertUnchanged checks that A's data is as newOrgA left it.
func (f orgAFixture) assertUnchanged(t *testing.T) {
	t.Helper()
	c := f.owner
	r := c.get(fmt.Sprintf("/events/%d", f.eventID))
	wantStatus(t, r, http.StatusOK)
	wantText(t, r, f.title, f.address, ja("fee.paid")+" 3,000円", "Asia/Tokyo", ja("status.published"))
	wantNoText(t, r, "B による書き換え", "B の住所")
	if ids := c.scheduleIDs(f.eventID); len(ids) != 2 || !ids[f.scheduleID] || !ids[f.zoomScheduleID] {
		t.Fatalf("A's schedules changed: %v", ids)
	}
	r = c.get(fmt.Sprintf("/events/%d/schedules/%d/edit", f.eventID, f.scheduleID))
	wantStatus(t, r, http.StatusOK)
	if in := r.doc(t).First(`input[name="capacity"]`); in.Attr("min") != "1" || in.Attr("max") != "100000" || in.Attr("value") != "10" {
		t.Fatalf("A's schedule capacity changed: %s", r)
	}
	rows := c.applications(f.eventID)
	if len(rows) != 1 || rows[0].ID != f.appID || rows[0].Status != ja("application_status.applied") {
		t.Fatalf("A's applications changed: %+v", rows)
	}
	r = newClient(t, f.app).get("/a/" + f.token)
	wantStatus(t, r, http.StatusOK)
	if st, pay := applicationStatus(t, r); st != ja("application_status.applied") || pay != ja("payment.unpaid") {
		t.Fatalf("A's application is %s / %s, want 申込済 / 未入金", st, pay)
	}
	r = c.get("/members")
	wantStatus(t, r, http.StatusOK)
	wantNoText(t, r, "intruder-staff@b.example")
	m, err := f.app.Store.ZoomMeeting(context.Background(), f.orgID, f.meetingID)
	if err != nil || m.State() != zoompolicy.MeetingCreating || m.Want != zoompolicy.WantPresent || m.Attempts != 0 {
		t.Fatalf("A's Zoom meeting changed: %+v, %v", m, err)
	}
	if ps, err := f.app.Store.UnmatchedParticipants(context.Background(), f.orgID, f.eventID); err != nil ||
		len(ps) != 1 || ps[0].ID != f.sessionID {
		t.Fatalf("A's unmatched participant changed: %+v, %v", ps, err)
	}
	zc, err := f.app.Store.ZoomConnection(context.Background(), f.orgID, f.connID)
	if err != nil || zc.Status != zoompolicy.Linked || !zc.HasTokens {
		t.Fatalf("A's Zoom connection changed: %+v, %v", zc, err)
	}
}

// TestOrganizerRoutesOfAnotherOrganizationAre404 walks every organizer route
// as a member of organization B with organization A's ids: each answers 404
// (never 403, which would confirm the id exists), and A's data is unchanged.
func TestOrganizerRoutesOfAnotherOrganizationAre404(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		routes := a.Web.OrganizerRoutes()
		if len(routes) < 10 {
			t.Fatalf("only %d organizer routes: is OrganizerRoutes broken?", len(routes))
		}
		orgA := newOrgA(t, a)

		b := newClient(t, a)
		b.signup("B社", "owner@b.example")
		bEvent := b.createEvent(eventSpec{Title: "B社のイベント"})
		bGroup := b.addGroup(bEvent, placeGroup("大阪市B-2"))
		bSchedule := b.addSchedule(bEvent, bGroup, 5)

		// Two sets of A's ids: all of A's, and B's own event with A's
		// group, schedule and application inside it (a handler that checks
		// only the event would let those through).
		idSets := []struct {
			name string
			ids  map[string]int64
		}{
			{"A's ids", orgA.ids()},
			{"B's event, A's children", func() map[string]int64 { ids := orgA.ids(); ids["eventID"] = bEvent; return ids }()},
		}
		seen := map[string]bool{}
		for _, set := range idSets {
			for _, rt := range routes {
				path, err := fillPattern(rt.Pattern, set.ids)
				if err != nil {
					t.Fatal(err)
				}
				if !hasWildcard(rt.Pattern) {
					continue // B's own list pages; checked below
				}
				if set.name != idSets[0].name && !hasChildWildcard(rt.Pattern) {
					continue // only {eventID}: nothing of A's to mix in
				}
				for _, m := range placeholderRE.FindAllStringSubmatch(rt.Pattern, -1) {
					seen[m[1]] = true
				}
				var r *resp
				switch rt.Method {
				case http.MethodGet:
					r = b.get(path)
				case http.MethodPost:
					r = b.post(path, plausibleForm())
				default:
					t.Fatalf("route %s %s: the walk does not know method %s", rt.Method, rt.Pattern, rt.Method)
				}
				if r.Status != http.StatusNotFound {
					t.Errorf("%s: B's member got %d, want 404: %s", set.name, r.Status, r)
					continue
				}
				wantText(t, r, ja("error.not_found"))
				wantNoText(t, r, orgA.title, orgA.address, orgA.applicantEmail)
			}
		}
		for _, n := range idNames {
			if !seen[n] {
				t.Errorf("no organizer route has {%s}: the walk proved nothing about it", n)
			}
		}

		// Routes without ids show B's own things and nothing of A's.
		for _, rt := range routes {
			if hasWildcard(rt.Pattern) || rt.Method != http.MethodGet {
				continue
			}
			r := b.get(strings.TrimSuffix(rt.Pattern, "{$}"))
			if rt.Pattern == app.ZoomCallbackPath {
				// Not a page: with no flow of B's under way it sends B back.
				if r.Status != http.StatusSeeOther || r.LocationPath() != "/integrations" {
					t.Errorf("B's Zoom callback without a state: %s", r)
				}
				continue
			}
			wantStatus(t, r, http.StatusOK)
			wantNoText(t, r, orgA.title, orgA.address, orgA.applicantEmail, "owner@a.example", zoomEmailA)
		}
		r := b.get("/events")
		wantText(t, r, "B社のイベント")

		// B's own ids still work: the 404s above are about ownership.
		wantStatus(t, b.get(fmt.Sprintf("/events/%d/schedules/%d/edit", bEvent, bSchedule)), http.StatusOK)

		orgA.assertUnchanged(t)
	})
}

// TestOrganizerRoutesNeedLogin: without a session every organizer route
// sends the browser to the login page (GETs remember where they were going)
// and changes nothing.
func TestOrganizerRoutesNeedLogin(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a := startKaisai(t, db)
		orgA := newOrgA(t, a)
		ids := orgA.ids()
		anon := newClient(t, a)
		for _, rt := range a.Web.OrganizerRoutes() {
			path, err := fillPattern(rt.Pattern, ids)
			if err != nil {
				t.Fatal(err)
			}
			var r *resp
			switch rt.Method {
			case http.MethodGet:
				r = anon.get(path)
			case http.MethodPost:
				r = anon.post(path, plausibleForm())
			default:
				t.Fatalf("route %s %s: the walk does not know method %s", rt.Method, rt.Pattern, rt.Method)
			}
			if r.Status != http.StatusSeeOther || r.LocationPath() != "/login" {
				t.Errorf("anonymous %s %s: want 303 to /login, got %s", rt.Method, path, r)
				continue
			}
			wantNoText(t, r, orgA.title)
			if rt.Method == http.MethodGet {
				u, _ := url.Parse(r.Location())
				if next := u.Query().Get("next"); next != path {
					t.Errorf("anonymous GET %s: login next=%q, want %q", path, next, path)
				}
			}
		}
		orgA.assertUnchanged(t)
	})
}

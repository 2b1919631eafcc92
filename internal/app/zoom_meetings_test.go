package app_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/jobs"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoom"
	"kaisai/internal/zoompolicy"
	"kaisai/internal/zoomsim"
)

// callLog counts kaisai's calls to Zoom's REST API by method and path
// shape ("PATCH /v2/meetings/{id}").
type callLog struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *callLog) RoundTrip(r *http.Request) (*http.Response, error) {
	c.record(r)
	return http.DefaultTransport.RoundTrip(r)
}

// serve records the calls h receives, on the simulator's side: for a
// kaisai in another process.
func (c *callLog) serve(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.record(r)
		h.ServeHTTP(w, r)
	})
}

func (c *callLog) record(r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/v2/") {
		parts := strings.Split(r.URL.EscapedPath(), "/") // a meeting UUID may hold an escaped "/"
		for i, p := range parts {
			if i > 0 && (parts[i-1] == "meetings" || parts[i-1] == "past_meetings" || parts[i-1] == "users") && p != "me" {
				parts[i] = "{id}"
			}
		}
		c.mu.Lock()
		if c.calls == nil {
			c.calls = map[string]int{}
		}
		c.calls[r.Method+" "+strings.Join(parts, "/")]++
		c.mu.Unlock()
	}
}

func (c *callLog) count(call string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[call]
}

// meetingWorld is kaisai beside the Zoom simulator, with an organization
// whose Zoom users link through the simulator's consent page.
type meetingWorld struct {
	sim   *zoomsim.Server
	app   *app.App
	org   event.Organization
	calls *callLog
	oauth *zoom.OAuthConfig
}

// fastZoom syncs meetings and processes webhooks within milliseconds. The
// meetings' sweep is slow on purpose: the sync must run from the nudge
// after each commit and the job's own wake-ups (coalescing, backoff,
// leases), as it does in production, not from a sweep that hides a lost one.
// Leases are production's (store.DefaultLeaseTTL, renewed while a worker
// works).
func fastZoom(c *app.Config) {
	c.ZoomCoalesce = 300 * time.Millisecond
	c.ZoomMeetings = jobs.ZoomMeetingOptions{RetryBase: 50 * time.Millisecond, RetryMax: 300 * time.Millisecond,
		Sweep: time.Minute}
	c.ZoomWebhooks = jobs.WebhookOptions{RetryBase: 50 * time.Millisecond, RetryMax: 300 * time.Millisecond,
		Sweep: 200 * time.Millisecond}
}

func startMeetingWorld(t *testing.T, db testdb.DB, opts ...func(*app.Config)) *meetingWorld {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sim, err := zoomsim.New(zoomsim.Options{Seed: zoomsim.DefaultSeed(), Webhooks: zoomsim.WebhookOptions{TimeScale: 0.001}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	base, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &meetingWorld{sim: sim, calls: &callLog{}}
	hc := &http.Client{Transport: w.calls}
	w.app = apptest.Start(t, db, append([]func(*app.Config){fastZoom, func(c *app.Config) {
		c.ZoomClientID, c.ZoomClientSecret, c.ZoomOAuthURL, c.ZoomHTTPClient = "kaisai-dev", "kaisai-dev-secret", base, hc
		c.ZoomRedirectURL = "http://127.0.0.1:8080" + app.ZoomCallbackPath // the seeded app's
		c.ZoomWebhookSecret = "sim-webhook-secret"
	}}, opts...)...)
	if err := sim.SetWebhookEndpoint("kaisai-dev", w.app.URL()+"/webhooks/zoom", "sim-webhook-secret"); err != nil {
		t.Fatal(err)
	}
	w.oauth = &zoom.OAuthConfig{ClientID: "kaisai-dev", ClientSecret: "kaisai-dev-secret",
		AuthURL: base + "/oauth/authorize", TokenURL: base + "/oauth/token", RevokeURL: base + "/oauth/revoke",
		RedirectURL: "http://127.0.0.1:8080" + app.ZoomCallbackPath}
	w.org, _, err = w.app.Store.CreateOrganization(ctx, event.SignupInput{OrgName: "Zoom主催者", Name: "オーナー",
		Email: fmt.Sprintf("owner-%d@zoom.example", time.Now().UnixNano())}, "hash")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// link links the simulator's user email to the organization as the
// organizer's browser would (consent page, code, PKCE) and returns the
// connection.
func (w *meetingWorld) link(t *testing.T, email string) int64 {
	t.Helper()
	return linkZoomUser(t, w.app.Store, w.oauth, w.sim.BaseURL(), w.org.ID, email)
}

func linkZoomUser(t *testing.T, st *store.Store, oc *zoom.OAuthConfig, simURL string, orgID int64, email string) int64 {
	t.Helper()
	ctx := context.Background()
	verifier := zoom.GenerateVerifier()
	u, err := url.Parse(oc.AuthCodeURL("state-1", verifier))
	if err != nil {
		t.Fatal(err)
	}
	form := u.Query()
	form.Set("email", email)
	form.Set("password", "password")
	form.Set("action", "approve")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(simURL+"/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("consent: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok, err := oc.Exchange(ctx, back.Query().Get("code"), verifier)
	if err != nil {
		t.Fatal(err)
	}
	access := tok.AccessToken
	me, err := zoom.NewClient(nil, tok.APIURL, func(context.Context) (string, error) { return access, nil }).Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id, err := st.LinkZoomConnection(ctx, orgID, store.ZoomUser{ID: me.ID, AccountID: me.AccountID, Email: me.Email,
		DisplayName: me.FirstName + " " + me.LastName, Type: me.Type},
		store.ZoomTokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry,
			Scopes: tok.Scope, APIURL: tok.APIURL})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// zoomEvent is an event with one Zoom group and its schedules.
type zoomEvent struct {
	event     event.Event
	group     event.ScheduleGroup
	schedules []event.Schedule
}

func newZoomEvent(t *testing.T, st *store.Store, orgID int64, z event.ZoomSettings, n int) zoomEvent {
	t.Helper()
	ctx := context.Background()
	e := event.Event{OrgID: orgID, Title: "Zoomで学ぶGo", Fee: event.FeeFree, TimeZone: "Asia/Tokyo",
		Status: event.StatusPublished}
	if _, err := st.CreateEvent(ctx, &e, ""); err != nil {
		t.Fatal(err)
	}
	g := event.ScheduleGroup{OrgID: orgID, EventID: e.ID, Venue: event.VenueZoom, Zoom: &z}
	g.Normalize()
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateGroup(ctx, &g, ""); err != nil {
		t.Fatal(err)
	}
	ze := zoomEvent{event: e, group: g}
	for i := range n {
		ze.schedules = append(ze.schedules, addSchedule(t, st, g, i))
	}
	return ze
}

func addSchedule(t *testing.T, st *store.Store, g event.ScheduleGroup, day int) event.Schedule {
	t.Helper()
	start := time.Now().Add(time.Duration(7+day) * 24 * time.Hour).Truncate(time.Hour).UTC()
	sc := event.Schedule{OrgID: g.OrgID, EventID: g.EventID, GroupID: g.ID, StartsAt: start,
		EndsAt: start.Add(90 * time.Minute), Capacity: 50}
	if _, err := st.CreateSchedule(context.Background(), &sc, ""); err != nil {
		t.Fatal(err)
	}
	return sc
}

// holdMeetings keeps the sync off rows (held by a lease of the test's, once
// no sync holds them) until release, which lets them go and makes them due
// at once.
func holdMeetings(t *testing.T, st *store.Store, rows []store.ZoomMeeting) (release func()) {
	t.Helper()
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	l := holdRows(t, st, "lease_owner", ids...)
	return func() {
		t.Helper()
		if err := st.EndLease(context.Background(), l); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			// The nudge that a worker ending its own lease would not need.
			if err := st.RetryZoomMeeting(context.Background(), r.OrgID, r.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// holdRows holds zoom_meetings rows for a test, as a worker would: their
// lease column (lease_owner for the meeting, reg_lease_owner for its
// registrant list) names a lease of the test's, once no live lease holds
// them. Nothing syncs them until the lease ends.
func holdRows(t *testing.T, st *store.Store, column string, ids ...int64) store.Lease {
	t.Helper()
	ctx := context.Background()
	l, err := st.TakeLease(ctx, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		within(t, 30*time.Second, "the row to be free to hold", func() bool {
			r, err := st.WriteDB().ExecContext(ctx, `UPDATE zoom_meetings SET `+column+` = $1 WHERE id = $2
				AND (`+column+` IS NULL OR `+column+` NOT IN (SELECT owner FROM work_leases))`, l.Owner, id)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := r.RowsAffected()
			return n == 1
		})
	}
	return l
}

// waitInStep waits until no meeting is due: every change reached Zoom.
func (w *meetingWorld) waitInStep(t *testing.T) {
	t.Helper()
	waitMeetingsInStep(t, w.app.Store, 30*time.Second)
}

func waitMeetingsInStep(t *testing.T, st *store.Store, limit time.Duration) {
	t.Helper()
	eventually.Within(t, limit, "the Zoom meetings to be in step", func() bool {
		ok, err := st.ZoomMeetingsInStep(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
}

// until waits for cond, as eventually.True does.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventually.True(t, what, cond)
}

func (w *meetingWorld) rows(t *testing.T, eventID int64) []store.ZoomMeeting {
	t.Helper()
	ms, err := w.app.Store.EventZoomMeetings(context.Background(), w.org.ID, eventID)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// simMeetings are the simulator's meetings by id.
func simMeetings(sim *zoomsim.Server) map[int64]zoomsim.MeetingSnapshot {
	out := map[int64]zoomsim.MeetingSnapshot{}
	for _, m := range sim.State().Meetings {
		out[m.ID] = m
	}
	return out
}

// checkZoomMatches checks that Zoom holds exactly the meetings kaisai's
// rows say, with kaisai's settings: one per present row, none else.
func checkZoomMatches(t *testing.T, st *store.Store, sim *zoomsim.Server, orgID int64, events ...zoomEvent) {
	t.Helper()
	ctx := context.Background()
	zm := simMeetings(sim)
	want := map[int64]bool{}
	for _, ze := range events {
		e, err := st.Event(ctx, orgID, ze.event.ID)
		if err != nil {
			t.Fatal(err)
		}
		gs, err := st.Groups(ctx, orgID, ze.event.ID)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := st.EventZoomMeetings(ctx, orgID, ze.event.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			for _, sc := range g.Schedules {
				var row *store.ZoomMeeting
				for i := range rows {
					if rows[i].ScheduleID == sc.ID && rows[i].Want == zoompolicy.WantPresent {
						row = &rows[i]
					}
				}
				if g.Venue != event.VenueZoom {
					if row != nil {
						t.Errorf("schedule %d of a %s group has a meeting row", sc.ID, g.Venue)
					}
					continue
				}
				if row == nil || row.ZoomID == 0 {
					t.Errorf("schedule %d has no meeting: %+v", sc.ID, row)
					continue
				}
				want[row.ZoomID] = true
				m, ok := zm[row.ZoomID]
				if !ok {
					t.Errorf("schedule %d: meeting %d is not on Zoom", sc.ID, row.ZoomID)
					continue
				}
				z := g.Zoom
				if m.Topic != e.Title || m.StartTime != zoom.ZoomTime(sc.StartsAt) || m.Duration != sc.ZoomMinutes() ||
					m.Timezone != e.TimeZone || m.Password != z.Passcode || m.Agenda != z.Agenda ||
					m.Settings.WaitingRoom != z.WaitingRoom || m.Settings.MeetingAuthentication != z.Authentication ||
					m.Settings.HostVideo != z.HostVideo || m.Settings.ParticipantVideo != z.ParticipantVideo ||
					m.Settings.MuteUponEntry != z.MuteUponEntry || (m.Settings.ApprovalType == 1) != z.Registration {
					t.Errorf("schedule %d: Zoom's meeting %+v does not match kaisai's %+v / %+v", sc.ID, m, sc, *z)
				}
				if row.JoinURL != m.JoinURL || row.Passcode != m.Password {
					t.Errorf("schedule %d: kaisai shows %q / %q, Zoom has %q / %q", sc.ID, row.JoinURL, row.Passcode,
						m.JoinURL, m.Password)
				}
			}
		}
	}
	for id, m := range zm {
		if !want[id] {
			t.Errorf("Zoom has meeting %d (%q at %s) that kaisai does not", id, m.Topic, m.StartTime)
		}
	}
}

var licensedZoom = event.ZoomSettings{Passcode: "abc123", WaitingRoom: true, Registration: true,
	HostVideo: true, MuteUponEntry: true, Agenda: "第1部: 入門"}

// TestZoomMeetingLifecycle walks DESIGN.md §4 against the simulator: create
// per schedule, edits PATCHed (quick edits coalesce), the host changed,
// changes made on Zoom's side, a schedule, the group's Zoom and the event
// deleted.
func TestZoomMeetingLifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := startMeetingWorld(t, db)
		st := w.app.Store
		licensed := w.link(t, "licensed@example.com")
		basic := w.link(t, "basic@example.com")
		z := licensedZoom
		z.ConnID = licensed
		ze := newZoomEvent(t, st, w.org.ID, z, 2)
		var row store.ZoomMeeting // the one changed on Zoom's side

		if !t.Run("each schedule gets one meeting, with the passcode in its join URL", func(t *testing.T) {
			w.waitInStep(t)
			checkZoomMatches(t, st, w.sim, w.org.ID, ze)
			if n := w.calls.count("POST /v2/users/{id}/meetings"); n != 2 {
				t.Errorf("%d creates for 2 schedules", n)
			}
			for _, r := range w.rows(t, ze.event.ID) {
				if r.State() != zoompolicy.MeetingCreated || !strings.Contains(r.JoinURL, "pwd=") {
					t.Errorf("row %+v: state %s", r, r.State())
				}
			}
		}) {
			return
		}

		if !t.Run("edits made while the meetings wait make one PATCH per meeting, with only what changed", func(t *testing.T) {
			// Four edits made while the meetings wait (as within the coalescing
			// delay, here held for certain whatever the machine's load) make one
			// PATCH per meeting, with only what changed.
			patches := w.calls.count("PATCH /v2/meetings/{id}")
			release := holdMeetings(t, st, w.rows(t, ze.event.ID))
			for i, title := range []string{"Go入門 1", "Go入門 2", "Go入門 最終"} {
				ze.event.Title = title
				if err := st.UpdateEvent(ctx, &ze.event); err != nil {
					t.Fatal(i, err)
				}
			}
			ze.group.Zoom.Passcode = "xyz789"
			if err := st.UpdateGroup(ctx, &ze.group); err != nil {
				t.Fatal(err)
			}
			release()
			w.waitInStep(t)
			checkZoomMatches(t, st, w.sim, w.org.ID, ze)
			if n := w.calls.count("PATCH /v2/meetings/{id}") - patches; n != 2 {
				t.Errorf("four quick edits made %d PATCHes for 2 meetings, want 2", n)
			}
		}) {
			return
		}

		if !t.Run("Zoom's meeting.updated about kaisai's own PATCH is recognized as kaisai's", func(t *testing.T) {
			// Zoom's meeting.updated about kaisai's own PATCH is recognized as ours.
			waitWebhooksDone(t, w, "meeting.updated", 2)
			for _, r := range w.rows(t, ze.event.ID) {
				if r.ZoomState != "" {
					t.Errorf("kaisai's own edit marked meeting %d %q %v", r.ZoomID, r.ZoomState, r.ZoomChanges)
				}
			}
		}) {
			return
		}

		if !t.Run("a change on Zoom's side is shown, and 再適用 undoes it", func(t *testing.T) {
			// A change on Zoom's side is shown, and 再適用 undoes it.
			row = w.rows(t, ze.event.ID)[0]
			if err := w.sim.EditMeeting(row.ZoomID, []byte(`{"topic":"Zoomで変えた","settings":{"mute_upon_entry":false}}`)); err != nil {
				t.Fatal(err)
			}
			until(t, "the Zoom-side change to be recorded", func() bool {
				m, _ := st.ZoomMeeting(ctx, w.org.ID, row.ID)
				return m.ZoomState == zoompolicy.ChangedOnZoom
			})
			m, _ := st.ZoomMeeting(ctx, w.org.ID, row.ID)
			if !slices.Equal(m.ZoomChanges, []string{"settings.mute_upon_entry", "topic"}) {
				t.Errorf("changes on Zoom's side: %v", m.ZoomChanges)
			}
			if err := st.ReapplyZoomMeeting(ctx, w.org.ID, row.ID); err != nil {
				t.Fatal(err)
			}
			w.waitInStep(t)
			checkZoomMatches(t, st, w.sim, w.org.ID, ze)
			if m, _ := st.ZoomMeeting(ctx, w.org.ID, row.ID); m.ZoomState != "" {
				t.Errorf("after 再適用 the meeting is still %q", m.ZoomState)
			}
		}) {
			return
		}

		if !t.Run("a meeting deleted on Zoom's side is shown, and 再作成 makes a new one", func(t *testing.T) {
			// Deleted on Zoom's side: shown, and 再作成 makes a new one.
			if err := w.sim.DeleteMeeting(row.ZoomID); err != nil {
				t.Fatal(err)
			}
			until(t, "the Zoom-side deletion to be recorded", func() bool {
				m, _ := st.ZoomMeeting(ctx, w.org.ID, row.ID)
				return m.State() == zoompolicy.MeetingDeleted
			})
			if err := st.RecreateZoomMeeting(ctx, w.org.ID, row.ID); err != nil {
				t.Fatal(err)
			}
			w.waitInStep(t)
			checkZoomMatches(t, st, w.sim, w.org.ID, ze)
			if m, _ := st.ZoomMeeting(ctx, w.org.ID, row.ID); m.ZoomID == row.ZoomID || m.ZoomID == 0 {
				t.Errorf("re-created meeting has id %d (was %d)", m.ZoomID, row.ZoomID)
			}
		}) {
			return
		}

		if !t.Run("a new schedule adds its meeting, and deleting one deletes its meeting", func(t *testing.T) {
			// A third schedule adds its meeting; deleting one deletes its meeting.
			ze.schedules = append(ze.schedules, addSchedule(t, st, ze.group, 5))
			w.waitInStep(t)
			checkZoomMatches(t, st, w.sim, w.org.ID, ze)
			if err := st.DeleteSchedule(ctx, w.org.ID, ze.event.ID, ze.schedules[0].ID); err != nil {
				t.Fatal(err)
			}
			w.waitInStep(t)
			checkZoomMatches(t, st, w.sim, w.org.ID, ze)
		}) {
			return
		}

		if !t.Run("a new host moves the meetings", func(t *testing.T) {
			// A new host moves the meetings (no registration for a Basic host).
			ze.group.Zoom.ConnID, ze.group.Zoom.Registration = basic, false
			ze.group.Zoom.Passcode = "q1w2e3"
			if err := st.UpdateGroup(ctx, &ze.group); err != nil {
				t.Fatal(err)
			}
			w.waitInStep(t)
			checkZoomMatches(t, st, w.sim, w.org.ID, ze)
			basicUser, _ := w.sim.User("basic@example.com")
			for id, m := range simMeetings(w.sim) {
				if m.HostID != basicUser.ID {
					t.Errorf("meeting %d still hosted by %s", id, m.HostID)
				}
			}
		}) {
			return
		}

		if !t.Run("back to a manual 開催URL, the meetings go", func(t *testing.T) {
			// Back to a manual 開催URL: the meetings go.
			ze.group.Venue, ze.group.OnlineURL = event.VenueURL, "https://meet.example/x"
			ze.group.Normalize()
			if err := st.UpdateGroup(ctx, &ze.group); err != nil {
				t.Fatal(err)
			}
			w.waitInStep(t)
			if n := len(simMeetings(w.sim)); n != 0 {
				t.Errorf("%d meetings left on Zoom after the group left Zoom", n)
			}
		}) {
			return
		}

		if !t.Run("deleting an event deletes its meetings", func(t *testing.T) {
			// Deleting an event deletes its meetings.
			z2 := licensedZoom
			z2.ConnID = licensed
			ze2 := newZoomEvent(t, st, w.org.ID, z2, 2)
			w.waitInStep(t)
			checkZoomMatches(t, st, w.sim, w.org.ID, ze2)
			if err := st.DeleteEvent(ctx, w.org.ID, ze2.event.ID); err != nil {
				t.Fatal(err)
			}
			w.waitInStep(t)
			if n := len(simMeetings(w.sim)); n != 0 {
				t.Errorf("%d meetings left on Zoom after the event was deleted", n)
			}
			var left int
			if err := st.WriteDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM zoom_meetings`).Scan(&left); err != nil || left != 0 {
				t.Errorf("%d zoom_meetings rows left, %v", left, err)
			}
		}) {
			return
		}
	})
}

// waitWebhooksDone waits until at least n events of kind were delivered to
// kaisai and every stored event is processed.
func waitWebhooksDone(t *testing.T, w *meetingWorld, kind string, n int) {
	t.Helper()
	until(t, "webhooks to be delivered and processed", func() bool {
		got := 0
		for _, d := range w.sim.Deliveries() {
			if d.Event == kind && d.Delivered {
				got++
			}
		}
		var pending int
		_ = w.app.Store.WriteDB().QueryRowContext(context.Background(),
			`SELECT COUNT(*) FROM zoom_webhook_events WHERE status = 'pending'`).Scan(&pending)
		return got >= n && pending == 0
	})
}

// TestZoomMeetingUnlinkKeepsMeetings: unlinking deletes nothing; the
// meetings are shown unmanaged and edits wait; linking the same Zoom user
// again applies them.
func TestZoomMeetingUnlinkKeepsMeetings(t *testing.T) {
	ctx := context.Background()
	w := startMeetingWorld(t, testdb.SQLite(t))
	st := w.app.Store
	conn := w.link(t, "licensed@example.com")
	z := licensedZoom
	z.ConnID = conn
	ze := newZoomEvent(t, st, w.org.ID, z, 1)
	w.waitInStep(t)
	before := simMeetings(w.sim)
	if err := st.UnlinkZoomConnection(ctx, w.org.ID, conn); err != nil {
		t.Fatal(err)
	}
	ze.event.Title = "連携解除中の変更"
	if err := st.UpdateEvent(ctx, &ze.event); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteSchedule(ctx, w.org.ID, ze.event.ID, ze.schedules[0].ID); err != nil {
		t.Fatal(err)
	}
	// The signal that the sync ran past those edits: a meeting of another,
	// linked host, made after them, reaches Zoom, and no sync run is under
	// way. Due rows are claimed in the order they fell due, so an unlinked
	// host's row that the sync took up would have gone first.
	other := licensedZoom
	other.ConnID, other.Passcode = w.link(t, "numeric@example.com"), "12345678"
	control := newZoomEvent(t, st, w.org.ID, other, 1)
	w.waitInStep(t)
	until(t, "the control meeting on Zoom and the sync idle", func() bool {
		rs := w.rows(t, control.event.ID)
		if len(rs) != 1 || rs[0].ZoomID == 0 {
			return false
		}
		holders, err := st.Holders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range holders {
			if strings.HasPrefix(h, jobs.SyncZoomMeetingsArgs{}.Kind()+" ") {
				return false
			}
		}
		return true
	})
	got := simMeetings(w.sim)
	if len(got) != len(before)+1 {
		t.Fatalf("unlinked, Zoom's meetings changed: %d → %d (one of them the control's)", len(before), len(got)-1)
	}
	for id, m := range before {
		if g, ok := got[id]; !ok || g.Topic != m.Topic {
			t.Errorf("unlinked, meeting %d changed on Zoom: topic %q → %q (kept: %t)", id, m.Topic, g.Topic, ok)
		}
	}
	var rows []store.ZoomMeeting
	if err := func() error {
		r, err := st.EventZoomMeetings(ctx, w.org.ID, ze.event.ID)
		rows = r
		return err
	}(); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.State() != zoompolicy.MeetingUnmanaged {
			t.Errorf("unlinked host's meeting is %s", r.State())
		}
	}
	if again := w.link(t, "licensed@example.com"); again != conn {
		t.Fatalf("linking the same Zoom user again made connection %d, not %d", again, conn)
	}
	w.waitInStep(t)
	after := simMeetings(w.sim)
	for id := range before {
		if _, ok := after[id]; ok {
			t.Errorf("after re-linking, the deleted schedule's meeting %d is still on Zoom", id)
		}
	}
}

// TestZoomMeetingRefusals: Zoom's refusals are recorded with what they
// mean; the event stays as saved and nothing is half-done on Zoom.
func TestZoomMeetingRefusals(t *testing.T) {
	ctx := context.Background()
	w := startMeetingWorld(t, testdb.SQLite(t))
	st := w.app.Store
	numeric := w.link(t, "numeric@example.com") // passcodes of 8 digits only
	z := licensedZoom
	z.ConnID, z.Passcode = numeric, "abc123"
	ze := newZoomEvent(t, st, w.org.ID, z, 1)
	until(t, "the passcode refusal", func() bool {
		rs := w.rows(t, ze.event.ID)
		return len(rs) == 1 && rs[0].State() == zoompolicy.MeetingError
	})
	r := w.rows(t, ze.event.ID)[0]
	if r.ErrorKind != jobs.ZoomErrPasscode || r.ErrorCode != 300 || !r.DueAt.IsZero() {
		t.Errorf("a refused passcode: %+v", r)
	}
	if n := len(simMeetings(w.sim)); n != 0 {
		t.Errorf("a refused create left %d meetings", n)
	}
	// The organizer fixes the passcode: the meeting is made.
	ze.group.Zoom.Passcode = "12345678"
	if err := st.UpdateGroup(ctx, &ze.group); err != nil {
		t.Fatal(err)
	}
	w.waitInStep(t)
	checkZoomMatches(t, st, w.sim, w.org.ID, ze)
	if r := w.rows(t, ze.event.ID)[0]; r.State() != zoompolicy.MeetingCreated || r.ErrorKind != "" {
		t.Errorf("after the fix: %+v", r)
	}

	// The host's daily limit: the meeting waits for 00:00 UTC and says so.
	limits := zoomsim.ZoomLimits()
	limits.MeetingWritesPerHost = 1
	w.sim.SetLimits(limits)
	ze.event.Title = "上限までの変更"
	if err := st.UpdateEvent(ctx, &ze.event); err != nil {
		t.Fatal(err)
	}
	w.waitInStep(t) // one PATCH, then another
	ze.event.Title = "上限に当たる変更"
	if err := st.UpdateEvent(ctx, &ze.event); err != nil {
		t.Fatal(err)
	}
	until(t, "the daily limit to be recorded", func() bool {
		rs := w.rows(t, ze.event.ID)
		return rs[0].ErrorKind == jobs.ZoomErrDailyLimit
	})
	r = w.rows(t, ze.event.ID)[0]
	midnight := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	if r.DueAt.Before(midnight.Add(-time.Minute)) || r.DueAt.After(midnight.Add(time.Minute)) {
		t.Errorf("daily limit: retried at %s, want 00:00 UTC %s", r.DueAt, midnight)
	}
}

// TestZoomMeetingHostLostLicence: a host whose licence was taken away can
// no longer have registration meetings: the edit is refused by Zoom, shown
// as such, and nothing is retried until the organizer acts.
func TestZoomMeetingHostLostLicence(t *testing.T) {
	ctx := context.Background()
	w := startMeetingWorld(t, testdb.SQLite(t))
	st := w.app.Store
	z := licensedZoom
	z.ConnID = w.link(t, "licensed@example.com")
	ze := newZoomEvent(t, st, w.org.ID, z, 1)
	w.waitInStep(t)
	if err := w.sim.SetUserType("licensed@example.com", zoomsim.UserBasic); err != nil {
		t.Fatal(err)
	}
	ze.event.Title = "ライセンスを失ったホスト"
	if err := st.UpdateEvent(ctx, &ze.event); err != nil {
		t.Fatal(err)
	}
	until(t, "the licence refusal", func() bool { return w.rows(t, ze.event.ID)[0].State() == zoompolicy.MeetingError })
	r := w.rows(t, ze.event.ID)[0]
	if r.ErrorKind != jobs.ZoomErrLicense || r.ErrorCode != 200 || !r.DueAt.IsZero() {
		t.Errorf("a host without a licence: %+v", r)
	}
	// Turning 登録 off is the fix.
	ze.group.Zoom.Registration = false
	if err := st.UpdateGroup(ctx, &ze.group); err != nil {
		t.Fatal(err)
	}
	w.waitInStep(t)
	checkZoomMatches(t, st, w.sim, w.org.ID, ze)
}

// TestZoomJoinURLForParticipants: an eligible participant gets a join URL
// on their application page and in their 申込完了 mail. Without 登録 it is
// the meeting's (準備中 in a mail sent before the meeting exists); with 登録
// it is their own registrant URL, and the mail waits the moment it takes to
// register them, even when the meeting itself is still being created.
func TestZoomJoinURLForParticipants(t *testing.T) {
	ctx := context.Background()
	w := startMeetingWorld(t, testdb.SQLite(t), func(c *app.Config) {
		c.ZoomCoalesce = 2 * time.Second // the first application comes before the meeting
	})
	st := w.app.Store
	conn := w.link(t, "licensed@example.com")
	page := func(a event.Application) string {
		resp, err := http.Get(w.app.URL() + "/a/" + a.Token)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	mailTo := func(a event.Application) string {
		var body string
		until(t, "the mail to "+a.Email, func() bool {
			return st.WriteDB().QueryRowContext(ctx, `SELECT body FROM outbox WHERE application_id = $1 AND status <> 'pending'`,
				a.ID).Scan(&body) == nil
		})
		return body
	}
	for _, registration := range []bool{false, true} {
		z := licensedZoom
		z.ConnID, z.Registration = conn, registration
		ze := newZoomEvent(t, st, w.org.ID, z, 1)
		apps := map[int]event.Application{}
		apply := func(i int) event.Application {
			res, err := st.Apply(ctx, &ze.event, event.ApplicationInput{ScheduleID: ze.schedules[0].ID,
				Name: fmt.Sprintf("参加者 %d", i), Email: fmt.Sprintf("zoom-p%d@example.com", i),
				SubmitKey: fmt.Sprintf("zoom-join-key-%d-%06d-abcdefgh", ze.event.ID, i)})
			if err != nil {
				t.Fatal(err)
			}
			apps[i] = res.Application
			return res.Application
		}
		early := apply(1)
		if !registration {
			if body := mailTo(early); !strings.Contains(body, "参加URLは準備中です") {
				t.Errorf("a mail before the meeting exists:\n%s", body)
			}
		}
		w.waitInStep(t)
		apply(2)
		meetingURL := w.rows(t, ze.event.ID)[0].JoinURL
		for _, a := range apps {
			want := meetingURL
			if registration {
				var reg store.ApplicationRegistrant
				until(t, "the registration of "+a.Email, func() bool {
					regs, _ := st.ApplicationRegistrantsUnscoped(ctx, []int64{a.ID})
					reg = regs[a.ID]
					return reg.Status == zoompolicy.RegistrantRegistered
				})
				want = reg.JoinURL
				if want == meetingURL || want == "" {
					t.Fatalf("registrant URL %q", want)
				}
			}
			if !strings.Contains(page(a), html.EscapeString(want)) {
				t.Errorf("登録 %v: the application page of %s lacks %s", registration, a.Email, want)
			}
			if body := mailTo(a); (registration || a.ID != early.ID) && !strings.Contains(body, want) {
				t.Errorf("登録 %v: the mail to %s lacks %s:\n%s", registration, a.Email, want, body)
			}
		}
	}
}

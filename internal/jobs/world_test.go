package jobs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"kaisai/internal/event"
	"kaisai/internal/secretbox"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoom"
	"kaisai/internal/zoomconn"
	"kaisai/internal/zoomsim"
)

// The world the workers' tests run in: a real store (SQLite or
// PostgreSQL) on a clock the test moves, and, for the Zoom workers, the
// Zoom simulator over real HTTP with a Zoom user linked to the
// organization. Each worker is run synchronously, by calling its Work with
// a job value, and the outcome is then read from the store, the simulator
// or the SMTP server.

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// testClock is the store's and the workers' clock; the test moves it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// coalesce is the store's coalescing delay of Zoom meeting edits in these
// tests, as in production.
const coalesce = 2 * time.Second

type world struct {
	st    *store.Store
	clock *testClock
	org   event.Organization
	owner event.Member
}

// newWorld opens a migrated store on db with an organization.
func newWorld(t *testing.T, db testdb.DB) *world {
	t.Helper()
	ctx := context.Background()
	box, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	// Real time as a start: the simulator's tokens expire by it.
	c := &testClock{now: time.Now().UTC().Truncate(time.Second)}
	st, err := store.Open(ctx, store.Options{DatabaseURL: db.DatabaseURL, DataDir: db.DataDir, Now: c.Now,
		Secrets: box, ZoomCoalesce: coalesce})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, quietLog); err != nil {
		t.Fatal(err)
	}
	org, owner, err := st.CreateOrganization(ctx, event.SignupInput{OrgName: "ジョブ主催者", Name: "オーナー",
		Email: "owner@jobs.example"}, "hash")
	if err != nil {
		t.Fatal(err)
	}
	return &world{st: st, clock: c, org: org, owner: owner}
}

// job is a River job value of args, as River hands it to Work.
func job[T river.JobArgs](args T) *river.Job[T] {
	return &river.Job[T]{JobRow: &rivertype.JobRow{Kind: args.Kind(), Attempt: 1}, Args: args}
}

// callLog counts the calls made to Zoom's REST API, by method and path
// shape ("PATCH /v2/meetings/{id}"), on their way over real HTTP.
type callLog struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *callLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/v2/") {
		parts := strings.Split(r.URL.Path, "/")
		for i := 3; i < len(parts); i++ {
			if (parts[i-1] == "meetings" || parts[i-1] == "users") && parts[i] != "me" {
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
	return http.DefaultTransport.RoundTrip(r)
}

func (c *callLog) count(call string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[call]
}

// zoomWorld is a world with the Zoom simulator beside it and a linked host.
type zoomWorld struct {
	*world
	sim   *zoomsim.Server
	calls *callLog
	zoom  *zoomconn.Clients
	conn  int64 // the linked connection of licensed@example.com
}

// The seeded app of the simulator (zoomsim.DefaultSeed).
const (
	simClientID = "kaisai-dev"
	simSecret   = "kaisai-dev-secret"
	simRedirect = "http://127.0.0.1:8080/integrations/zoom/callback"
)

func newZoomWorld(t *testing.T, db testdb.DB) *zoomWorld {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sim, err := zoomsim.New(zoomsim.Options{Seed: zoomsim.DefaultSeed()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	base, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	calls := &callLog{}
	oc := &zoom.OAuthConfig{ClientID: simClientID, ClientSecret: simSecret, RedirectURL: simRedirect,
		AuthURL: base + "/oauth/authorize", TokenURL: base + "/oauth/token", RevokeURL: base + "/oauth/revoke",
		HTTPClient: &http.Client{Transport: calls}}
	w := &zoomWorld{world: newWorld(t, db), sim: sim, calls: calls}
	w.zoom = &zoomconn.Clients{Store: w.st, OAuth: oc, Log: quietLog}
	w.conn = w.link(t, oc, "licensed@example.com")
	return w
}

// link links the simulator's user email to the organization: its consent
// page approved, the code exchanged, the user read and stored.
func (w *zoomWorld) link(t *testing.T, oc *zoom.OAuthConfig, email string) int64 {
	t.Helper()
	ctx := context.Background()
	verifier := zoom.GenerateVerifier()
	u, err := url.Parse(oc.AuthCodeURL("state", verifier))
	if err != nil {
		t.Fatal(err)
	}
	form := u.Query()
	form.Set("email", email)
	form.Set("password", "password")
	form.Set("action", "approve")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.PostForm(w.sim.BaseURL()+"/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("consent for %s: %d, redirected to %q", email, resp.StatusCode, resp.Header.Get("Location"))
	}
	tok, err := oc.Exchange(ctx, back.Query().Get("code"), verifier)
	if err != nil {
		t.Fatal(err)
	}
	me, err := zoom.NewClient(nil, tok.APIURL, func(context.Context) (string, error) { return tok.AccessToken, nil }).Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id, err := w.st.LinkZoomConnection(ctx, w.org.ID, store.ZoomUser{ID: me.ID, AccountID: me.AccountID, Email: me.Email,
		DisplayName: me.FirstName + " " + me.LastName, Type: me.Type},
		store.ZoomTokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry,
			Scopes: tok.Scope, APIURL: tok.APIURL})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// zoomEvent is a published event with one Zoom group hosted by the linked
// user, and one schedule a week ahead.
type zoomEvent struct {
	event    event.Event
	group    event.ScheduleGroup
	schedule event.Schedule
}

func (w *zoomWorld) newZoomEvent(t *testing.T, fee event.Fee, z event.ZoomSettings) zoomEvent {
	t.Helper()
	ctx := context.Background()
	e := event.Event{OrgID: w.org.ID, Title: "Zoomで学ぶGo", Fee: fee, TimeZone: "Asia/Tokyo", Status: event.StatusPublished}
	if fee == event.FeePaid {
		e.PriceJPY = 3000
	}
	if _, err := w.st.CreateEvent(ctx, &e, ""); err != nil {
		t.Fatal(err)
	}
	z.ConnID = w.conn
	g := event.ScheduleGroup{OrgID: w.org.ID, EventID: e.ID, Venue: event.VenueZoom, Zoom: &z}
	g.Normalize()
	if _, err := w.st.CreateGroup(ctx, &g, ""); err != nil {
		t.Fatal(err)
	}
	start := w.clock.Now().Add(7 * 24 * time.Hour).Truncate(time.Hour)
	sc := event.Schedule{OrgID: w.org.ID, EventID: e.ID, GroupID: g.ID, StartsAt: start, EndsAt: start.Add(90 * time.Minute),
		Capacity: 50}
	if _, err := w.st.CreateSchedule(ctx, &sc, ""); err != nil {
		t.Fatal(err)
	}
	return zoomEvent{event: e, group: g, schedule: sc}
}

// meetingWorker is the meeting sync as NewClient builds it, on the world.
func (w *zoomWorld) meetingWorker() *SyncZoomMeetingsWorker {
	return &SyncZoomMeetingsWorker{Store: w.st, Zoom: w.zoom, Options: ZoomMeetingOptions{}.withDefaults(),
		Now: w.clock.Now, Log: quietLog}
}

// syncMeetings runs one SyncZoomMeetings job to its end.
func (w *zoomWorld) syncMeetings(t *testing.T) {
	t.Helper()
	if err := w.meetingWorker().Work(context.Background(), job(SyncZoomMeetingsArgs{})); err != nil {
		t.Fatalf("SyncZoomMeetings: %v", err)
	}
}

// registrantWorker is the registrant sync as NewClient builds it.
func (w *zoomWorld) registrantWorker() *SyncZoomRegistrantsWorker {
	return &SyncZoomRegistrantsWorker{Store: w.st, Zoom: w.zoom, Options: ZoomMeetingOptions{}.withDefaults(),
		Check: time.Hour, Now: w.clock.Now, Log: quietLog}
}

// syncRegistrants runs one SyncZoomRegistrants job to its end.
func (w *zoomWorld) syncRegistrants(t *testing.T) {
	t.Helper()
	if err := w.registrantWorker().Work(context.Background(), job(SyncZoomRegistrantsArgs{})); err != nil {
		t.Fatalf("SyncZoomRegistrants: %v", err)
	}
}

// meeting is the schedule's meeting row.
func (w *zoomWorld) meeting(t *testing.T, sc event.Schedule) store.ZoomMeeting {
	t.Helper()
	m, err := w.st.ScheduleZoomMeeting(context.Background(), w.org.ID, sc.ID)
	if err != nil {
		t.Fatalf("the meeting of schedule %d: %v", sc.ID, err)
	}
	return m
}

// simMeeting is the meeting as the simulator holds it.
func (w *zoomWorld) simMeeting(id int64) (zoomsim.MeetingSnapshot, bool) {
	for _, m := range w.sim.State().Meetings {
		if m.ID == id {
			return m, true
		}
	}
	return zoomsim.MeetingSnapshot{}, false
}

// created syncs the event's meeting into being and returns its row.
func (w *zoomWorld) created(t *testing.T, ze zoomEvent) store.ZoomMeeting {
	t.Helper()
	w.clock.Add(coalesce)
	w.syncMeetings(t)
	m := w.meeting(t, ze.schedule)
	if m.ZoomID == 0 || m.ErrorKind != "" {
		t.Fatalf("the meeting was not created: %+v", m)
	}
	return m
}

// deleteOnZoom deletes a meeting on Zoom's side, as its host would there.
func (w *zoomWorld) deleteOnZoom(t *testing.T, zoomID int64) {
	t.Helper()
	err := w.zoom.Do(context.Background(), w.org.ID, w.conn, func(cl *zoom.Client) error {
		return cl.DeleteMeeting(context.Background(), zoomID)
	})
	if err != nil {
		t.Fatalf("delete meeting %d on Zoom: %v", zoomID, err)
	}
}

// apply applies participant i to the schedule.
func (w *world) apply(t *testing.T, e event.Event, sc event.Schedule, i int) event.Application {
	t.Helper()
	res, err := w.st.Apply(context.Background(), &e, event.ApplicationInput{ScheduleID: sc.ID,
		Name: fmt.Sprintf("参加者%d", i), Email: fmt.Sprintf("p%d@example.com", i),
		SubmitKey: fmt.Sprintf("jobs-test-key-%d-%06d-abcdefgh", e.ID, i)})
	if err != nil {
		t.Fatalf("apply %d: %v", i, err)
	}
	return res.Application
}

// rule runs fn as the subtest name, on SQLite and, when configured,
// PostgreSQL, each with a new database. Rules share nothing (each has its
// own database, simulator and clock), so they run side by side.
func rule(t *testing.T, name string, fn func(t *testing.T, db testdb.DB)) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		testdb.Each(t, fn)
	})
}

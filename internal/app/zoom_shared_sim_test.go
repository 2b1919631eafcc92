package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/htmltest"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
	"kaisai/internal/zoomsim"
)

// publicURL is what the organizer's browser sees of kaisai, a load balancer
// in front of the instances: the seeded app's redirect URI.
const publicURL = "http://127.0.0.1:8080"

// startSim runs a simulator with the default seed until the test ends.
func startSim(t *testing.T) *zoomsim.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sim, err := zoomsim.New(zoomsim.Options{Seed: zoomsim.DefaultSeed(), Webhooks: zoomsim.WebhookOptions{TimeScale: 0.001}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	if _, err := sim.Start(ctx, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	return sim
}

// sharedSimConfig is what `kaisai serve --zoom-simulator=URL` gives every
// instance: the shared simulator's OAuth and API, its seeded app, the
// webhook secret the operator gave the simulator, and the banner.
func sharedSimConfig(sim *zoomsim.Server, secret string) func(*app.Config) {
	return func(c *app.Config) {
		c.ZoomClientID, c.ZoomClientSecret = "kaisai-dev", "kaisai-dev-secret"
		c.ZoomOAuthURL, c.ZoomAPIURL, c.ZoomSimulated = sim.BaseURL(), sim.BaseURL(), true
		c.ZoomRedirectURL = publicURL + app.ZoomCallbackPath
		c.ZoomWebhookSecret = secret
	}
}

// ownSimConfig is what `--zoom-simulator=on` gives an instance: a simulator
// of its own beside it.
func ownSimConfig(sim *zoomsim.Server) func(*app.Config) {
	return func(c *app.Config) {
		c.ZoomSimulator = simAdapter{sim}
		c.ZoomClientID, c.ZoomClientSecret = "kaisai-dev", "kaisai-dev-secret"
		c.ZoomRedirectURL = publicURL + app.ZoomCallbackPath
	}
}

// linkThrough links licensed@example.com through instance a as the
// organizer's browser does: 「Zoomと連携する」, the consent page of the
// simulator a sends them to, and back to a's callback.
func (o organizer) linkThrough(t *testing.T, a *app.App, sim *zoomsim.Server) int64 {
	t.Helper()
	resp, err := o.hc.PostForm(a.URL()+"/integrations/zoom/start", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	consent, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(consent.String(), sim.BaseURL()+"/oauth/authorize") {
		t.Fatalf("「Zoomと連携する」 at %s: %d to %q, want the consent page of %s", a.URL(), resp.StatusCode, consent, sim.BaseURL())
	}
	form := consent.Query()
	form.Set("email", "licensed@example.com")
	form.Set("password", "password")
	form.Set("action", "approve")
	resp, err = o.hc.PostForm(sim.BaseURL()+"/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(back.String(), publicURL+app.ZoomCallbackPath+"?") {
		t.Fatalf("consent: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The load balancer hands the callback to instance a.
	resp, err = o.hc.Get(a.URL() + back.RequestURI())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	conns, err := a.Store.ZoomConnections(context.Background(), o.orgID)
	if err != nil || len(conns) != 1 || conns[0].Status != zoompolicy.Linked {
		t.Fatalf("after the callback (%d %s): connections %+v, %v", resp.StatusCode, resp.Header.Get("Location"), conns, err)
	}
	return conns[0].ID
}

// startHost clicks 「ホストとして開始」 at instance a: kaisai asks Zoom for a
// fresh start URL as the host, at once. It answers the status and where
// kaisai redirects.
func (o organizer) startHost(t *testing.T, a *app.App, eventID, meetingID int64) (int, string) {
	t.Helper()
	resp, err := o.hc.Get(fmt.Sprintf("%s/events/%d/zoom-meetings/%d/start", a.URL(), eventID, meetingID))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// linkedMeeting links a Zoom user through a, makes a Zoom meeting as that
// user and waits until Zoom has it.
func (o organizer) linkedMeeting(t *testing.T, a *app.App, simA *zoomsim.Server) (conn, eventID, meetingID int64) {
	t.Helper()
	conn = o.linkThrough(t, a, simA)
	z := licensedZoom
	z.ConnID = conn
	ze := newZoomEvent(t, a.Store, o.orgID, z, 1)
	waitMeetingsInStep(t, a.Store, 60*time.Second)
	ms, err := a.Store.EventZoomMeetings(context.Background(), o.orgID, ze.event.ID)
	if err != nil || len(ms) != 1 || ms[0].ZoomID == 0 {
		t.Fatalf("the meeting on Zoom: %+v, %v", ms, err)
	}
	return conn, ze.event.ID, ms[0].ID
}

// TestInstancesShareOneZoomSimulator: two instances on one PostgreSQL
// share one simulator started on its own (`kaisai zoomsim`). A Zoom user
// linked through instance A is used by instance B after its access token
// expired: B refreshes it at the simulator that issued it, and the
// connection stays 連携中; A then goes on with the rotated tokens. Each
// instance says Zoom is simulated, and both accept the webhooks the
// simulator signs with the secret the operator gave it.
func TestInstancesShareOneZoomSimulator(t *testing.T) {
	ctx := context.Background()
	db := testdb.Postgres(t)
	sim := startSim(t)
	const secret = "operator-chosen-secret"
	a := apptest.Start(t, db, fastZoom, sharedSimConfig(sim, secret))
	b := apptest.Start(t, db, fastZoom, sharedSimConfig(sim, secret))

	o := signUp(t, a)
	for name, inst := range map[string]*app.App{"A": a, "B": b} {
		if !htmltest.Parse(t, o.page(t, inst, "/integrations")).Has("#zoom-simulated") {
			t.Errorf("instance %s does not say Zoom is simulated", name)
		}
		// `kaisai zoomsim --webhook-url … --webhook-secret …`, pointed at
		// this instance (as a load balancer would).
		if err := sim.SetWebhookEndpoint("kaisai-dev", inst.URL()+"/webhooks/zoom", secret); err != nil {
			t.Fatal(err)
		}
		until(t, "the simulator to validate instance "+name, func() bool {
			_, known := sim.WebhookValidated("kaisai-dev")
			return known
		})
		if passed, _ := sim.WebhookValidated("kaisai-dev"); !passed {
			t.Errorf("instance %s failed the simulator's endpoint validation", name)
		}
	}

	conn, eventID, meetingID := o.linkedMeeting(t, a, sim)
	before, err := a.Store.ZoomStoredTokens(ctx, o.orgID, conn)
	if err != nil {
		t.Fatal(err)
	}
	sim.ExpireAccessTokens()
	status, loc := o.startHost(t, b, eventID, meetingID)
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, sim.BaseURL()+"/") {
		t.Fatalf("「ホストとして開始」 at B after the access token expired: %d to %q, want a start URL of the simulator", status, loc)
	}
	c, err := b.Store.ZoomConnection(ctx, o.orgID, conn)
	if err != nil || c.Status != zoompolicy.Linked || !c.RelinkNotifiedAt.IsZero() {
		t.Fatalf("the connection after B's refresh: %+v, %v; want 連携中, nobody told to relink", c, err)
	}
	after, err := b.Store.ZoomStoredTokens(ctx, o.orgID, conn)
	if err != nil {
		t.Fatal(err)
	}
	if after.RefreshToken == before.RefreshToken {
		t.Fatal("B did not refresh the tokens: the test forced no expiry")
	}
	if after.APIURL != sim.BaseURL() {
		t.Errorf("the refreshed tokens name API %q, want the shared simulator %q", after.APIURL, sim.BaseURL())
	}
	// A uses what B stored: the refresh token it had is spent.
	if status, loc := o.startHost(t, a, eventID, meetingID); status != http.StatusSeeOther {
		t.Errorf("「ホストとして開始」 at A after B refreshed: %d to %q", status, loc)
	}
	if c, err := a.Store.ZoomConnection(ctx, o.orgID, conn); err != nil || c.Status != zoompolicy.Linked {
		t.Errorf("the connection at the end: %+v, %v", c, err)
	}
}

// TestInstancesWithASimulatorEach is the failure the shared simulator
// cures, and shows the test above can fail: with a simulator per instance
// (`--zoom-simulator=on` on each), B refreshes a token of A's simulator at
// its own, which refuses it, and the connection turns 要再連携.
func TestInstancesWithASimulatorEach(t *testing.T) {
	ctx := context.Background()
	db := testdb.Postgres(t)
	simA, simB := startSim(t), startSim(t)
	a := apptest.Start(t, db, fastZoom, ownSimConfig(simA))
	b := apptest.Start(t, db, fastZoom, ownSimConfig(simB))

	o := signUp(t, a)
	conn, eventID, meetingID := o.linkedMeeting(t, a, simA)
	simA.ExpireAccessTokens()
	if status, loc := o.startHost(t, b, eventID, meetingID); status != http.StatusBadGateway {
		t.Errorf("「ホストとして開始」 at B with a simulator of its own: %d to %q, want 502", status, loc)
	}
	c, err := b.Store.ZoomConnection(ctx, o.orgID, conn)
	if err != nil || c.Status != zoompolicy.RelinkRequired {
		t.Errorf("the connection: %+v, %v; want 要再連携", c, err)
	}
}

// TestZoomAPIURLReplacesStoredAPIURL: with KAISAI_ZOOM_API_URL set, every
// call goes there, also for tokens stored with another api_url before it
// was set (here one nobody answers at).
func TestZoomAPIURLReplacesStoredAPIURL(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		var api string
		w := startMeetingWorld(t, db, func(c *app.Config) { c.ZoomAPIURL, api = c.ZoomOAuthURL, c.ZoomOAuthURL })
		conn := w.link(t, "licensed@example.com")
		if _, err := w.app.Store.WriteDB().ExecContext(context.Background(),
			`UPDATE zoom_connections SET api_url = 'http://127.0.0.1:1' WHERE id = $1`, conn); err != nil {
			t.Fatal(err)
		}
		z := licensedZoom
		z.ConnID = conn
		ze := newZoomEvent(t, w.app.Store, w.org.ID, z, 1)
		w.waitInStep(t)
		checkZoomMatches(t, w.app.Store, w.sim, w.org.ID, ze)
		if api != w.sim.BaseURL() {
			t.Errorf("the API URL was %q, want the simulator's %q", api, w.sim.BaseURL())
		}
	})
}

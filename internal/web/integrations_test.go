package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/htmltest"
	"kaisai/internal/i18n"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoom"
	"kaisai/internal/zoomconn"
	"kaisai/internal/zoompolicy"
	"kaisai/internal/zoomsim"
)

// countingTransport counts the calls to Zoom's token endpoint.
type countingTransport struct{ token atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/oauth/token") {
		c.token.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// zoomWorld is kaisai beside a Zoom simulator whose app has kaisai's
// callback as its redirect URI, talking over real HTTP.
type zoomWorld struct {
	sim   *zoomsim.Server
	app   *app.App
	count *countingTransport
	oauth *zoom.OAuthConfig // the same app, for the test's own refreshes
}

func startZoomWorld(t *testing.T, db testdb.DB) *zoomWorld {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	seed := zoomsim.DefaultSeed()
	seed.Apps = nil // added below, once kaisai's URL is known
	sim, err := zoomsim.New(zoomsim.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	base, err := sim.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &zoomWorld{sim: sim, count: &countingTransport{}}
	hc := &http.Client{Transport: w.count}
	w.app = startKaisai(t, db, func(c *app.Config) {
		c.ZoomClientID, c.ZoomClientSecret, c.ZoomOAuthURL, c.ZoomHTTPClient = "kaisai-dev", "kaisai-dev-secret", base, hc
		c.ZoomSimulated = true
		c.ZoomWebhookSecret = "sim-webhook-secret"
		// Tests that hold a registrant list must not wait minutes for mail.
		c.MailRegistrantWait = 300 * time.Millisecond
	})
	if _, err := sim.AddApp(zoomsim.App{ClientID: "kaisai-dev", ClientSecret: "kaisai-dev-secret",
		RedirectURIs: []string{w.app.URL() + app.ZoomCallbackPath},
		Scopes:       []string{"meeting:read", "meeting:write", "user:read"}}); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetWebhookEndpoint("kaisai-dev", w.app.URL()+"/webhooks/zoom", "sim-webhook-secret"); err != nil {
		t.Fatal(err)
	}
	w.oauth = &zoom.OAuthConfig{ClientID: "kaisai-dev", ClientSecret: "kaisai-dev-secret",
		TokenURL: base + "/oauth/token", RevokeURL: base + "/oauth/revoke", HTTPClient: hc}
	return w
}

// linkZoom runs 「Zoomと連携する」 as the organizer's browser would: kaisai
// sends it to the consent page, where it signs in as email and allows.
func (w *zoomWorld) linkZoom(t *testing.T, c *client, email string) *resp {
	t.Helper()
	r := c.post("/integrations/zoom/start", url.Values{})
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Location(), w.sim.BaseURL()+"/oauth/authorize?") {
		t.Fatalf("start: want 303 to Zoom's consent page, got %s", r)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page, err := noFollow.Get(r.Location())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	form := url.Values{"email": {email}, "password": {"password"}, "action": {"approve"}}
	for _, in := range htmltest.Parse(t, string(body)).Find(`input[type="hidden"][name]`) {
		form.Set(in.Attr("name"), in.Attr("value"))
	}
	if form.Get("state") == "" || form.Get("code_challenge") == "" {
		t.Fatalf("consent page without state or PKCE challenge: %s", body)
	}
	back, err := noFollow.PostForm(w.sim.BaseURL()+"/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	back.Body.Close()
	loc, err := url.Parse(back.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), w.app.URL()+app.ZoomCallbackPath) {
		t.Fatalf("consent: want a redirect to kaisai's callback, got %d %q", back.StatusCode, back.Header.Get("Location"))
	}
	return c.get(loc.RequestURI())
}

func (w *zoomWorld) connections(t *testing.T, email string) (int64, []store.ZoomConnection) {
	t.Helper()
	m, _, err := w.app.Store.MemberForLogin(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	conns, err := w.app.Store.ZoomConnections(context.Background(), m.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	return m.OrgID, conns
}

func TestZoomLinkAndUnlink(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startZoomWorld(t, db)
		c := newClient(t, w.app)
		c.signup("連携社", "owner@link.example")

		r := c.get("/integrations")
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("zoom.link"), ja("integrations.none"), ja("zoom.simulated_banner"))

		wantRedirect(t, w.linkZoom(t, c, "licensed@example.com"), "/integrations")
		// The same Zoom user linked again is the same connection.
		wantRedirect(t, w.linkZoom(t, c, "licensed@example.com"), "/integrations")
		wantRedirect(t, w.linkZoom(t, c, "basic@example.com"), "/integrations")
		orgID, conns := w.connections(t, "owner@link.example")
		if len(conns) != 2 {
			t.Fatalf("connections = %+v, want 2 (licensed once, basic)", conns)
		}
		r = c.get("/integrations")
		wantText(t, r, "Hanako Yamada", "licensed@example.com", ja("zoom.type.licensed"),
			"Jiro Tanaka", "basic@example.com", ja("zoom.type.basic"), ja("zoom.status.linked"))

		// A state is bound to the session that started the flow.
		other := newClient(t, w.app)
		other.signup("別の社", "owner@other.example")
		start := c.post("/integrations/zoom/start", url.Values{})
		state := mustURL(t, start.Location()).Query().Get("state")
		r = other.get(app.ZoomCallbackPath + "?code=x&state=" + url.QueryEscape(state))
		if r.Status != http.StatusSeeOther || flashOf(r) != "flash.zoom_bad_state" {
			t.Fatalf("another session's state: %s", r)
		}
		if _, conns := w.connections(t, "owner@other.example"); len(conns) != 0 {
			t.Fatalf("another session's callback linked %+v", conns)
		}

		// 解除: the confirmation says meetings stay on Zoom; Zoom's grant is revoked.
		lic := conns[0]
		tok, err := w.app.Store.ZoomStoredTokens(context.Background(), orgID, lic.ID)
		if err != nil {
			t.Fatal(err)
		}
		r = c.get("/integrations/zoom/" + itoa(lic.ID) + "/unlink")
		wantStatus(t, r, http.StatusOK)
		wantText(t, r, ja("zoom.unlink_meetings_stay"))
		wantRedirect(t, c.post("/integrations/zoom/"+itoa(lic.ID)+"/unlink", url.Values{}), "/integrations")
		got, err := w.app.Store.ZoomConnection(context.Background(), orgID, lic.ID)
		if err != nil || got.Status != zoompolicy.Unlinked || got.HasTokens {
			t.Fatalf("after 解除: %+v, %v", got, err)
		}
		if _, err := w.oauth.Refresh(context.Background(), tok.RefreshToken); !errors.Is(err, zoom.ErrInvalidGrant) {
			t.Errorf("the refresh token still works after 解除: %v", err)
		}
		for _, a := range w.sim.State().Apps {
			for _, u := range a.AuthorizedUsers {
				if u == "licensed@example.com" {
					t.Errorf("Zoom still lists the app as added by %s", u)
				}
			}
		}
		wantText(t, c.get("/integrations"), ja("zoom.status.unlinked"))
	})
}

func TestZoomRefresh(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startZoomWorld(t, db)
		c := newClient(t, w.app)
		c.signup("更新社", "owner@refresh.example")
		wantRedirect(t, w.linkZoom(t, c, "licensed@example.com"), "/integrations")
		orgID, conns := w.connections(t, "owner@refresh.example")
		id := conns[0].ID
		ctx := context.Background()
		old, err := w.app.Store.ZoomStoredTokens(ctx, orgID, id)
		if err != nil {
			t.Fatal(err)
		}

		// Zoom says the access token is no good: many calls at once refresh
		// it, and one refresh reaches the token endpoint.
		w.sim.ExpireAccessTokens()
		before := w.count.token.Load()
		refresh := zoomconn.Refresher(w.oauth)
		var wg sync.WaitGroup
		got := make([]string, 12)
		for i := range got {
			wg.Go(func() {
				tok, err := w.app.Store.ZoomAccessToken(ctx, orgID, id, old.AccessToken, refresh)
				if err != nil {
					t.Error(err)
				}
				got[i] = tok.AccessToken
			})
		}
		wg.Wait()
		if n := w.count.token.Load() - before; n != 1 {
			t.Fatalf("%d refreshes reached Zoom's token endpoint, want 1", n)
		}
		for _, g := range got[1:] {
			if g != got[0] || g == old.AccessToken {
				t.Fatal("the callers did not all get the one new access token")
			}
		}
		cl := zoom.NewClient(nil, old.APIURL, func(context.Context) (string, error) { return got[0], nil })
		if _, err := cl.Me(ctx); err != nil {
			t.Fatalf("the new access token does not work: %v", err)
		}

		// The user removes the app in Zoom: the next refresh is refused → 要再連携.
		// Zoom's app_deauthorized is lost here (kept from kaisai to the
		// end): when it comes first, the connection is 解除済 instead,
		// which TestZoomAppDeauthorized checks.
		w.sim.SetFaults(1, zoomsim.Fault{Kind: zoomsim.FaultDropWebhook, Op: "app_deauthorized"})
		if err := w.sim.RemoveApp("licensed@example.com", "kaisai-dev"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.app.Store.ZoomAccessToken(ctx, orgID, id, got[0], refresh); !errors.Is(err, store.ErrZoomRelinkRequired) {
			t.Fatalf("refused refresh: %v, want ErrZoomRelinkRequired", err)
		}
		wantText(t, c.get("/integrations"), ja("zoom.status.relink_required"), ja("zoom.relink_hint"))
		// Linking again makes it 連携中 again, the same connection.
		wantRedirect(t, w.linkZoom(t, c, "licensed@example.com"), "/integrations")
		if _, conns := w.connections(t, "owner@refresh.example"); len(conns) != 1 || conns[0].Status != zoompolicy.Linked {
			t.Fatalf("relinked: %+v", conns)
		}
	})
}

// Removing the app in Zoom (Added Apps → Remove) sends app_deauthorized:
// that user's tokens and the rest of the grant go, the connection is 解除済
// and shows the user's name, e-mail and type as last seen, and the
// organization's other Zoom user stays linked.
func TestZoomAppDeauthorized(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startZoomWorld(t, db)
		c := newClient(t, w.app)
		c.signup("解除社", "owner@deauth.example")
		wantRedirect(t, w.linkZoom(t, c, "licensed@example.com"), "/integrations")
		wantRedirect(t, w.linkZoom(t, c, "basic@example.com"), "/integrations")
		if err := w.sim.RemoveApp("licensed@example.com", "kaisai-dev"); err != nil {
			t.Fatal(err)
		}
		var lic, basic store.ZoomConnection
		eventually.True(t, "app_deauthorized to be handled", func() bool {
			_, conns := w.connections(t, "owner@deauth.example")
			if len(conns) != 2 {
				t.Fatalf("connections = %+v", conns)
			}
			lic, basic = conns[0], conns[1]
			return lic.Status == zoompolicy.Unlinked
		})
		if lic.HasTokens || lic.User.AccountID != "" || lic.APIURL != "" || len(lic.Scopes) != 0 {
			t.Errorf("after app_deauthorized the grant's data stays: %+v", lic)
		}
		if lic.User.Email != "licensed@example.com" || lic.User.DisplayName != "Hanako Yamada" || lic.User.Type != zoom.UserLicensed {
			t.Errorf("after app_deauthorized the Zoom user is not kept as last seen: %+v", lic.User)
		}
		if basic.Status != zoompolicy.Linked || !basic.HasTokens {
			t.Errorf("the other Zoom user was unlinked too: %+v", basic)
		}
		r := c.get("/integrations")
		_, conns := w.connections(t, "owner@deauth.example")
		lastSeen := i18n.DateTime(i18n.Japanese, conns[0].LinkedAt, tokyo)
		wantText(t, r, ja("zoom.status.unlinked"), "basic@example.com", "Hanako Yamada", "licensed@example.com",
			ja("zoom.type.licensed"), ja("zoom.as_last_seen_at", lastSeen))
		wantNoText(t, r, ja("zoom.identity_unknown"))
		if n := strings.Count(r.Text(), ja("zoom.as_last_seen_at", lastSeen)); n != 1 {
			t.Errorf("%d rows are marked as last seen, want the unlinked one: %s", n, r)
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Two kaisai instances on one PostgreSQL refresh one connection's expired
// token at once: exactly one refresh reaches Zoom's token endpoint (Zoom
// rotates refresh tokens, so a second would break the connection), and
// both instances end up with the new token, which works.
func TestZoomRefreshAcrossInstances(t *testing.T) {
	t.Parallel()
	db := testdb.Postgres(t)
	w := startZoomWorld(t, db)
	second := startKaisai(t, db)
	c := newClient(t, w.app)
	c.signup("二台社", "owner@two.example")
	wantRedirect(t, w.linkZoom(t, c, "numeric@example.com"), "/integrations")
	orgID, conns := w.connections(t, "owner@two.example")
	id := conns[0].ID
	ctx := context.Background()
	old, err := w.app.Store.ZoomStoredTokens(ctx, orgID, id)
	if err != nil {
		t.Fatal(err)
	}
	w.sim.ExpireAccessTokens()
	before := w.count.token.Load()
	refresh := zoomconn.Refresher(w.oauth)
	stores := []*store.Store{w.app.Store, second.Store}
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		wg.Go(func() {
			tok, err := stores[i%2].ZoomAccessToken(ctx, orgID, id, old.AccessToken, refresh)
			if err != nil {
				t.Error(err)
			}
			got[i] = tok.AccessToken
		})
	}
	wg.Wait()
	if n := w.count.token.Load() - before; n != 1 {
		t.Fatalf("%d refreshes reached Zoom's token endpoint, want 1", n)
	}
	for _, g := range got[1:] {
		if g != got[0] || g == old.AccessToken {
			t.Fatal("the instances did not all get the one new access token")
		}
	}
	cl := zoom.NewClient(nil, old.APIURL, func(context.Context) (string, error) { return got[0], nil })
	if _, err := cl.Me(ctx); err != nil {
		t.Fatalf("the new access token does not work: %v", err)
	}
	if c, err := second.Store.ZoomConnection(ctx, orgID, id); err != nil || c.Status != zoompolicy.Linked {
		t.Fatalf("the connection broke: %+v, %v", c, err)
	}
}

// The same Zoom user linked by a second organization: Zoom keeps one grant
// per user and app (the simulator as Zoom), so the first organization's
// tokens stop working. kaisai tells the second organization so when it
// links, and shows the first one's link 要再連携, saying why, with a mail to
// its owner, instead of failing at its next call to Zoom. Linking again in
// the first organization turns it round.
func TestZoomSameUserLinkedByTwoOrganizations(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		w := startZoomWorld(t, db)
		first, second := newClient(t, w.app), newClient(t, w.app)
		first.signup("最初の社", "owner@first.example")
		second.signup("二番目の社", "owner@second.example")
		wantText(t, first.get("/integrations"), ja("integrations.zoom_one_org"))

		link := func(c *client) *resp {
			t.Helper()
			r := w.linkZoom(t, c, "licensed@example.com")
			if r.LocationPath() != "/integrations" {
				t.Fatalf("linking: %s", r)
			}
			return c.get(r.Location())
		}
		r := link(first)
		wantText(t, r, ja("flash.zoom_linked"))
		wantNoText(t, r, ja("flash.zoom_linked_elsewhere_ended"))
		firstOrg, conns := w.connections(t, "owner@first.example")
		firstConn := conns[0].ID
		old, err := w.app.Store.ZoomStoredTokens(ctx, firstOrg, firstConn)
		if err != nil {
			t.Fatal(err)
		}

		r = link(second)
		wantText(t, r, ja("flash.zoom_linked_elsewhere_ended"), ja("zoom.status.linked"))
		// Zoom ended the first grant.
		if _, err := w.oauth.Refresh(ctx, old.RefreshToken); !errors.Is(err, zoom.ErrInvalidGrant) {
			t.Errorf("the first organization's refresh token still works at Zoom: %v", err)
		}
		cl := zoom.NewClient(nil, old.APIURL, func(context.Context) (string, error) { return old.AccessToken, nil })
		if _, err := cl.Me(ctx); err == nil {
			t.Error("the first organization's access token still works at Zoom")
		}
		// The first organization sees why, and its owner was mailed.
		r = first.get("/integrations")
		wantText(t, r, ja("zoom.status.relink_required"), ja("zoom.relink_hint_linked_elsewhere"), "Hanako Yamada")
		c, err := w.app.Store.ZoomConnection(ctx, firstOrg, firstConn)
		if err != nil || c.Status != zoompolicy.RelinkRequired || c.RelinkReason != zoompolicy.RelinkLinkedElsewhere || c.HasTokens {
			t.Fatalf("the first organization's link: %+v, %v", c, err)
		}
		// The dev outbox keeps the mail once rendered.
		mails := eventually.Value(t, "the first organization's mail to be kept", func() ([]store.MailRow, bool) {
			mails, err := w.app.Store.Mails(ctx, firstOrg, 10, 0)
			if err != nil {
				t.Fatal(err)
			}
			return mails, len(mails) > 0 && mails[0].Status == event.MailKept
		})
		if len(mails) != 1 || mails[0].Kind != "zoom_linked_elsewhere" || mails[0].To != "owner@first.example" ||
			!strings.Contains(mails[0].Subject, "別の組織で連携されました") || !strings.Contains(mails[0].Body, "licensed@example.com") {
			t.Fatalf("the first organization's mail: %+v", mails)
		}
		secondOrg, conns := w.connections(t, "owner@second.example")
		if len(conns) != 1 || conns[0].Status != zoompolicy.Linked {
			t.Fatalf("the second organization's link: %+v", conns)
		}

		// The first organization links it again: the second one's link ends.
		wantText(t, link(first), ja("flash.zoom_linked_elsewhere_ended"))
		if c, _ := w.app.Store.ZoomConnection(ctx, firstOrg, firstConn); c.Status != zoompolicy.Linked || c.RelinkReason != "" {
			t.Errorf("relinked in the first organization: %+v", c)
		}
		wantText(t, second.get("/integrations"), ja("zoom.status.relink_required"), ja("zoom.relink_hint_linked_elsewhere"))
		if c, _ := w.app.Store.ZoomConnection(ctx, secondOrg, conns[0].ID); c.Status != zoompolicy.RelinkRequired {
			t.Errorf("the second organization's link after the first relinked: %+v", c)
		}
	})
}

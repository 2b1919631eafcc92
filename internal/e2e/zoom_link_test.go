package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/testdb"
	"kaisai/internal/zoomsim"
)

// TestOrganizerLinksAndUnlinksZoom links a Zoom user through the Zoom
// simulator's consent page in a real browser and unlinks it again: an
// organizer signs up, clicks 「Zoomと連携する」 on サービス連携, signs in to
// the simulator as its licensed user and allows kaisai's app, sees the
// connection 連携中 back on サービス連携, then unlinks it through the
// confirmation page (which says meetings stay on Zoom) and sees 解除済. Zoom
// no longer lists kaisai's app as added by that user.
func TestOrganizerLinksAndUnlinksZoom(t *testing.T) {
	chrome := findChrome(t)

	const (
		clientID   = "kaisai-dev"
		zoomEmail  = "licensed@example.com"
		zoomName   = "Hanako Yamada"
		licensedJa = "Licensed(有料)"
	)
	// The simulator with its seeded users; kaisai's app is added once
	// kaisai's callback URL is known.
	simCtx, stopSim := context.WithCancel(context.Background())
	seed := zoomsim.DefaultSeed()
	seed.Apps = nil
	sim, err := zoomsim.New(zoomsim.Options{Seed: seed})
	if err != nil {
		t.Fatalf("create the Zoom simulator: %v", err)
	}
	t.Cleanup(func() { stopSim(); sim.Close() })
	simURL, err := sim.Start(simCtx, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start the Zoom simulator: %v", err)
	}
	kaisai := apptest.Start(t, testdb.SQLite(t), func(c *app.Config) {
		c.ZoomClientID, c.ZoomClientSecret, c.ZoomOAuthURL = clientID, "kaisai-dev-secret", simURL
		c.ZoomSimulated = true
	})
	if _, err := sim.AddApp(zoomsim.App{ClientID: clientID, ClientSecret: "kaisai-dev-secret",
		RedirectURIs: []string{kaisai.URL() + app.ZoomCallbackPath},
		Scopes:       []string{"meeting:read", "meeting:write", "user:read"}}); err != nil {
		t.Fatalf("add kaisai's app to the Zoom simulator: %v", err)
	}
	var zoomUserID string
	for _, u := range sim.State().Users {
		if u.Email == zoomEmail {
			zoomUserID = u.ID
		}
	}
	if zoomUserID == "" {
		t.Fatalf("the simulator's seed has no user %s", zoomEmail)
	}

	browserCtx := startBrowser(t, chrome)
	org := newTab(t, browserCtx, "organizer", kaisai.URL())

	// The organizer signs up and opens サービス連携.
	org.open("/signup", `^/signup$`)
	org.fill(`input[name="org_name"]`, "連携勉強会")
	org.fill(`input[name="name"]`, "主催 太郎")
	org.fill(`input[name="email"]`, "owner@zoom-e2e.example")
	org.fill(`input[name="password"]`, "correct-horse-battery")
	org.follow("sign up", `form[action="/signup"] button[type="submit"]`, `^/events$`)
	org.open("/integrations", `^/integrations$`)
	if h := org.text("h1"); h != "サービス連携" {
		t.Fatalf("organizer: /integrations heading is %q, want サービス連携", h)
	}
	if got := org.text("#zoom-link"); got != "Zoomと連携する" {
		t.Fatalf("organizer: the link button reads %q, want Zoomと連携する", got)
	}
	if org.exists("#zoom-connections") {
		t.Fatalf("organizer: a new organization already lists Zoom connections: %q",
			org.texts("#zoom-connections tbody tr"))
	}

	// 「Zoomと連携する」 leads to the simulator's consent page.
	org.follow("click Zoomと連携する", "#zoom-link", `^/oauth/authorize$`)
	if got := org.eval(`location.origin`); got != simURL {
		t.Fatalf("organizer: Zoomと連携する led to %s, want the simulator's consent page at %s", got, simURL)
	}
	options := org.attrs(`select[name="email"] option`, "value")
	if !slices.Contains(options, zoomEmail) {
		t.Fatalf("organizer: the consent page offers users %q, want %s among them", options, zoomEmail)
	}
	org.setValue(`select[name="email"]`, zoomEmail)
	org.fill(`input[name="password"]`, "password")
	org.follow("allow kaisai on the consent page", `button[name="action"][value="approve"]`, `^/integrations$`)

	// Back on サービス連携: the licensed user, 連携中.
	row := `#zoom-connections tr[data-zoom-user="` + zoomUserID + `"]`
	if rows := org.texts("#zoom-connections tbody tr"); len(rows) != 1 {
		t.Fatalf("organizer: after linking, サービス連携 lists connections %q, want exactly one (%s)%s", rows, zoomEmail, org.page())
	}
	got := org.text(row)
	for _, want := range []string{zoomName, zoomEmail, licensedJa, "連携中"} {
		if !strings.Contains(got, want) {
			t.Fatalf("organizer: the linked connection reads %q, want it to show %s%s", got, want, org.page())
		}
	}

	if !authorized(sim, clientID, zoomEmail) {
		t.Fatalf("Zoom simulator: after linking, %s has not authorized kaisai's app", zoomEmail)
	}

	// Clicking 連携中 offers 解除, saying meetings stay on Zoom.
	org.follow("click 連携中 to unlink", row+` a.status.linked`, `^/integrations/zoom/\d+/unlink$`)
	page := org.text("main")
	for _, want := range []string{"Zoom連携の解除", zoomEmail, "Zoomに残ります"} {
		if !strings.Contains(page, want) {
			t.Fatalf("organizer: the unlink confirmation reads %q, want it to show %s", page, want)
		}
	}
	if got := org.text("#confirm-unlink"); got != "解除" {
		t.Fatalf("organizer: the confirm button reads %q, want 解除", got)
	}
	org.follow("confirm 解除", "#confirm-unlink", `^/integrations$`)

	got = org.text(row)
	if !strings.Contains(got, "解除済") || !strings.Contains(got, zoomEmail) {
		t.Fatalf("organizer: after 解除 the connection reads %q, want %s with 解除済%s", got, zoomEmail, org.page())
	}
	if org.exists(row + ` a.status.linked`) {
		t.Fatalf("organizer: after 解除 the connection still offers 解除 (a 連携中 link): %q", got)
	}

	// Zoom's side: kaisai's grant for that user is revoked.
	if authorized(sim, clientID, zoomEmail) {
		t.Fatalf("Zoom simulator: after 解除, %s still has kaisai's app authorized: the token was not revoked", zoomEmail)
	}
}

// authorized reports whether the simulator lists the app clientID as added
// (authorized) by the Zoom user email.
func authorized(sim *zoomsim.Server, clientID, email string) bool {
	for _, a := range sim.State().Apps {
		if a.ClientID == clientID && slices.Contains(a.AuthorizedUsers, email) {
			return true
		}
	}
	return false
}

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"kaisai/internal/app"
	"kaisai/internal/app/apptest"
	"kaisai/internal/jobs"
	"kaisai/internal/testdb"
	"kaisai/internal/zoomsim"
)

// The Zoom tests' world: kaisai beside the Zoom simulator, with kaisai's
// app added to the simulator once kaisai's callback URL is known and the
// simulator's webhooks pointed at kaisai.
const (
	e2eClientID      = "kaisai-dev"
	e2eClientSecret  = "kaisai-dev-secret"
	e2eWebhookSecret = "e2e-webhook-secret"
)

// startZoomWorld starts the simulator and kaisai with short job timings,
// so that meetings and registrants reach Zoom within a second; opts set
// more of kaisai's configuration.
func startZoomWorld(t *testing.T, opts ...func(*app.Config)) (*zoomsim.Server, *app.App) {
	t.Helper()
	simCtx, stopSim := context.WithCancel(context.Background())
	seed := zoomsim.DefaultSeed()
	seed.Apps = nil
	sim, err := zoomsim.New(zoomsim.Options{Seed: seed, Webhooks: zoomsim.WebhookOptions{TimeScale: 0.001}})
	if err != nil {
		t.Fatalf("create the Zoom simulator: %v", err)
	}
	t.Cleanup(func() { stopSim(); sim.Close() })
	simURL, err := sim.Start(simCtx, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start the Zoom simulator: %v", err)
	}
	kaisai := apptest.Start(t, testdb.SQLite(t), append([]func(*app.Config){func(c *app.Config) {
		c.ZoomClientID, c.ZoomClientSecret, c.ZoomOAuthURL = e2eClientID, e2eClientSecret, simURL
		c.ZoomSimulated = true
		c.ZoomWebhookSecret = e2eWebhookSecret
		c.ZoomCoalesce = 200 * time.Millisecond
		c.ZoomMeetings = jobs.ZoomMeetingOptions{Sweep: 200 * time.Millisecond,
			RetryBase: 50 * time.Millisecond, RetryMax: 300 * time.Millisecond}
		c.ZoomWebhooks = jobs.WebhookOptions{Sweep: 200 * time.Millisecond}
	}}, opts...)...)
	if _, err := sim.AddApp(zoomsim.App{ClientID: e2eClientID, ClientSecret: e2eClientSecret,
		RedirectURIs: []string{kaisai.URL() + app.ZoomCallbackPath},
		Scopes:       []string{"meeting:read", "meeting:write", "user:read"}}); err != nil {
		t.Fatalf("add kaisai's app to the Zoom simulator: %v", err)
	}
	if err := sim.SetWebhookEndpoint(e2eClientID, kaisai.URL()+"/webhooks/zoom", e2eWebhookSecret); err != nil {
		t.Fatalf("point the simulator's webhooks at kaisai: %v", err)
	}
	return sim, kaisai
}

// signUpAndLinkZoom signs an organizer up in the browser and links the
// simulator's user zoomEmail on サービス連携 through its consent page.
func signUpAndLinkZoom(t *testing.T, org *tab, orgName, email, zoomEmail string) {
	t.Helper()
	org.open("/signup", `^/signup$`)
	org.fill(`input[name="org_name"]`, orgName)
	org.fill(`input[name="name"]`, "主催 太郎")
	org.fill(`input[name="email"]`, email)
	org.fill(`input[name="password"]`, "correct-horse-battery")
	org.follow("sign up", `form[action="/signup"] button[type="submit"]`, `^/events$`)
	org.open("/integrations", `^/integrations$`)
	org.follow("click Zoomと連携する", "#zoom-link", `^/oauth/authorize$`)
	org.setValue(`select[name="email"]`, zoomEmail)
	org.fill(`input[name="password"]`, "password")
	org.follow("allow kaisai on the consent page", `button[name="action"][value="approve"]`, `^/integrations$`)
	if got := org.text("#zoom-connections tbody"); !strings.Contains(got, zoomEmail) || !strings.Contains(got, "連携中") {
		t.Fatalf("organizer: after linking, サービス連携 lists %q, want %s 連携中%s", got, zoomEmail, org.page())
	}
}

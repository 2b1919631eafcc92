package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kaisai/internal/testdb"
)

// TestZoomSimulatedBanner: with the Zoom simulator, every organizer page
// opens with a styled banner saying so (role="status", the body's first
// element), in the organizer's language; the stylesheet gives it a colour
// of its own. Participants' pages carry none.
func TestZoomSimulatedBanner(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		w := startZoomWorld(t, db)
		c := newClient(t, w.app)
		c.signup("バナー社", "owner@banner.example")
		eventID := c.createEvent(eventSpec{Title: "バナーのイベント"})
		c.addSchedule(eventID, c.addGroup(eventID, placeGroup("東京都港区1-1")), 5)

		first := regexp.MustCompile(`(?s)<body>\s*(<[^>]*>)([^<]*)<`)
		banner := func(r *resp, text string) {
			t.Helper()
			m := first.FindStringSubmatch(r.Body)
			if m == nil || !strings.Contains(m[1], `id="zoom-simulated"`) || !strings.Contains(m[1], `role="status"`) ||
				!strings.Contains(m[1], `class="sim-banner"`) {
				t.Errorf("%s %s: the body does not open with the banner: %s", r.Method, r.Path, r)
				return
			}
			if got := strings.TrimSpace(unescape(m[2])); got != text {
				t.Errorf("%s %s: the banner says %q, want %q", r.Method, r.Path, got, text)
			}
		}
		for _, path := range []string{"/events", fmt.Sprintf("/events/%d", eventID), "/integrations", "/mails"} {
			r := c.get(path)
			wantStatus(t, r, http.StatusOK)
			banner(r, ja("zoom.simulated_banner"))
		}
		c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		banner(c.get("/events"), en("zoom.simulated_banner"))

		css := c.get(regexp.MustCompile(`href="(/static/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(c.get("/events").Body)[1])
		wantStatus(t, css, http.StatusOK)
		rule := regexp.MustCompile(`\.sim-banner\s*\{([^}]*)\}`).FindStringSubmatch(css.Body)
		if rule == nil || !strings.Contains(rule[1], "background:") || !strings.Contains(rule[1], "color:") {
			t.Errorf("app.css gives the banner no colours of its own: %v", rule)
		}

		public := newClient(t, w.app)
		r := public.get(c.publicPath(eventID))
		wantStatus(t, r, http.StatusOK)
		if strings.Contains(r.Body, `id="zoom-simulated"`) {
			t.Errorf("a participant's page shows the simulator banner: %s", r)
		}
	})
}

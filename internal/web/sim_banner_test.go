package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kaisai/internal/htmltest"
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

		banner := func(r *resp, text string) {
			t.Helper()
			var first htmltest.Node
			if elems := r.doc(t).First("body").Children(); len(elems) > 0 && elems[0].Attr("class") == "sim-banners" {
				if banners := elems[0].Children(); len(banners) > 0 {
					first = banners[0]
				}
			}
			if first.Attr("id") != "zoom-simulated" || first.Attr("role") != "status" || first.Attr("class") != "sim-banner" {
				t.Errorf("%s %s: the body does not open with the banner: %s", r.Method, r.Path, r)
				return
			}
			if got := first.Text(); got != text {
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

		css := c.get(versionedCSS(t, c.get("/events")))
		wantStatus(t, css, http.StatusOK)
		rule := regexp.MustCompile(`\.sim-banner\s*\{([^}]*)\}`).FindStringSubmatch(css.Body)
		if rule == nil || !strings.Contains(rule[1], "background:") || !strings.Contains(rule[1], "color:") {
			t.Errorf("app.css gives the banner no colours of its own: %v", rule)
		}

		public := newClient(t, w.app)
		r := public.get(c.publicPath(eventID))
		wantStatus(t, r, http.StatusOK)
		if r.doc(t).Has("#zoom-simulated") {
			t.Errorf("a participant's page shows the simulator banner: %s", r)
		}
	})
}

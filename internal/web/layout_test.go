package web_test

import (
	"net/url"
	"testing"

	"kaisai/internal/testdb"
)

// TestLayoutNavigationAndFlashes: the organizer's navigation marks the
// section the page belongs to (aria-current, one link at a time), and a
// flash is styled by what it says: done (success) or not done (warning).
func TestLayoutNavigationAndFlashes(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		c := newClient(t, startZoomWorld(t, db).app)
		c.signup("ナビ社", "owner@nav.example")

		for _, tc := range []struct{ path, current string }{
			{"/events", "/events"},
			{"/events/new", "/events"},
			{"/mails", "/mails"},
			{"/integrations", "/integrations"},
			{"/settings/payments", "/settings/payments"},
			{"/settings/billing", "/settings/billing"},
		} {
			r := c.get(tc.path)
			cur := r.doc(t).Find(`header.top nav a[aria-current="page"]`)
			if len(cur) != 1 || cur[0].Attr("href") != tc.current {
				var hrefs []string
				for _, a := range cur {
					hrefs = append(hrefs, a.Attr("href"))
				}
				t.Errorf("GET %s: current section links %q, want only %s", tc.path, hrefs, tc.current)
			}
		}

		// A Zoom callback with a state kaisai never gave is not done.
		r := c.get("/integrations/zoom/callback?state=forged&code=x")
		wantRedirect(t, r, "/integrations")
		r = c.get(r.Location())
		if f := r.doc(t).First("p.flash"); f.Attr("class") != "flash warning" || f.Text() != ja("flash.zoom_bad_state") {
			t.Errorf("a refused Zoom callback's flash is %q %q, want a warning saying %q", f.Attr("class"), f.Text(), ja("flash.zoom_bad_state"))
		}
		// Saving the billing details is done.
		r = c.post("/settings/billing", url.Values{"billing_name": {"ナビ社"}, "registrant": {"corporate"}})
		wantRedirect(t, r, "/settings/billing")
		r = c.get(r.Location())
		if f := r.doc(t).First("p.flash"); f.Attr("class") != "flash success" {
			t.Errorf("saving the billing details: flash %q %q, want a success", f.Attr("class"), f.Text())
		}
	})
}

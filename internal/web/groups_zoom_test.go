package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kaisai/internal/app/apptest"
	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
	"kaisai/internal/zoompolicy"
)

// submitAsBrowser posts the form of page r (the one posting to path) as a
// browser would send it, after change.
func (c *client) submitAsBrowser(t *testing.T, r *resp, path string, change func(url.Values)) *resp {
	t.Helper()
	f, err := apptest.BrowserForm(r.Body, path)
	if err != nil {
		t.Fatalf("%v: %s", err, r)
	}
	change(f)
	return c.post(path, f)
}

// waitConnStatus waits until the organization's connection has status.
func (o *zoomOrganizer) waitConnStatus(t *testing.T, id int64, status zoompolicy.ConnStatus) store.ZoomConnection {
	t.Helper()
	return eventually.Value(t, fmt.Sprintf("connection %d to become %s", id, status), func() (store.ZoomConnection, bool) {
		c, err := o.st.ZoomConnection(context.Background(), o.orgID, id)
		return c, err == nil && c.Status == status
	})
}

// TestZoomGroupEditKeepsRegistration is issue 13's first part: a group with
// 登録 ON (認証 OFF) whose host removed kaisai's app on Zoom's side; the
// group's form, saved as the browser sends it with only the name changed,
// keeps 登録 ON.
func TestZoomGroupEditKeepsRegistration(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		o := newZoomOrganizer(t, db, "licensed@example.com")
		c, host := o.c, o.hosts["licensed@example.com"]
		ev, g, _ := o.zoomEvent(t, "licensed@example.com", "abc123")
		edit := fmt.Sprintf("/events/%d/groups/%d/edit", ev, g)
		// 登録 on, 認証 off.
		r := c.get(edit)
		wantRedirect(t, c.submitAsBrowser(t, r, edit, func(f url.Values) { f.Set("zoom_registration", "1") }),
			fmt.Sprintf("/events/%d", ev))
		if got, _ := o.st.Group(context.Background(), o.orgID, ev, g); got.Zoom == nil || !got.Zoom.Registration {
			t.Fatalf("登録 was not turned on: %+v", got.Zoom)
		}

		if err := o.w.sim.RemoveApp("licensed@example.com", "kaisai-dev"); err != nil {
			t.Fatal(err)
		}
		o.waitConnStatus(t, host, zoompolicy.Unlinked)

		r = c.get(edit)
		wantStatus(t, r, http.StatusOK)
		wantRedirect(t, c.submitAsBrowser(t, r, edit, func(f url.Values) { f.Set("name", "名前だけ変えた") }),
			fmt.Sprintf("/events/%d", ev))
		got, err := o.st.Group(context.Background(), o.orgID, ev, g)
		if err != nil {
			t.Fatal(err)
		}
		want := event.ZoomSettings{ConnID: host, Passcode: "abc123", Registration: true, HostVideo: true}
		if got.Name != "名前だけ変えた" || got.Zoom == nil || *got.Zoom != want {
			t.Fatalf("after a name-only edit the group is %q %+v, want its Zoom settings unchanged %+v", got.Name, got.Zoom, want)
		}
	})
}

// TestZoomGroupFormByHostState: the form offers 登録 by the host's state (as
// event.EditZoomSettings decides), says why not, and the server keeps what
// the form could not offer and refuses, in the organizer's language, a
// change it cannot carry out, saving nothing.
func TestZoomGroupFormByHostState(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		o := newZoomOrganizer(t, db, "licensed@example.com", "numeric@example.com", "basic@example.com")
		c := o.c
		lic, num, basic := o.hosts["licensed@example.com"], o.hosts["numeric@example.com"], o.hosts["basic@example.com"]
		ev := c.createEvent(eventSpec{Title: "ホストの状態"})
		gBasic := c.addGroup(ev, zoomGroup(basic, "abc123"))
		gNum := c.addGroup(ev, zoomGroup(num, "12345678", "zoom_registration", "1"))
		gLic := c.addGroup(ev, zoomGroup(lic, "abc123"))
		edit := func(g int64) string { return fmt.Sprintf("/events/%d/groups/%d/edit", ev, g) }
		group := func(g int64) event.ScheduleGroup {
			t.Helper()
			got, err := o.st.Group(ctx, o.orgID, ev, g)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		saved := func(g int64, change func(url.Values)) {
			t.Helper()
			wantRedirect(t, c.submitAsBrowser(t, c.get(edit(g)), edit(g), change), fmt.Sprintf("/events/%d", ev))
		}
		// refused posts the form with change and wants it refused with msg,
		// the group unchanged.
		refused := func(g int64, msg string, change func(url.Values)) {
			t.Helper()
			before := group(g)
			r := c.submitAsBrowser(t, c.get(edit(g)), edit(g), change)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantText(t, r, msg)
			if after := group(g); after.Name != before.Name || *after.Zoom != *before.Zoom {
				t.Errorf("a refused edit saved %+v %+v (was %+v %+v)", after.Name, *after.Zoom, before.Name, *before.Zoom)
			}
		}
		turnOn := func(f url.Values) { f.Set("name", "登録をオンに"); f.Set("zoom_registration", "1") }
		rename := func(f url.Values) { f.Set("name", "名前の変更") }

		// A Basic host: 登録 disabled, saying why; turning it on is refused.
		r := c.get(edit(gBasic))
		wantText(t, r, ja("groups.zoom_registration_basic"))
		if !r.doc(t).Has("#zoom-registration[disabled]") {
			t.Errorf("登録 is not disabled for a Basic host: %s", r)
		}
		refused(gBasic, ja("validation.zoom_registration_licensed"), turnOn)

		// The host is unlinked: it stays the group's host (its option says
		// changes wait), 登録 on stays on and may be turned off, not on.
		if err := o.st.UnlinkZoomConnection(ctx, o.orgID, num); err != nil {
			t.Fatal(err)
		}
		r = c.get(edit(gNum))
		wantText(t, r, ja("groups.zoom_host_waits"), ja("groups.zoom_registration_not_linked"))
		for _, s := range []string{`value="` + itoa(num) + `" data-no-registration="not_linked" selected`,
			`id="zoom-registration" checked data-stored="1">`} {
			if !strings.Contains(r.Body, s) {
				t.Errorf("the form of an unlinked host's group lacks %s: %s", s, r)
			}
		}
		saved(gNum, rename)
		if g := group(gNum); g.Name != "名前の変更" || !g.Zoom.Registration || g.Zoom.ConnID != num {
			t.Fatalf("a rename of an unlinked host's group: %+v %+v", g, g.Zoom)
		}
		saved(gNum, func(f url.Values) { f.Del("zoom_registration") })
		if g := group(gNum); g.Zoom.Registration {
			t.Fatalf("登録 could not be turned off for an unlinked host: %+v", g.Zoom)
		}
		if !strings.Contains(c.get(edit(gNum)).Body, `id="zoom-registration" disabled>`) {
			t.Errorf("登録 off, the host unlinked: 登録 is not disabled")
		}
		refused(gNum, ja("validation.zoom_registration_not_linked"), turnOn)

		// Another group may not move to the unlinked host.
		r = c.get(edit(gLic))
		if !r.doc(t).Has(`[value="` + itoa(num) + `"][data-no-registration="not_linked"][disabled]`) {
			t.Errorf("an unlinked host is offered as a new host: %s", r)
		}
		refused(gLic, ja("validation.zoom_host_unavailable"), func(f url.Values) { f.Set("zoom_host", itoa(num)) })

		// A Zoom user type kaisai does not know: the licence is unknown.
		if err := o.w.sim.SetUserType("licensed@example.com", 99); err != nil {
			t.Fatal(err)
		}
		wantRedirect(t, o.w.linkZoom(t, c, "licensed@example.com"), "/integrations")
		r = c.get(edit(gLic))
		wantText(t, r, ja("groups.zoom_registration_licence_unknown"), ja("zoom.type.other"))
		refused(gLic, ja("validation.zoom_registration_licence_unknown"), turnOn)
		// … in English too.
		c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		refused(gLic, en("validation.zoom_registration_licence_unknown"), turnOn)
	})
}

// TestZoomUnlinkedHostShownAsLastSeen: after app_deauthorized the host is
// still named — on the event page's meetings block and in the group form's
// host list — with its e-mail and licence as last seen, marked as such.
func TestZoomUnlinkedHostShownAsLastSeen(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		o := newZoomOrganizer(t, db, "licensed@example.com")
		c, host := o.c, o.hosts["licensed@example.com"]
		ev, g, _ := o.zoomEvent(t, "licensed@example.com", "abc123")
		r := o.block(t, ev)
		wantText(t, r, "Hanako Yamada (licensed@example.com)")
		wantNoText(t, r, ja("zoom.as_last_seen"))

		if err := o.w.sim.RemoveApp("licensed@example.com", "kaisai-dev"); err != nil {
			t.Fatal(err)
		}
		o.waitConnStatus(t, host, zoompolicy.Unlinked)
		wantText(t, o.block(t, ev), "Hanako Yamada (licensed@example.com) <small>— "+ja("zoom.status.unlinked")+", "+
			ja("zoom.as_last_seen")+"</small>", ja("zoom.meeting_state.unmanaged"))
		wantText(t, c.get(fmt.Sprintf("/events/%d/groups/%d/edit", ev, g)),
			"Hanako Yamada (licensed@example.com) — "+ja("zoom.type.licensed")+" ("+ja("zoom.as_last_seen")+") — "+
				ja("zoom.status.unlinked")+": "+ja("groups.zoom_host_waits"))
		// In English too.
		c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		wantText(t, o.block(t, ev), "Hanako Yamada (licensed@example.com) <small>— "+en("zoom.status.unlinked")+", "+
			en("zoom.as_last_seen")+"</small>")
	})
}

package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kaisai/internal/event"
	"kaisai/internal/eventually"
	"kaisai/internal/store"
	"kaisai/internal/testdb"
)

// waitRegistrants waits until the group's live meetings have n
// registrants with a personal join URL, as the registrant lists' sync
// registers the applications on the simulator.
func (o *zoomOrganizer) waitRegistrants(t *testing.T, groupID int64, meetings, n int) {
	t.Helper()
	want := store.GroupZoomImpact{Meetings: meetings, Registrants: n}
	eventually.True(t, fmt.Sprintf("group %d to have %+v", groupID, want), func() bool {
		im, err := o.st.GroupZoomImpact(context.Background(), o.orgID, groupID)
		if err != nil {
			t.Fatal(err)
		}
		return im == want
	})
}

// warning is the group form's confirmation box, which must come before the
// form and carry the checkbox of the form.
func warning(t *testing.T, r *resp) string {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	box := r.doc(t).First(`#zoom-confirm[role="alert"]`)
	if !box.Valid() {
		t.Fatalf("no warning to confirm: %s", r)
	}
	if strings.Index(r.Body, `id="zoom-confirm"`) > strings.Index(r.Body, `id="group-form"`) {
		t.Errorf("the warning comes after the form: %s", r)
	}
	if !box.Has(`input[name="confirm_zoom"][form="group-form"]`) {
		t.Errorf("the warning has no checkbox of the form: %s", box.HTML())
	}
	return box.Text()
}

// TestGroupFormWarningsCount: changing the venue of a Zoom group, or its
// host, first shows at the top of the page what saving does, in numbers:
// its live meetings, and the registrants whose personal join URLs stop
// working (or who are registered again on the new host) — none, one, many,
// in Japanese and English.
func TestGroupFormWarningsCount(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		o := newZoomOrganizer(t, db, "licensed@example.com", "numeric@example.com")
		c := o.c
		lic, num := o.hosts["licensed@example.com"], o.hosts["numeric@example.com"]
		edit := func(ev, g int64) string { return fmt.Sprintf("/events/%d/groups/%d/edit", ev, g) }
		group := func(ev, g int64) event.ScheduleGroup {
			t.Helper()
			got, err := o.st.Group(ctx, o.orgID, ev, g)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}

		// None: one meeting, nobody registered.
		ev0, g0, _ := o.zoomEvent(t, "licensed@example.com", "abc123")
		text := warning(t, c.post(edit(ev0, g0), placeGroup("東京都港区1-1")))
		for _, want := range []string{ja("groups.zoom_confirm_title"), ja("groups.zoom_impact_delete", 1),
			"Zoomミーティング 1件", ja("groups.zoom_impact_delete_urls")} {
			if !strings.Contains(text, want) {
				t.Errorf("delete, none registered: the warning %q lacks %q", text, want)
			}
		}
		if strings.Contains(text, "0件") || strings.Contains(text, "0名") {
			t.Errorf("the warning counts zero: %q", text)
		}
		if g := group(ev0, g0); g.Venue != event.VenueZoom {
			t.Fatalf("the venue changed before confirmation: %+v", g)
		}

		// One: one meeting, one registrant, moved to another host.
		ev1, sc1, _ := o.zoomScheduleEvent(t, eventSpec{Title: "ひとり"}, "licensed@example.com", "zoom_registration", "1")
		g1 := o.meetings(t, ev1)[0].GroupID
		p := newClient(t, o.w.app)
		pub := c.publicPath(ev1)
		p.apply(pub, sc1, "参加 ひとり", "one@example.com")
		o.waitRegistrants(t, g1, 1, 1)
		move := zoomGroup(num, "38572619", "zoom_registration", "1")
		text = warning(t, c.post(edit(ev1, g1), move))
		for _, want := range []string{ja("groups.zoom_impact_move", 1), ja("groups.zoom_impact_registrants_moved", 1),
			"登録済みの参加者 1名", ja("groups.zoom_impact_move_tell")} {
			if !strings.Contains(text, want) {
				t.Errorf("move, one registered: the warning %q lacks %q", text, want)
			}
		}
		// Moved with 登録 off, the registrant just loses the URL.
		text = warning(t, c.post(edit(ev1, g1), zoomGroup(num, "38572619")))
		if want := ja("groups.zoom_impact_registrants_lost", 1); !strings.Contains(text, want) {
			t.Errorf("move without 登録: the warning %q lacks %q", text, want)
		}

		// Many: two meetings, three registrants, to 開催URL.
		ev2, sc2, _ := o.zoomScheduleEvent(t, eventSpec{Title: "おおぜい"}, "licensed@example.com", "zoom_registration", "1")
		g2 := o.meetings(t, ev2)[0].GroupID
		c.addSchedule(ev2, g2, 10)
		pub = c.publicPath(ev2)
		many := []string{"a@example.com", "b@example.com", "c@example.com"}
		for _, e := range many {
			p.apply(pub, sc2, "参加 "+e, e)
		}
		o.waitRegistrants(t, g2, 2, 3)
		text = warning(t, c.post(edit(ev2, g2), urlGroup("https://example.com/live")))
		for _, want := range []string{"Zoomミーティング 2件", "登録済みの参加者 3名の個別の参加URLが無効になります"} {
			if !strings.Contains(text, want) {
				t.Errorf("delete, many: the warning %q lacks %q", text, want)
			}
		}

		// English, with its plurals.
		c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		for _, tc := range []struct {
			what string
			r    *resp
			want []string
		}{
			{"delete, none registered", c.post(edit(ev0, g0), placeGroup("1-1 Minato")),
				[]string{"1 Zoom meeting of this group will be deleted", en("groups.zoom_impact_delete_urls")}},
			{"move, one registered", c.post(edit(ev1, g1), move),
				[]string{"1 Zoom meeting of this group will be deleted and re-created under the new host: its join URL",
					"1 registrant will be registered again on the new meeting;"}},
			{"move without 登録, one registered", c.post(edit(ev1, g1), zoomGroup(num, "38572619")),
				[]string{"1 registrant's personal join URL will stop working."}},
			{"delete, many", c.post(edit(ev2, g2), urlGroup("https://example.com/live")),
				[]string{"2 Zoom meetings of this group will be deleted", "3 registrants' personal join URLs will stop working."}},
		} {
			text := warning(t, tc.r)
			for _, want := range append(tc.want, en("groups.zoom_confirm_title")) {
				if !strings.Contains(text, want) {
					t.Errorf("%s, in English: the warning %q lacks %q", tc.what, text, want)
				}
			}
		}

		// Confirmed, the venue changes.
		f := urlGroup("https://example.com/live")
		f.Set("confirm_zoom", "1")
		wantRedirect(t, c.post(edit(ev2, g2), f), fmt.Sprintf("/events/%d", ev2))
		if g := group(ev2, g2); g.Venue != event.VenueURL {
			t.Fatalf("confirmed, the group is %+v", g)
		}
		// No meetings (a Zoom group without dates): nothing to confirm.
		ev3 := c.createEvent(eventSpec{Title: "日程なし"})
		g3 := c.addGroup(ev3, zoomGroup(lic, "abc123"))
		wantRedirect(t, c.post(edit(ev3, g3), placeGroup("東京都港区1-1")), fmt.Sprintf("/events/%d", ev3))
	})
}

// TestGroupFormKeepsOnlyTheChosenVenue: the form sends the fields of every
// venue (the others are only hidden): an address typed before choosing Zoom
// is not saved as the Zoom group's, a 開催URL not as a 会場 group's; and
// when the form comes back with an error, what was typed is still there.
func TestGroupFormKeepsOnlyTheChosenVenue(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := context.Background()
		o := newZoomOrganizer(t, db, "licensed@example.com")
		c, lic := o.c, o.hosts["licensed@example.com"]
		ev := c.createEvent(eventSpec{Title: "会場を選び直す"})

		f := zoomGroup(lic, "abc123", "address", "東京都港区1-1", "online_url", "https://example.com/x")
		g := c.addGroup(ev, f)
		got, err := o.st.Group(ctx, o.orgID, ev, g)
		if err != nil {
			t.Fatal(err)
		}
		if got.Venue != event.VenueZoom || got.Address != "" || got.OnlineURL != "" {
			t.Fatalf("a Zoom group saved with %+v", got)
		}
		f = placeGroup("大阪市北区2-2")
		f.Set("online_url", "not a url")
		g = c.addGroup(ev, f)
		if got, _ = o.st.Group(ctx, o.orgID, ev, g); got.Venue != event.VenuePlace || got.Address != "大阪市北区2-2" || got.OnlineURL != "" {
			t.Fatalf("a 会場 group saved with %+v", got)
		}

		// Refused (no passcode, 待機室 or 認証): the address typed for 会場
		// is still in its field.
		f = zoomGroup(lic, "", "address", "名古屋市中区3-3", "form_key", "")
		r := c.post(fmt.Sprintf("/events/%d/groups/new", ev), f)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if v := inputValue(t, r, "address"); v != "名古屋市中区3-3" {
			t.Errorf("the refused form's address is %q", v)
		}
	})
}

// TestGroupFormSaysWhatChoosingZoomCreates: the edit form of a 会場 or
// 開催URL group with dates says, within the Zoom settings, that saving it
// as Zoom creates a meeting for each date — counted, in Japanese and
// English — and says nothing of it for a group without dates or one that
// is Zoom already.
func TestGroupFormSaysWhatChoosingZoomCreates(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		o := newZoomOrganizer(t, db, "licensed@example.com")
		c, lic := o.c, o.hosts["licensed@example.com"]
		ev := c.createEvent(eventSpec{Title: "Zoomに切り替える"})
		one, two := c.addGroup(ev, placeGroup("東京都港区1-1")), c.addGroup(ev, urlGroup("https://example.com/live"))
		none, zoomG := c.addGroup(ev, placeGroup("東京都港区1-1")), c.addGroup(ev, zoomGroup(lic, "abc123"))
		c.addSchedule(ev, one, 10)
		c.addSchedule(ev, two, 10)
		c.addSchedule(ev, two, 10)
		c.addSchedule(ev, zoomG, 10)
		form := func(g int64) *resp {
			t.Helper()
			r := c.get(fmt.Sprintf("/events/%d/groups/%d/edit", ev, g))
			wantStatus(t, r, http.StatusOK)
			return r
		}
		note := func(r *resp) string {
			t.Helper()
			if n := r.doc(t).First("#zoom-settings #zoom-to-create"); n.Valid() {
				return n.Text()
			}
			return ""
		}
		if got, want := note(form(one)), ja("groups.zoom_impact_create", 1); got != want {
			t.Errorf("a 会場 group with one date: %q, want %q", got, want)
		}
		if got := note(form(two)); got != ja("groups.zoom_impact_create", 2) || !strings.Contains(got, "日程 2件") {
			t.Errorf("a 開催URL group with two dates: %q", got)
		}
		for _, g := range []int64{none, zoomG} {
			if got := note(form(g)); got != "" {
				t.Errorf("group %d: %q, want no note", g, got)
			}
		}
		c.post("/lang", url.Values{"lang": {"en"}, "next": {"/"}})
		if got := note(form(one)); !strings.Contains(got, "a Zoom meeting will be created for this group's 1 date,") {
			t.Errorf("in English, one date: %q", got)
		}
		if got := note(form(two)); !strings.Contains(got, "for each of this group's 2 dates,") {
			t.Errorf("in English, two dates: %q", got)
		}
	})
}
